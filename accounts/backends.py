"""Authentication backends that load the signed-in user and whether they have a verified
email address in one query, instead of a second query on every page that shows votes."""

from allauth.account import auth_backends
from allauth.account.models import EmailAddress
from django.contrib.auth import backends, get_user_model
from django.db.models import Exists, OuterRef

from accounts.permissions import CACHE_ATTRIBUTE


class VerifiedEmailUserMixin:
    def get_user(self, user_id):
        user_model = get_user_model()
        verified = EmailAddress.objects.filter(user_id=OuterRef("pk"), verified=True)
        try:
            user = user_model._default_manager.annotate(**{CACHE_ATTRIBUTE: Exists(verified)}).get(
                pk=user_id
            )
        except user_model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None


class ModelBackend(VerifiedEmailUserMixin, backends.ModelBackend):
    pass


class AuthenticationBackend(VerifiedEmailUserMixin, auth_backends.AuthenticationBackend):
    pass
