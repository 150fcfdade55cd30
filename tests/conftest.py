import os
import shutil

import pytest
from django.conf import settings
from django.core.cache import caches

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make
# around it are still synchronous, so Django's async-safety guard is lifted for the suite.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _own_redis_databases_per_worker() -> None:
    """pytest-xdist workers share one Redis server, and a test empties its caches: each
    worker gets Redis databases of its own (gw0: REDIS_URL's and the next, gw1: two more)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw") or not settings.REDIS_URL:
        return
    offset = 2 * int(worker[2:])
    for options in settings.CACHES.values():
        if options["BACKEND"].endswith("RedisCache"):
            base, _, db = options["LOCATION"].rpartition("/")
            options["LOCATION"] = f"{base}/{int(db) + offset}"


_own_redis_databases_per_worker()

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")


def find_chromium() -> str | None:
    for name in CHROMIUM_CANDIDATES:
        if path := shutil.which(name):
            return path
    return None


DATABASE_FIXTURES = {"db", "transactional_db", "live_server", "django_db_setup"}


def pytest_collection_modifyitems(config, items):
    """Browser tests flush the database when they end, which also removes rows that data
    migrations made (the Moderators group); running them last keeps that from other tests.
    A test that touches no database (no django_db mark, no database fixture) runs the same
    whatever DATABASE_URL says: it is marked database_independent, which CI runs once; but
    not the settings' tests (tests/config), which start the site with the run's environment."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
    for item in items:
        uses_database = item.get_closest_marker("django_db") is not None or bool(
            DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))
        )
        reads_environment = "tests/config/" in item.nodeid
        if not (uses_database or reads_environment or item.get_closest_marker("browser")):
            item.add_marker(pytest.mark.database_independent)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Real hashing costs ~0.4 s per user; the suite creates hundreds of users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _no_page_cache(settings):
    """Tests see pages as rendered; tests/config/test_page_cache.py turns the cache on."""
    settings.PAGE_CACHE_SECONDS = 0


def _uses_database(request) -> bool:
    return request.node.get_closest_marker("django_db") is not None or bool(
        {"db", "transactional_db", "live_server"} & set(request.fixturenames)
    )


@pytest.fixture(autouse=True)
def _clear_cache(request):
    """The cache may be shared (Redis, database): rate limits must not leak between tests."""
    if settings.CACHES["default"]["BACKEND"].endswith("DatabaseCache") and not _uses_database(
        request
    ):
        yield
        return
    if _uses_database(request):
        request.getfixturevalue(
            "db" if "transactional_db" not in request.fixturenames else "transactional_db"
        )
    for alias in settings.CACHES:
        caches[alias].clear()
    yield
    for alias in settings.CACHES:
        caches[alias].clear()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    executable = find_chromium()
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set but no Chromium was found: install Debian's chromium")
        pytest.skip("no Chromium on this machine (apt-get install chromium)")
    return {
        **browser_type_launch_args,
        "executable_path": executable,
        "args": [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }
