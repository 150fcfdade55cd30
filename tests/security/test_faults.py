"""Fault injection: a database that fails in the middle of a write leaves no half-written
rows and answers with a page that says so; a cache that is down (Redis stopped, its table
missing) leaves pages working, and the rate-limited forms fail closed."""

import os
import re
import runpy
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import OperationalError, connection
from django.test import Client

from resources.models import ModerationEvent, Resource, Status, Vote
from tests.accounts.helpers import PASSWORD
from tests.factories import ResourceFactory, SectionFactory, VerifiedUserFactory
from tests.resources.moderation_factories import SuggestionFactory, make_moderator

pytestmark = pytest.mark.django_db

SETTINGS = Path(__file__).resolve().parents[2] / "config" / "settings.py"
UNAVAILABLE = "Nothing you submitted was saved"


@contextmanager
def database_fails_at(pattern: str):
    """Every statement matching `pattern` fails as a lost connection would."""
    matcher = re.compile(pattern, re.IGNORECASE)

    def fail(execute, sql, params, many, context):
        if matcher.search(sql):
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(fail):
        yield


def assert_unavailable_page(response):
    assert response.status_code == 503
    assert response["Retry-After"]
    html = response.content.decode()
    assert UNAVAILABLE in html
    assert "Traceback" not in html and "OperationalError" not in html


@pytest.fixture
def member(client):
    user = VerifiedUserFactory(username="member")
    client.force_login(user)
    return user


def test_a_suggestion_cut_off_by_the_database_leaves_no_resource(client, member):
    section = SectionFactory()
    data = {
        "title": "Half a suggestion",
        "url": "https://example.org/half",
        "resource_type": "article",
        "section": section.pk,
        "tags": "mlflow",
        "cost": "free",
        "level": "beginner",
        "description": "",
    }
    with database_fails_at(r'^INSERT INTO "taggit_taggeditem"'):
        response = client.post("/resources/suggest/", data)
    assert_unavailable_page(response)
    assert not Resource.objects.filter(title="Half a suggestion").exists()
    # Once the database answers again, the same suggestion goes through.
    assert client.post("/resources/suggest/", data).status_code == 302
    assert Resource.objects.filter(title="Half a suggestion").count() == 1


def test_a_vote_cut_off_by_the_database_is_not_half_counted(client, member):
    resource = ResourceFactory()
    with database_fails_at(r'^UPDATE "resources_resource"'):
        response = client.post(f"/resources/{resource.pk}/vote/", {"value": "up"})
    assert_unavailable_page(response)
    assert not Vote.objects.exists()
    resource.refresh_from_db()
    assert (resource.upvotes, resource.downvotes) == (0, 0)


def test_a_moderation_decision_cut_off_by_the_database_changes_nothing(
    client, django_capture_on_commit_callbacks
):
    suggestion = SuggestionFactory()
    client.force_login(make_moderator())
    with (
        django_capture_on_commit_callbacks(execute=True),
        database_fails_at(r'^INSERT INTO "resources_moderationevent"'),
    ):
        response = client.post(
            "/admin/resources/resource/",
            {"action": "approve_selected", "_selected_action": [suggestion.pk], "index": 0},
        )
    assert_unavailable_page(response)
    suggestion.refresh_from_db()
    assert (suggestion.status, suggestion.approved_at) == (Status.PENDING, None)
    assert not ModerationEvent.objects.exists()
    assert mail.outbox == []


# The cache down


