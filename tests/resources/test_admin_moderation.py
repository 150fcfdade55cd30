"""What a moderator does in the admin: queues, the change page, and every action."""

import re
from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from resources import services
from resources.admin import ResourceAdminForm
from resources.models import (
    Flag,
    FlagStatus,
    ModerationAction,
    ModerationEvent,
    Resource,
    Status,
    Vote,
)
from resources.moderation import REJECTION_REASONS
from resources.normalize import normalize_url
from resources.scoring import hot_score, wilson_lower_bound
from tests.factories import ResourceFactory, SectionFactory, UserFactory, VoteFactory
from tests.resources.moderation_factories import (
    FlagFactory,
    SuggestionFactory,
    make_moderator,
    make_superuser,
)

pytestmark = pytest.mark.django_db

RESOURCES = reverse("admin:resources_resource_changelist")
FLAGS = reverse("admin:resources_flag_changelist")


@pytest.fixture
def moderator():
    return make_moderator()


@pytest.fixture
def admin_client(client, moderator):
    """A client signed in as a moderator (not a superuser)."""
    client.force_login(moderator)
    return client


def change_url(resource) -> str:
    return reverse("admin:resources_resource_change", args=[resource.pk])


def listed_titles(response) -> list[str]:
    return [str(resource) for resource in response.context["cl"].result_list]


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def run_action(client, action: str, objs, url: str = RESOURCES, follow=True, **data):
    payload = {"action": action, ACTION_CHECKBOX_NAME: [obj.pk for obj in objs], **data}
    if "apply" not in data:
        payload["index"] = 0
    return client.post(url, payload, follow=follow)


def form_data(resource, **changes) -> dict:
    """The change form's fields for a resource, with some changed."""
    data = {
        "title": resource.title,
        "url": resource.url,
        "description": resource.description,
        "resource_type": resource.resource_type,
        "cost": resource.cost,
        "level": resource.level,
        "provider": resource.provider,
        "section": resource.section_id,
        "tags": "",
        "flags-TOTAL_FORMS": 0,
        "flags-INITIAL_FORMS": 0,
        "flags-MIN_NUM_FORMS": 0,
        "flags-MAX_NUM_FORMS": 1000,
        "alternate_links-TOTAL_FORMS": 0,
        "alternate_links-INITIAL_FORMS": 0,
        "alternate_links-MIN_NUM_FORMS": 0,
        "alternate_links-MAX_NUM_FORMS": 1000,
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


# The queue


def test_the_admin_index_shows_and_links_the_queues(admin_client):
    SuggestionFactory.create_batch(3)
    FlagFactory.create_batch(2)
    FlagFactory(status=FlagStatus.DISMISSED)

    html = admin_client.get(reverse("admin:index")).content.decode()

    queue = html[html.index('id="moderation-queue"') :]
    assert re.search(r'status__exact=pending" class="queue-count">3<', queue)
    assert re.search(r'status__exact=open" class="queue-count">2<', queue)
    assert f"{RESOURCES}?status__exact=pending" in queue
    assert f"{FLAGS}?status__exact=open" in queue


def test_the_pending_queue_lists_the_oldest_suggestion_first(admin_client):
    now = timezone.now()
    for title, age in [("middle", 2), ("newest", 1), ("oldest", 3)]:
        suggestion = SuggestionFactory(title=title)
        Resource.objects.filter(pk=suggestion.pk).update(created_at=now - timedelta(days=age))
    ResourceFactory(title="already approved")

    response = admin_client.get(RESOURCES, {"status__exact": "pending"})

    assert listed_titles(response) == ["oldest", "middle", "newest"]


def test_the_resource_list_shows_every_column_with_open_flag_counts(admin_client):
    resource = ResourceFactory(
        title="Flagged", upvotes=5, downvotes=2, submitted_by=UserFactory(username="sam")
    )
    FlagFactory.create_batch(2, resource=resource)
    FlagFactory(resource=resource, status=FlagStatus.DISMISSED)

    response = admin_client.get(RESOURCES)

    row = response.context["cl"].result_list[0]
    assert row.open_flag_count == 2
    assert row.score_value == 3
    html = response.content.decode()
    for column in ("status", "resource_type", "section", "submitter", "submitted", "score"):
        assert f"column-{column}" in html
    assert 'class="field-open_flags">2<' in html
    assert 'class="field-submitter">sam<' in html


def test_the_resource_list_does_not_query_per_row(admin_client):
    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            assert admin_client.get(RESOURCES).status_code == 200
        return len(context)

    for _ in range(3):
        FlagFactory(resource=SuggestionFactory(), user=None)
    few = queries()
    for _ in range(20):
        FlagFactory(resource=SuggestionFactory(section=SectionFactory()), user=None)
    assert queries() == few


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status__exact": "rejected"}, ["rejected one"]),
        ({"resource_type__exact": "book"}, ["a book"]),
        ({"cost__exact": "paid"}, ["a book"]),
        ({"tag": "kubernetes"}, ["tagged"]),
        ({"open_flags": "yes"}, ["flagged"]),
        ({"link_broken__exact": "1"}, ["broken"]),
        ({"section__id__exact": "SECTION"}, ["in the section"]),
    ],
    ids=["status", "type", "cost", "tag", "open flags", "broken", "section"],
)
def test_the_resource_list_filters(admin_client, params, expected):
    ResourceFactory(title="rejected one", status=Status.REJECTED)
    ResourceFactory(title="a book", resource_type="book", cost="paid")
    ResourceFactory(title="tagged", tags=["kubernetes"])
    FlagFactory(resource=ResourceFactory(title="flagged"))
    FlagFactory(resource=ResourceFactory(title="not any more"), status=FlagStatus.ACCEPTED)
    ResourceFactory(title="broken", link_broken=True)
    section = SectionFactory()
    ResourceFactory(title="in the section", section=section)
    values = {"SECTION": str(section.pk)}
    params = {key: values.get(value, value) for key, value in params.items()}

    response = admin_client.get(RESOURCES, params)

    assert response.status_code == 200
    assert listed_titles(response) == expected


