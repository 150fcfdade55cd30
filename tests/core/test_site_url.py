"""Every e-mail links to SITE_URL, and production refuses to start without a public one."""

import re

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from core.checks import is_public_url, site_url_is_public
from tests.config.test_production import PRODUCTION_ENV, manage
from tests.factories import UserFactory


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000",
        "http://localhost:8000",
        "https://roadmap.localhost",
        "http://10.0.0.5",
        "http://192.168.1.20:8000",
        "http://[::1]:8000",
        "http://web:8000",
        "ftp://roadmap.example.org",
        "",
        "roadmap.example.org",
    ],
)
def test_local_or_malformed_addresses_are_not_public(url):
    assert not is_public_url(url)


@pytest.mark.parametrize("url", ["https://roadmap.example.org", "http://203.0.113.1.nip.io"])
def test_public_addresses_pass(url):
    assert is_public_url(url)


def test_the_check_names_the_setting_and_how_to_fix_it(settings):
    settings.DEBUG = False
    settings.SITE_URL = "http://127.0.0.1:8000"
    [error] = site_url_is_public()
    assert error.id == "core.E001"
    assert "SITE_URL" in error.msg and "https://" in error.hint
    with pytest.raises(SystemCheckError, match="SITE_URL"):
        call_command("check")


def test_development_may_run_on_the_default_address(settings):
    settings.DEBUG = True
    settings.SITE_URL = "http://127.0.0.1:8000"
    assert site_url_is_public() == []


def test_production_refuses_to_start_without_a_public_site_url():
    env = {**PRODUCTION_ENV}
    del env["SITE_URL"]
    result = manage("check", env_overrides=env)
    assert result.returncode != 0
    assert "core.E001" in result.stderr and "SITE_URL" in result.stderr


@pytest.mark.django_db
def test_verification_and_reset_mails_link_to_site_url_not_the_requests_host(client, settings):
    settings.SITE_URL = "https://roadmap.example.org"
    settings.ALLOWED_HOSTS = ["internal.example.net"]
    client.post(
        "/accounts/signup/",
        {
            "email": "ada@example.com",
            "username": "ada",
            "password1": "a long and unusual passphrase 42",
            "password2": "a long and unusual passphrase 42",
        },
        HTTP_HOST="internal.example.net",
    )
    UserFactory(email="grace@example.com")
    client.post(
        "/accounts/password/reset/",
        {"email": "grace@example.com"},
        HTTP_HOST="internal.example.net",
    )
    assert len(mail.outbox) == 2
    for message in mail.outbox:
        hosts = set(re.findall(r"https?://([^/\s]+)", message.body))
        assert hosts == {"roadmap.example.org"}, message.body
        assert "internal.example.net" not in message.body
