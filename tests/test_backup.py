"""manage.py backup and restore: every row of every model comes back exactly as it was."""

import gzip
import json
from datetime import UTC, datetime

import pytest
from allauth.account.models import EmailAddress, EmailConfirmation
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client

from resources import services
from resources.models import (
    EditProposal,
    Flag,
    FlagReason,
    ImportBatch,
    ProgressState,
    Resource,
    ResourceLink,
    Status,
    Vote,
)
from resources.moderation import (
    MODERATOR_PERMISSIONS,
    MODERATORS_GROUP,
    accept_flag,
    accept_proposal,
    approve_resource,
    archive_resource,
    decline_proposal,
    dismiss_flag,
    ensure_moderators_group,
    merge_resources,
    reject_resource,
)
from resources.related import recompute_related
from roadmap.models import Prerequisite, Roadmap
from tests.factories import (
    ResourceFactory,
    SectionFactory,
    UnverifiedUserFactory,
    UserFactory,
    VerifiedUserFactory,
)
from tests.resources.moderation_factories import (
    FlagFactory,
    SuggestionFactory,
    make_moderator,
    make_superuser,
)

pytestmark = pytest.mark.django_db

# What a backup deliberately leaves out (see roadmap/management/commands/backup.py).
LEFT_OUT = {"contenttypes.contenttype", "auth.permission", "sessions.session"}


@pytest.fixture(autouse=True)
def _fresh_content_type_cache():
    """flush gives content types new ids, and the test's rollback takes them back: ids that
    ContentType.objects cached in between must not outlive the test."""
    ContentType.objects.clear_cache()
    yield
    ContentType.objects.clear_cache()


def fill_every_model() -> None:
    """Rows in every table, with the awkward values a real site gathers."""
    moderator = make_moderator("maria")
    root = make_superuser("root")
    ada = VerifiedUserFactory(username="ada", first_name="Ada", last_name="Lovelace")
    zoe = VerifiedUserFactory(username="zoë", first_name="Zoë 🚀")
    address = EmailAddress.objects.get(user=UnverifiedUserFactory(username="newcomer"))
    EmailConfirmation.objects.create(
        email_address=address, key="k" * 64, sent=datetime(2025, 1, 2, 3, 4, 5, 678901, UTC)
    )
    UserFactory(username="gone", is_active=False)
    ada.user_permissions.add(Permission.objects.get(codename="view_resource"))
    ImportBatch.objects.create(
        source="https://example.com/awesome-ü.md",
        revision="3f2a9c1",
        run_by=moderator,
        status="finished",
        link_lines=2,
        created=1,
        reported=1,
        report=[{"line": 7, "outcome": "reported", "reason": "no “link” 🚀"}],
    )

    github = SocialApp.objects.create(
        provider="github", name="GitHub", client_id="id-123", secret="s3cret", key=""
    )
    account = SocialAccount.objects.create(
        user=ada, provider="github", uid="4242", extra_data={"login": "ada", "langs": ["en", "ü"]}
    )
    SocialToken.objects.create(
        app=github, account=account, token="tok", token_secret="", expires_at=None
    )

    Roadmap.objects.create(title="MLOps Roadmap", intro="The *whole* road, ünïcode included.")
    tools = SectionFactory(slug="tools", title="Tools & “quotes”", body="A [link](https://x.org)")
    tracking = SectionFactory(slug="tracking", title="Tracking", parent=tools)
    basics = SectionFactory(slug="basics", title="Basics", kind="step", stage="foundations")
    Prerequisite.objects.create(section=tracking, requires=basics)

    approved = ResourceFactory(
        title="Made With ML — 🚀",
        section=tracking,
        tags=["mlops", "ci-cd"],
        description="**Bold** and <b>raw</b>\nsecond line",
        provider="Goku Mohandas",
        level="intermediate",
        link_checked_at=datetime(2025, 5, 6, 7, 8, 9, 123456, UTC),
        link_status_code=200,
        link_final_url="https://madewithml.com/",
    )
    other = ResourceFactory(section=tools, tags=["mlops"], cost="paid", is_affiliated=True)
    ResourceLink.objects.create(
        resource=approved,
        url="https://github.com/GokuMohandas/Made-With-ML",
        normalized_url="https://github.com/gokumohandas/made-with-ml",
        label="Repository — ü",
        added_by=moderator,
        import_batch=ImportBatch.objects.get(),
    )
    services.cast_vote(user=zoe, resource=approved, value=Vote.UP)
    services.cast_vote(user=root, resource=approved, value=Vote.DOWN)
    services.cast_vote(user=zoe, resource=other, value=Vote.DOWN)
    services.set_progress(user=ada, resource=approved, state=ProgressState.DONE)
    services.set_progress(user=zoe, resource=other, state=ProgressState.SAVED)

    services.submit_resource(
        user=ada,
        data={
            "title": "A pending suggestion",
            "url": "https://example.org/pending",
            "resource_type": "article",
            "section": tools,
            "tags": ["drift", "monitoring"],
        },
    )
    approve_resource(resource=SuggestionFactory(section=tools, submitted_by=ada), moderator=root)
    reject_resource(
        resource=SuggestionFactory(section=tools, submitted_by=zoe),
        moderator=moderator,
        reason="Not about MLOps: “quotes” and émoji 🙃",
    )
    archive_resource(resource=ResourceFactory(section=tools), moderator=moderator, reason="Old")
    duplicate = ResourceFactory(section=tools, title="Made With ML (again)")
    services.cast_vote(user=ada, resource=duplicate, value=Vote.UP)
    merge_resources(source=duplicate, target=approved, moderator=moderator)

    FlagFactory(resource=approved, user=ada, reason=FlagReason.OTHER, note="Paywalled now 💸")
    dismiss_flag(flag=FlagFactory(resource=other, user=zoe), moderator=moderator, reason="Fine")
    accept_flag(flag=FlagFactory(resource=other, user=ada), moderator=root, action="mark_broken")
    Flag.objects.filter(resource=approved).update(user=None)  # the reporter left

    # Suggested edits, one accepted with the flag it came with, one declined, one open.
    services.flag_with_fix(
        user=zoe, resource=other, reason=FlagReason.NOT_FREE, note="", fix={"cost": "freemium"}
    )
    accept_proposal(proposal=EditProposal.objects.get(proposer=zoe), moderator=moderator)
    declined = services.propose_edit(
        user=ada, resource=other, changes={"title": "Tïtle “fixed” 🛠"}, reason="Typo"
    )
    decline_proposal(proposal=declined, moderator=root, reason="It was right.")
    services.propose_edit(
        user=ada, resource=approved, changes={"tags": ["mlops", "ci-cd", "ml"]}, reason="More"
    )
    recompute_related()

    LogEntry.objects.create(
        user=moderator,
        content_type=ContentType.objects.get_for_model(Resource),
        object_id=str(approved.pk),
        object_repr=approved.title,
        action_flag=CHANGE,
        change_message=json.dumps([{"changed": {"fields": ["Title"]}}]),
    )


