"""Query counts of the hot paths, pinned: they stay the same however much data there is."""

from datetime import timedelta

import pytest
from django.core.cache import caches
from django.utils import timezone

from resources.models import Vote
from tests.factories import ResourceFactory, UserFactory, VerifiedUserFactory, VoteFactory
from tests.queries import app_queries, assert_app_queries

pytestmark = pytest.mark.django_db

# Not counting the cache's and sessions' own statements (tests/queries.py): the user (with
# whether their address is verified), then the savepoint that the test's own transaction
# turns the service's transaction into.
REQUEST = 1
TRANSACTION = 2


@pytest.fixture
def member(client):
    user = VerifiedUserFactory(date_joined=timezone.now() - timedelta(days=30))
    client.force_login(user)
    return user


@pytest.mark.parametrize("clicks", [["up"], ["up", "down"], ["down", "down"]])
def test_a_vote_is_a_read_one_write_and_one_tally_update_however_many_votes_it_has(
    client, member, clicks
):
    resource = ResourceFactory()
    for voter in UserFactory.create_batch(30):
        VoteFactory(user=voter, resource=resource, value=Vote.UP)
    for click in clicks[:-1]:
        client.post(f"/resources/{resource.pk}/vote/", {"value": click}, HTTP_HX_REQUEST="true")
    with assert_app_queries(REQUEST + TRANSACTION + 3):
        response = client.post(
            f"/resources/{resource.pk}/vote/", {"value": clicks[-1]}, HTTP_HX_REQUEST="true"
        )
    assert response.status_code == 200


@pytest.fixture
def kept_counts(settings):
    """The page cache on, in memory, so that reading it is not a query."""
    settings.CACHES = {
        alias: {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": alias}
        for alias in settings.CACHES  # default, pages and, with Redis, sessions
    }
    settings.PAGE_CACHE_SECONDS = 60
    for alias in settings.CACHES:
        caches[alias].clear()


@pytest.mark.parametrize("rows", [3, 40])
def test_an_api_page_counts_its_matches_once_until_the_catalogue_changes(
    client, kept_counts, django_capture_on_commit_callbacks, rows
):
    ResourceFactory.create_batch(rows, tags=["a"])
    # An address with a parameter the page cache does not know: never a stored answer.
    first = client.get("/api/resources/?page_size=20&probe=1")  # counts, reads the section tree
    with assert_app_queries(2):  # the page of resources, their tags
        again = client.get("/api/resources/?page_size=20&probe=2")
    assert first.json()["count"] == again.json()["count"] == rows
    assert "private" in again["Cache-Control"]
    with django_capture_on_commit_callbacks(execute=True):
        ResourceFactory(tags=["a"])
    assert client.get("/api/resources/?page_size=20&probe=3").json()["count"] == rows + 1


def test_a_signed_in_search_counts_its_matches_once_until_the_catalogue_changes(
    client, member, kept_counts, django_capture_on_commit_callbacks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ResourceFactory.create_batch(5, title="Drift detection in practice")

    def queries(url: str) -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return app_queries(captured)

    def reads_the_matches(sql: str) -> bool:  # their ids, up to the cap and one more
        return sql.startswith('SELECT "resources_resource"."id" AS "pk" FROM') and "LIMIT" in sql

    first, again = queries("/resources/?q=drift"), queries("/resources/?q=drift&x=1")
    assert any(reads_the_matches(sql) for sql in first)
    # What the cards show that votes change, in one narrow read; the cached card list holds
    # the rest: no card read, no tags, no count, no read of the matches.
    assert len(again) == REQUEST + 1
    assert not any("COUNT(" in sql or reads_the_matches(sql) for sql in again)
    with django_capture_on_commit_callbacks(execute=True):
        ResourceFactory(title="Drift, once more")
    assert "6 resources" in client.get("/resources/?q=drift").content.decode()
