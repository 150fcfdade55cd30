"""Who reaches which admin page and action: anonymous, a reader, a moderator, a superuser."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from resources.models import Flag, FlagStatus, ModerationEvent, Resource, Status
from resources.moderation import MODERATORS_GROUP, approve_resource
from tests.factories import ResourceFactory, UserFactory, VerifiedUserFactory
from tests.resources.moderation_factories import (
    FlagFactory,
    SuggestionFactory,
    make_moderator,
    make_superuser,
    moderators_group,
)

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "user", "moderator", "superuser"]
PASSWORD = "correct horse battery staple"  # tests/factories.py UserFactory


@pytest.fixture
def login(client):
    def _login(role: str):
        if role == "user":
            client.force_login(VerifiedUserFactory(username="reader"))
        elif role == "moderator":
            client.force_login(make_moderator("moderator"))
        elif role == "superuser":
            client.force_login(make_superuser("superuser"))
        return client

    return _login


@pytest.fixture
def objects():
    """One of everything an admin page can be about."""
    pending = SuggestionFactory(title="Pending one")
    approved = ResourceFactory(title="Approved one")
    flag = FlagFactory(resource=approved)
    event = approve_resource(resource=SuggestionFactory(), moderator=make_superuser("author"))
    return {
        "pending": pending,
        "approved": approved,
        "flag": flag,
        "event": ModerationEvent.objects.get(resource=event),
        "user": UserFactory(username="someone"),
        "group": moderators_group(),
    }


# (name, URL pattern, argument from `objects`, moderator's status, superuser's status)
PAGES = [
    ("index", "admin:index", None, 200, 200),
    ("resources", "admin:resources_resource_changelist", None, 200, 200),
    ("resource", "admin:resources_resource_change", "pending", 200, 200),
    ("resource add", "admin:resources_resource_add", None, 403, 200),
    ("resource delete", "admin:resources_resource_delete", "pending", 403, 200),
    ("resource history", "admin:resources_resource_history", "pending", 200, 200),
    ("reject page", "admin:resources_resource_reject", "pending", 200, 200),
    ("archive page", "admin:resources_resource_archive", "approved", 200, 200),
    ("merge page", "admin:resources_resource_merge", "pending", 200, 200),
    ("flags", "admin:resources_flag_changelist", None, 200, 200),
    ("flag", "admin:resources_flag_change", "flag", 200, 200),
    ("flag add", "admin:resources_flag_add", None, 403, 403),
    ("events", "admin:resources_moderationevent_changelist", None, 200, 200),
    ("event", "admin:resources_moderationevent_change", "event", 200, 200),
    ("event add", "admin:resources_moderationevent_add", None, 403, 403),
    ("event delete", "admin:resources_moderationevent_delete", "event", 403, 403),
    ("tags", "admin:taggit_tag_changelist", None, 200, 200),
    ("users", "admin:accounts_user_changelist", None, 403, 200),
    ("user", "admin:accounts_user_change", "user", 403, 200),
    ("user add", "admin:accounts_user_add", None, 403, 200),
    ("groups", "admin:auth_group_changelist", None, 403, 200),
    ("group", "admin:auth_group_change", "group", 403, 200),
    ("group add", "admin:auth_group_add", None, 403, 200),
    ("auth app", "admin:app_list", "auth", 404, 200),
]


def page_url(pattern: str, argument, objects) -> str:
    if argument is None:
        return reverse(pattern)
    if pattern == "admin:app_list":
        return reverse(pattern, kwargs={"app_label": argument})
    return reverse(pattern, args=[objects[argument].pk])


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("name", "pattern", "argument", "moderator_status", "superuser_status"),
    PAGES,
    ids=[page[0] for page in PAGES],
)
def test_admin_page_access(
    login, objects, role, name, pattern, argument, moderator_status, superuser_status
):
    client = login(role)
    url = page_url(pattern, argument, objects)

    response = client.get(url)

    if role == "anonymous":
        # Sent to the admin login, which sends them on to allauth's rate-limited login.
        assert response.status_code == 302
        assert urlsplit(response.url).path == reverse("admin:login")
        onward = client.get(response.url)
        assert onward.status_code == 302
        assert urlsplit(onward.url).path == reverse("account_login")
    elif role == "user":
        assert client.get(url, follow=True).status_code == 403
    elif role == "moderator":
        assert response.status_code == moderator_status
    else:
        assert response.status_code == superuser_status


# Actions


def changelist(model: str) -> str:
    return reverse(f"admin:resources_{model}_changelist")


def run_action(client, model: str, action: str, objs, **data):
    """Post an admin action the way the change list (or its confirmation page) does."""
    payload = {"action": action, ACTION_CHECKBOX_NAME: [obj.pk for obj in objs], **data}
    if "apply" not in data:
        payload["index"] = 0
    return client.post(changelist(model), payload)


ACTIONS = {
    "approve": (
        "resource",
        "approve_selected",
        {},
        lambda o: Resource.objects.get(pk=o["pending"].pk).status == Status.APPROVED,
    ),
    "reject": (
        "resource",
        "reject_selected",
        {"apply": "Reject", "preset": "Not about MLOps"},
        lambda o: Resource.objects.get(pk=o["pending"].pk).status == Status.REJECTED,
    ),
    "archive": (
        "resource",
        "archive_selected",
        {"apply": "Archive", "reason": ""},
        lambda o: Resource.objects.get(pk=o["approved"].pk).status == Status.ARCHIVED,
    ),
    "merge": (
        "resource",
        "merge_selected",
        {"apply": "Merge"},
        lambda o: Resource.objects.get(pk=o["pending"].pk).merged_into_id == o["approved"].pk,
    ),
    "dismiss flag": (
        "flag",
        "dismiss_selected",
        {},
        lambda o: Flag.objects.get(pk=o["flag"].pk).status == FlagStatus.DISMISSED,
    ),
    "accept flag and archive": (
        "flag",
        "accept_and_archive",
        {},
        lambda o: Resource.objects.get(pk=o["approved"].pk).status == Status.ARCHIVED,
    ),
    "accept flag and mark broken": (
        "flag",
        "accept_and_mark_broken",
        {},
        lambda o: Resource.objects.get(pk=o["approved"].pk).link_broken,
    ),
}


def selection(name: str, objects) -> list:
    if name in ("approve", "reject"):
        return [objects["pending"]]
    if name == "archive":
        return [objects["approved"]]
    if name == "merge":
        return [objects["pending"], objects["approved"]]
    return [objects["flag"]]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", ACTIONS)
def test_admin_action_access(login, objects, role, name):
    model, action, data, happened = ACTIONS[name]
    if name == "merge":
        data = {**data, "target": objects["approved"].pk}
    client = login(role)
    events_before = ModerationEvent.objects.count()

    response = run_action(client, model, action, selection(name, objects), **data)

    if role in ("moderator", "superuser"):
        assert response.status_code == 302
        assert happened(objects)
        assert ModerationEvent.objects.count() > events_before
    else:
        assert response.status_code == 302
        assert urlsplit(response.url).path == reverse("admin:login")
        assert not happened(objects)
        assert ModerationEvent.objects.count() == events_before


@pytest.mark.parametrize("role", ["anonymous", "user"])
@pytest.mark.parametrize("page", ["reject", "archive", "merge"])
def test_decision_pages_refuse_outsiders_on_post(login, objects, role, page):
    client = login(role)
    resource = objects["approved"] if page == "archive" else objects["pending"]
    url = reverse(f"admin:resources_resource_{page}", args=[resource.pk])
    client.post(url, {"apply": "1", "preset": "Broken link", "target": objects["approved"].pk})
    assert ModerationEvent.objects.count() == 1  # only the fixture's approval


def test_approving_from_the_change_page_needs_change_permission(client, objects):
    viewer = VerifiedUserFactory(username="viewer", is_staff=True)
    viewer.user_permissions.add(*moderators_group().permissions.filter(codename="view_resource"))
    client.force_login(viewer)
    url = reverse("admin:resources_resource_change", args=[objects["pending"].pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"_approve": "1", "title": "x"})
    assert response.status_code == 403
    assert Resource.objects.get(pk=objects["pending"].pk).status == Status.PENDING
    assert "_approve" not in client.get(url).content.decode()


# A moderator cannot give themselves more


def test_a_moderator_cannot_make_themselves_superuser(login):
    client = login("moderator")
    moderator = client.session["_auth_user_id"]
    url = reverse("admin:accounts_user_change", args=[moderator])

    response = client.post(
        url, {"username": "moderator", "is_superuser": "on", "is_staff": "on", "is_active": "on"}
    )

    assert response.status_code == 403
    user = UserFactory._meta.model.objects.get(pk=moderator)
    assert not user.is_superuser
    assert not user.user_permissions.exists()


def test_a_moderator_cannot_add_permissions_to_their_group(login):
    client = login("moderator")
    group = moderators_group()
    before = set(group.permissions.values_list("pk", flat=True))

    response = client.post(
        reverse("admin:auth_group_change", args=[group.pk]),
        {"name": MODERATORS_GROUP, "permissions": list(range(1, 200))},
    )

    assert response.status_code == 403
    assert set(group.permissions.values_list("pk", flat=True)) == before


def test_a_moderator_sees_no_user_or_group_admin_on_the_index(login):
    html = login("moderator").get(reverse("admin:index")).content.decode()
    assert reverse("admin:accounts_user_changelist") not in html
    assert reverse("admin:auth_group_changelist") not in html
    assert reverse("admin:resources_resource_changelist") in html


# The log is append-only for everyone


def test_not_even_a_superuser_can_change_or_delete_an_event(login, objects):
    client = login("superuser")
    event = objects["event"]

    change = client.post(
        reverse("admin:resources_moderationevent_change", args=[event.pk]),
        {"action": "rejected", "reason": "rewritten", "resource_title": "x"},
    )
    delete = client.post(
        reverse("admin:resources_moderationevent_delete", args=[event.pk]), {"post": "yes"}
    )
    bulk = run_action(client, "moderationevent", "delete_selected", [event], post="yes")

    assert change.status_code == 403
    assert delete.status_code == 403
    assert "delete_selected" not in bulk.content.decode()
    event.refresh_from_db()
    assert (event.action, event.reason) == ("approved", "")


def test_the_event_change_page_is_read_only(login, objects):
    html = (
        login("superuser")
        .get(reverse("admin:resources_moderationevent_change", args=[objects["event"].pk]))
        .content.decode()
    )
    assert 'name="_save"' not in html
    assert 'name="reason"' not in html


# The admin login goes through allauth


def test_the_admin_login_sends_visitors_to_the_sites_login_page(client):
    response = client.get(reverse("admin:index"), follow=False)
    response = client.get(response.url)
    login = urlsplit(response.url)
    assert login.path == reverse("account_login")
    assert parse_qs(login.query)["next"] == [reverse("admin:index")]


def test_posting_credentials_to_the_admin_login_does_not_sign_in(client):
    make_superuser("root")
    response = client.post(
        reverse("admin:login"), {"username": "root", "password": PASSWORD, "next": "/admin/"}
    )
    assert response.status_code == 302
    assert urlsplit(response.url).path == reverse("account_login")
    assert "_auth_user_id" not in client.session


def test_a_signed_in_reader_gets_403_from_the_admin_login(client):
    client.force_login(VerifiedUserFactory(username="curious"))
    assert client.get(reverse("admin:login")).status_code == 403


def test_a_signed_in_moderator_passes_the_admin_login_to_the_index(login):
    response = login("moderator").get(reverse("admin:login"))
    assert response.status_code == 302
    assert response.url == reverse("admin:index")


def test_the_login_that_guards_the_admin_stops_guessing(client):
    make_moderator("target")
    url = reverse("account_login")
    for _ in range(6):
        client.post(url, {"login": "target", "password": "wrong guess"})

    client.post(url, {"login": "target", "password": PASSWORD})

    assert "_auth_user_id" not in client.session
    assert client.get(reverse("admin:index")).status_code == 302


def test_the_sites_login_lets_a_moderator_into_the_admin(client):
    make_moderator("ok")
    response = client.post(
        reverse("account_login") + "?next=/admin/", {"login": "ok", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.url == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_moderator_is_never_linked_to_the_user_admin(login, objects):
    client = login("moderator")
    Flag.objects.filter(pk=objects["flag"].pk).update(
        status=FlagStatus.DISMISSED, resolved_by=objects["user"]
    )
    pages = [
        reverse("admin:resources_resource_change", args=[objects["approved"].pk]),
        reverse("admin:resources_resource_changelist"),
        reverse("admin:resources_flag_change", args=[objects["flag"].pk]),
        reverse("admin:resources_flag_changelist"),
        reverse("admin:resources_moderationevent_change", args=[objects["event"].pk]),
        reverse("admin:resources_moderationevent_changelist"),
    ]
    for url in pages:
        html = client.get(url).content.decode()
        assert "/admin/accounts/user/" not in html, url