def test_the_tag_filter_offers_the_most_used_tags_but_filters_by_any(admin_client):
    for number in range(30):
        ResourceFactory.create_batch(2, tags=[f"common-{number:02d}"])
    ResourceFactory(title="rare one", tags=["rare"])

    response = admin_client.get(RESOURCES)
    html = response.content.decode()

    assert "?tag=common-00" in html
    assert "?tag=rare" not in html
    assert listed_titles(admin_client.get(RESOURCES, {"tag": "rare"})) == ["rare one"]


@pytest.mark.parametrize(
    "query", ["zenml", "zenml.io", "orchestration", "zed"], ids=["title", "url", "text", "user"]
)
def test_the_resource_list_searches_title_url_description_and_submitter(admin_client, query):
    ResourceFactory(
        title="ZenML in practice",
        url="https://zenml.io/blog/practice",
        description="Pipelines and orchestration.",
        submitted_by=UserFactory(username="zed"),
    )
    ResourceFactory(title="Something else", url="https://example.org/other")
    response = admin_client.get(RESOURCES, {"q": query})
    assert listed_titles(response) == ["ZenML in practice"]


# The change page


def test_the_change_page_shows_the_link_the_submitters_record_and_flags(admin_client):
    submitter = UserFactory(username="prolific")
    for status in [Status.APPROVED, Status.APPROVED, Status.REJECTED]:
        ResourceFactory(submitted_by=submitter, status=status, title=f"earlier {status}")
    suggestion = SuggestionFactory(
        title="My own course",
        url="https://prolific.dev/course",
        submitted_by=submitter,
        is_affiliated=True,
    )
    FlagFactory(resource=suggestion, note="Looks like an advert")

    html = admin_client.get(change_url(suggestion)).content.decode()

    assert 'href="https://prolific.dev/course"' in html
    assert "2 approved, 1 rejected, 1 pending" in html
    assert "says they are the author or affiliated with it" in html
    assert "Looks like an advert" in html
    assert 'name="_approve"' in html and 'name="_reject"' in html


def test_the_change_page_lists_possible_duplicates(admin_client):
    original = ResourceFactory(
        title="Full Stack Deep Learning", url="https://fullstackdeeplearning.com/course/2022/"
    )
    same_site = ResourceFactory(
        title="FSDL lecture 1", url="https://fullstackdeeplearning.com/course/2022/lecture-1/"
    )
    similar_title = ResourceFactory(
        title="Full-Stack Deep Learning", url="https://youtube.com/playlist?list=abc"
    )
    unrelated = ResourceFactory(title="Kafka basics", url="https://kafka.apache.org/intro")

    html = admin_client.get(change_url(original)).content.decode()

    section = html[html.index("possible-duplicates") :]
    assert change_url(same_site) in section
    assert change_url(similar_title) in section
    assert change_url(unrelated) not in section


