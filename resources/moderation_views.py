from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_safe

from resources.models import ModerationEvent

LOG_PAGE_SIZE = 25


@require_safe
def moderation_log(request):
    """Every moderator decision, newest first: what was decided, about what, why and by whom."""
    page = Paginator(ModerationEvent.objects.for_log(), LOG_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "resources/moderation_log.html",
        {"page": page, "page_range": page.paginator.get_elided_page_range(page.number)},
    )