def natural_keys_of_left_out_rows() -> dict:
    """Content types and permissions get new ids after migrate; rows pointing at them are
    compared by what they point at."""
    return {
        ContentType: {ct.pk: ct.natural_key() for ct in ContentType.objects.all()},
        Permission: {p.pk: p.natural_key() for p in Permission.objects.all()},
    }


def compared_models() -> list:
    return [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.label_lower not in LEFT_OUT
    ]


def snapshot() -> dict[str, list]:
    """Every row of every model, ordered; ids of many-to-many rows are not data."""
    keys = natural_keys_of_left_out_rows()
    rows = {}
    for model in compared_models():
        translate = {
            field.attname: keys[field.related_model]
            for field in model._meta.concrete_fields
            if field.is_relation and field.related_model in keys
        }
        values = []
        for row in model._base_manager.order_by("pk").values():
            for name, known in translate.items():
                row[name] = known.get(row[name], row[name])
            if model._meta.auto_created:
                row.pop("id")
            values.append(row)
        if model._meta.auto_created:
            values.sort(key=lambda row: sorted(row.items()))
        rows[model._meta.label] = values
    return rows


def empty_the_database() -> None:
    """What a new, migrated database holds: flush, then the data migrations' rows again."""
    if connection.vendor == "postgresql":
        # The test's own transaction holds deferred foreign-key checks; TRUNCATE needs
        # them run first.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    call_command("flush", interactive=False, verbosity=0)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    ensure_moderators_group()  # resources/migrations/0003_moderators_group.py


@pytest.fixture
def backup_file(tmp_path):
    fill_every_model()
    path = tmp_path / "site.backup"
    call_command("backup", str(path), verbosity=0)
    return path