def test_editing_the_url_recomputes_its_normalized_form(admin_client):
    resource = SuggestionFactory(url="https://example.org/old")

    response = admin_client.post(
        change_url(resource), form_data(resource, url="http://www.Example.org/new/?utm_source=x")
    )

    assert response.status_code == 302
    resource.refresh_from_db()
    assert resource.url == "http://www.Example.org/new/?utm_source=x"
    assert resource.normalized_url == "https://example.org/new"


def test_a_vote_cast_while_the_change_form_is_saved_stays_counted(admin_client, monkeypatch):
    """The change form's object is read before the form is checked; a vote landing between
    that read and the save must not be overwritten by the tallies read with it."""
    resource = ResourceFactory(title="Old title")
    voter = UserFactory()
    clean = ResourceAdminForm.clean

    def vote_meanwhile(form):
        services.cast_vote(user=voter, resource=resource, value=Vote.UP)
        return clean(form)

    monkeypatch.setattr(ResourceAdminForm, "clean", vote_meanwhile)
    response = admin_client.post(change_url(resource), form_data(resource, title="New title"))

    assert response.status_code == 302
    resource.refresh_from_db()
    assert resource.title == "New title"
    assert (resource.upvotes, resource.downvotes) == (1, 0)
    assert resource.wilson_score == wilson_lower_bound(1, 0)


def test_deleting_a_member_takes_their_votes_out_of_the_tallies(admin_client):
    first, second = ResourceFactory(), ResourceFactory()
    leaving, staying = UserFactory(), UserFactory()
    for resource in (first, second):
        services.cast_vote(user=leaving, resource=resource, value=Vote.UP)
    services.cast_vote(user=staying, resource=first, value=Vote.DOWN)

    leaving.delete()

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.upvotes, first.downvotes, first.wilson_score) == (0, 1, 0.0)
    assert (second.upvotes, second.downvotes, second.wilson_score) == (0, 0, 0.0)
    assert second.hot_score == hot_score(0, 0, second.approved_at)
    assert list(Vote.objects.values_list("user", flat=True)) == [staying.pk]


