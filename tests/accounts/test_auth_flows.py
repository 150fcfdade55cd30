import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import SESSION_KEY

from accounts.models import User
from tests.accounts.helpers import PASSWORD, confirmation_path
from tests.factories import UnverifiedUserFactory, VerifiedUserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
SIGNUP = "/accounts/signup/"


def signed_in_user_id(client):
    return client.session.get(SESSION_KEY)


def sign_up(client, **overrides):
    data = {
        "email": "grace@example.com",
        "username": "grace",
        "password1": PASSWORD,
        "password2": PASSWORD,
        **overrides,
    }
    return client.post(SIGNUP, data)


# Sign-up and email verification


def test_signing_up_sends_one_verification_mail_and_shows_the_verification_page(client, mailoutbox):
    response = sign_up(client)
    assert response.status_code == 302
    assert response.url == "/accounts/confirm-email/"
    assert [message.to for message in mailoutbox] == [["grace@example.com"]]
    assert mailoutbox[0].subject.startswith("[MLOps Roadmap] ")
    assert "Hello from MLOps Roadmap!" in mailoutbox[0].body
    page = client.get(response.url)
    assert "Verify your email address" in page.content.decode()


@pytest.mark.parametrize(
    "username",
    [
        "admin",
        "Admin",
        "\u0430dmin",
        "\u0430dm\u0456n",
        "\uff41\uff44\uff4d\uff49\uff4e",
        "r\u043e\u043et",
    ],
)
def test_reserved_usernames_are_refused_even_spelled_with_look_alike_letters(client, username):
    response = sign_up(client, username=username)
    assert response.status_code == 200
    assert "username" in response.context["form"].errors
    assert not User.objects.exists()


def test_a_username_in_another_script_is_welcome(client, mailoutbox):
    assert sign_up(client, username="\u0430\u043d\u043d\u0430").status_code == 302
    assert User.objects.filter(username="\u0430\u043d\u043d\u0430").exists()


def test_a_new_account_starts_unverified_and_signed_out(client, mailoutbox):
    sign_up(client)
    user = User.objects.get(username="grace")
    assert not EmailAddress.objects.get(user=user).verified
    assert signed_in_user_id(client) is None


def test_opening_the_confirmation_link_shows_a_confirm_button_without_confirming(
    client, mailoutbox
):
    sign_up(client)
    response = client.get(confirmation_path(mailoutbox[0]))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<h1") == 1
    assert "grace@example.com" in html
    assert re.search(r'<form method="post" action="/accounts/confirm-email/[^"]+/"', html)
    assert not EmailAddress.objects.get(email="grace@example.com").verified


def test_posting_the_confirmation_verifies_the_address(client, mailoutbox):
    sign_up(client)
    response = client.post(confirmation_path(mailoutbox[0]))
    assert response.status_code == 302
    assert EmailAddress.objects.get(email="grace@example.com").verified


def test_an_unknown_confirmation_key_says_the_link_is_invalid(client):
    response = client.get("/accounts/confirm-email/not-a-real-key/")
    assert response.status_code == 200
    assert "expired or is invalid" in response.content.decode()


def test_signup_errors_are_shown_next_to_their_fields_and_described_by_them(client):
    response = sign_up(client, email="not-an-address", password2="something else")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'role="alert"' in html
    assert '<ul class="field-errors" id="id_email_error">' in html
    email_input = re.search(r"<input[^>]*name=\"email\"[^>]*>", html).group(0)
    assert 'aria-invalid="true"' in email_input
    assert "id_email_error" in re.search(r'aria-describedby="([^"]+)"', email_input).group(1)


# Signing in and out