def layout(monkeypatch, **environment) -> dict:
    """The cache settings config/settings.py derives from this environment."""
    monkeypatch.delenv("REDIS_URL", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return {"CACHES": runpy.run_path(str(SETTINGS))["CACHES"]}


def use(settings, values: dict) -> None:
    for name, value in values.items():
        setattr(settings, name, value)
    settings.PAGE_CACHE_SECONDS = 300


@pytest.fixture
def redis_stopped(settings, monkeypatch):
    """The production layout, with nothing listening where Redis should be."""
    use(settings, layout(monkeypatch, REDIS_URL="redis://127.0.0.1:1/0"))


@pytest.fixture
def cache_table_missing(settings, monkeypatch):
    """The layout without Redis, before `createcachetable` ran."""
    use(settings, layout(monkeypatch))
    with database_fails_at(r"django_cache"):
        yield


@pytest.fixture(params=["redis_stopped", "cache_table_missing"])
def cache_down(request):
    request.getfixturevalue(request.param)


def test_with_the_cache_down_pages_are_drawn_for_everyone(cache_down):
    resource = ResourceFactory(title="Still readable")
    section = resource.section
    paths = ("/", section.get_absolute_url(), f"/resources/{resource.pk}/", "/resources/?q=ml")
    for path in paths:
        assert Client().get(path).status_code == 200, path
    reader = Client()
    reader.force_login(VerifiedUserFactory(username="reader"))
    page = reader.get(section.get_absolute_url())
    assert page.status_code == 200
    assert "Still readable" in page.content.decode()


def test_with_the_cache_down_a_vote_is_saved_and_answered_honestly(
    cache_down, django_capture_on_commit_callbacks
):
    resource = ResourceFactory()
    reader = Client()
    reader.force_login(VerifiedUserFactory(username="reader"))
    with django_capture_on_commit_callbacks(execute=True):
        response = reader.post(f"/resources/{resource.pk}/vote/", {"value": "up"})
    assert response.status_code == 302
    assert Vote.objects.filter(resource=resource).count() == 1


def test_with_the_cache_down_sign_in_fails_closed_without_hashing(cache_down, settings):
    settings.PASSWORD_HASHERS = ["tests.security.hasher_count.CountingHasher"]
    from tests.security.hasher_count import CountingHasher

    VerifiedUserFactory(username="ada")
    CountingHasher.calls = 0
    response = Client().post("/accounts/login/", {"login": "ada", "password": PASSWORD})
    assert_unavailable_page(response)
    assert CountingHasher.calls == 0


def test_the_rate_limit_counters_survive_a_flood_of_other_counters(settings, monkeypatch):
    """Django's database cache culls a third of its rows past MAX_ENTRIES: counters of the
    default cache must not go with them."""
    from django.core.cache import caches

    use(settings, layout(monkeypatch))
    call_command("createcachetable")  # the suite may run on Redis, without the tables
    counters = caches["default"]
    for n in range(400):
        counters.set(f"counter-{n}", [n], 300)
    assert all(counters.get(f"counter-{n}") == [n] for n in range(400))


def test_page_floods_cannot_evict_counters_in_the_redis_layout(monkeypatch):
    values = layout(
        monkeypatch, REDIS_URL="redis://cache:6379/0", REDIS_PAGES_URL="redis://pages:6379/0"
    )
    caches = values["CACHES"]
    assert caches["default"]["LOCATION"] == "redis://cache:6379/0"
    assert caches["pages"]["LOCATION"] == "redis://pages:6379/0"
    # deploy/ runs the counters' server without eviction and the pages' with LRU.
    compose = (SETTINGS.parents[1] / "deploy" / "compose.yaml").read_text()
    servers = dict(
        re.findall(r"\n  ([\w-]+):\n    image: redis:7\n    command: (\[.*?\])", compose, re.S)
    )
    assert '"noeviction"' in servers["redis"]
    assert '"allkeys-lru"' in servers["redis-pages"]
    assert "REDIS_PAGES_URL: redis://redis-pages:6379/0" in compose


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs a Redis server")
def test_a_sign_out_made_while_redis_is_down_still_holds_when_it_is_back(settings, monkeypatch):
    """No copy of the session in Redis can outlive the sign-out and come back with it."""
    redis_up = layout(monkeypatch, REDIS_URL=os.environ["REDIS_URL"])
    use(settings, redis_up)
    reader = Client()
    reader.force_login(VerifiedUserFactory(username="reader"))
    assert reader.get("/me/learning/").status_code == 200  # read, and cached if ever
    copied = reader.cookies[settings.SESSION_COOKIE_NAME].value  # as a thief would keep it

    use(settings, layout(monkeypatch, REDIS_URL="redis://127.0.0.1:1/0"))
    assert reader.post("/accounts/logout/").status_code == 302

    use(settings, redis_up)
    thief = Client()
    thief.cookies[settings.SESSION_COOKIE_NAME] = copied
    assert thief.get("/me/learning/").status_code == 302  # to the sign-in page


def test_a_vote_refused_because_the_sessions_cannot_be_read_is_a_logged_503(client, caplog):
    """The request log reads who asked; with the database down that must not turn the 503 page
    into a 500, nor lose the request's log line."""
    resource = ResourceFactory()
    client.force_login(VerifiedUserFactory(username="reader"))
    with database_fails_at(r"django_session|accounts_user"), caplog.at_level("INFO"):
        response = client.post(f"/resources/{resource.pk}/vote/", {"value": "up"})
    assert_unavailable_page(response)
    logged = [r for r in caplog.records if r.name == "mlops.request"]
    assert [(r.method, r.status, r.user_id) for r in logged] == [("POST", 503, None)]
    assert not Vote.objects.exists()