def test_a_url_that_does_not_normalize_is_a_form_error(admin_client):
    resource = SuggestionFactory()
    response = admin_client.post(
        change_url(resource), form_data(resource, url="https://exa mple.org/")
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["url"]


def test_a_url_another_resource_has_is_a_form_error_not_a_crash(admin_client):
    existing = ResourceFactory(title="The original", url="https://example.org/guide")
    resource = SuggestionFactory(url="https://example.org/other")

    response = admin_client.post(
        change_url(resource), form_data(resource, url="https://www.example.org/guide/")
    )

    assert response.status_code == 200
    [error] = response.context["adminform"].form.errors["url"]
    assert "The original" in error and f"#{existing.pk}" in error
    resource.refresh_from_db()
    assert resource.normalized_url == "https://example.org/other"


def test_a_link_taken_between_the_check_and_the_save_is_a_form_error(admin_client, monkeypatch):
    ResourceFactory(title="Saved meanwhile", url="https://example.org/guide")
    resource = SuggestionFactory(url="https://example.org/other")
    checked = ResourceAdminForm.clean_url
    calls = []

    def clean_url_racing_another_moderator(form):
        calls.append(1)
        if len(calls) == 1:  # the other moderator's save lands after this check
            form.instance.normalized_url = normalize_url(form.cleaned_data["url"])
            return form.cleaned_data["url"]
        return checked(form)

    monkeypatch.setattr(ResourceAdminForm, "clean_url", clean_url_racing_another_moderator)

    response = admin_client.post(
        change_url(resource), form_data(resource, url="https://example.org/guide")
    )

    assert response.status_code == 200
    assert "Saved meanwhile" in response.context["adminform"].form.errors["url"][0]
    resource.refresh_from_db()
    assert resource.normalized_url == "https://example.org/other"


def test_a_superuser_adding_a_resource_gets_a_normalized_url(client):
    client.force_login(make_superuser())
    section = SectionFactory()
    response = client.post(
        reverse("admin:resources_resource_add"),
        form_data(
            ResourceFactory.build(section=section, url="https://www.example.org/added/"),
            section=section.pk,
        ),
    )
    assert response.status_code == 302
    assert Resource.objects.get(title__startswith="Resource").normalized_url == (
        "https://example.org/added"
    )


def test_a_resource_added_in_the_admin_waits_for_review_with_its_tags_in_canonical_form(client):
    client.force_login(make_superuser())
    section = SectionFactory()
    response = client.post(
        reverse("admin:resources_resource_add"),
        form_data(
            ResourceFactory.build(section=section, url="https://example.org/added"),
            section=section.pk,
            tags="serving, kubernetes",
        ),
    )
    assert response.status_code == 302
    added = Resource.objects.get()
    assert (added.status, added.submitted_by, added.approved_at) == (Status.PENDING, None, None)
    assert sorted(tag.name for tag in added.tags.all()) == ["kubernetes", "model-serving"]
    assert response.url == RESOURCES


def test_adding_a_known_link_in_the_admin_is_a_form_error(client):
    client.force_login(make_superuser())
    existing = ResourceFactory(title="The original", url="https://example.org/guide")
    response = client.post(
        reverse("admin:resources_resource_add"),
        form_data(
            ResourceFactory.build(section=existing.section, url="https://www.example.org/guide/"),
            section=existing.section_id,
        ),
    )
    assert response.status_code == 200
    [error] = response.context["adminform"].form.errors["url"]
    assert "The original" in error and f"#{existing.pk}" in error
    assert Resource.objects.count() == 1


def test_a_link_added_between_the_check_and_the_save_is_a_form_error(client, monkeypatch):
    client.force_login(make_superuser())
    existing = ResourceFactory(title="Saved meanwhile", url="https://example.org/guide")
    checked = ResourceAdminForm.clean_url
    calls = []

    def clean_url_racing_another_moderator(form):
        calls.append(1)
        if len(calls) == 1:  # the other moderator's save lands after this check
            return form.cleaned_data["url"]
        return checked(form)

    monkeypatch.setattr(ResourceAdminForm, "clean_url", clean_url_racing_another_moderator)
    response = client.post(
        reverse("admin:resources_resource_add"),
        form_data(
            ResourceFactory.build(section=existing.section, url="https://example.org/guide"),
            section=existing.section_id,
        ),
    )
    assert response.status_code == 200
    assert "Saved meanwhile" in response.context["adminform"].form.errors["url"][0]
    assert Resource.objects.count() == 1


def test_save_and_approve_keeps_the_corrections_and_approves(
    admin_client, django_capture_on_commit_callbacks
):
    suggestion = SuggestionFactory(title="Mlops Guide", submitted_by__username="kim")

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            change_url(suggestion), form_data(suggestion, title="MLOps guide", _approve="1")
        )

    assert response.status_code == 302
    suggestion.refresh_from_db()
    assert (suggestion.title, suggestion.status) == ("MLOps guide", Status.APPROVED)
    assert ModerationEvent.objects.get().action == ModerationAction.APPROVED
    [message] = mail.outbox
    assert "MLOps guide" in message.subject


def test_save_and_reject_leads_to_the_reason_page(admin_client, django_capture_on_commit_callbacks):
    suggestion = SuggestionFactory()

    response = admin_client.post(change_url(suggestion), form_data(suggestion, _reject="1"))

    reject_url = reverse("admin:resources_resource_reject", args=[suggestion.pk])
    assert response.status_code == 302 and response.url == reject_url
    page = admin_client.get(reject_url).content.decode()
    for reason in REJECTION_REASONS:
        assert reason in page
    with django_capture_on_commit_callbacks(execute=True):
        done = admin_client.post(
            reject_url, {"apply": "Reject", "preset": "Broken link", "details": "404 since May"}
        )
    assert done.status_code == 302
    suggestion.refresh_from_db()
    assert suggestion.status == Status.REJECTED
    assert suggestion.rejection_reason == "Broken link: 404 since May"
    assert "Reason: Broken link: 404 since May" in mail.outbox[0].body


def test_approving_an_approved_resource_from_its_page_says_so(admin_client):
    resource = ResourceFactory(status=Status.APPROVED)
    response = admin_client.post(
        change_url(resource), form_data(resource, _approve="1"), follow=True
    )
    assert any("already approved" in message for message in messages_of(response))
    assert not ModerationEvent.objects.exists()


# Actions, in bulk and alone