def test_member_signs_in_with_username(client):
    user = VerifiedUserFactory(username="ada")
    response = client.post(LOGIN, {"login": "ada", "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == "/"
    assert signed_in_user_id(client) == str(user.pk)


def test_member_signs_in_with_email(client):
    user = VerifiedUserFactory(username="ada", email="ada@example.com")
    response = client.post(LOGIN, {"login": "ada@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert signed_in_user_id(client) == str(user.pk)


def test_signing_in_returns_to_the_page_in_next(client):
    VerifiedUserFactory(username="ada")
    response = client.post(LOGIN + "?next=/sections/tools/", {"login": "ada", "password": PASSWORD})
    assert response.url == "/sections/tools/"


def test_wrong_password_is_refused_with_a_message_on_the_form(client):
    VerifiedUserFactory(username="ada")
    response = client.post(LOGIN, {"login": "ada", "password": "wrong"})
    assert response.status_code == 200
    assert signed_in_user_id(client) is None
    assert "not correct" in response.content.decode()


def test_unverified_member_cannot_sign_in_and_is_asked_to_verify(client, mailoutbox):
    UnverifiedUserFactory(username="newbie")
    response = client.post(LOGIN, {"login": "newbie", "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == "/accounts/confirm-email/"
    assert signed_in_user_id(client) is None
    assert len(mailoutbox) == 1


def test_visiting_the_sign_out_page_does_not_sign_out(client):
    user = VerifiedUserFactory()
    client.force_login(user)
    response = client.get("/accounts/logout/")
    assert response.status_code == 200
    assert '<form method="post" action="/accounts/logout/"' in response.content.decode()
    assert signed_in_user_id(client) == str(user.pk)


def test_posting_to_sign_out_signs_out(client):
    client.force_login(VerifiedUserFactory())
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert signed_in_user_id(client) is None


# Passwords


def test_password_reset_mail_lets_the_member_choose_a_new_password(client, mailoutbox):
    user = VerifiedUserFactory(username="ada", email="ada@example.com")
    client.post("/accounts/password/reset/", {"email": "ada@example.com"})
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+/)", mailoutbox[0].body)
    form_page = client.get(link.group(1), follow=True)
    assert "Choose a new password" in form_page.content.decode()
    new_password = "a different horse battery"
    response = client.post(
        form_page.redirect_chain[-1][0] if form_page.redirect_chain else link.group(1),
        {"password1": new_password, "password2": new_password},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new_password)


def test_member_changes_their_password(client):
    user = VerifiedUserFactory()
    client.force_login(user)
    new_password = "a different horse battery"
    response = client.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": new_password, "password2": new_password},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new_password)


def test_member_adds_a_second_address_and_it_is_sent_a_verification_mail(client, mailoutbox):
    user = VerifiedUserFactory()
    client.force_login(user)
    response = client.post("/accounts/email/", {"email": "second@example.com", "action_add": ""})
    assert response.status_code == 302
    assert EmailAddress.objects.filter(user=user, email="second@example.com").exists()
    assert [message.to for message in mailoutbox] == [["second@example.com"]]


# Every account page is the site's own page


@pytest.mark.parametrize(
    "path",
    [
        LOGIN,
        SIGNUP,
        "/accounts/password/reset/",
        "/accounts/password/reset/done/",
        "/accounts/confirm-email/",
    ],
)
def test_entrance_pages_use_the_site_layout_with_one_h1_and_labelled_fields(client, path):
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="site-header"' in html
    assert "/static/css/forms.css" in html
    assert html.count("<h1") == 1
    for field_id in re.findall(r'<input(?![^>]*type="(?:hidden|submit)")[^>]*id="([^"]+)"', html):
        assert f'for="{field_id}"' in html, field_id


@pytest.mark.parametrize(
    "path", ["/accounts/email/", "/accounts/password/change/", "/accounts/logout/"]
)
def test_account_settings_pages_use_the_site_layout_with_one_h1(client, path):
    client.force_login(VerifiedUserFactory())
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="site-header"' in html
    assert html.count("<h1") == 1


def test_sign_in_and_sign_up_fields_carry_autocomplete_hints(client):
    login = client.get(LOGIN).content.decode()
    assert re.search(r'<input[^>]*name="login"[^>]*autocomplete="username"', login)
    assert re.search(r'<input[^>]*name="password"[^>]*autocomplete="current-password"', login)
    signup = client.get(SIGNUP).content.decode()
    assert re.search(r'<input[^>]*name="email"[^>]*autocomplete="email"', signup)
    assert re.search(r'<input[^>]*name="username"[^>]*autocomplete="username"', signup)
    assert re.search(r'<input[^>]*name="password1"[^>]*autocomplete="new-password"', signup)


def test_account_pages_load_nothing_from_another_host(client):
    for path in (LOGIN, SIGNUP):
        html = client.get(path).content.decode()
        # Canonical links name the page itself; everything else is something the page loads.
        loads = re.findall(r'src="[^"]*"|<link(?![^>]*rel="canonical")[^>]*href="[^"]*"', html)
        assert loads and not [load for load in loads if "//" in load], (path, loads)


def test_a_used_or_forged_password_reset_link_says_it_no_longer_works(client):
    response = client.get("/accounts/password/reset/key/1-forged-key/", follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert "This link no longer works" in html
    assert html.count("<h1") == 1


def test_a_huge_login_is_a_form_error_not_a_database_error(client):
    response = client.post("/accounts/login/", {"login": "x" * 60_000, "password": "secret"})
    assert response.status_code == 200
    assert "login" in response.context["form"].errors


UNSENDABLE_ADDRESSES = [
    "grace@" + "\u00e9" * 60 + ".com",  # a label IDNA cannot encode: over 63 bytes
    "grace@exa\u00admple.com",  # a soft hyphen, which IDNA drops
    "grace@ex\u200dample.com",  # a zero-width joiner
]


@pytest.mark.parametrize("email", UNSENDABLE_ADDRESSES)
def test_signing_up_with_an_address_mail_cannot_reach_is_refused_and_creates_nothing(
    client, mailoutbox, email
):
    response = sign_up(client, email=email)
    assert response.status_code == 200
    assert "email" in response.context["form"].errors
    assert not User.objects.exists()
    assert not EmailAddress.objects.exists()
    assert mailoutbox == []


@pytest.mark.parametrize("email", UNSENDABLE_ADDRESSES)
def test_password_reset_for_an_address_mail_cannot_reach_is_a_form_error(client, mailoutbox, email):
    response = client.post("/accounts/password/reset/", {"email": email})
    assert response.status_code == 200
    assert "email" in response.context["form"].errors
    assert mailoutbox == []


def test_an_address_with_an_international_domain_is_welcome(client, mailoutbox):
    assert sign_up(client, email="grace@m\u00fcnchen.de").status_code == 302
    assert len(mailoutbox) == 1
