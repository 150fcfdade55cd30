"""Redirects that stay on this site, and htmx-aware sign-in redirects."""

from collections.abc import Callable
from functools import wraps
from urllib.parse import unquote, urlsplit

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect


def is_local_path(url: str) -> bool:
    """True for a path on this site: one leading slash, no backslash or control character,
    and percent-escapes that decode as UTF-8. A bare word is refused, since `redirect()` would
    read it as the name of a view."""
    if not url.startswith("/") or url.startswith("//") or "\\" in url:
        return False
    try:
        decoded = unquote(url, errors="strict")
    except UnicodeDecodeError:
        return False
    # U+FFFD is what Django makes of bytes in the request that were not UTF-8.
    return not any(_is_control(char) or char == "\ufffd" for char in url + decoded)


def _is_control(char: str) -> bool:
    return ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0


def is_safe_url(request: HttpRequest, url: str) -> bool:
    """True for a local path (see is_local_path) that Django also finds on this host."""
    return is_local_path(url) and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )


def local_path_of(request: HttpRequest, url: str) -> str:
    """The path, query and fragment of `url` if it points at this site (a local path, or a
    full address on this host such as a Referer), otherwise ""."""
    if not url or not url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return ""
    parts = urlsplit(url)
    query = f"?{parts.query}" if parts.query else ""
    fragment = f"#{parts.fragment}" if parts.fragment else ""
    path = f"{parts.path or '/'}{query}{fragment}"
    return path if is_local_path(path) else ""


def safe_next(request: HttpRequest, fallback: str) -> str:
    """The `next` the request names when it stays on this site, otherwise `fallback`."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    return target if is_safe_url(request, target) else fallback


def back_to_card(request: HttpRequest, fallback: str, pk: int) -> str:
    """Where a vote or progress button returns a reader without JavaScript: the page it was
    pressed on (its `next`), scrolled to the card."""
    target = safe_next(request, "")
    if not target:
        return fallback
    return target if "#" in target else f"{target}#resource-{pk}"


def redirect_to_login_page(request: HttpRequest, back: str) -> HttpResponse:
    """The sign-in page with ?next=back; htmx is told to load it whole, not swap it in."""
    to_login = redirect_to_login(back)
    if request.htmx:
        return HttpResponseClientRedirect(to_login.url)
    return to_login


def login_required_for_htmx(view_func: Callable) -> Callable:
    """login_required, except that an htmx request loads the sign-in page whole."""
    protected = login_required(view_func)

    @wraps(view_func)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated and request.htmx:
            referer = local_path_of(request, request.headers.get("Referer", ""))
            return redirect_to_login_page(request, safe_next(request, referer or "/"))
        return protected(request, *args, **kwargs)

    return wrapper


def swap_with_status(request: HttpRequest, template: str, context: dict, status: str):
    """A fragment htmx swaps in place, followed by `status` for the page's live region
    (#live-status in base.html, which no swap replaces), so screen readers hear the result."""
    fragment = render_to_string(template, context, request)
    if status:
        fragment += render_to_string("partials/live_status.html", {"status": status}, request)
    return HttpResponse(fragment)
