from django.contrib.auth.models import AbstractUser
from django.urls import reverse


class User(AbstractUser):
    """The site's user; a custom model from the first migration so it can grow."""

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"

    def get_absolute_url(self) -> str:
        return reverse("accounts:profile", kwargs={"username": self.username})
