"""Site-wide files: robots.txt and the roadmap as Markdown."""

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

from roadmap.markdown_io import export_markdown


@require_safe
def robots_txt(request):
    return render(
        request,
        "robots.txt",
        {"sitemap_url": request.build_absolute_uri(reverse("site:sitemap"))},
        content_type="text/plain; charset=utf-8",
    )


@require_safe
def roadmap_markdown(request):
    """The approved roadmap as an awesome-list README, loadable by load_roadmap."""
    response = HttpResponse(export_markdown(), content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="mlops-roadmap.md"'
    return response