def test_approving_in_bulk_approves_each_and_reports_the_rest(
    admin_client, django_capture_on_commit_callbacks
):
    suggestions = SuggestionFactory.create_batch(3)
    already = ResourceFactory(title="Already live")

    with django_capture_on_commit_callbacks(execute=True):
        response = run_action(admin_client, "approve_selected", [*suggestions, already])

    assert Resource.objects.filter(status=Status.APPROVED).count() == 4
    assert ModerationEvent.objects.filter(action=ModerationAction.APPROVED).count() == 3
    assert len(mail.outbox) == 3
    assert {message.to[0] for message in mail.outbox} == {s.submitted_by.email for s in suggestions}
    texts = messages_of(response)
    assert any(text.startswith("Approved ") for text in texts)
    assert any("“Already live” is already approved." in text for text in texts)


def test_approving_one_selected_suggestion(admin_client, django_capture_on_commit_callbacks):
    suggestion = SuggestionFactory()
    with django_capture_on_commit_callbacks(execute=True):
        run_action(admin_client, "approve_selected", [suggestion])
    suggestion.refresh_from_db()
    assert suggestion.status == Status.APPROVED
    assert ModerationEvent.objects.count() == 1
    assert len(mail.outbox) == 1


def test_the_reject_action_asks_for_a_reason_first(admin_client):
    suggestions = SuggestionFactory.create_batch(2)

    response = run_action(admin_client, "reject_selected", suggestions, follow=False)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Not about MLOps" in html
    for suggestion in suggestions:
        assert f'name="{ACTION_CHECKBOX_NAME}" value="{suggestion.pk}"' in html
    assert not ModerationEvent.objects.exists()


def test_rejecting_without_a_reason_shows_the_page_again(admin_client):
    suggestion = SuggestionFactory()
    response = run_action(
        admin_client, "reject_selected", [suggestion], apply="Reject", details="  ", follow=False
    )
    assert response.status_code == 200
    assert "Choose a reason or write one." in response.content.decode()
    suggestion.refresh_from_db()
    assert suggestion.status == Status.PENDING


def test_rejecting_in_bulk_rejects_each_with_the_reason_and_mails_it(
    admin_client, django_capture_on_commit_callbacks
):
    suggestions = SuggestionFactory.create_batch(2)

    with django_capture_on_commit_callbacks(execute=True):
        run_action(
            admin_client,
            "reject_selected",
            suggestions,
            apply="Reject",
            preset="",
            details="Written by hand",
        )

    assert set(Resource.objects.values_list("status", "rejection_reason")) == {
        (Status.REJECTED, "Written by hand")
    }
    events = ModerationEvent.objects.filter(action=ModerationAction.REJECTED)
    assert events.count() == 2
    assert {event.reason for event in events} == {"Written by hand"}
    assert len(mail.outbox) == 2
    assert all("Reason: Written by hand" in message.body for message in mail.outbox)


def test_archiving_in_bulk_and_alone(admin_client):
    first, second, third = ResourceFactory.create_batch(3)

    run_action(admin_client, "archive_selected", [first, second], apply="Archive", reason="Old")
    admin_client.post(
        reverse("admin:resources_resource_archive", args=[third.pk]), {"apply": "Archive"}
    )

    assert set(Resource.objects.values_list("status", flat=True)) == {Status.ARCHIVED}
    reasons = list(
        ModerationEvent.objects.filter(action=ModerationAction.ARCHIVED)
        .order_by("id")
        .values_list("reason", flat=True)
    )
    assert reasons == ["Old", "Old", ""]
    assert not Resource.objects.approved().exists()


def test_each_decision_reports_what_it_did_by_title(admin_client):
    first, second = SuggestionFactory(title="First"), SuggestionFactory(title="Second")
    live, keep = ResourceFactory(title="Live"), ResourceFactory(title="Keeper")
    duplicate = SuggestionFactory(title="Copy")

    rejected = run_action(
        admin_client, "reject_selected", [first, second], apply="Reject", preset="Broken link"
    )
    archived = run_action(admin_client, "archive_selected", [live], apply="Archive")
    merged = run_action(
        admin_client, "merge_selected", [keep, duplicate], apply="Merge", target=keep.pk
    )

    assert "Rejected “Second”, “First”." in messages_of(rejected)  # newest first, as listed
    assert "Archived “Live”." in messages_of(archived)
    assert "Merged “Copy” into “Keeper”." in messages_of(merged)


