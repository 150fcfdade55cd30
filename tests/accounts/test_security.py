import re

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core.cache import caches
from django.test import Client

from accounts.models import User
from tests.accounts.helpers import PASSWORD
from tests.factories import VerifiedUserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
SHARED_CACHES = (
    "django.core.cache.backends.db.DatabaseCache",
    "django_redis.cache.RedisCache",
)


def comparable(html: str, *addresses: str) -> str:
    """A page with what legitimately differs between two visitors blanked out."""
    for address in addresses:
        html = html.replace(address, "ADDRESS")
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "CSRF", html)


# Rate limits


def fail_to_sign_in(client, login: str, times: int) -> None:
    for _ in range(times):
        response = client.post(LOGIN, {"login": login, "password": "not the password"})
        assert response.status_code == 200


def test_after_five_failed_sign_ins_even_the_right_password_is_refused_with_a_message(client):
    VerifiedUserFactory(username="ada")
    fail_to_sign_in(client, "ada", 5)
    response = client.post(LOGIN, {"login": "ada", "password": PASSWORD})
    assert response.status_code == 200
    assert "Too many failed login attempts. Try again later." in response.content.decode()
    assert SESSION_KEY not in client.session


def test_the_failed_sign_in_limit_holds_for_a_fresh_client(client):
    VerifiedUserFactory(username="ada")
    fail_to_sign_in(client, "ada", 5)
    response = Client().post(LOGIN, {"login": "ada", "password": PASSWORD})
    assert "Too many failed login attempts" in response.content.decode()


def test_the_failed_sign_in_limit_is_per_account(client):
    VerifiedUserFactory(username="ada")
    VerifiedUserFactory(username="bob")
    fail_to_sign_in(client, "ada", 5)
    response = client.post(LOGIN, {"login": "bob", "password": PASSWORD})
    assert response.status_code == 302


def test_rate_limits_live_in_a_cache_that_every_process_shares():
    assert settings.CACHES["default"]["BACKEND"] in SHARED_CACHES


def test_the_failed_sign_in_history_lives_in_the_configured_cache_alone(client):
    VerifiedUserFactory(username="ada")
    fail_to_sign_in(client, "ada", 5)
    refused = client.post(LOGIN, {"login": "ada", "password": PASSWORD})
    assert "Too many failed login attempts" in refused.content.decode()

    # Emptying the cache through a client built from the settings, as another worker process
    # would build it, lifts the limit: there is no other copy of the history.
    caches.create_connection("default").clear()
    response = client.post(LOGIN, {"login": "ada", "password": PASSWORD})
    assert response.status_code == 302


# User enumeration


def test_wrong_password_and_unknown_username_get_the_same_answer():
    VerifiedUserFactory(username="adalovelace")
    wrong_password = Client().post(LOGIN, {"login": "adalovelace", "password": "nope"})
    unknown_user = Client().post(LOGIN, {"login": "nobodyknown", "password": "nope"})
    assert wrong_password.status_code == unknown_user.status_code == 200
    assert comparable(wrong_password.content.decode(), "adalovelace") == comparable(
        unknown_user.content.decode(), "nobodyknown"
    )


def sign_up(email: str, username: str):
    client = Client()
    response = client.post(
        "/accounts/signup/",
        {"email": email, "username": username, "password1": PASSWORD, "password2": PASSWORD},
    )
    return client, response


def test_signing_up_with_a_taken_email_looks_the_same_as_with_a_new_one(mailoutbox):
    VerifiedUserFactory(username="ada", email="ada@example.com")
    taken_client, taken = sign_up("ada@example.com", "ada2")
    new_client, new = sign_up("new@example.com", "newcomer")

    assert taken.status_code == new.status_code == 302
    assert taken.url == new.url
    taken_page = taken_client.get(taken.url).content.decode()
    new_page = new_client.get(new.url).content.decode()
    assert comparable(taken_page, "ada@example.com") == comparable(new_page, "new@example.com")
    # Each address receives one mail; the owner of the taken one learns of the attempt.
    assert sorted(message.to[0] for message in mailoutbox) == [
        "ada@example.com",
        "new@example.com",
    ]
    assert not User.objects.filter(username="ada2").exists()


def test_password_reset_for_an_unknown_email_looks_the_same_as_for_a_known_one(mailoutbox):
    VerifiedUserFactory(username="ada", email="ada@example.com")
    known_client, unknown_client = Client(), Client()
    known = known_client.post("/accounts/password/reset/", {"email": "ada@example.com"})
    unknown = unknown_client.post("/accounts/password/reset/", {"email": "who@example.com"})

    assert known.status_code == unknown.status_code == 302
    assert known.url == unknown.url == "/accounts/password/reset/done/"
    known_page = known_client.get(known.url).content.decode()
    unknown_page = unknown_client.get(unknown.url).content.decode()
    assert comparable(known_page, "ada@example.com") == comparable(unknown_page, "who@example.com")
    assert sorted(message.to[0] for message in mailoutbox) == [
        "ada@example.com",
        "who@example.com",
    ]


def test_a_flood_of_sign_in_posts_is_answered_429_not_with_an_error(client):
    statuses = [
        client.post(LOGIN, {"login": f"someone{n}", "password": "x"}).status_code for n in range(31)
    ]
    assert set(statuses[:30]) == {200}
    assert statuses[30] == 429


def test_behind_the_proxy_one_readers_wrong_passwords_do_not_lock_out_another(settings):
    """Through deploy/'s layout every request comes from the proxy's address; the reader's
    is the last entry of X-Forwarded-For, which the proxy appends."""
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    VerifiedUserFactory(username="victim", password=PASSWORD)
    VerifiedUserFactory(username="target")
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    attacker = Client(HTTP_X_FORWARDED_FOR="203.0.113.9", **proxy)
    for _ in range(12):
        attacker.post(LOGIN, {"login": "target", "password": "not the password"})
    victim = Client(HTTP_X_FORWARDED_FOR="198.51.100.7", **proxy)
    response = victim.post(LOGIN, {"login": "victim", "password": PASSWORD})
    assert response.status_code == 302
    # A client cannot pick its own address: the proxy's entry is the one that counts.
    spoofing = Client(HTTP_X_FORWARDED_FOR="198.51.100.7, 203.0.113.9", **proxy)
    refused = spoofing.post(LOGIN, {"login": "victim", "password": PASSWORD})
    assert refused.status_code == 429 or "Too many" in refused.content.decode()


def test_production_settings_trust_exactly_the_one_documented_proxy():
    import subprocess
    import sys

    script = "import config.settings as s; print(getattr(s, 'ALLAUTH_TRUSTED_PROXY_COUNT', 0))"
    base = {"PATH": "/usr/bin:/bin", "DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": "x" * 50}
    for extra, expected in (({}, "1"), ({"DJANGO_BEHIND_PROXY": "false"}, "0")):
        result = subprocess.run(  # noqa: S603 (our own interpreter and a fixed script)
            [sys.executable, "-c", script],
            env={**base, **extra},
            capture_output=True,
            text=True,
            check=True,
        )
        assert result.stdout.strip() == expected
