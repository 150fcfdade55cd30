import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from resources import services
from resources.models import Status, Vote
from resources.moderation import approve_resource
from tests.factories import ResourceFactory, SectionFactory, UserFactory, VerifiedUserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def page_cache(settings):
    settings.ANONYMOUS_PAGE_CACHE_SECONDS = 60


@pytest.fixture
def section():
    return SectionFactory(slug="tools", title="Tools")


def get_counting_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return response, len(queries)


def test_an_anonymous_reader_gets_the_second_view_from_the_cache(client, section):
    ResourceFactory(section=section)
    first, _ = get_counting_queries(client, section.get_absolute_url())
    second, queries = get_counting_queries(client, section.get_absolute_url())
    assert first["X-Page-Cache"] == "miss"
    assert second["X-Page-Cache"] == "hit"
    assert second.content == first.content
    assert queries <= 2  # the cache itself, when it lives in the database


def test_signed_in_readers_never_get_a_cached_page(client, section):
    client.get(section.get_absolute_url())
    client.force_login(UserFactory(username="reader"))
    response = client.get(section.get_absolute_url())
    assert "X-Page-Cache" not in response
    assert "reader" in response.content.decode()


def test_a_vote_invalidates_the_cached_page(client, section, django_capture_on_commit_callbacks):
    resource = ResourceFactory(section=section)
    client.get(section.get_absolute_url())
    with django_capture_on_commit_callbacks(execute=True):
        services.cast_vote(user=UserFactory(), resource=resource, value=Vote.UP)
    response = client.get(section.get_absolute_url())
    assert response["X-Page-Cache"] == "miss"
    assert 'aria-label="Score 1"' in response.content.decode()


def test_an_approval_shows_on_the_cached_section_at_once(
    client, section, django_capture_on_commit_callbacks
):
    suggestion = ResourceFactory(section=section, status=Status.PENDING, title="Fresh link")
    assert "Fresh link" not in client.get(section.get_absolute_url()).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        approve_resource(resource=suggestion, moderator=VerifiedUserFactory(is_staff=True))
    assert "Fresh link" in client.get(section.get_absolute_url()).content.decode()


def test_pages_outside_the_public_set_are_not_cached(client, section):
    for url in ["/resources/suggest/", "/healthz", "/accounts/login/", "/moderation/log/"]:
        client.get(url)
        assert "X-Page-Cache" not in client.get(url), url


