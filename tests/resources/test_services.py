from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from resources import services
from resources.models import Flag, FlagStatus, Resource, Status, Vote
from resources.normalize import InvalidURL
from resources.scoring import hot_score, wilson_lower_bound
from tests.factories import ResourceFactory, SectionFactory, UserFactory, VoteFactory

pytestmark = pytest.mark.django_db


def suggestion(section, **overrides) -> dict:
    data = {
        "title": "Feature stores explained",
        "url": "https://Example.com/feature-stores/?utm_source=x",
        "resource_type": "article",
        "section": section,
        "cost": "free",
        "level": "",
        "provider": "Example",
        "description": "Good *intro*.",
        "is_affiliated": False,
        "tags": ["feature-store"],
    }
    return {**data, **overrides}


@pytest.fixture
def section():
    return SectionFactory()


@pytest.fixture
def old_user():
    user = UserFactory()
    user.date_joined = timezone.now() - timedelta(days=30)
    user.save()
    return user


def test_a_suggestion_starts_pending_with_its_normalised_link_and_tags(section, old_user):
    resource = services.submit_resource(user=old_user, data=suggestion(section))
    assert resource.status == Status.PENDING
    assert resource.submitted_by == old_user
    assert resource.normalized_url == "https://example.com/feature-stores"
    assert [tag.name for tag in resource.tags.all()] == ["feature-store"]
    assert not Resource.objects.approved().filter(pk=resource.pk).exists()


@pytest.mark.parametrize("status", [Status.APPROVED, Status.PENDING, Status.REJECTED])
def test_a_link_already_known_in_any_status_is_refused(section, old_user, status):
    existing = ResourceFactory(url="https://example.com/feature-stores", status=status)
    with pytest.raises(services.DuplicateResource) as refused:
        services.submit_resource(
            user=old_user, data=suggestion(section, url="http://www.example.com/feature-stores#x")
        )
    assert refused.value.existing == existing
    assert Resource.objects.count() == 1


def test_duplicate_messages_say_what_happened_to_the_earlier_suggestion():
    for status, words in [
        (Status.APPROVED, "already on the roadmap"),
        (Status.PENDING, "waiting for review"),
        (Status.REJECTED, "not accepted"),
    ]:
        assert words in str(services.DuplicateResource(Resource(status=status)))


def test_new_accounts_may_hold_at_most_three_pending_suggestions(section):
    newcomer = UserFactory()
    for number in range(3):
        services.submit_resource(
            user=newcomer, data=suggestion(section, url=f"https://example.com/{number}")
        )
    with pytest.raises(services.SuggestionLimitReached, match="at most 3"):
        services.submit_resource(user=newcomer, data=suggestion(section, url="https://e.com/4"))
    assert Resource.objects.filter(submitted_by=newcomer).count() == 3


def test_an_approved_suggestion_lifts_the_new_account_limit(section):
    newcomer = UserFactory()
    ResourceFactory(submitted_by=newcomer, status=Status.APPROVED)
    for number in range(4):
        services.submit_resource(
            user=newcomer, data=suggestion(section, url=f"https://example.com/{number}")
        )


def test_everyone_is_limited_per_day(section, old_user):
    for number in range(services.DAILY_SUGGESTION_LIMIT):
        ResourceFactory(
            submitted_by=old_user, status=Status.APPROVED, url=f"https://a.com/{number}"
        )
    with pytest.raises(services.SuggestionLimitReached, match="24 hours"):
        services.submit_resource(user=old_user, data=suggestion(section))


def test_a_pending_suggestion_can_be_edited_by_its_submitter(section, old_user):
    resource = services.submit_resource(user=old_user, data=suggestion(section))
    services.update_suggestion(
        user=old_user,
        resource=resource,
        data=suggestion(section, title="Better title", url="https://example.com/new", tags=[]),
    )
    resource.refresh_from_db()
    assert resource.title == "Better title"
    assert resource.normalized_url == "https://example.com/new"
    assert resource.tags.count() == 0


def test_nobody_else_can_edit_or_withdraw_a_suggestion(section, old_user):
    resource = services.submit_resource(user=old_user, data=suggestion(section))
    stranger = UserFactory()
    with pytest.raises(services.NotAllowed):
        services.update_suggestion(user=stranger, resource=resource, data=suggestion(section))
    with pytest.raises(services.NotAllowed):
        services.withdraw_suggestion(user=stranger, resource=resource)
    assert Resource.objects.filter(pk=resource.pk).exists()


def test_an_approved_suggestion_can_no_longer_be_edited_or_withdrawn(old_user):
    resource = ResourceFactory(submitted_by=old_user, status=Status.APPROVED)
    with pytest.raises(services.NotAllowed):
        services.update_suggestion(
            user=old_user, resource=resource, data=suggestion(resource.section)
        )
    with pytest.raises(services.NotAllowed):
        services.withdraw_suggestion(user=old_user, resource=resource)


