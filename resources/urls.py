from django.urls import path

from resources import views

app_name = "resources"

urlpatterns = [
    path("<int:pk>/", views.resource_detail, name="detail"),
]
