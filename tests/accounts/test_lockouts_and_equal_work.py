"""Sign-in limits a stranger cannot turn against an account's owner, and equal work for known
and unknown accounts: counted in password hashes and mails, never with a clock."""

import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client

from accounts.models import User
from tests.accounts.helpers import PASSWORD
from tests.factories import VerifiedUserFactory
from tests.security.hasher_count import CountingHasher

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
SIGNUP = "/accounts/signup/"
RESET = "/accounts/password/reset/"
STRANGER = "203.0.113.9"
OWNER = "198.51.100.7"


@pytest.fixture(autouse=True)
def counting_hasher(settings):
    settings.PASSWORD_HASHERS = ["tests.security.hasher_count.CountingHasher"]


@pytest.fixture
def ada():
    return VerifiedUserFactory(username="ada", email="ada@example.com")


def from_address(address: str) -> Client:
    return Client(REMOTE_ADDR=address)


def hashes_for(request) -> int:
    CountingHasher.calls = 0
    request()
    return CountingHasher.calls


WRONG = "not the password"


def guess(client, login="ada", password=WRONG):
    return client.post(LOGIN, {"login": login, "password": password})


# Lockouts


def test_a_strangers_wrong_passwords_do_not_lock_the_owner_out(ada):
    stranger = from_address(STRANGER)
    for _ in range(6):
        guess(stranger)
    assert "Too many failed login attempts" in guess(stranger, password=PASSWORD).content.decode()

    owner = from_address(OWNER)
    response = guess(owner, password=PASSWORD)
    assert response.status_code == 302
    assert owner.session[SESSION_KEY] == str(ada.pk)


def test_the_limit_counts_the_account_whichever_identifier_is_typed(ada):
    stranger = from_address(STRANGER)
    for login in ("ada", "ADA", "ada@example.com", "Ada@Example.com", "ada"):
        guess(stranger, login=login)
    refused = guess(stranger, login="ada@example.com", password=PASSWORD)
    assert "Too many failed login attempts" in refused.content.decode()


def test_guesses_spread_over_many_addresses_stop_at_the_accounts_ceiling(ada):
    for n in range(20):
        guess(from_address(f"203.0.113.{n + 1}"))
    refused = guess(from_address("203.0.113.200"), password=PASSWORD)
    assert "Too many failed login attempts" in refused.content.decode()
    assert "resetting your password lets you sign in at once" in refused.content.decode()
    # Another account is untouched.
    VerifiedUserFactory(username="bob")
    assert guess(from_address("203.0.113.201"), login="bob", password=PASSWORD).status_code == 302


def reset_password(client, mailoutbox, new_password: str):
    assert client.post(RESET, {"email": "ada@example.com"}).status_code == 302
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+/)", mailoutbox[-1].body)
    form_page = client.get(link.group(1), follow=True)
    response = client.post(
        form_page.redirect_chain[-1][0], {"password1": new_password, "password2": new_password}
    )
    assert response.status_code == 302


def test_the_owners_password_reset_lifts_the_accounts_ceiling(ada, mailoutbox):
    for n in range(20):
        guess(from_address(f"203.0.113.{n + 1}"))
    owner = from_address(OWNER)
    new_password = "a different horse battery"
    reset_password(owner, mailoutbox, new_password)
    assert guess(owner, password=new_password).status_code == 302


def test_a_strangers_reset_requests_neither_use_up_the_owners_reset_nor_flood_the_inbox(
    ada, mailoutbox
):
    stranger = from_address(STRANGER)
    answers = {stranger.post(RESET, {"email": "ada@example.com"}).status_code for _ in range(10)}
    assert answers == {302}
    assert len(mailoutbox) == 3
    # The owner asks too: the same answer, and every link already sent still works.
    owner = from_address(OWNER)
    assert owner.post(RESET, {"email": "ada@example.com"}).status_code == 302
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+/)", mailoutbox[0].body)
    assert "Choose a new password" in owner.get(link.group(1), follow=True).content.decode()


# Equal work, whoever asks


def test_a_sign_in_costs_one_password_hash_whether_or_not_the_account_exists(ada):
    costs = {
        what: hashes_for(lambda login=login, password=password: guess(Client(), login, password))
        for what, login, password in (
            ("known username, wrong password", "ada", "nope"),
            ("unknown username", "nobody", "nope"),
            ("known email, wrong password", "ada@example.com", "nope"),
            ("unknown email", "nobody@example.com", "nope"),
            ("right password", "ada", PASSWORD),
        )
    }
    assert set(costs.values()) == {1}, costs


def test_a_refused_sign_in_after_the_limit_hashes_no_password(ada):
    stranger = from_address(STRANGER)
    for _ in range(5):
        guess(stranger)
    assert hashes_for(lambda: guess(stranger, password=PASSWORD)) == 0
    for n in range(20):
        guess(from_address(f"192.0.2.{n + 1}"))
    assert hashes_for(lambda: guess(from_address(OWNER))) == 0


def sign_up(email: str, username: str):
    return Client().post(
        SIGNUP,
        {"email": email, "username": username, "password1": PASSWORD, "password2": PASSWORD},
    )


def test_signing_up_with_a_taken_address_costs_the_same_as_with_a_new_one(ada, mailoutbox):
    taken = hashes_for(lambda: sign_up("ada@example.com", "ada2"))
    new = hashes_for(lambda: sign_up("new@example.com", "newcomer"))
    assert taken == new == 1
    assert len(mailoutbox) == 2
    assert not User.objects.filter(username="ada2").exists()


def test_a_password_reset_costs_the_same_for_a_known_and_an_unknown_address(ada, mailoutbox):
    known = hashes_for(lambda: Client().post(RESET, {"email": "ada@example.com"}))
    unknown = hashes_for(lambda: Client().post(RESET, {"email": "who@example.com"}))
    assert known == unknown == 0
    assert sorted(message.to[0] for message in mailoutbox) == ["ada@example.com", "who@example.com"]