def test_withdrawing_removes_the_pending_suggestion(section, old_user):
    resource = services.submit_resource(user=old_user, data=suggestion(section))
    services.withdraw_suggestion(user=old_user, resource=resource)
    assert not Resource.objects.filter(pk=resource.pk).exists()


def test_a_suggester_cannot_mark_their_link_broken(section, old_user):
    resource = services.submit_resource(user=old_user, data=suggestion(section, link_broken=True))
    assert not resource.link_broken


# One way in for every new resource: create_resource


def test_an_approved_resource_is_created_with_its_approval_date_score_and_tags(section):
    resource = services.create_resource(data=suggestion(section), status=Status.APPROVED)
    resource.refresh_from_db()
    assert resource.status == Status.APPROVED
    assert resource.submitted_by is None
    assert resource.normalized_url == "https://example.com/feature-stores"
    assert resource.approved_at is not None
    assert resource.hot_score == pytest.approx(hot_score(0, 0, resource.approved_at))
    assert [tag.name for tag in resource.tags.all()] == ["feature-store"]
    assert Resource.objects.approved().filter(pk=resource.pk).exists()


def test_a_created_pending_resource_has_no_approval_date(section, old_user):
    resource = services.create_resource(
        data=suggestion(section), status=Status.PENDING, submitted_by=old_user
    )
    assert (resource.status, resource.approved_at, resource.submitted_by) == (
        Status.PENDING,
        None,
        old_user,
    )


@pytest.mark.parametrize("status", [Status.APPROVED, Status.PENDING, Status.ARCHIVED])
def test_creating_a_known_link_in_any_status_is_refused(section, status):
    existing = ResourceFactory(url="https://example.com/feature-stores", status=status)
    with pytest.raises(services.DuplicateResource) as refused:
        services.create_resource(
            data=suggestion(section, url="https://www.example.com/feature-stores/"),
            status=Status.APPROVED,
        )
    assert refused.value.existing == existing
    assert Resource.objects.count() == 1


def test_a_link_created_between_the_check_and_the_save_is_reported_as_a_duplicate(
    section, monkeypatch
):
    existing = ResourceFactory(url="https://example.com/feature-stores")
    real = services.find_duplicates
    calls = []

    def missing_the_concurrent_insert_once(urls, **kwargs):
        calls.append(1)
        return {} if len(calls) == 1 else real(urls, **kwargs)

    monkeypatch.setattr(services, "find_duplicates", missing_the_concurrent_insert_once)
    with pytest.raises(services.DuplicateResource) as refused:
        services.create_resource(data=suggestion(section), status=Status.PENDING)
    assert refused.value.existing == existing
    assert Resource.objects.count() == 1


def test_create_resource_refuses_fields_it_does_not_know_and_unknown_statuses(section):
    with pytest.raises(TypeError, match="upvotes"):
        services.create_resource(data=suggestion(section, upvotes=99), status=Status.APPROVED)
    with pytest.raises(ValueError, match="published"):
        services.create_resource(data=suggestion(section), status="published")
    assert not Resource.objects.exists()


def test_find_duplicates_matches_by_normalised_link_and_can_leave_one_out():
    guide = ResourceFactory(url="https://www.example.com/guide/")
    other = ResourceFactory(url="https://example.com/other")
    assert services.find_duplicates(["https://example.com/guide", "https://example.com/x"]) == {
        "https://example.com/guide": guide
    }
    assert services.find_duplicates([other.normalized_url], exclude_pk=other.pk) == {}


def test_first_vote_counts_and_sets_the_wilson_score():
    resource = ResourceFactory()
    result = services.cast_vote(user=UserFactory(), resource=resource, value=Vote.UP)
    resource.refresh_from_db()
    assert (result.my_vote, resource.upvotes, resource.downvotes) == (1, 1, 0)
    assert resource.wilson_score == pytest.approx(wilson_lower_bound(1, 0))


def test_the_same_vote_again_takes_it_back():
    resource, voter = ResourceFactory(), UserFactory()
    services.cast_vote(user=voter, resource=resource, value=Vote.UP)
    result = services.cast_vote(user=voter, resource=resource, value=Vote.UP)
    resource.refresh_from_db()
    assert result.my_vote == 0
    assert (resource.upvotes, resource.downvotes, resource.wilson_score) == (0, 0, 0.0)
    assert not Vote.objects.exists()


def test_the_other_vote_switches_it():
    resource, voter = ResourceFactory(), UserFactory()
    services.cast_vote(user=voter, resource=resource, value=Vote.UP)
    result = services.cast_vote(user=voter, resource=resource, value=Vote.DOWN)
    resource.refresh_from_db()
    assert result.my_vote == -1
    assert (resource.upvotes, resource.downvotes) == (0, 1)
    assert Vote.objects.get().value == -1


