from django.contrib import admin
from django.urls import include, path

from core.views import favicon, healthz

urlpatterns = [
    path("", include("roadmap.urls")),
    path("resources/", include("resources.urls")),
    path("accounts/", include("allauth.urls")),
    path("u/", include("resources.profile_urls")),
    path("tags/", include("resources.tag_urls")),
    path("moderation/", include("resources.moderation_urls")),
    path("me/", include("resources.progress_urls")),
    path("api/", include("resources.api_urls")),
    path("", include("roadmap.site_urls")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
]
