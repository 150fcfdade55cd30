import json
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.template.loader import render_to_string
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.html import strip_tags

from resources import services
from resources.models import Progress, ProgressState, Resource, Status
from tests.factories import ResourceFactory, SectionFactory, UserFactory


def text_of(html: str) -> str:
    """What a page says, without its markup."""
    return " ".join(strip_tags(html).split())


pytestmark = pytest.mark.django_db


@pytest.fixture
def reader(client):
    """A signed-in reader; tracking progress needs no verified email address."""
    user = UserFactory(username="reader")
    client.force_login(user)
    return user


@pytest.fixture
def tree():
    learning = SectionFactory(slug="learning", title="Learning", position=0)
    courses = SectionFactory(slug="courses", title="Courses", parent=learning, position=0)
    tools = SectionFactory(slug="tools", title="Tools", position=1)
    return learning, courses, tools


def mark(user, resources, state=ProgressState.DONE):
    for resource in resources:
        services.set_progress(user=user, resource=resource, state=state)


def set_url(resource) -> str:
    return f"/me/progress/{resource.pk}/"


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


# The model keeps its invariants


def test_one_progress_row_per_user_and_resource():
    user, resource = UserFactory(), ResourceFactory()
    Progress.objects.create(user=user, resource=resource, state="saved")
    with pytest.raises(IntegrityError), transaction.atomic():
        Progress.objects.create(user=user, resource=resource, state="done")


def test_the_database_refuses_an_unknown_state():
    with pytest.raises(IntegrityError), transaction.atomic():
        Progress.objects.create(user=UserFactory(), resource=ResourceFactory(), state="skimmed")


# Services


def test_set_progress_creates_then_changes_the_one_row():
    user, resource = UserFactory(), ResourceFactory()
    services.set_progress(user=user, resource=resource, state="saved")
    progress = services.set_progress(user=user, resource=resource, state="done")
    assert progress.state == "done"
    assert Progress.objects.get(user=user, resource=resource).state == "done"
    assert Progress.objects.count() == 1


def test_set_progress_with_none_forgets_the_resource():
    user, resource = UserFactory(), ResourceFactory()
    services.set_progress(user=user, resource=resource, state="in_progress")
    assert services.set_progress(user=user, resource=resource, state=None) is None
    assert not Progress.objects.exists()


@pytest.mark.parametrize("status", [Status.PENDING, Status.REJECTED, Status.ARCHIVED])
def test_only_approved_resources_can_be_marked(status):
    with pytest.raises(services.NotAllowed, match="on the roadmap"):
        services.set_progress(
            user=UserFactory(), resource=ResourceFactory(status=status), state="done"
        )
    assert not Progress.objects.exists()


def test_progress_on_a_resource_archived_later_can_still_be_cleared():
    user, resource = UserFactory(), ResourceFactory()
    services.set_progress(user=user, resource=resource, state="done")
    Resource.objects.filter(pk=resource.pk).update(status=Status.ARCHIVED)
    services.set_progress(user=user, resource=resource, state=None)
    assert not Progress.objects.exists()


def test_an_unknown_state_is_refused_by_the_service():
    with pytest.raises(services.NotAllowed):
        services.set_progress(user=UserFactory(), resource=ResourceFactory(), state="skimmed")


# The view that marks


def test_anonymous_readers_are_sent_to_sign_in(client):
    resource = ResourceFactory()
    response = client.post(set_url(resource), {"state": "done"})
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/?next=")
    assert not Progress.objects.exists()


