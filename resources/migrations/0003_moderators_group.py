"""Create the "Moderators" group with exactly the permissions moderation needs."""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP_NAME = "Moderators"

# Frozen here on purpose: a later change to the group's permissions gets its own migration.
# tests/resources/test_moderation_group.py checks this list against resources.moderation.
PERMISSIONS = {
    ("resources", "resource"): ("view", "change"),
    ("resources", "flag"): ("view", "change"),
    ("resources", "moderationevent"): ("view",),
    ("roadmap", "section"): ("view", "add", "change"),
    ("taggit", "tag"): ("view", "add", "change", "delete"),
    ("taggit", "taggeditem"): ("view",),
}


def create_moderators_group(apps, schema_editor):
    alias = schema_editor.connection.alias
    # Permissions are normally created after the last migration; this group needs them now.
    for app_label in sorted({app_label for app_label, _ in PERMISSIONS}):
        create_permissions(
            global_apps.get_app_config(app_label), verbosity=0, using=alias, apps=apps
        )
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = [
        Permission.objects.using(alias).get(
            content_type__app_label=app_label,
            content_type__model=model,
            codename=f"{verb}_{model}",
        )
        for (app_label, model), verbs in PERMISSIONS.items()
        for verb in verbs
    ]
    group, _ = Group.objects.using(alias).get_or_create(name=GROUP_NAME)
    group.permissions.set(permissions)


def delete_moderators_group(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.using(schema_editor.connection.alias).filter(name=GROUP_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("resources", "0002_moderation"),
        ("roadmap", "0001_initial"),
        ("taggit", "0006_rename_taggeditem_content_type_object_id_taggit_tagg_content_8fc721_idx"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_moderators_group, delete_moderators_group)]
