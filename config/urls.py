from django.contrib import admin
from django.db import connection
from django.http import JsonResponse
from django.urls import include, path


def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("", include("roadmap.urls")),
    path("resources/", include("resources.urls")),
    path("accounts/", include("allauth.urls")),
    path("u/", include("accounts.urls")),
    path("moderation/", include("resources.moderation_urls")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
]