def read_backup(path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as stream:
        return json.load(stream)


def write_backup(path, objects) -> None:
    with gzip.open(path, "wt", encoding="utf-8") as stream:
        json.dump(objects, stream)


def test_every_model_has_rows_to_back_up():
    """A new model must get rows in fill_every_model, or the round trip proves nothing for it."""
    fill_every_model()
    empty = [label for label, rows in snapshot().items() if not rows]
    assert empty == [], f"add rows of these models to fill_every_model(): {empty}"


def test_backup_flush_and_restore_gives_back_every_row_of_every_model(backup_file):
    before = snapshot()

    empty_the_database()
    assert Resource.objects.count() == 0
    call_command("restore", str(backup_file), verbosity=0)

    after = snapshot()
    assert list(after) == list(before)
    for label in before:
        assert after[label] == before[label], label


def test_the_restored_moderators_group_keeps_its_permissions_and_members(backup_file):
    def permissions(group):
        return {permission.natural_key() for permission in group.permissions.all()}

    before = permissions(Group.objects.get(name=MODERATORS_GROUP))
    empty_the_database()
    call_command("restore", str(backup_file), verbosity=0)
    group = Group.objects.get(name=MODERATORS_GROUP)
    assert permissions(group) == before
    assert before == {
        (f"{verb}_{model}", app, model)
        for (app, model), verbs in MODERATOR_PERMISSIONS.items()
        for verb in verbs
    }
    assert list(group.user_set.values_list("username", flat=True)) == ["maria"]


def test_the_backup_is_gzipped_json_without_what_migrate_rebuilds(backup_file):
    objects = read_backup(backup_file)
    labels = {item["model"] for item in objects}
    assert not labels & LEFT_OUT
    assert {"admin.logentry", "resources.moderationevent", "auth.group"} <= labels
    checked = next(item for item in objects if item["fields"].get("link_status_code") == 200)
    # Django's JSON cuts times to milliseconds; the backup keeps the microseconds.
    assert checked["fields"]["link_checked_at"] == "2025-05-06T07:08:09.123456+00:00"
    tagged = next(item for item in objects if item["model"] == "taggit.taggeditem")
    assert tagged["fields"]["content_type"] == ["resources", "resource"]


def test_a_backup_leaves_no_partial_file_behind(backup_file):
    assert sorted(path.name for path in backup_file.parent.iterdir()) == [backup_file.name]


def test_a_backup_into_a_missing_folder_is_refused(tmp_path):
    with pytest.raises(CommandError, match="is not a folder"):
        call_command("backup", str(tmp_path / "nowhere" / "site.backup"), verbosity=0)


def test_restore_refuses_a_database_that_holds_content(backup_file):
    before = snapshot()
    with pytest.raises(CommandError, match="already holds .*resources.*--force"):
        call_command("restore", str(backup_file), verbosity=0)
    assert snapshot() == before


def test_restore_with_force_replaces_everything_with_the_backup(backup_file):
    before = snapshot()
    ResourceFactory(title="Made after the backup")
    Vote.objects.all().delete()
    call_command("restore", str(backup_file), force=True, verbosity=0)
    assert snapshot() == before


def test_restore_signs_everyone_out_and_empties_the_cache(backup_file):
    client = Client()
    client.force_login(UserFactory(username="signed-in"))
    cache.set("stale-page", "from before the restore")
    call_command("restore", str(backup_file), force=True, verbosity=0)
    assert Session.objects.count() == 0
    assert cache.get("stale-page") is None
    assert client.get("/resources/mine/").status_code == 302  # back to the sign-in page


def bad_backups(good: list[dict]) -> dict:
    """Files restore must refuse whole: (content as bytes, or a list of objects to gzip)."""
    vote = next(item for item in good if item["model"] == "resources.vote")
    broken_vote = {**vote, "pk": 999_999, "fields": {**vote["fields"], "value": 5}}
    dangling = {**vote, "pk": 999_998, "fields": {**vote["fields"], "resource": 999_999}}
    return {
        "not gzip": b"this is not a backup",
        "gzip of not JSON": gzip.compress(b"{not json"),
        "truncated": "truncated",
        "an empty list": [],
        "an unknown model": [*good, {"model": "nope.nothing", "pk": 1, "fields": {}}],
        "an unknown field": [*good[:-1], {**good[-1], "fields": {**good[-1]["fields"], "x": 1}}],
        "a row breaking a constraint at the end": [*good, broken_vote],
        "a foreign key to nothing": [*good, dangling],
    }


BAD_BACKUPS = [
    "not gzip",
    "gzip of not JSON",
    "truncated",
    "an empty list",
    "an unknown model",
    "an unknown field",
    "a row breaking a constraint at the end",
    "a foreign key to nothing",
]


@pytest.mark.parametrize("kind", BAD_BACKUPS)
def test_a_bad_backup_is_refused_with_a_message_and_loads_nothing(backup_file, tmp_path, kind):
    bad = bad_backups(read_backup(backup_file))[kind]
    path = tmp_path / "bad.backup"
    if bad == "truncated":
        data = backup_file.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif isinstance(bad, bytes):
        path.write_bytes(bad)
    else:
        write_backup(path, bad)
    empty_the_database()
    before = snapshot()

    with pytest.raises(CommandError, match="bad.backup"):
        call_command("restore", str(path), verbosity=0)

    assert snapshot() == before  # the Moderators group that migrate made is still there
    assert Group.objects.filter(name=MODERATORS_GROUP).exists()


def test_restoring_a_file_that_does_not_exist_is_refused(tmp_path):
    with pytest.raises(CommandError, match="is not a file"):
        call_command("restore", str(tmp_path / "missing.backup"), verbosity=0)


def test_restored_timestamps_are_the_originals_to_the_microsecond(backup_file):
    created = dict(Resource.objects.values_list("pk", "created_at"))
    assert any(at.microsecond % 1000 for at in created.values())
    empty_the_database()
    call_command("restore", str(backup_file), verbosity=0)
    assert dict(Resource.objects.values_list("pk", "created_at")) == created
    assert Resource.objects.filter(status=Status.ARCHIVED, merged_into__isnull=False).exists()
