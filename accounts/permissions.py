"""Who may contribute: suggesting, voting and flagging need a verified email address."""

from collections.abc import Callable
from functools import wraps

from allauth.account.models import EmailAddress
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.http import is_safe_url, local_path_of, redirect_to_login_page

# The answer is kept on the user object, which Django builds afresh for every request;
# accounts.backends loads it with the user.
CACHE_ATTRIBUTE = "_has_verified_email"


def has_verified_email(user) -> bool:
    """True if the user has at least one verified email address (one query, then cached)."""
    if not getattr(user, "is_authenticated", False):
        return False
    cached = getattr(user, CACHE_ATTRIBUTE, None)
    if cached is None:
        cached = EmailAddress.objects.filter(user_id=user.pk, verified=True).exists()
        setattr(user, CACHE_ATTRIBUTE, cached)
    return cached


def verified_email_required_or_explain(view_func: Callable) -> Callable:
    """Run the view only for signed-in users with a verified address; tell the others why not.

    Anonymous visitors are sent to the sign-in page with ?next=; signed-in users without a
    verified address get a 403 page that explains and offers to resend the verification mail.
    """

    @wraps(view_func)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login_page(request, _return_path(request))
        if not has_verified_email(request.user):
            return render_verify_needed(request)
        return view_func(request, *args, **kwargs)

    return wrapper


def render_verify_needed(request: HttpRequest) -> HttpResponse:
    """The 403 page that asks a signed-in user to verify their email address."""
    addresses = list(
        EmailAddress.objects.filter(user_id=request.user.pk).order_by("-primary", "email")
    )
    if not addresses and request.user.email:
        # Accounts made outside allauth (createsuperuser, the admin) have no EmailAddress row
        # yet; allauth's email view creates it from user.email when the form is posted.
        addresses = [EmailAddress(user=request.user, email=request.user.email)]
    return render(
        request,
        "accounts/verify_needed.html",
        {"addresses": addresses, "return_path": _return_path(request)},
        status=403,
    )


def _return_path(request: HttpRequest) -> str:
    """Where to come back to: this page, or for a form post the page that holds the form."""
    if request.method in ("GET", "HEAD"):
        return request.get_full_path()
    target = request.POST.get("next", "")
    if is_safe_url(request, target):
        return target
    return local_path_of(request, request.headers.get("Referer", "")) or request.get_full_path()
