"""Nothing of a resource a reader may not see leaks through refusals, tags, or link checks."""

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from resources.models import Status
from tests.factories import ResourceFactory, UserFactory, VerifiedUserFactory
from tests.resources.moderation_factories import make_moderator

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
HIDDEN = (Status.PENDING, Status.REJECTED, Status.ARCHIVED)


@pytest.fixture
def reader(client):
    client.force_login(VerifiedUserFactory(username="reader"))
    return client


@pytest.mark.parametrize("status", HIDDEN)
def test_a_refused_vote_on_an_unpublished_resource_draws_nothing_of_it(reader, status):
    resource = ResourceFactory(title="Secret plans", status=status, approved_at=None)
    for headers in (HTMX, {}):
        response = reader.post(f"/resources/{resource.pk}/vote/", {"value": "up"}, **headers)
        assert response.status_code == 404
        assert "Secret plans" not in response.content.decode()


@pytest.mark.parametrize("status", HIDDEN)
def test_a_refused_progress_mark_on_an_unpublished_resource_draws_nothing_of_it(reader, status):
    resource = ResourceFactory(title="Secret plans", status=status, approved_at=None)
    for headers in (HTMX, {}):
        response = reader.post(f"/me/progress/{resource.pk}/", {"state": "done"}, **headers)
        assert response.status_code == 404
        assert "Secret plans" not in response.content.decode()


def test_the_submitter_still_gets_the_widget_of_their_own_suggestion_after_a_refused_vote(client):
    submitter = VerifiedUserFactory(username="submitter")
    resource = ResourceFactory(
        title="My idea", status=Status.PENDING, approved_at=None, submitted_by=submitter
    )
    client.force_login(submitter)
    response = client.post(f"/resources/{resource.pk}/vote/", {"value": "up"}, **HTMX)
    assert response.status_code == 200
    assert "your suggestion" in response.content.decode()


def test_staff_without_the_moderator_permission_cannot_read_a_pending_suggestion(client):
    resource = ResourceFactory(title="Secret plans", status=Status.PENDING, approved_at=None)
    client.force_login(UserFactory(username="staffer", is_staff=True))
    response = client.get(f"/resources/{resource.pk}/")
    assert response.status_code == 404
    assert "Secret plans" not in response.content.decode()
    assert client.get("/admin/resources/resource/").status_code == 403
    assert client.get(f"/admin/resources/resource/{resource.pk}/change/").status_code == 403


def test_staff_with_the_permission_to_view_resources_reads_a_pending_suggestion(client):
    resource = ResourceFactory(title="Secret plans", status=Status.PENDING, approved_at=None)
    staffer = UserFactory(username="staffer", is_staff=True)
    staffer.user_permissions.add(Permission.objects.get(codename="view_resource"))
    client.force_login(staffer)
    assert "Secret plans" in client.get(f"/resources/{resource.pk}/").content.decode()
    client.force_login(make_moderator())
    assert "Secret plans" in client.get(f"/resources/{resource.pk}/").content.decode()


@pytest.mark.parametrize("status", (Status.PENDING, Status.REJECTED))
def test_a_tag_that_only_unpublished_suggestions_carry_is_not_found(client, status):
    ResourceFactory(status=status, approved_at=None, tags=["secret-project"])
    for path in (
        "/tags/secret-project/",
        "/feeds/tags/secret-project/rss/",
        "/feeds/tags/secret-project/atom/",
    ):
        response = client.get(path)
        assert response.status_code == 404, path


def test_a_tag_on_the_roadmap_still_has_its_page_and_feeds(client):
    ResourceFactory(title="Public one", tags=["mlflow"])
    ResourceFactory(title="Waiting one", status=Status.PENDING, approved_at=None, tags=["mlflow"])
    page = client.get("/tags/mlflow/").content.decode()
    assert "Public one" in page
    assert "Waiting one" not in page
    assert client.get("/feeds/tags/mlflow/rss/").status_code == 200


def test_readers_see_that_a_link_may_be_broken_but_not_the_checkers_error(client):
    resource = ResourceFactory(
        link_checked_at=timezone.now(),
        link_failures=3,
        link_error="localhost is at 127.0.0.1 (ConnectionRefusedError)",
    )
    page = client.get(f"/resources/{resource.pk}/").content.decode()
    assert "did not work" in page
    assert "127.0.0.1" not in page
    assert "ConnectionRefusedError" not in page


def test_an_archived_duplicate_does_not_lead_to_a_pending_suggestion(client):
    pending = ResourceFactory(title="Secret plans", status=Status.PENDING, approved_at=None)
    duplicate = ResourceFactory(status=Status.ARCHIVED, merged_into=pending)
    response = client.get(f"/resources/{duplicate.pk}/")
    assert response.status_code == 404
    assert f"/resources/{pending.pk}/" not in response.get("Location", "")


def test_an_archived_duplicate_still_leads_to_the_resource_it_was_merged_into(client):
    target = ResourceFactory()
    duplicate = ResourceFactory(status=Status.ARCHIVED, merged_into=target)
    response = client.get(f"/resources/{duplicate.pk}/")
    assert response.status_code == 301
    assert response["Location"] == f"/resources/{target.pk}/"
