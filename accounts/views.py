from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from accounts.selectors import approved_submissions, contribution_stats

SUGGESTIONS_PER_PAGE = 20


@require_safe
def profile(request, username):
    """A member's public page: when they joined, what they contributed, their karma."""
    if "\x00" in username:  # no account has one, and PostgreSQL cannot compare it
        raise Http404("No such member")
    member = get_object_or_404(get_user_model(), username=username, is_active=True)
    page = Paginator(approved_submissions(member), SUGGESTIONS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "accounts/profile.html",
        {
            "member": member,
            "stats": contribution_stats(member),
            "page": page,
            "is_owner": request.user.is_authenticated and request.user.pk == member.pk,
        },
    )
