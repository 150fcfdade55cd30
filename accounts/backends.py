"""Authentication backends that load the signed-in user and whether they have a verified
email address in one query, instead of a second query on every page that shows votes.

A sign-in attempt hashes the password exactly once, whether the account exists or not and
whether the password is right or wrong: the answer's cost tells nothing about the account,
and a refused guess costs the server no more than a success."""

from functools import cache

from allauth.account import auth_backends
from allauth.account.internal.userkit import filter_users_by_email, get_user_by_username
from allauth.account.models import EmailAddress
from django.contrib.auth import backends, get_user_model
from django.core.exceptions import ValidationError
from django.db import connection

from accounts.permissions import CACHE_ATTRIBUTE


def find_account(login: str):
    """The account an identifier names: by email address when it holds an @, else (or then)
    by username; None when there is none."""
    login = (login or "").strip()
    if not login:
        return None
    if "@" in login:
        users = filter_users_by_email(login, prefer_verified=True, for_login=True)
        if users:
            return users[0]
    return get_user_by_username(login)


@cache
def user_read() -> str:
    """The user and whether they have a verified address, written out: the ORM's
    `annotate(Exists(...)).get()` costs three times the Python time of this `raw()`, on
    every signed-in request."""
    quote = connection.ops.quote_name
    user_model = get_user_model()
    users, addresses = quote(user_model._meta.db_table), quote(EmailAddress._meta.db_table)
    user_id = f"{users}.{quote(user_model._meta.pk.column)}"
    columns = ", ".join(
        f"{users}.{quote(field.column)}" for field in user_model._meta.concrete_fields
    )
    return (
        f"SELECT {columns}, EXISTS(SELECT 1 FROM {addresses}"  # noqa: S608
        f" WHERE {addresses}.user_id = {user_id} AND {addresses}.verified) AS {CACHE_ATTRIBUTE}"
        f" FROM {users} WHERE {user_id} = %s"
    )


class VerifiedEmailUserMixin:
    def get_user(self, user_id):
        user_model = get_user_model()
        try:
            user_id = user_model._meta.pk.to_python(user_id)
        except ValidationError:  # a session key that is no user's id
            return None
        found = list(user_model._default_manager.raw(user_read(), [user_id]))
        if not found:
            return None
        user = found[0]
        setattr(user, CACHE_ATTRIBUTE, bool(getattr(user, CACHE_ATTRIBUTE)))
        return user if self.user_can_authenticate(user) else None


class ModelBackend(VerifiedEmailUserMixin, backends.ModelBackend):
    """Kept for the sessions and permissions of users signed in under its name; it checks no
    password (AuthenticationBackend does, once), else each failed guess would hash twice."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        return None


class AuthenticationBackend(VerifiedEmailUserMixin, auth_backends.AuthenticationBackend):
    """Username or email and password, for the site's forms and the admin alike."""

    def authenticate(self, request, **credentials):
        password = credentials.get("password")
        if not password:
            return None
        login = credentials.get("email") or credentials.get("username")
        user = find_account(login) if isinstance(login, str) else None
        if user is None:
            self._mitigate_timing_attack(password)  # the one hash an unknown account costs
            return None
        if not user.check_password(password):
            return None
        if not self.user_can_authenticate(user):
            # allauth answers an inactive account with its own page.
            self._stash_user(user)
            return None
        return user
