"""Two app processes share one PostgreSQL and one Redis and nothing else."""

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection

from resources.models import Resource
from tests.factories import ResourceFactory, SectionFactory, VerifiedUserFactory


def score_text(score: int) -> str:
    """How a card shows its score, with the word screen readers hear."""
    return f'<span class="visually-hidden">Score </span>{score}<'


ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "a long and unusual passphrase 42"

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres_only]


@pytest.fixture(autouse=True)
def _shared_services_only():
    if connection.vendor != "postgresql" or not os.environ.get("REDIS_URL"):
        pytest.skip("needs PostgreSQL and REDIS_URL, as in CI's second run")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(port: int, tmp_path: Path) -> subprocess.Popen:
    db = connection.settings_dict
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")},
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        # This test worker's own Redis databases (tests/conftest.py), pages in the next one.
        "REDIS_URL": settings.CACHES["default"]["LOCATION"],
        "DJANGO_DEBUG": "true",
        "DJANGO_SECRET_KEY": "shared-secret-key-for-both-test-servers-0123456789",
        "DJANGO_VAR_DIR": str(tmp_path / f"var-{port}"),
        "DJANGO_PAGE_CACHE_SECONDS": "60",
        "DJANGO_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(  # noqa: S603 - our own gunicorn with fixed arguments
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "config.wsgi",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_until_up(base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:  # a loaded machine can take seconds over the first request, which loads the app
            if requests.get(base + "/healthz", timeout=10).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.2)
    raise AssertionError(f"{base} did not come up")


@pytest.fixture
def two_servers(tmp_path):
    ports = [free_port(), free_port()]
    processes = [start_server(port, tmp_path) for port in ports]
    try:
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        for base in bases:
            wait_until_up(base)
        yield bases
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=20)


def csrf_token(session: requests.Session, url: str) -> str:
    html = session.get(url, timeout=10).text
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def test_a_vote_and_a_session_work_across_two_app_processes(two_servers):
    first, second = two_servers
    member = VerifiedUserFactory(username="ada")
    # The servers use the real hashers, not the suite's fast one.
    member.password = PBKDF2PasswordHasher().encode(PASSWORD, PBKDF2PasswordHasher().salt())
    member.save(update_fields=["password"])
    resource = ResourceFactory(section=SectionFactory(slug="tools"), title="Shared resource")
    page = f"/resources/{resource.pk}/"

    anonymous = requests.Session()
    cached = anonymous.get(second + page, timeout=10).text  # stored in the shared page cache
    assert "Shared resource" in cached and score_text(1) not in cached

    on_first = requests.Session()
    token = csrf_token(on_first, first + "/accounts/login/")
    response = on_first.post(
        first + "/accounts/login/",
        data={"login": "ada", "password": PASSWORD, "csrfmiddlewaretoken": token},
        timeout=10,
        allow_redirects=False,
    )
    assert response.status_code == 302

    # The session made on the first server is valid on the second.
    on_second = requests.Session()
    on_second.cookies.update(on_first.cookies)
    assert "ada" in on_second.get(second + "/resources/mine/", timeout=10).text

    # A vote through the first server is seen through the second, cached pages included.
    token = csrf_token(on_first, first + page)
    response = on_first.post(
        first + page + "vote/",
        data={"value": "up", "csrfmiddlewaretoken": token, "next": page},
        timeout=10,
        allow_redirects=False,
    )
    assert response.status_code == 302
    assert Resource.objects.get(pk=resource.pk).upvotes == 1
    assert score_text(1) in on_second.get(second + page, timeout=10).text
    # Anonymous readers get the stored page until it expires: a vote leaves the cache.
    assert anonymous.get(second + page, timeout=10).text == cached
