from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_safe

from core.cache import cache_page_for_anonymous
from resources.selectors import reader_context
from roadmap.selectors import home_page, section_page


@require_safe
@cache_page_for_anonymous
def home(request):
    return render(request, "roadmap/home.html", home_page(request.user))


@require_safe
@cache_page_for_anonymous(query={"sort", "all"})
def section_detail(request, slug):
    show_all = request.GET.get("all") == "1"
    page = section_page(slug, request.GET.get("sort", "top"), request.user, show_all=show_all)
    if page is None:
        raise Http404("No such section")
    return render(request, "roadmap/section.html", {**page, **reader_context(request.user)})
