"""Anonymous readers get whole pages from Django's cache; a change to the catalogue empties it
(a vote does not: cached pages show scores at most PAGE_CACHE_SECONDS old).

A page served from the cache is recognised by what a reader would see: a row changed behind
the site's back (a queryset update, which tells no one) does not show until the cache is
emptied.
"""

import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from taggit.models import Tag

from resources import services
from resources.linkcheck import LinkResult, store_result
from resources.models import Resource, Status, Vote
from resources.moderation import approve_resource
from roadmap.models import Roadmap
from tests.factories import ResourceFactory, SectionFactory, UserFactory, VerifiedUserFactory


def score_text(score: int) -> str:
    """How a card shows its score, with the word screen readers hear."""
    return f'<span class="visually-hidden">Score </span>{score}<'


pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def page_cache(settings):
    settings.PAGE_CACHE_SECONDS = 60


@pytest.fixture
def section():
    return SectionFactory(slug="tools", title="Tools")


@pytest.fixture
def resource(section):
    return ResourceFactory(section=section, title="Original title")


def retitle_silently(resource) -> None:
    Resource.objects.filter(pk=resource.pk).update(title="Changed title")


def reintroduce_silently() -> None:
    """A change outside the card lists (which have a cache of their own)."""
    Roadmap.objects.update_or_create(pk=1, defaults={"title": "Roadmap", "intro": "First"})
    Roadmap.objects.filter(pk=1).update(intro_html="<p>Changed intro</p>")


def test_an_anonymous_reader_gets_the_second_view_from_the_cache(client, section, resource):
    first = client.get(section.get_absolute_url())
    retitle_silently(resource)
    with CaptureQueriesContext(connection) as queries:
        second = client.get(section.get_absolute_url())
    assert second.content == first.content
    assert "Original title" in second.content.decode()
    assert len(queries) <= 2  # the cache itself, when it lives in the database
    assert "max-age=60" in second["Cache-Control"]
    assert second["ETag"] == first["ETag"]


def test_an_unchanged_page_answers_304_to_its_etag(client, section, resource):
    etag = client.get(section.get_absolute_url())["ETag"]
    response = client.get(section.get_absolute_url(), HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert response.content == b""


@pytest.mark.parametrize("path", ["/", "/sections/tools/", "/resources/", "/resources/?q=orig"])
def test_every_public_page_is_cached_for_anonymous_readers(client, resource, path):
    client.get(path)
    retitle_silently(resource)
    assert "Changed title" not in client.get(path).content.decode()


def test_the_resource_page_and_tag_pages_are_cached(client, resource):
    resource.tags.set(["mlops"])
    for path in [resource.get_absolute_url(), "/tags/", "/tags/mlops/"]:
        client.get(path)
    retitle_silently(resource)
    Tag.objects.filter(slug="mlops").update(name="renamed-behind-the-back")
    assert "Changed title" not in client.get(resource.get_absolute_url()).content.decode()
    assert "renamed-behind-the-back" not in client.get("/tags/").content.decode()


def test_signed_in_readers_never_get_a_cached_page(client, section, resource):
    client.get(section.get_absolute_url())
    for name in ("reader", "another"):
        client.force_login(UserFactory(username=name))
        response = client.get(section.get_absolute_url())
        assert f'href="/u/{name}/"' in response.content.decode()
        assert "private" in response["Cache-Control"]


def test_signed_in_readers_share_card_lists_but_see_their_own_votes(
    client, section, resource, django_capture_on_commit_callbacks
):
    voter, other = VerifiedUserFactory(username="voter"), VerifiedUserFactory(username="other")
    pressed = 'value="up" class="vote-button vote-up" aria-pressed="true"'
    for path in (section.get_absolute_url(), "/resources/?q=original"):
        client.force_login(other)
        assert pressed not in client.get(path).content.decode()
        with django_capture_on_commit_callbacks(execute=True):
            services.cast_vote(user=voter, resource=resource, value=Vote.UP)
        client.force_login(voter)
        assert pressed in client.get(path).content.decode(), path
        client.force_login(other)
        page = client.get(path).content.decode()
        assert pressed not in page and score_text(1) in page, path
        with django_capture_on_commit_callbacks(execute=True):
            services.cast_vote(user=voter, resource=resource, value=Vote.UP)  # taken back


def test_a_signed_in_readers_card_list_follows_a_change_at_once(
    client, section, resource, django_capture_on_commit_callbacks
):
    client.force_login(UserFactory())
    client.get(section.get_absolute_url())
    with django_capture_on_commit_callbacks(execute=True):
        resource.title = "Edited title"
        resource.save()
    assert "Edited title" in client.get(section.get_absolute_url()).content.decode()


def test_a_reader_with_a_session_gets_a_fresh_page(client, resource):
    reintroduce_silently()
    Roadmap.objects.filter(pk=1).update(intro_html="<p>First</p>")
    client.get("/")
    reintroduce_silently()
    assert "Changed intro" not in client.get("/").content.decode()
    client.cookies["sessionid"] = "anything"
    assert "Changed intro" in client.get("/").content.decode()


def test_htmx_fragments_are_not_cached(client, resource):
    htmx = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "results"}
    assert "1 resource" in client.get("/resources/?q=title", **htmx).content.decode()
    Resource.objects.filter(pk=resource.pk).update(title="Original title, retold")  # no signal
    response = client.get("/resources/?q=title", **htmx)
    # The cards are drawn afresh (which resources match, and how many, are kept with the
    # pages until a change the site hears of, which this one is not).
    assert "Original title, retold" in response.content.decode()
    assert "<html" not in response.content.decode()


