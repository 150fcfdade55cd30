from django.urls import path

from roadmap import views

app_name = "roadmap"

urlpatterns = [
    path("", views.home, name="home"),
    path("sections/<slug:slug>/", views.section_detail, name="section"),
]