def test_merging_into_a_resource_whose_title_holds_braces_reports_it(admin_client):
    keep = ResourceFactory(title="Config {x} and {} {0}")
    duplicate = SuggestionFactory(title="Copy {y}")
    merged = run_action(
        admin_client, "merge_selected", [keep, duplicate], apply="Merge", target=keep.pk
    )
    assert merged.status_code == 200
    assert "Merged “Copy {y}” into “Config {x} and {} {0}”." in messages_of(merged)
    assert Resource.objects.get(pk=duplicate.pk).merged_into_id == keep.pk


def test_a_decision_that_does_not_apply_is_a_warning_and_the_rest_still_happen(admin_client):
    pending, live = SuggestionFactory(title="Pending"), ResourceFactory(title="Live")

    response = run_action(
        admin_client, "reject_selected", [pending, live], apply="Reject", preset="Broken link"
    )

    texts = messages_of(response)
    assert "Rejected “Pending”." in texts
    assert any(text.startswith("“Live” is approved: only pending") for text in texts)
    assert ModerationEvent.objects.count() == 1


def test_a_decision_page_returns_to_the_filtered_list_it_came_from(admin_client):
    suggestion = SuggestionFactory()
    filters = "status__exact=pending"
    query = f"?_changelist_filters={filters.replace('=', '%3D')}"

    to_page = admin_client.post(change_url(suggestion) + query, form_data(suggestion, _archive="1"))
    archive_url = reverse("admin:resources_resource_archive", args=[suggestion.pk])
    assert to_page.url == archive_url + query
    page = admin_client.get(to_page.url)
    assert page.context["changelist_url"] == f"{RESOURCES}?{filters}"
    done = admin_client.post(to_page.url, {"apply": "Archive"})

    assert done.url == f"{RESOURCES}?{filters}"


def test_merging_selected_duplicates_into_the_chosen_one(admin_client):
    keep, first, second = ResourceFactory.create_batch(3)
    both = UserFactory()
    VoteFactory(user=both, resource=keep, value=Vote.UP)
    VoteFactory(user=both, resource=first, value=Vote.DOWN)
    VoteFactory(user=both, resource=second, value=Vote.DOWN)
    VoteFactory(resource=second, value=Vote.DOWN)
    FlagFactory(resource=first)

    page = run_action(admin_client, "merge_selected", [keep, first, second], follow=False)
    assert page.status_code == 200
    assert f'value="{keep.pk}"' in page.content.decode()

    run_action(admin_client, "merge_selected", [keep, first, second], apply="Merge", target=keep.pk)

    assert list(Resource.objects.filter(merged_into=keep).order_by("pk")) == [first, second]
    assert Vote.objects.filter(user=both).get().resource == keep
    assert Vote.objects.filter(resource=keep).count() == 2
    assert Flag.objects.get().resource == keep
    keep.refresh_from_db()
    assert (keep.upvotes, keep.downvotes) == (1, 1)
    assert ModerationEvent.objects.filter(action=ModerationAction.MERGED).count() == 2


def test_merging_one_resource_offers_its_possible_duplicates(admin_client):
    original = ResourceFactory(title="Made With ML", url="https://madewithml.com/courses/mlops/")
    duplicate = SuggestionFactory(title="Made with ML", url="https://madewithml.com/courses/")
    merge_url = reverse("admin:resources_resource_merge", args=[duplicate.pk])

    page = admin_client.get(merge_url).content.decode()
    assert f'value="{original.pk}"' in page

    admin_client.post(merge_url, {"apply": "Merge", "target": original.pk})
    duplicate.refresh_from_db()
    assert duplicate.merged_into == original


def test_merging_into_a_resource_by_id(admin_client):
    target, source = ResourceFactory(title="Alpha"), SuggestionFactory(title="Omega")
    admin_client.post(
        reverse("admin:resources_resource_merge", args=[source.pk]),
        {"apply": "Merge", "target_id": target.pk},
    )
    source.refresh_from_db()
    assert source.merged_into == target


def test_merging_a_resource_into_itself_is_a_form_error(admin_client):
    resource = ResourceFactory()
    response = admin_client.post(
        reverse("admin:resources_resource_merge", args=[resource.pk]),
        {"apply": "Merge", "target_id": resource.pk},
    )
    assert response.status_code == 200
    assert "cannot merge into itself" in response.content.decode()
    assert not ModerationEvent.objects.exists()


# Flags


