import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils.module_loading import import_string

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "x9-Kq2p_vL7mZs4tR8wN1yB6cF3hJ0dG5aE-uT2iO7pQ4nM8vX1zC6bA3sD9fH",
    "DJANGO_ALLOWED_HOSTS": "roadmap.example.org",
    "DJANGO_CSRF_TRUSTED_ORIGINS": "https://roadmap.example.org",
    "SITE_URL": "https://roadmap.example.org",
}


def manage(*args, env_overrides: dict) -> subprocess.CompletedProcess:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "PYTEST_"))
    }
    env.update(env_overrides)
    env["DJANGO_VAR_DIR"] = str(ROOT / "var" / "test-production")
    return subprocess.run(  # noqa: S603 - fixed arguments, our own manage.py
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_reports_nothing_in_production_mode():
    result = manage("check", "--deploy", "--fail-level", "DEBUG", env_overrides=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_on_the_development_secret_key():
    env = {**PRODUCTION_ENV}
    del env["DJANGO_SECRET_KEY"]
    result = manage("check", env_overrides=env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_production_sets_hsts_secure_cookies_and_ssl_redirect():
    code = (
        "from django.conf import settings as s;"
        "print(s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE,"
        " s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_HTTPONLY, s.SECURE_PROXY_SSL_HEADER)"
    )
    result = manage("shell", "-c", code, env_overrides=PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == (
        "31536000 True True True True ('HTTP_X_FORWARDED_PROTO', 'https')"
    )


@pytest.mark.django_db
def test_every_page_sends_a_strict_content_security_policy(client):
    policy = client.get("/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["base-uri"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy


@pytest.mark.django_db
def test_pages_load_nothing_from_another_host(client):
    html = client.get("/").content.decode()
    loads = re.findall(
        r'<script[^>]*src="([^"]*)"|<link(?![^>]*rel="(?:canonical|alternate)")[^>]*href="([^"]*)"',
        html,
    )
    urls = [url for pair in loads for url in pair if url]
    assert urls and all(url.startswith("/static/") for url in urls), urls


@pytest.mark.django_db
def test_each_request_is_logged_once_with_its_duration(client, caplog):
    with caplog.at_level(logging.INFO, logger="mlops.request"):
        client.get("/healthz")
    [record] = [r for r in caplog.records if r.name == "mlops.request"]
    assert record.path == "/healthz"
    assert record.status == 200
    assert record.duration_ms >= 0
    assert record.user_id is None


@pytest.mark.django_db
def test_a_signed_in_readers_request_is_logged_with_their_id(client, caplog):
    from tests.factories import VerifiedUserFactory

    reader = VerifiedUserFactory()
    client.force_login(reader)
    with caplog.at_level(logging.INFO, logger="mlops.request"):
        client.get("/me/learning/")
    [record] = [r for r in caplog.records if r.name == "mlops.request"]
    assert (record.status, record.user_id) == (200, reader.pk)


def test_json_log_lines_carry_the_request_fields():
    from django.conf import settings

    config = settings.LOGGING["formatters"]["json"]
    options = {key: value for key, value in config.items() if key != "()"}
    formatter = import_string(config["()"])(**options)
    record = logging.makeLogRecord(
        {"name": "mlops.request", "msg": "GET / 200", "levelname": "INFO", "status": 200}
    )
    line = json.loads(formatter.format(record))
    assert line["message"] == "GET / 200"
    assert line["status"] == 200
    assert line["level"] == "INFO"


@pytest.mark.django_db
def test_healthz_checks_the_database_and_the_cache(client):
    body = client.get("/healthz").json()
    assert body == {"status": "ok", "checks": {"database": "ok", "cache": "ok"}}


@pytest.mark.django_db
def test_healthz_reports_a_cache_that_does_not_store(client, monkeypatch):
    from django.core.cache.backends.dummy import DummyCache

    import core.views

    monkeypatch.setattr(core.views, "cache", DummyCache("broken", {}))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["cache"].startswith("error")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "javascript:alert(1)"]
)
def test_sign_in_never_redirects_to_another_host(client, target):
    from tests.factories import VerifiedUserFactory

    VerifiedUserFactory(username="ada", password="a long and unusual passphrase 42")
    response = client.post(
        f"/accounts/login/?next={target}",
        {"login": "ada", "password": "a long and unusual passphrase 42"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/"


@pytest.mark.parametrize(
    ("prepared", "expected"), [("", "True 5"), ("false", "None None")], ids=["default", "off"]
)
def test_postgresql_statements_are_prepared_unless_turned_off(prepared, expected):
    """Behind a pooler in transaction mode an operator turns them off (DJANGO_PG_PREPARED)."""
    code = (
        "from django.conf import settings as s; o = s.DATABASES['default']['OPTIONS'];"
        "print(o.get('server_side_binding'), o.get('prepare_threshold'))"
    )
    env = {**PRODUCTION_ENV, "DATABASE_URL": "postgres://app@db.example.org:5432/roadmap"}
    if prepared:
        env["DJANGO_PG_PREPARED"] = prepared
    result = manage("shell", "-c", code, env_overrides=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == expected


@pytest.mark.django_db
def test_a_statement_run_again_and_again_is_prepared_on_postgresql():
    """PostgreSQL plans a repeated statement once per connection, not on every request
    (Django leaves psycopg's prepared statements off unless asked)."""
    from django.db import connection

    from resources.models import Resource

    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    for number in range(6):
        list(Resource.objects.filter(pk=number).values_list("title"))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ['%FROM "resources_resource"%'],
        )
        assert cursor.fetchone()[0] >= 1
