from django.urls import path

from resources import moderation_views

app_name = "moderation"

urlpatterns = [
    path("log/", moderation_views.moderation_log, name="log"),
]
