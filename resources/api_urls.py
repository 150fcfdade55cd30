from django.urls import path

from resources import api

app_name = "api"

urlpatterns = [
    path("", api.docs, name="docs"),
    path("sections/", api.section_list, name="sections"),
    path("sections/<slug:slug>/", api.section_detail, name="section"),
    path("resources/", api.resource_list, name="resources"),
    path("resources/<int:pk>/", api.resource_detail, name="resource"),
]
