"""allauth's mails link to SITE_URL, like every other mail the site sends, whatever host the
request that triggered them came in on."""

from types import SimpleNamespace
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.conf import settings


def public_site() -> SimpleNamespace:
    """What mail templates read as current_site, taken from SITE_URL."""
    return SimpleNamespace(domain=urlsplit(settings.SITE_URL).netloc, name=settings.SITE_NAME)


class SiteURLAccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        request = allauth_context.request
        origin = request.build_absolute_uri("/").rstrip("/") if request is not None else None
        on_site = {}
        for key, value in context.items():
            # activate_url, password_reset_url, signup_url: built on the request's host.
            if origin and isinstance(value, str) and value.startswith(origin + "/"):
                value = settings.SITE_URL + value[len(origin) :]
            on_site[key] = value
        super().send_mail(template_prefix, email, {"current_site": public_site(), **on_site})
