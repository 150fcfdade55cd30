"""System checks for what a deployment must configure before it serves anyone."""

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, register

LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "testserver"})


def is_public_url(url: str) -> bool:
    """An http(s) address on a name or IP address that people outside this machine can reach."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".").lower()
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not host:
        return False
    if host in LOCAL_NAMES or host.endswith((".localhost", ".local", ".internal")):
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "." in host  # a bare name such as "web" resolves on this network only
    return address.is_global


@register("mail", deploy=False)
def site_url_is_public(app_configs=None, **kwargs) -> list[Error]:
    """In production every e-mail links to SITE_URL, so it must be the site's public address."""
    if settings.DEBUG or is_public_url(settings.SITE_URL):
        return []
    return [
        Error(
            f"SITE_URL is {settings.SITE_URL!r}, which readers cannot open: e-mails (sign-up "
            "verification, password resets, moderation notices) link to it.",
            hint="Set SITE_URL to the public address, e.g. SITE_URL=https://roadmap.example.org.",
            id="core.E001",
        )
    ]