def test_pages_outside_the_public_set_are_not_cached(client, resource):
    for url in ["/resources/suggest/", "/healthz", "/accounts/login/"]:
        response = client.get(url)
        assert "max-age=60" not in response.get("Cache-Control", ""), url


def test_a_vote_leaves_cached_anonymous_pages_but_signed_in_readers_see_it_at_once(
    client, section, resource, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.cast_vote(user=UserFactory(), resource=resource, value=Vote.UP)
    # Anonymous readers see a score once it is not 0; this page is now cached with 1.
    assert score_text(1) in client.get(section.get_absolute_url()).content.decode()
    reader = VerifiedUserFactory()
    client.force_login(reader)
    assert score_text(1) in client.get(section.get_absolute_url()).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        services.cast_vote(user=UserFactory(), resource=resource, value=Vote.UP)
    # The reader's cached card list is keyed by the scores it shows: it is drawn again.
    assert score_text(2) in client.get(section.get_absolute_url()).content.decode()
    client.logout()
    # Anonymous readers' page keeps the old score until it expires (PAGE_CACHE_SECONDS).
    anonymous = client.get(section.get_absolute_url())
    assert score_text(1) in anonymous.content.decode()
    assert f"max-age={settings.PAGE_CACHE_SECONDS}" in anonymous["Cache-Control"]


def test_an_approval_shows_on_the_cached_section_at_once(
    client, section, django_capture_on_commit_callbacks
):
    suggestion = ResourceFactory(section=section, status=Status.PENDING, title="Fresh link")
    assert "Fresh link" not in client.get(section.get_absolute_url()).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        approve_resource(resource=suggestion, moderator=VerifiedUserFactory(is_staff=True))
    assert "Fresh link" in client.get(section.get_absolute_url()).content.decode()


def test_renaming_a_tag_shows_on_cached_pages_and_popular_tags_at_once(
    client, section, resource, django_capture_on_commit_callbacks
):
    resource.tags.set(["old-name"])
    for path in [section.get_absolute_url(), "/resources/", "/tags/"]:
        assert (
            "#old-name" in client.get(path).content.decode()
            or "old-name" in client.get(path).content.decode()
        )
    with django_capture_on_commit_callbacks(execute=True):
        tag = Tag.objects.get(slug="old-name")
        tag.name = "new-name"
        tag.save()
    for path in [section.get_absolute_url(), "/resources/", "/tags/"]:
        page = client.get(path).content.decode()
        assert "new-name" in page, path
        assert "old-name" not in page.replace('href="/tags/old-name/"', ""), path


def test_signed_in_explorers_share_the_popular_tags_until_the_catalogue_changes(
    client, resource, monkeypatch, django_capture_on_commit_callbacks
):
    from resources import selectors

    resource.tags.set(["old-name"])
    client.force_login(UserFactory())
    assert "#old-name" in client.get("/resources/").content.decode()
    reads = []
    popular_tags = selectors.popular_tags
    monkeypatch.setattr(selectors, "popular_tags", lambda: reads.append(1) or popular_tags())
    # Another search, the same popular tags: drawn from the page cache, not read.
    assert "#old-name" in client.get("/resources/?q=original").content.decode()
    assert reads == []
    with django_capture_on_commit_callbacks(execute=True):
        tag = Tag.objects.get(slug="old-name")
        tag.name = "new-name"
        tag.save()
    page = client.get("/resources/?q=original").content.decode()
    assert '#new-name <span class="count">1</span>' in page
    assert reads == [1]


def test_a_link_check_empties_the_cache_only_when_the_broken_mark_changes(
    client, section, resource, django_capture_on_commit_callbacks
):
    ok = LinkResult(url=resource.url, status_code=200)
    failed = LinkResult(url=resource.url, status_code=404)
    client.get(section.get_absolute_url())
    retitle_silently(resource)
    with django_capture_on_commit_callbacks(execute=True):
        store_result(resource.pk, ok)
        store_result(resource.pk, failed)  # one failure is not yet a broken mark
    page = client.get(section.get_absolute_url()).content.decode()
    assert "Original title" in page and "Link may be broken" not in page
    with django_capture_on_commit_callbacks(execute=True):
        store_result(resource.pk, failed)
    page = client.get(section.get_absolute_url()).content.decode()
    assert "Changed title" in page and "Link may be broken" in page


def test_a_cached_page_carries_the_security_headers(client, section, resource):
    first = client.get(section.get_absolute_url())
    second = client.get(section.get_absolute_url())
    for header in (
        "Content-Security-Policy",
        "X-Frame-Options",
        "X-Content-Type-Options",
        "Referrer-Policy",
        "Content-Type",
    ):
        assert second[header] == first[header], header


def test_a_cached_page_still_checks_the_host(client, section, resource):
    client.get(section.get_absolute_url())
    client.raise_request_exception = False
    response = client.get(section.get_absolute_url(), HTTP_HOST="evil.example")
    assert response.status_code == 400


def test_a_page_is_cached_per_scheme_and_host(settings, client, resource):
    settings.ALLOWED_HOSTS = ["testserver", "www.testserver"]
    reintroduce_silently()
    Roadmap.objects.filter(pk=1).update(intro_html="<p>First</p>")
    client.get("/")
    reintroduce_silently()
    assert "Changed intro" not in client.get("/").content.decode()
    assert "Changed intro" in client.get("/", secure=True).content.decode()
    assert "Changed intro" in client.get("/", HTTP_HOST="www.testserver").content.decode()


def test_a_plain_http_request_is_redirected_not_served_from_the_cache(settings, client, section):
    client.get(section.get_absolute_url(), secure=True)
    settings.SECURE_SSL_REDIRECT = True
    from django.test import Client

    response = Client().get(section.get_absolute_url())
    assert response.status_code == 301
    assert response["Location"].startswith("https://")


def test_the_section_tree_is_shared_until_the_catalogue_changes(
    client, section, django_capture_on_commit_callbacks
):
    ResourceFactory(section=section)
    client.force_login(UserFactory())  # signed in: the page is drawn, the tree is shared

    def section_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            client.get("/")
        return sum('FROM "roadmap_section"' in query["sql"] for query in queries)

    assert section_queries() == 1
    assert section_queries() == 0
    with django_capture_on_commit_callbacks(execute=True):
        services.cast_vote(user=UserFactory(), resource=Resource.objects.get(), value=Vote.UP)
    assert section_queries() == 0  # votes change scores, not counts
    with django_capture_on_commit_callbacks(execute=True):
        ResourceFactory(section=section)
    assert section_queries() == 1
    assert "2 resources" in client.get("/").content.decode()


@pytest.mark.parametrize(
    ("environment", "seconds"),
    [
        ({"DJANGO_DEBUG": "true"}, 0),
        ({"DJANGO_DEBUG": "true", "DJANGO_PAGE_CACHE_SECONDS": "30"}, 30),
        ({"DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": "x" * 50}, 300),
    ],
)
def test_development_has_no_page_cache_unless_asked(environment, seconds):
    """So that an edited template shows at once under `make run`."""
    script = "import config.settings as s; print(s.PAGE_CACHE_SECONDS)"
    env = {"PATH": "/usr/bin:/bin", **environment}
    result = subprocess.run(  # noqa: S603 (our own interpreter and a fixed script)
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == str(seconds)


def test_the_api_is_cached_until_the_catalogue_changes(
    client, resource, django_capture_on_commit_callbacks
):
    client.get("/api/resources/")
    retitle_silently(resource)
    assert "Changed title" not in client.get("/api/resources/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        ResourceFactory(section=resource.section, title="Newly approved")
    page = client.get("/api/resources/").content.decode()
    assert "Newly approved" in page and "Changed title" in page


def test_a_page_cache_that_fails_after_a_vote_never_turns_it_into_an_error(
    client, resource, monkeypatch, django_capture_on_commit_callbacks
):
    from django.core.cache import caches

    def broken():
        raise ConnectionError("the cache is down")

    monkeypatch.setattr(caches["pages"], "clear", broken)
    client.force_login(VerifiedUserFactory())
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/resources/{resource.pk}/vote/", {"value": "up"})
    monkeypatch.undo()
    assert response.status_code == 302
    assert Resource.objects.get(pk=resource.pk).upvotes == 1


@pytest.mark.parametrize(
    "path", ["/?utm_source=x", "/sections/tools/?utm_x=1", "/resources/?q=title&junk=1"]
)
def test_addresses_with_unknown_parameters_are_not_stored(client, resource, path):
    """Junk query strings would each fill the cache with a page of their own."""
    client.get(path)
    retitle_silently(resource)
    response = client.get(path)
    assert "private" in response["Cache-Control"]
    if "resources" in path or "sections" in path:
        assert "Changed title" in response.content.decode()  # drawn afresh, cards included


def test_addresses_with_known_parameters_are_stored(client, resource):
    client.get("/resources/?q=title&sort=new&page=1")
    retitle_silently(resource)
    assert "Changed title" not in client.get("/resources/?q=title&sort=new&page=1").content.decode()


def test_a_signed_in_readers_contents_follow_their_progress_at_once(
    client, section, django_capture_on_commit_callbacks
):
    """The contents of a topic (its sub-topics with done counts) are a shared fragment too,
    keyed by the reader's done counts."""
    child = SectionFactory(parent=section, slug="serving", title="Serving")
    inside = ResourceFactory(section=child)
    reader, other = VerifiedUserFactory(username="reader"), VerifiedUserFactory(username="other")
    count = '<span data-done-of="serving">{}</span>/1'
    client.force_login(other)
    assert count.format(0) in client.get(section.get_absolute_url()).content.decode()
    client.force_login(reader)
    assert count.format(0) in client.get(section.get_absolute_url()).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        services.set_progress(user=reader, resource=inside, state="done")
    assert count.format(1) in client.get(section.get_absolute_url()).content.decode()
    client.force_login(other)
    assert count.format(0) in client.get(section.get_absolute_url()).content.decode()


def test_a_topic_pages_lines_for_its_sub_topics_show_the_readers_progress_at_once(
    client, section, django_capture_on_commit_callbacks
):
    """A sub-topic's best few are lines in the card list fragment, keyed by reader_state:
    the reader's progress shows on them at once, another reader's never."""
    child = SectionFactory(parent=section, slug="serving", title="Serving")
    inside = ResourceFactory(section=child, title="Inside")
    reader, other = VerifiedUserFactory(username="reader"), VerifiedUserFactory(username="other")
    done_line = '<li class="pick is-done">'
    client.force_login(other)
    assert '<li class="pick">' in client.get(section.get_absolute_url()).content.decode()
    client.force_login(reader)
    with django_capture_on_commit_callbacks(execute=True):
        services.set_progress(user=reader, resource=inside, state="done")
    page = client.get(section.get_absolute_url()).content.decode()
    assert done_line in page and '<span class="pick-state">Done</span>' in page
    client.force_login(other)
    page = client.get(section.get_absolute_url()).content.decode()
    assert done_line not in page and '<li class="pick">' in page


def test_a_signed_in_search_follows_an_approval_and_an_archiving_at_once(
    client, section, resource, django_capture_on_commit_callbacks
):
    """Which resources match, and how many, are kept with the pages: a change to the
    catalogue empties them with the pages."""
    from resources.moderation import archive_resource

    client.force_login(VerifiedUserFactory())
    moderator = VerifiedUserFactory(is_staff=True)
    suggestion = ResourceFactory(section=section, status=Status.PENDING, title="Original twin")
    page = client.get("/resources/?q=original").content.decode()
    assert "1 resource matching" in page and "Original twin" not in page
    with django_capture_on_commit_callbacks(execute=True):
        approve_resource(resource=suggestion, moderator=moderator)
    page = client.get("/resources/?q=original").content.decode()
    assert "2 resources matching" in page and "Original twin" in page
    with django_capture_on_commit_callbacks(execute=True):
        archive_resource(resource=suggestion, moderator=moderator, reason="A duplicate.")
    page = client.get("/resources/?q=original").content.decode()
    assert "1 resource matching" in page and "Original twin" not in page


def test_explorer_pages_neither_repeat_nor_skip_a_resource_while_votes_reorder_them(
    client, section, django_capture_on_commit_callbacks
):
    """An explorer's pages are slices of one kept list of matches: a vote between two pages
    moves no resource from one page to the other."""
    from resources.views import EXPLORER_PAGE_SIZE

    resources = [
        ResourceFactory(section=section, title=f"Guide {number}")
        for number in range(EXPLORER_PAGE_SIZE + 5)
    ]
    client.force_login(VerifiedUserFactory())

    def shown(page: int) -> list[int]:
        response = client.get(f"/resources/?q=guide&page={page}")
        return [card.pk for card in response.context["cards"]]

    first = shown(1)
    last_of_page_two = resources[0] if resources[0].pk not in first else resources[-1]
    with django_capture_on_commit_callbacks(execute=True):
        for voter in VerifiedUserFactory.create_batch(3):
            services.cast_vote(user=voter, resource=last_of_page_two, value=Vote.UP)
    second = shown(2)
    assert not set(first) & set(second)
    assert sorted(first + second) == sorted(resource.pk for resource in resources)
