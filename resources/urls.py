from django.urls import path

from resources import views

app_name = "resources"

urlpatterns = [
    path("", views.explorer, name="explorer"),
    path("suggest/", views.suggest, name="suggest"),
    path("mine/", views.my_suggestions, name="mine"),
    path("<int:pk>/", views.resource_detail, name="detail"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/history/", views.history, name="history"),
    path("<int:pk>/withdraw/", views.withdraw_suggestion, name="withdraw"),
    path("<int:pk>/vote/", views.vote, name="vote"),
    path("<int:pk>/flag/", views.flag, name="flag"),
]
