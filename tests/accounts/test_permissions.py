import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext

from accounts.permissions import has_verified_email
from tests.factories import UnverifiedUserFactory, UserFactory, VerifiedUserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.accounts.helpers")]

CONTRIBUTE = "/contribute/"


# has_verified_email


def test_anonymous_user_has_no_verified_email_and_costs_no_query():
    with CaptureQueriesContext(connection) as queries:
        assert has_verified_email(AnonymousUser()) is False
    assert len(queries) == 0


def test_user_with_a_verified_address_has_a_verified_email():
    assert has_verified_email(VerifiedUserFactory()) is True


def test_user_with_only_unverified_addresses_has_no_verified_email():
    user = UnverifiedUserFactory()
    EmailAddress.objects.create(user=user, email="second@example.com", verified=False)
    assert has_verified_email(user) is False


def test_user_without_any_email_address_row_has_no_verified_email():
    assert has_verified_email(UserFactory()) is False


def test_a_verified_address_of_another_user_does_not_count():
    VerifiedUserFactory(email="shared-domain@example.com")
    assert has_verified_email(UnverifiedUserFactory()) is False


def test_has_verified_email_asks_the_database_once_per_user_object():
    user = VerifiedUserFactory()
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            assert has_verified_email(user) is True
    assert len(queries) == 1


# verified_email_required_or_explain


def test_anonymous_visitor_is_sent_to_sign_in_with_next(client):
    response = client.get(CONTRIBUTE + "?section=tools")
    assert response.status_code == 302
    assert response.url == "/accounts/login/?next=/contribute/%3Fsection%3Dtools"


def test_anonymous_form_post_returns_to_the_page_named_in_next(client):
    response = client.post(CONTRIBUTE, {"next": "/sections/tools/#resource-4"})
    assert response.status_code == 302
    assert response.url == "/accounts/login/?next=/sections/tools/%23resource-4"


def test_anonymous_form_post_never_returns_to_another_host(client):
    response = client.post(CONTRIBUTE, {"next": "https://evil.example/"})
    assert response.url == "/accounts/login/?next=/contribute/"


@pytest.mark.parametrize("next_value", ["account_logout", "foo", "\ufffd", "/\\evil.example"])
def test_anonymous_form_post_ignores_a_next_that_is_not_a_local_path(client, next_value):
    response = client.post(CONTRIBUTE, {"next": next_value})
    assert response.url == "/accounts/login/?next=/contribute/"


def test_anonymous_form_post_without_next_returns_to_the_referring_page_of_this_site(client):
    response = client.post(CONTRIBUTE, HTTP_REFERER="http://testserver/sections/tools/?page=2")
    assert response.url == "/accounts/login/?next=/sections/tools/%3Fpage%3D2"


def test_anonymous_form_post_ignores_a_referer_of_another_host(client):
    response = client.post(CONTRIBUTE, HTTP_REFERER="https://evil.example/sections/")
    assert response.url == "/accounts/login/?next=/contribute/"


def test_anonymous_htmx_request_is_told_to_load_the_sign_in_page(client):
    response = client.post(CONTRIBUTE, {"next": "/sections/tools/"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200  # htmx acts on HX-Redirect, not on a 3xx
    assert response["HX-Redirect"] == "/accounts/login/?next=/sections/tools/"


def test_unverified_member_gets_a_403_page_that_explains_and_offers_a_resend(client):
    user = UnverifiedUserFactory(email="unverified@example.com")
    client.force_login(user)
    response = client.get(CONTRIBUTE)
    assert response.status_code == 403
    assert "accounts/verify_needed.html" in [t.name for t in response.templates]
    html = response.content.decode()
    assert html.count("<h1") == 1
    assert "Verify your email address" in html
    assert "unverified@example.com" in html
    assert 'action="/accounts/email/"' in html
    assert 'name="action_send"' in html
    assert 'value="unverified@example.com"' in html
    assert "contributed by" not in html


def test_unverified_member_posting_a_form_is_refused_without_running_the_view(client):
    client.force_login(UnverifiedUserFactory())
    response = client.post(CONTRIBUTE, {"value": "up"})
    assert response.status_code == 403
    assert b"contributed by" not in response.content


def test_verified_member_reaches_the_view(client):
    user = VerifiedUserFactory()
    client.force_login(user)
    response = client.get(CONTRIBUTE)
    assert response.status_code == 200
    assert response.content.decode() == f"contributed by {user.username}"


def test_resend_button_on_the_403_page_sends_a_new_verification_mail(client, mailoutbox):
    user = UnverifiedUserFactory(email="resend@example.com")
    client.force_login(user)
    client.get(CONTRIBUTE)
    response = client.post(
        "/accounts/email/", {"email": "resend@example.com", "action_send": ""}, follow=True
    )
    assert response.status_code == 200
    assert [message.to for message in mailoutbox] == [["resend@example.com"]]
    assert "/accounts/confirm-email/" in mailoutbox[0].body


def test_member_made_outside_allauth_can_ask_for_a_verification_mail(client, mailoutbox):
    user = UserFactory(email="legacy@example.com")
    client.force_login(user)
    page = client.get(CONTRIBUTE)
    assert page.status_code == 403
    assert 'value="legacy@example.com"' in page.content.decode()
    client.post("/accounts/email/", {"email": "legacy@example.com", "action_send": ""})
    assert [message.to for message in mailoutbox] == [["legacy@example.com"]]


def test_member_without_any_address_is_sent_to_add_one(client):
    client.force_login(UserFactory(email=""))
    response = client.get(CONTRIBUTE)
    assert response.status_code == 403
    assert "Add an email address" in response.content.decode()


def test_has_verified_email_filter_gives_templates_the_same_answer():
    template = Template(
        "{% load accounts %}{% if user|has_verified_email %}yes{% else %}no{% endif %}"
    )
    assert template.render(Context({"user": VerifiedUserFactory()})) == "yes"
    assert template.render(Context({"user": UnverifiedUserFactory()})) == "no"
    assert template.render(Context({"user": AnonymousUser()})) == "no"
