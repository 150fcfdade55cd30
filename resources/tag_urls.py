from django.urls import path

from resources import views

urlpatterns = [
    path("", views.tag_list, name="tags"),
    path("<slug:tag_slug>/", views.explorer, name="tag"),
]