def test_htmx_fragments_are_not_cached(client, section):
    response = client.get("/resources/?q=x", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results")
    assert "X-Page-Cache" not in response


def test_the_section_tree_is_shared_until_the_content_changes(
    settings, client, section, django_capture_on_commit_callbacks
):
    settings.ANONYMOUS_PAGE_CACHE_SECONDS = 0
    settings.CONTENT_CACHE_SECONDS = 60
    ResourceFactory(section=section)

    def section_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            client.get("/")
        return sum('FROM "roadmap_section"' in query["sql"] for query in queries)

    assert section_queries() == 1
    assert section_queries() == 0  # from the cache
    with django_capture_on_commit_callbacks(execute=True):
        ResourceFactory(section=section)
    assert section_queries() == 1
    assert "2 resources" in client.get("/").content.decode()


def test_a_vote_keeps_the_section_tree_but_an_approval_does_not(
    settings, client, section, django_capture_on_commit_callbacks
):
    """Votes change scores, not counts: the counted tree survives them (the page does not)."""
    settings.ANONYMOUS_PAGE_CACHE_SECONDS = 0
    settings.CONTENT_CACHE_SECONDS = 60
    resource = ResourceFactory(section=section)

    def section_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            client.get("/")
        return sum('FROM "roadmap_section"' in query["sql"] for query in queries)

    assert section_queries() == 1
    with django_capture_on_commit_callbacks(execute=True):
        services.cast_vote(user=UserFactory(), resource=resource, value=Vote.UP)
    assert section_queries() == 0
    with django_capture_on_commit_callbacks(execute=True):
        approve_resource(
            resource=ResourceFactory(section=section, status=Status.PENDING),
            moderator=VerifiedUserFactory(is_staff=True),
        )
    assert section_queries() == 1


def test_a_cached_page_carries_the_headers_of_the_middleware_it_skips(client, section):
    first = client.get(section.get_absolute_url())
    second = client.get(section.get_absolute_url())
    assert second["X-Page-Cache"] == "hit"
    for header in (
        "Content-Security-Policy",
        "X-Frame-Options",
        "X-Content-Type-Options",
        "Referrer-Policy",
        "Content-Type",
    ):
        assert second[header] == first[header], header


def test_a_cached_page_still_checks_the_host(client, section):
    client.get(section.get_absolute_url())
    client.raise_request_exception = False
    response = client.get(section.get_absolute_url(), HTTP_HOST="evil.example")
    assert response.status_code == 400


def test_a_plain_http_request_is_redirected_not_served_from_the_cache(settings, client, section):
    client.get(section.get_absolute_url(), secure=True)
    assert client.get(section.get_absolute_url(), secure=True)["X-Page-Cache"] == "hit"
    settings.SECURE_SSL_REDIRECT = True
    client = Client()  # middleware reads its settings when the handler is built
    response = client.get(section.get_absolute_url())
    assert response.status_code == 301
    assert response["Location"].startswith("https://")
    assert client.get(section.get_absolute_url(), secure=True)["X-Page-Cache"] == "hit"


def test_a_reader_with_a_message_waiting_gets_a_fresh_page(client, section):
    client.get(section.get_absolute_url())
    client.cookies["messages"] = "anything"
    assert "X-Page-Cache" not in client.get(section.get_absolute_url())


def test_a_process_trusts_the_version_it_read_for_a_moment_but_its_own_change_at_once(
    settings, monkeypatch
):
    from django.core.cache import cache

    from config import cache as versions

    settings.CONTENT_VERSION_MEMO_SECONDS = 1
    clock = [1000.0]
    monkeypatch.setattr(versions.time, "monotonic", lambda: clock[0])
    versions._memo.clear()
    first = versions.content_version()
    cache.incr(versions.VERSION_KEY)  # another process's vote
    assert versions.content_version() == first
    clock[0] += 1.01
    assert versions.content_version() == first + 1
    versions.bump_content_version()  # this process's own change
    assert versions.content_version() == first + 2
    versions._memo.clear()


def test_a_cached_page_goes_gzipped_to_browsers_that_take_it(client, section):
    import gzip

    ResourceFactory(section=section, title="Compressed well")
    url = section.get_absolute_url()
    plain = client.get(url)
    assert plain["X-Page-Cache"] == "miss"
    assert "Accept-Encoding" in plain["Vary"]
    for expected in ("miss", "hit"):
        zipped = client.get(url, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
        assert zipped["X-Page-Cache"] == expected
        assert zipped["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in zipped["Vary"]
        assert int(zipped["Content-Length"]) == len(zipped.content) < len(plain.content) / 2
        assert gzip.decompress(zipped.content) == plain.content
    again = client.get(url)
    assert again["X-Page-Cache"] == "hit"
    assert "Content-Encoding" not in again
    assert again.content == plain.content
    assert int(again["Content-Length"]) == len(plain.content)


def test_a_process_serves_a_page_it_served_lately_from_its_own_memory(
    settings, client, section, monkeypatch
):
    from django.core.cache import cache

    from config import cache as versions

    settings.CONTENT_VERSION_MEMO_SECONDS = 1
    versions._memo.clear()
    client.get(section.get_absolute_url())  # stored in the shared cache and in memory
    monkeypatch.setattr(cache, "get", lambda *args, **kwargs: pytest.fail("asked the cache"))
    with CaptureQueriesContext(connection) as queries:
        response = client.get(section.get_absolute_url())
    assert response["X-Page-Cache"] == "hit"
    assert len(queries) == 0
    versions._memo.clear()


def test_the_local_memory_keeps_to_its_byte_budget_and_age(settings, monkeypatch):
    from config import cache as versions

    memory = versions.LocalMemory("LOCAL_CACHE_BYTES")
    settings.LOCAL_CACHE_BYTES = 40 * 1024
    page = (200, {}, b"x" * 9 * 1024)
    for n in range(6):
        memory.set(f"page:{n}", page, versions._size(page), 60)
    assert memory._bytes <= settings.LOCAL_CACHE_BYTES
    assert memory.get("page:0") is None  # the oldest went first
    assert memory.get("page:5") == page
    clock = [versions.time.monotonic() + 61]
    monkeypatch.setattr(versions.time, "monotonic", lambda: clock[0])
    assert memory.get("page:5") is None  # too old
    memory.set("big", (200, {}, b"x" * 20 * 1024), 21 * 1024, 60)
    assert memory.get("big") is None  # larger than a quarter of the budget: not kept


def test_a_page_is_cached_per_scheme_and_host(settings, client, section):
    settings.ALLOWED_HOSTS = ["testserver", "www.testserver"]
    url = section.get_absolute_url()
    assert client.get(url)["X-Page-Cache"] == "miss"
    assert client.get(url)["X-Page-Cache"] == "hit"
    assert client.get(url, secure=True)["X-Page-Cache"] == "miss"
    other = client.get(url, HTTP_HOST="www.testserver")
    assert other["X-Page-Cache"] == "miss"
    assert 'href="http://www.testserver/sections/tools/"' in other.content.decode()


def test_a_page_in_local_memory_lives_no_longer_than_the_page_cache_allows(
    settings, client, section, monkeypatch
):
    from config import cache as versions

    settings.ANONYMOUS_PAGE_CACHE_SECONDS = 5
    client.get(section.get_absolute_url())
    [(expires, _, _)] = versions.local_memory._items.values()
    assert expires - versions.time.monotonic() <= 5


def test_a_version_read_while_this_process_bumps_it_is_not_remembered(settings, monkeypatch):
    from django.core.cache import cache

    from config import cache as versions

    settings.CONTENT_VERSION_MEMO_SECONDS = 60
    versions._memo.clear()
    real_get = cache.get
    stale = versions.content_version()
    versions._memo.clear()

    raced = []

    def get_then_bump(key, *args, **kwargs):
        value = real_get(key, *args, **kwargs)
        if not raced:
            raced.append(key)
            versions.bump_content_version()  # another thread's commit lands mid-read
        return value

    monkeypatch.setattr(cache, "get", get_then_bump)
    assert versions.content_version() == stale  # this read raced the bump
    assert versions.content_version() == stale + 1  # and was not remembered
    versions._memo.clear()
