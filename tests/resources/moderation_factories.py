"""Factories and helpers for the moderation tests (tests/factories.py is shared; these are not)."""

import factory
from django.contrib.auth.models import Group

from accounts.models import User
from resources.models import Flag, FlagReason, Status
from resources.moderation import ensure_moderators_group
from tests.factories import ResourceFactory, UserFactory, VerifiedUserFactory


class SuggestionFactory(ResourceFactory):
    """A pending suggestion from a reader."""

    status = Status.PENDING
    approved_at = None
    submitted_by = factory.SubFactory(UserFactory)


class FlagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Flag

    resource = factory.SubFactory(ResourceFactory)
    user = factory.SubFactory(UserFactory)
    reason = FlagReason.BROKEN_LINK


def moderators_group() -> Group:
    """The group the data migration created. Transactional tests (the browser tests) empty
    the database, data migrations included, and pytest may run them first; then the group
    is recreated the way make_moderator does."""
    return ensure_moderators_group()


def make_moderator(username: str = "mod") -> User:
    """A verified staff user in the Moderators group."""
    user = VerifiedUserFactory(username=username, is_staff=True)
    user.groups.add(moderators_group())
    return user


def make_superuser(username: str = "root") -> User:
    return VerifiedUserFactory(username=username, is_staff=True, is_superuser=True)
