from django.urls import path

from resources import views

# Members' public pages show what they contributed to the catalogue, so they live here; the
# namespace keeps the name User.get_absolute_url reverses.
app_name = "accounts"

urlpatterns = [
    path("<str:username>/", views.profile, name="profile"),
]
