from django.urls import path

from resources import progress_views

app_name = "progress"

urlpatterns = [
    path("learning/", progress_views.learning, name="learning"),
    path("learning/export.json", progress_views.export, name="export"),
    path("progress/<int:pk>/", progress_views.set_progress, name="set"),
]
