"""Test helpers for accounts: the verification link in a mail, a decorated view."""

import re

from django.http import HttpResponse
from django.urls import include, path

from accounts.permissions import verified_email_required_or_explain

PASSWORD = "correct horse battery staple"


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