def test_the_flag_queue_groups_open_flags_by_resource(admin_client):
    alpha, beta = ResourceFactory(title="Alpha"), ResourceFactory(title="Beta")
    for resource in [beta, alpha, beta, alpha]:
        FlagFactory(resource=resource)
    FlagFactory(resource=alpha, status=FlagStatus.DISMISSED)

    response = admin_client.get(FLAGS, {"status__exact": "open"})

    flags = response.context["cl"].result_list
    assert [flag.resource.title for flag in flags] == ["Alpha", "Alpha", "Beta", "Beta"]


def test_the_flag_queue_does_not_query_per_row(admin_client):
    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            assert admin_client.get(FLAGS).status_code == 200
        return len(context)

    FlagFactory.create_batch(2)
    few = queries()
    FlagFactory.create_batch(15)
    assert queries() == few


def test_dismissing_flags_in_bulk(admin_client):
    flags = FlagFactory.create_batch(2)
    response = run_action(admin_client, "dismiss_selected", flags, url=FLAGS)
    assert set(Flag.objects.values_list("status", flat=True)) == {FlagStatus.DISMISSED}
    assert ModerationEvent.objects.filter(action=ModerationAction.FLAG_DISMISSED).count() == 2
    assert "Dismissed 2 flags." in messages_of(response)


def test_accepting_a_flag_and_archiving_its_resource(admin_client):
    flag = FlagFactory()
    response = run_action(admin_client, "accept_and_archive", [flag], url=FLAGS)
    flag.refresh_from_db()
    assert flag.status == FlagStatus.ACCEPTED
    assert flag.resource.status == Status.ARCHIVED
    assert "Accepted 1 flag: archived the resource." in messages_of(response)


def test_accepting_flags_in_bulk_and_marking_links_broken(admin_client):
    flags = FlagFactory.create_batch(3)
    run_action(admin_client, "accept_and_mark_broken", flags, url=FLAGS)
    assert Resource.objects.filter(link_broken=True, status=Status.APPROVED).count() == 3
    assert ModerationEvent.objects.filter(action=ModerationAction.FLAG_ACCEPTED).count() == 3


def test_deciding_a_closed_flag_again_is_reported_not_recorded(admin_client):
    flag = FlagFactory(status=FlagStatus.DISMISSED)
    response = run_action(admin_client, "accept_and_archive", [flag], url=FLAGS)
    assert any("already dismissed" in text for text in messages_of(response))
    assert not ModerationEvent.objects.exists()


def test_the_flag_page_is_read_only(admin_client):
    flag = FlagFactory(note="Dead link")
    html = admin_client.get(reverse("admin:resources_flag_change", args=[flag.pk])).content
    assert b"Dead link" in html
    assert b'name="note"' not in html


def test_the_reject_page_preselects_no_reason_and_is_styled_by_a_stylesheet(admin_client):
    suggestion = SuggestionFactory()
    page = admin_client.get(reverse("admin:resources_resource_reject", args=[suggestion.pk]))
    html = page.content.decode()
    assert "Another reason (write it below)" in html
    assert " checked" not in html
    assert "<style" not in html  # the Content Security Policy would block it
    assert "/static/css/admin-moderation.css" in html


def test_another_reason_needs_the_details_written_below(admin_client):
    suggestion = SuggestionFactory()
    reject_url = reverse("admin:resources_resource_reject", args=[suggestion.pk])
    empty = admin_client.post(reject_url, {"apply": "Reject", "preset": "another"})
    assert "Choose a reason or write one." in empty.content.decode()
    admin_client.post(
        reject_url, {"apply": "Reject", "preset": "another", "details": "A duplicate of #3"}
    )
    suggestion.refresh_from_db()
    assert (suggestion.status, suggestion.rejection_reason) == (
        Status.REJECTED,
        "A duplicate of #3",
    )


def test_the_admin_refuses_a_local_link_and_strips_direction_overrides_from_titles(client):
    client.force_login(make_superuser())
    section = SectionFactory()
    local = form_data(
        ResourceFactory.build(section=section, url="http://127.0.0.1:8000/"), section=section.pk
    )
    response = client.post(reverse("admin:resources_resource_add"), local)
    assert response.status_code == 200
    assert "public web site" in response.content.decode()
    spoofed = form_data(
        ResourceFactory.build(
            section=section, url="https://example.org/tool", title="Safe\u202egnp.exe\u200b"
        ),
        section=section.pk,
    )
    assert client.post(reverse("admin:resources_resource_add"), spoofed).status_code == 302
    assert Resource.objects.get().title == "Safegnp.exe"
