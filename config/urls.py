from django.contrib import admin
from django.db import connection
from django.http import JsonResponse
from django.urls import include, path

from resources import views as resource_views


def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("", include("roadmap.urls")),
    path("resources/", include("resources.urls")),
    path("accounts/", include("allauth.urls")),
    path("u/", include("accounts.urls")),
    path("tags/", resource_views.tag_list, name="tags"),
    path("tags/<slug:tag_slug>/", resource_views.explorer, name="tag"),
    path("moderation/", include("resources.moderation_urls")),
    path("me/", include("resources.progress_urls")),
    path("api/", include("resources.api_urls")),
    path("", include("roadmap.site_urls")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
]