def test_anonymous_htmx_requests_are_told_to_load_the_sign_in_page(client):
    resource = ResourceFactory()
    response = client.post(
        set_url(resource),
        {"state": "done", "next": "/sections/x/"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200  # htmx acts on HX-Redirect, not on a 3xx
    assert response["HX-Redirect"].startswith("/accounts/login/?next=/sections/x/")


def test_marking_needs_a_post(client, reader):
    assert client.get(set_url(ResourceFactory())).status_code == 405


def test_marking_needs_the_csrf_token(reader):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(reader)
    assert strict.post(set_url(ResourceFactory()), {"state": "done"}).status_code == 403
    assert not Progress.objects.exists()


def test_a_reader_without_a_verified_address_marks_and_returns_to_the_page(client, reader):
    resource = ResourceFactory()
    response = client.post(
        set_url(resource), {"state": "done", "next": "/sections/learning/#resource-1"}
    )
    assert response.status_code == 302
    assert response.url == "/sections/learning/#resource-1"
    assert Progress.objects.get(user=reader, resource=resource).state == "done"


def test_a_foreign_next_address_is_ignored(client, reader):
    resource = ResourceFactory()
    response = client.post(
        set_url(resource), {"state": "saved", "next": "https://evil.example/steal"}
    )
    assert response.url == resource.get_absolute_url()


@pytest.mark.parametrize(
    "next_value", ["foo", "resources", "account_logout", "%FF", "\ufffd", "/\\evil.example"]
)
def test_a_next_that_is_not_a_local_path_is_ignored(client, reader, next_value):
    resource = ResourceFactory()
    response = client.post(set_url(resource), {"state": "saved", "next": next_value})
    assert response.status_code == 302
    assert response.url == resource.get_absolute_url()


def test_clear_forgets_the_mark(client, reader):
    resource = ResourceFactory()
    mark(reader, [resource])
    client.post(set_url(resource), {"state": "clear"})
    assert not Progress.objects.exists()


@pytest.mark.parametrize("data", [{"state": "skimmed"}, {}])
def test_an_unknown_state_is_a_bad_request(client, reader, data):
    assert client.post(set_url(ResourceFactory()), data).status_code == 400


def test_htmx_gets_the_control_back_with_the_new_state_pressed(client, reader):
    resource = ResourceFactory(title="Feature stores")
    response = client.post(
        set_url(resource),
        {"state": "in_progress", "next": "/sections/learning/#resource-9"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    # The buttons inherit their target, the control itself, and the swap from it.
    opening = html.strip().split(">", 1)[0]
    assert opening.startswith(f'<div class="progress-control" id="progress-{resource.pk}"')
    assert 'data-hx-target="this"' in opening and 'data-hx-swap="outerHTML"' in opening
    assert 'class="progress-button progress-in_progress" aria-pressed="true"' in html
    assert 'class="progress-button progress-done" aria-pressed="false"' in html
    # Pressing the pressed button again clears it; the page to return to is kept.
    assert 'name="state" value="clear"' in html
    assert html.count('form="card-actions"') == 3  # the page's one form carries token and next


def test_marking_a_pending_resource_explains_why_not(client, reader):
    # Its submitter may see it, so they hear why; anyone else gets a 404
    # (tests/security/test_what_readers_may_see.py).
    resource = ResourceFactory(status=Status.PENDING, submitted_by=reader)
    response = client.post(set_url(resource), {"state": "done"}, follow=True)
    assert "Only resources on the roadmap can be tracked" in response.content.decode()
    htmx = client.post(set_url(resource), {"state": "done"}, headers={"HX-Request": "true"})
    assert 'role="alert"' in htmx.content.decode()
    assert not Progress.objects.exists()


# Cards


def test_cards_show_the_readers_own_state(client, reader, tree):
    _, courses, _ = tree
    done, untouched = ResourceFactory.create_batch(2, section=courses)
    mark(reader, [done])
    mark(UserFactory(), [untouched])  # someone else's progress is not the reader's
    html = client.get(courses.get_absolute_url()).content.decode()
    assert html.count('aria-pressed="true"') == 1
    assert 'class="progress-button progress-done" aria-pressed="true"' in html
    assert f'action="/me/progress/{done.pk}/"' in html
    assert f'data-hx-post="/me/progress/{untouched.pk}/"' in html


def test_anonymous_readers_see_no_progress_controls(client, tree):
    _, courses, _ = tree
    ResourceFactory(section=courses)
    html = client.get(courses.get_absolute_url()).content.decode()
    assert "progress-control" not in html
    assert "<progress" not in html


def test_cards_from_a_query_without_progress_show_no_control(rf, reader):
    # A page that did not annotate my_progress must not show every card as unmarked.
    resource = Resource.objects.for_cards().with_user_vote(reader).get(pk=ResourceFactory().pk)
    request = rf.get("/")
    request.user = reader
    html = render_to_string("partials/resource_card.html", {"resource": resource}, request)
    assert "progress-control" not in html
    annotated = Resource.objects.with_user_progress(reader).get(pk=resource.pk)
    html = render_to_string("partials/resource_card.html", {"resource": annotated}, request)
    assert "progress-control" in html


def test_the_detail_page_offers_the_control_or_a_sign_in_link(client, tree):
    resource = ResourceFactory()
    assert "save it and track your progress" in (
        client.get(resource.get_absolute_url()).content.decode()
    )
    user = UserFactory()
    mark(user, [resource], "saved")
    client.force_login(user)
    html = client.get(resource.get_absolute_url()).content.decode()
    assert 'class="progress-button progress-saved" aria-pressed="true"' in html


# Progress through sections


def test_section_page_counts_done_resources_including_sub_sections(client, reader, tree):
    learning, courses, tools = tree
    own = ResourceFactory.create_batch(2, section=learning)
    sub = ResourceFactory.create_batch(10, section=courses)
    ResourceFactory(section=courses, status=Status.PENDING)  # counts nowhere
    mark(reader, [own[0], *sub[:2]])
    mark(reader, sub[2:4], "in_progress")  # only "done" counts as done
    mark(reader, ResourceFactory.create_batch(2, section=tools))
    html = client.get(learning.get_absolute_url()).content.decode()
    assert "Your progress in Learning: 3 of 12 done" in text_of(html)
    assert '<progress class="progress-bar" max="12" value="3"' in html
    assert 'aria-labelledby="section-progress-learning"' in html
    assert "Your progress in Courses: 2 of 10 done" in text_of(html)


def test_home_shows_progress_for_each_section_node(client, reader, tree):
    learning, courses, tools = tree
    resources = ResourceFactory.create_batch(4, section=courses)
    ResourceFactory.create_batch(3, section=tools)
    mark(reader, resources[:3])
    html = client.get("/").content.decode()
    text = text_of(html)
    # Courses: 3 of its 4 done is its 3 needed, so it and Learning above it are done.
    assert "3/4 resources done Status: Done" in text
    assert "0/3 resources done Status: Not started" in text  # Tools
    assert "You have done 3 of 7" in text
    assert 'href="/me/learning/"' in html


def test_home_shows_anonymous_readers_no_progress(client, tree):
    ResourceFactory(section=tree[1])
    html = client.get("/").content.decode()
    assert "<progress" not in html
    assert "You have done" not in html


# My learning


def test_learning_page_needs_a_signed_in_user(client):
    for url in ("/me/learning/", "/me/learning/export.json"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith("/accounts/login/")


def test_learning_page_groups_the_readers_resources_by_state(client, reader):
    mark(reader, [ResourceFactory(title="Reading now")], "in_progress")
    mark(reader, [ResourceFactory(title="For later")], "saved")
    mark(reader, [ResourceFactory(title="Finished")], "done")
    mark(UserFactory(), [ResourceFactory(title="Someone else's")], "done")
    response = client.get("/me/learning/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    positions = [
        html.index(text)
        for text in (
            'id="learning-in_progress"',
            "Reading now",
            'id="learning-saved"',
            "For later",
            'id="learning-done"',
            "Finished",
        )
    ]
    assert positions == sorted(positions)
    assert "Someone else" not in html
    assert 'href="/me/learning/export.json"' in html


def test_learning_page_keeps_resources_taken_off_the_roadmap(client, reader):
    resource = ResourceFactory(title="Gone later")
    mark(reader, [resource])
    Resource.objects.filter(pk=resource.pk).update(status=Status.ARCHIVED)
    html = client.get("/me/learning/").content.decode()
    assert "Gone later" in html
    assert "No longer on the roadmap" in html
    assert resource.get_absolute_url() not in html  # its page is gone


def test_learning_page_when_nothing_is_marked(client, reader):
    html = client.get("/me/learning/").content.decode()
    assert "You have not marked anything yet" in html


def test_export_is_a_json_attachment_of_the_readers_progress(client, reader):
    resource = ResourceFactory(title="Practical MLOps", section__title="Books")
    mark(reader, [resource], "in_progress")
    mark(UserFactory(), [ResourceFactory()], "done")
    response = client.get("/me/learning/export.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith("attachment;")
    rows = json.loads(response.content)
    assert rows == [
        {
            "resource_id": resource.pk,
            "title": "Practical MLOps",
            "url": resource.url,
            "section": "Books",
            "state": "in_progress",
            "updated_at": Progress.objects.get(user=reader).updated_at.isoformat(),
        }
    ]


# Query counts stay flat


def _mark_many(user, section, count):
    resources = ResourceFactory.create_batch(count, section=section, tags=["x"])
    states = list(ProgressState.values)
    for index, resource in enumerate(resources):
        mark(user, [resource], states[index % 3])


@pytest.mark.parametrize("page", ["home", "parent", "child"])
def test_signed_in_query_count_does_not_grow_with_progress(client, reader, tree, page):
    learning, courses, _ = tree
    url = {"home": "/", "parent": learning.get_absolute_url(), "child": courses.get_absolute_url()}
    _mark_many(reader, courses, 5)
    small = count_queries(client, url[page])
    _mark_many(reader, courses, 35)
    _mark_many(reader, learning, 5)
    assert count_queries(client, url[page]) == small


def test_signed_in_section_page_costs_three_queries_more_than_anonymous(client, reader, tree):
    _, courses, _ = tree
    _mark_many(reader, courses, 5)
    signed_in = count_queries(client, courses.get_absolute_url())
    anonymous = count_queries(Client(), courses.get_absolute_url())
    # The session, the user with their verified address (accounts.backends), then one
    # aggregate of done resources; the cards carry their state in the query that loads them.
    assert signed_in == anonymous + 3


@pytest.mark.parametrize("url", ["/me/learning/", "/me/learning/export.json"])
def test_learning_query_count_does_not_grow(client, reader, tree, url):
    _mark_many(reader, tree[1], 5)
    small = count_queries(client, url)
    _mark_many(reader, tree[2], 35)
    assert count_queries(client, url) == small


def test_progress_rows_go_when_the_user_goes():
    user = UserFactory()
    mark(user, [ResourceFactory()])
    user.delete()
    assert not Progress.objects.exists()


def test_updated_at_moves_when_the_state_changes():
    user, resource = UserFactory(), ResourceFactory()
    first = services.set_progress(user=user, resource=resource, state="saved")
    Progress.objects.filter(pk=first.pk).update(updated_at=timezone.now() - timedelta(days=3))
    second = services.set_progress(user=user, resource=resource, state="done")
    assert second.updated_at > timezone.now() - timedelta(minutes=1)
