"""The site's URLs plus /bench/minimal/: the cheapest response the same stack can give."""

from django.http import HttpResponse
from django.urls import include, path


def minimal(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("bench/minimal/", minimal, name="bench-minimal"),
    path("", include("config.urls")),
]
