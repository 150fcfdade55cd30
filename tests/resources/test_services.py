from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from resources import services
from resources.models import Flag, FlagStatus, Resource, Status, Vote
from resources.scoring import wilson_lower_bound
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
