"""Test helpers for accounts: members with or without a verified address, a decorated view."""

import re

from allauth.account.models import EmailAddress
from django.http import HttpResponse
from django.urls import include, path

from accounts.permissions import verified_email_required_or_explain
from tests.factories import UserFactory

PASSWORD = "correct horse battery staple"


def make_member(*, verified: bool = True, **kwargs):
    """A user with an allauth EmailAddress for user.email, verified or not."""
    user = UserFactory(**kwargs)
    EmailAddress.objects.create(user=user, email=user.email, verified=verified, primary=True)
    return user


def confirmation_path(message) -> str:
    """The /accounts/confirm-email/<key>/ path from a verification mail."""
    match = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


@verified_email_required_or_explain
def contribute(request):
    return HttpResponse(f"contributed by {request.user.username}")


# A URLconf with the site's routes plus one decorated view, for @pytest.mark.urls.
urlpatterns = [
    path("contribute/", contribute, name="test_contribute"),
    path("", include("config.urls")),
]
