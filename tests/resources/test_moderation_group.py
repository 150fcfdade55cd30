import importlib
import io
from types import SimpleNamespace

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db import connection

from resources.moderation import MODERATOR_PERMISSIONS, MODERATORS_GROUP
from tests.factories import UserFactory, VerifiedUserFactory
from tests.resources.moderation_factories import (
    make_moderator,
    moderators_group,
)

pytestmark = pytest.mark.django_db

group_migration = importlib.import_module("resources.migrations.0003_moderators_group")
batches_migration = importlib.import_module("resources.migrations.0009_import_batches")
edits_migration = importlib.import_module("resources.migrations.0010_edit_proposals")


def permission_names(group) -> set[tuple[str, str]]:
    return set(group.permissions.values_list("content_type__app_label", "codename"))


def expected(permissions) -> set[tuple[str, str]]:
    return {
        (app_label, f"{verb}_{model}")
        for (app_label, model), verbs in permissions.items()
        for verb in verbs
    }


def run_group_migration(direction: str = "forwards") -> None:
    editor = SimpleNamespace(connection=connection)
    if direction == "forwards":
        group_migration.create_moderators_group(django_apps, editor)
    else:
        group_migration.delete_moderators_group(django_apps, editor)


def test_the_data_migration_creates_the_group_with_exactly_the_moderation_permissions():
    # Run it again rather than trusting the test database: transactional tests empty it.
    Group.objects.filter(name=MODERATORS_GROUP).delete()
    run_group_migration()
    run_group_migration()  # and it can run twice
    group = Group.objects.get(name=MODERATORS_GROUP)
    assert permission_names(group) == expected(group_migration.PERMISSIONS)


def test_the_data_migration_reverses_by_deleting_the_group():
    run_group_migration()
    run_group_migration("backwards")
    assert not Group.objects.filter(name=MODERATORS_GROUP).exists()


def test_the_migrations_frozen_permissions_match_the_current_list():
    # If this fails, the group's permissions changed: add a migration that updates them.
    frozen = {
        **group_migration.PERMISSIONS,
        **batches_migration.ADDED_PERMISSIONS,
        **edits_migration.ADDED_PERMISSIONS,
    }
    assert frozen == MODERATOR_PERMISSIONS


def test_the_later_migrations_give_the_group_the_batch_and_suggested_edit_permissions():
    editor = SimpleNamespace(connection=connection)
    Group.objects.filter(name=MODERATORS_GROUP).delete()
    run_group_migration()
    batches_migration.grant_moderators(django_apps, editor)
    edits_migration.grant_proposal_permissions(django_apps, editor)
    group = Group.objects.get(name=MODERATORS_GROUP)
    assert permission_names(group) == expected(MODERATOR_PERMISSIONS)


def test_moderators_get_nothing_about_users_groups_or_permissions():
    apps_and_models = {
        (ct_app, codename.split("_", 1)[1])
        for ct_app, codename in permission_names(moderators_group())
    }
    assert not {app for app, _ in apps_and_models} & {"auth", "accounts", "account", "admin"}
    assert not {model for _, model in apps_and_models} & {"user", "group", "permission"}


def test_make_moderator_makes_a_verified_user_staff_and_a_moderator():
    user = VerifiedUserFactory(username="grace")

    call_command("make_moderator", "grace", stdout=io.StringIO())

    user.refresh_from_db()
    assert user.is_staff and not user.is_superuser
    assert user.groups.filter(name=MODERATORS_GROUP).exists()
    assert user.has_perm("resources.change_resource")
    assert not user.has_perm("accounts.change_user")


def test_make_moderator_refuses_an_unknown_user():
    with pytest.raises(CommandError, match="no user named 'nobody'"):
        call_command("make_moderator", "nobody")


def test_make_moderator_refuses_a_user_without_a_verified_address():
    user = UserFactory(username="unverified")
    with pytest.raises(CommandError, match="no verified email address"):
        call_command("make_moderator", "unverified")
    user.refresh_from_db()
    assert not user.is_staff
    assert not user.groups.exists()


def test_make_moderator_refuses_an_inactive_user():
    VerifiedUserFactory(username="gone", is_active=False)
    with pytest.raises(CommandError, match="inactive"):
        call_command("make_moderator", "gone")


def test_make_moderator_remove_undoes_it():
    user = make_moderator("ex")

    call_command("make_moderator", "ex", "--remove", stdout=io.StringIO())

    user.refresh_from_db()
    assert not user.is_staff
    assert not user.groups.filter(name=MODERATORS_GROUP).exists()


def test_removing_a_superuser_from_moderators_keeps_them_staff():
    user = make_moderator("boss")
    user.is_superuser = True
    user.save()
    call_command("make_moderator", "boss", "--remove", stdout=io.StringIO())
    user.refresh_from_db()
    assert user.is_staff


def test_make_moderator_recreates_a_missing_group_with_its_permissions():
    Group.objects.filter(name=MODERATORS_GROUP).delete()
    VerifiedUserFactory(username="hopper")

    call_command("make_moderator", "hopper", stdout=io.StringIO())

    assert permission_names(Group.objects.get(name=MODERATORS_GROUP)) == expected(
        MODERATOR_PERMISSIONS
    )