def test_a_vote_on_a_resource_archived_since_it_was_read_is_refused_and_leaves_nothing(
    monkeypatch,
):
    resource, voter = ResourceFactory(), UserFactory()
    services.cast_vote(user=UserFactory(), resource=resource, value=Vote.UP)
    move = services._move_tallies

    def archived_meanwhile(current, **moves):
        Resource.objects.filter(pk=current.pk).update(status=Status.ARCHIVED)
        return move(current, **moves)

    monkeypatch.setattr(services, "_move_tallies", archived_meanwhile)
    with pytest.raises(services.NotAllowed, match="on the roadmap"):
        services.cast_vote(user=voter, resource=resource, value=Vote.UP)
    resource.refresh_from_db()
    assert (resource.upvotes, resource.downvotes) == (1, 0)
    assert not Vote.objects.filter(user=voter).exists()


def test_nobody_votes_on_their_own_suggestion():
    author = UserFactory()
    resource = ResourceFactory(submitted_by=author)
    with pytest.raises(services.NotAllowed, match="own"):
        services.cast_vote(user=author, resource=resource, value=Vote.UP)


@pytest.mark.parametrize("status", [Status.PENDING, Status.REJECTED])
def test_only_approved_resources_take_votes(status):
    resource = ResourceFactory(status=status)
    with pytest.raises(services.NotAllowed):
        services.cast_vote(user=UserFactory(), resource=resource, value=Vote.UP)
    assert not Vote.objects.exists()


def test_a_vote_is_up_or_down_only():
    with pytest.raises(services.NotAllowed):
        services.cast_vote(user=UserFactory(), resource=ResourceFactory(), value=5)


def test_the_database_allows_one_vote_per_user_and_resource():
    vote = VoteFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Vote.objects.create(user=vote.user, resource=vote.resource, value=Vote.DOWN)


def test_the_database_refuses_a_vote_value_other_than_plus_or_minus_one():
    with pytest.raises(IntegrityError), transaction.atomic():
        VoteFactory(value=3)


def test_a_flag_is_stored_open_for_moderators():
    resource, reader = ResourceFactory(), UserFactory()
    flag = services.flag_resource(user=reader, resource=resource, reason="broken_link")
    assert flag.status == FlagStatus.OPEN
    assert Flag.objects.filter(resource=resource, user=reader).count() == 1


def test_one_open_flag_per_user_and_resource():
    resource, reader = ResourceFactory(), UserFactory()
    services.flag_resource(user=reader, resource=resource, reason="outdated")
    with pytest.raises(services.NotAllowed, match="already flagged"):
        services.flag_resource(user=reader, resource=resource, reason="spam")
    services.flag_resource(user=UserFactory(), resource=resource, reason="spam")
    assert Flag.objects.count() == 2


def test_the_database_enforces_one_open_flag_but_allows_a_new_one_after_review():
    resource, reader = ResourceFactory(), UserFactory()
    Flag.objects.create(resource=resource, user=reader, reason="spam", status="dismissed")
    Flag.objects.create(resource=resource, user=reader, reason="spam")
    with pytest.raises(IntegrityError), transaction.atomic():
        Flag.objects.create(resource=resource, user=reader, reason="outdated")


def test_other_needs_a_note():
    with pytest.raises(services.NotAllowed, match="Other"):
        services.flag_resource(user=UserFactory(), resource=ResourceFactory(), reason="other")
    flag = services.flag_resource(
        user=UserFactory(), resource=ResourceFactory(), reason="other", note="Wrong author"
    )
    assert flag.note == "Wrong author"


def test_pending_resources_cannot_be_flagged():
    with pytest.raises(services.NotAllowed):
        services.flag_resource(
            user=UserFactory(), resource=ResourceFactory(status=Status.PENDING), reason="spam"
        )


@pytest.mark.parametrize(
    "url",
    [
        "https://good.example.org@evil.example.org/",
        "http://127.0.0.1:8000/",
        "https://\u0430pple.com/",
    ],
)
def test_create_resource_refuses_links_that_deceive_or_point_inside(section, url):
    with pytest.raises(InvalidURL):
        services.create_resource(
            data={"title": "Looks fine", "url": url, "section": section}, status=Status.APPROVED
        )
    assert not Resource.objects.exists()


def test_the_written_out_vote_insert_names_every_column_of_a_vote():
    """resources.services writes a Vote row with its own INSERT: a field added to Vote must be
    added there too (a default the database does not know would be left out)."""
    from resources.services import VOTE_INSERT

    columns = {field.column for field in Vote._meta.concrete_fields if not field.primary_key}
    named = VOTE_INSERT.split("(", 1)[1].split(")", 1)[0]
    assert {column.strip() for column in named.split(",")} == columns
