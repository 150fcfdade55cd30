"""allauth's account adapter with failed-login limits that a stranger cannot use against an
account's owner.

A wrong password counts against the pair (account, address), 5 in 5 minutes, so that one
address cannot keep guessing, and against the account alone under a looser ceiling (see
ACCOUNT_RATE_LIMITS["login_failed_account"]), so that many addresses cannot either. A stranger
who tries five passwords locks out only their own address; only a spread-out attack reaches
the ceiling, and the owner's password reset always works and lifts both.
"""

from types import SimpleNamespace
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from allauth.core.internal import ratelimit
from django.conf import settings

from accounts.backends import find_account

APP = "allauth.account"
PAIR_ACTION = "login_failed"  # allauth's own name: its per-address rate applies too
ACCOUNT_ACTION = "login_failed_account"


def account_key(login: str) -> str:
    """One key per account whichever identifier is typed (username or email), or the typed
    identifier itself when it names no account, so that both cost the same to count."""
    user = find_account(login)
    return f"user:{user.pk}" if user is not None else f"login:{login.strip().lower()}"


def public_site() -> SimpleNamespace:
    """What mail templates read as current_site, taken from SITE_URL."""
    return SimpleNamespace(domain=urlsplit(settings.SITE_URL).netloc, name=settings.SITE_NAME)


class AccountAdapter(DefaultAccountAdapter):
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "too_many_login_attempts": (
            "Too many failed login attempts. Try again later. If this is your account, "
            "resetting your password lets you sign in at once."
        ),
    }

    def _keys(self, request, credentials) -> list[tuple[str, str]]:
        login = credentials.get("email") or credentials.get("username") or ""
        account = account_key(login)
        address = ratelimit.get_ip(request)
        return [(PAIR_ACTION, f"{account}|{address}"), (ACCOUNT_ACTION, account)]

    def pre_authenticate(self, request, **credentials) -> None:
        """Refuse before any password is hashed once either limit is reached."""
        consumed = []
        for action, key in self._keys(request, credentials):
            usage = ratelimit.consume(request, app=APP, action=action, key=key)
            if not usage:
                for earlier in consumed:
                    earlier.rollback()
                self._login_failed_rl_usage = None
                raise self.validation_error("too_many_login_attempts")
            consumed.append(usage)
        self._login_failed_rl_usage = ratelimit.RateLimitUsage(
            usage=[single for usage in consumed for single in usage.usage]
        )

    def _delete_login_attempts_cached_email(self, request, **credentials) -> None:
        """After a password reset: the account's failures are forgotten, everywhere."""
        for action, key in self._keys(request, credentials):
            ratelimit.clear(request, app=APP, action=action, key=key)

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """allauth's mails link to SITE_URL, like every other mail the site sends, whatever
        host the request that triggered them came in on."""
        request = allauth_context.request
        origin = request.build_absolute_uri("/").rstrip("/") if request is not None else None
        on_site = {}
        for key, value in context.items():
            # activate_url, password_reset_url, signup_url: built on the request's host.
            if origin and isinstance(value, str) and value.startswith(origin + "/"):
                value = settings.SITE_URL + value[len(origin) :]
            on_site[key] = value
        super().send_mail(template_prefix, email, {"current_site": public_site(), **on_site})
