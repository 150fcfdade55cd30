"""Sign-up says what went wrong with the passwords, signs the reader in once they confirm, and
the site spells "email" one way."""

import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client

from accounts.models import User
from tests.accounts.helpers import PASSWORD, confirmation_path
from tests.factories import VerifiedUserFactory

pytestmark = pytest.mark.django_db

SIGNUP = "/accounts/signup/"


def sign_up(client, **overrides):
    data = {
        "email": "grace@example.com",
        "username": "grace",
        "password1": PASSWORD,
        "password2": PASSWORD,
        **overrides,
    }
    return client.post(SIGNUP, data)


def test_a_mismatched_password_is_reported_even_when_the_first_is_too_common(client):
    response = sign_up(client, password1="password", password2="passwort")
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "This password is too common." in errors["password1"]
    assert "The two passwords are not the same." in errors["password2"]
    html = response.content.decode()
    assert "The two passwords are not the same." in html
    assert "both password fields were emptied" in html
    assert not User.objects.exists()


def test_a_good_sign_up_form_says_nothing_about_emptied_fields(client):
    response = sign_up(client, username="")
    assert "both password fields were emptied" not in response.content.decode()


def test_confirming_the_address_signs_the_new_member_in(client, mailoutbox):
    sign_up(client)
    assert SESSION_KEY not in client.session
    response = client.post(confirmation_path(mailoutbox[0]))
    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(User.objects.get(username="grace").pk)


def test_a_confirmation_link_opened_in_another_browser_confirms_without_signing_in(
    client, mailoutbox
):
    sign_up(client)
    elsewhere = Client()
    elsewhere.post(confirmation_path(mailoutbox[0]))
    assert SESSION_KEY not in elsewhere.session


ACCOUNT_PAGES = (
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/password/reset/",
    "/accounts/email/",
    "/accounts/confirm-email/",
)


def test_the_site_and_its_mails_spell_email_one_way(client, mailoutbox):
    VerifiedUserFactory(username="ada", email="ada@example.com")
    sign_up(Client())
    Client().post("/accounts/password/reset/", {"email": "ada@example.com"})
    sign_up(Client(), email="ada@example.com", username="ada2")
    assert len(mailoutbox) == 3
    texts = [f"{message.subject}\n{message.body}" for message in mailoutbox]
    client.force_login(User.objects.get(username="ada"))
    texts += [client.get(path, follow=True).content.decode() for path in ACCOUNT_PAGES]
    texts.append(Client().get("/accounts/login/").content.decode())
    for text in texts:
        assert not re.search(r"e-mail", text, re.IGNORECASE), text[:200]
    assert any("Email" in text for text in texts)
