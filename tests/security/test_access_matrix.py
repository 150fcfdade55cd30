"""Who gets what from every URL pattern of the project, checked against an explicit table.

A new URL pattern fails test_every_url_pattern_is_in_the_matrix until it is added to MATRIX
(or, for admin and allauth internals, to EXCLUDED with a reason): access is decided on
purpose, never by default.

Notation: an integer is the status code; "→/path/" is a 302 redirect to that path (the query
is ignored) and "⇒/path/" a 301. A row lists the answers for
(anonymous, unverified, verified, moderator, superuser).
"""

import re
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.db import transaction

from tests.security.access import ROLES, client_for, make_objects, make_people, snapshot, walk

pytestmark = pytest.mark.django_db

LOGIN = "→/accounts/login/"
ADMIN_LOGIN = "→/admin/login/"
HOME = "→/"


def everyone(answer) -> tuple:
    return (answer,) * len(ROLES)


def admin(moderator, superuser) -> tuple:
    """The admin sends everyone who is not staff to its login page (which sends on to
    allauth's rate-limited one)."""
    return (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, moderator, superuser)


def signed_in(answer) -> tuple:
    return (LOGIN, answer, answer, answer, answer)


PUBLIC = everyone(200)
NOT_FOUND = everyone(404)
# Suggesting, voting and flagging need a verified address: the others get a 403 that explains.
VERIFIED = (LOGIN, 403, 200, 200, 200)

# route (as get_resolver() spells it) -> [(address with {placeholders}, answers), ...]
MATRIX: dict[str, list[tuple[str, tuple]]] = {
    # The roadmap and the community's pages
    "": [("/", PUBLIC)],
    "sections/<slug:slug>/": [("/sections/{section}/", PUBLIC), ("/sections/nope/", NOT_FOUND)],
    "resources/": [("/resources/", PUBLIC)],
    "resources/suggest/": [("/resources/suggest/", VERIFIED)],
    "resources/mine/": [("/resources/mine/", signed_in(200))],
    "resources/<int:pk>/": [
        ("/resources/{approved}/", PUBLIC),
        # A pending suggestion: its submitter ("verified") and staff only.
        ("/resources/{pending}/", (404, 404, 200, 200, 200)),
        ("/resources/{missing}/", NOT_FOUND),
    ],
    "resources/<int:pk>/edit/": [
        # Its submitter ("verified") corrects a pending suggestion; anyone verified proposes
        # an edit of a published resource, and nobody else's pending one.
        ("/resources/{pending}/edit/", (LOGIN, 403, 200, 404, 404)),
        ("/resources/{approved}/edit/", VERIFIED),
    ],
    "resources/<int:pk>/history/": [
        ("/resources/{approved}/history/", PUBLIC),
        ("/resources/{pending}/history/", (404, 404, 200, 200, 200)),
    ],
    # GET asks the submitter to confirm; only the POST from that page withdraws.
    "resources/<int:pk>/withdraw/": [
        ("/resources/{pending}/withdraw/", (LOGIN, 404, 200, 404, 404)),
        ("/resources/{approved}/withdraw/", signed_in(404)),
    ],
    "resources/<int:pk>/vote/": [("/resources/{approved}/vote/", (LOGIN, 403, 405, 405, 405))],
    "resources/<int:pk>/flag/": [
        ("/resources/{approved}/flag/", VERIFIED),
        ("/resources/{pending}/flag/", (LOGIN, 403, 404, 404, 404)),
    ],
    "u/<str:username>/": [("/u/{member}/", PUBLIC), ("/u/nobody-here/", NOT_FOUND)],
    "tags/": [("/tags/", PUBLIC)],
    "tags/<slug:tag_slug>/": [("/tags/{tag}/", PUBLIC), ("/tags/no-such-tag/", NOT_FOUND)],
    "moderation/log/": [("/moderation/log/", PUBLIC)],
    "me/learning/": [("/me/learning/", signed_in(200))],
    "me/learning/export.json": [("/me/learning/export.json", signed_in(200))],
    "me/progress/<int:pk>/": [("/me/progress/{approved}/", signed_in(405))],
    # The public, read-only API
    "api/": [("/api/", PUBLIC)],
    "api/sections/": [("/api/sections/", PUBLIC)],
    "api/sections/<slug:slug>/": [
        ("/api/sections/{section}/", PUBLIC),
        ("/api/sections/nope/", NOT_FOUND),
    ],
    "api/resources/": [("/api/resources/", PUBLIC)],
    "api/resources/<int:pk>/": [
        ("/api/resources/{approved}/", PUBLIC),
        ("/api/resources/{pending}/", NOT_FOUND),
    ],
    # Feeds, sitemap, robots.txt, the roadmap as Markdown, the health check
    "feeds/resources/rss/": [("/feeds/resources/rss/", PUBLIC)],
    "feeds/resources/atom/": [("/feeds/resources/atom/", PUBLIC)],
    "feeds/sections/<slug:slug>/rss/": [
        ("/feeds/sections/{section}/rss/", PUBLIC),
        ("/feeds/sections/nope/rss/", NOT_FOUND),
    ],
    "feeds/sections/<slug:slug>/atom/": [("/feeds/sections/{section}/atom/", PUBLIC)],
    "feeds/tags/<slug:slug>/rss/": [
        ("/feeds/tags/{tag}/rss/", PUBLIC),
        ("/feeds/tags/nope/rss/", NOT_FOUND),
    ],
    "feeds/tags/<slug:slug>/atom/": [("/feeds/tags/{tag}/atom/", PUBLIC)],
    "sitemap.xml": [("/sitemap.xml", PUBLIC)],
    "sitemap-<str:section>.xml": [
        ("/sitemap-resources.xml", PUBLIC),
        ("/sitemap-nope.xml", NOT_FOUND),
    ],
    "robots.txt": [("/robots.txt", PUBLIC)],
    "roadmap.md": [("/roadmap.md", PUBLIC)],
    "healthz": [("/healthz", PUBLIC)],
    "favicon.ico": [("/favicon.ico", everyone("⇒/static/img/favicon.svg"))],
    # Accounts (allauth)
    "accounts/login/": [("/accounts/login/", (200, HOME, HOME, HOME, HOME))],
    "accounts/logout/": [("/accounts/logout/", (HOME, 200, 200, 200, 200))],
    "accounts/inactive/": [("/accounts/inactive/", PUBLIC)],
    "accounts/signup/": [("/accounts/signup/", (200, HOME, HOME, HOME, HOME))],
    "accounts/reauthenticate/": [("/accounts/reauthenticate/", signed_in(200))],
    "accounts/reauthenticate/code/": [
        (
            "/accounts/reauthenticate/code/",
            (LOGIN, "→/accounts/reauthenticate/", 200, 200, 200),
        )
    ],
    "accounts/reauthenticate/code/confirm/": [
        (
            "/accounts/reauthenticate/code/confirm/",
            signed_in("→/accounts/reauthenticate/code/"),
        )
    ],
    "accounts/email/": [("/accounts/email/", signed_in(200))],
    "accounts/confirm-email/": [("/accounts/confirm-email/", PUBLIC)],
    r"accounts/^confirm-email/(?P<key>[-:\w]+)/$": [
        ("/accounts/confirm-email/{confirm_key}/", PUBLIC),  # a confirmation page, no change
        ("/accounts/confirm-email/bad-key/", PUBLIC),
    ],
    "accounts/password/change/": [("/accounts/password/change/", signed_in(200))],
    "accounts/password/set/": [
        ("/accounts/password/set/", signed_in("→/accounts/password/change/"))
    ],
    "accounts/password/reset/": [("/accounts/password/reset/", PUBLIC)],
    "accounts/password/reset/done/": [("/accounts/password/reset/done/", PUBLIC)],
    r"accounts/^password/reset/key/(?P<uidb36>[0-9A-Za-z]+)-(?P<key>.+)/$": [
        ("/accounts/password/reset/key/{uidb36}-bad-token/", PUBLIC)
    ],
    "accounts/password/reset/key/done/": [("/accounts/password/reset/key/done/", PUBLIC)],
    "accounts/login/code/confirm/": [("/accounts/login/code/confirm/", (LOGIN, *[HOME] * 4))],
    "accounts/3rdparty/": [("/accounts/3rdparty/", signed_in(200))],
    "accounts/3rdparty/signup/": [("/accounts/3rdparty/signup/", everyone(LOGIN))],
    "accounts/3rdparty/login/cancelled/": [("/accounts/3rdparty/login/cancelled/", PUBLIC)],
    "accounts/3rdparty/login/error/": [("/accounts/3rdparty/login/error/", everyone(401))],
    # allauth's old addresses, kept as permanent redirects.
    "accounts/social/login/cancelled/": [
        ("/accounts/social/login/cancelled/", everyone("⇒/accounts/3rdparty/login/cancelled/"))
    ],
    "accounts/social/login/error/": [
        ("/accounts/social/login/error/", everyone("⇒/accounts/3rdparty/login/error/"))
    ],
    "accounts/social/signup/": [
        ("/accounts/social/signup/", everyone("⇒/accounts/3rdparty/signup/"))
    ],
    "accounts/social/connections/": [
        ("/accounts/social/connections/", everyone("⇒/accounts/3rdparty/"))
    ],
    # GitHub is not configured in the tests: there is no such sign-in (see GITHUB_ROUTES).
    "accounts/github/login/": [("/accounts/github/login/", NOT_FOUND)],
    "accounts/github/login/callback/": [("/accounts/github/login/callback/", NOT_FOUND)],
    # The admin: entry points, and changelist, add and change of every registered model
    "admin/": [("/admin/", admin(200, 200))],
    "admin/login/": [("/admin/login/", (LOGIN, 403, 403, "→/admin/", "→/admin/"))],
    "admin/logout/": [("/admin/logout/", ("→/admin/", "→/admin/", "→/admin/", 405, 405))],
    "admin/resources/resource/": [("/admin/resources/resource/", admin(200, 200))],
    "admin/resources/resource/add/": [("/admin/resources/resource/add/", admin(403, 200))],
    "admin/resources/resource/<path:object_id>/change/": [
        ("/admin/resources/resource/{pending}/change/", admin(200, 200))
    ],
    "admin/resources/resource/<path:object_id>/reject/": [
        ("/admin/resources/resource/{pending}/reject/", admin(200, 200))
    ],
    "admin/resources/resource/<path:object_id>/archive/": [
        ("/admin/resources/resource/{approved}/archive/", admin(200, 200))
    ],
    "admin/resources/resource/<path:object_id>/merge/": [
        ("/admin/resources/resource/{pending}/merge/", admin(200, 200))
    ],
    "admin/resources/flag/": [("/admin/resources/flag/", admin(200, 200))],
    "admin/resources/flag/add/": [("/admin/resources/flag/add/", admin(403, 403))],
    "admin/resources/flag/<path:object_id>/change/": [
        ("/admin/resources/flag/{flag}/change/", admin(200, 200))
    ],
    "admin/resources/editproposal/": [("/admin/resources/editproposal/", admin(200, 200))],
    "admin/resources/editproposal/add/": [("/admin/resources/editproposal/add/", admin(403, 403))],
    "admin/resources/editproposal/<path:object_id>/change/": [
        ("/admin/resources/editproposal/{proposal}/change/", admin(200, 200))
    ],
    "admin/resources/moderationevent/": [("/admin/resources/moderationevent/", admin(200, 200))],
    "admin/resources/moderationevent/add/": [
        ("/admin/resources/moderationevent/add/", admin(403, 403))
    ],
    "admin/resources/moderationevent/<path:object_id>/change/": [
        ("/admin/resources/moderationevent/{event}/change/", admin(200, 200))  # read-only
    ],
    "admin/resources/importbatch/": [("/admin/resources/importbatch/", admin(200, 200))],
    "admin/resources/importbatch/add/": [("/admin/resources/importbatch/add/", admin(403, 403))],
    "admin/resources/importbatch/<path:object_id>/change/": [
        ("/admin/resources/importbatch/{batch}/change/", admin(200, 200))  # read-only fields
    ],
    # Keeping a "same as #N" line as an alternate link: POST only.
    "admin/resources/importbatch/<path:object_id>/keep-link/": [
        ("/admin/resources/importbatch/{batch}/keep-link/", admin(405, 405))
    ],
    "admin/roadmap/section/": [("/admin/roadmap/section/", admin(200, 200))],
    "admin/roadmap/section/add/": [("/admin/roadmap/section/add/", admin(200, 200))],
    "admin/roadmap/section/<path:object_id>/change/": [
        ("/admin/roadmap/section/{section_pk}/change/", admin(200, 200))
    ],
    "admin/roadmap/roadmap/": [("/admin/roadmap/roadmap/", admin(403, 200))],
    "admin/roadmap/roadmap/add/": [("/admin/roadmap/roadmap/add/", admin(403, 403))],
    "admin/roadmap/roadmap/<path:object_id>/change/": [
        ("/admin/roadmap/roadmap/{roadmap}/change/", admin(403, 200))
    ],
    "admin/accounts/user/": [("/admin/accounts/user/", admin(403, 200))],
    "admin/accounts/user/add/": [("/admin/accounts/user/add/", admin(403, 200))],
    "admin/accounts/user/<path:object_id>/change/": [
        ("/admin/accounts/user/{user}/change/", admin(403, 200))
    ],
    "admin/auth/group/": [("/admin/auth/group/", admin(403, 200))],
    "admin/taggit/tag/": [("/admin/taggit/tag/", admin(200, 200))],
    "admin/account/emailaddress/": [("/admin/account/emailaddress/", admin(403, 200))],
    "admin/socialaccount/socialapp/": [("/admin/socialaccount/socialapp/", admin(403, 200))],
    "admin/socialaccount/socialtoken/": [("/admin/socialaccount/socialtoken/", admin(403, 200))],
    "admin/socialaccount/socialaccount/": [
        ("/admin/socialaccount/socialaccount/", admin(403, 200))
    ],
}

# Patterns left out of the matrix, each with the reason.
EXCLUDED: dict[str, str] = {
    r"^admin/(password_change/|password_change/done/|autocomplete/|jsi18n/|r/)": (
        "Django admin internals behind the admin's own staff check"
    ),
    r"^admin/.+/<path:object_id>/(history|delete)/$": (
        "admin pages beyond changelist, add and change: tests/resources/test_admin_permissions.py"
    ),
    r"^admin/.+/<path:object_id>/$": "the admin's redirect to the change page",
    r"^admin/accounts/user/<id>/password/$": "the admin's password form (superusers only)",
    r"^admin/\^\(\?P<app_label>": "the admin's per-app index",
    r"^admin/\(\?P<url>": "the admin's catch-all 404",
    r"^admin/taggit/tag/merge-tags/$": "django-taggit's own admin view",
    r"^admin/(auth|taggit|account|socialaccount)/\w+/(add/|<path:object_id>/change/)$": (
        "third-party models: the matrix holds their changelists only"
    ),
}

# Sign-in with GitHub when GitHub is not configured: not found, for everyone.
GITHUB_ROUTES = {"accounts/github/login/", "accounts/github/login/callback/"}

# Views that change something on POST. Each must refuse GET (405) or answer it with a form or a
# confirmation page that changes nothing.
STATE_CHANGING: set[str] = {
    "resources/suggest/",
    "resources/<int:pk>/edit/",
    "resources/<int:pk>/withdraw/",
    "resources/<int:pk>/vote/",
    "resources/<int:pk>/flag/",
    "me/progress/<int:pk>/",
    "accounts/login/",
    "accounts/logout/",
    "accounts/signup/",
    "accounts/email/",
    r"accounts/^confirm-email/(?P<key>[-:\w]+)/$",
    "accounts/password/change/",
    "accounts/password/set/",
    "accounts/password/reset/",
    r"accounts/^password/reset/key/(?P<uidb36>[0-9A-Za-z]+)-(?P<key>.+)/$",
    "accounts/reauthenticate/",
    "accounts/reauthenticate/code/",
    "accounts/reauthenticate/code/confirm/",
    "accounts/login/code/confirm/",
    "accounts/3rdparty/",
    "accounts/3rdparty/signup/",
    "admin/login/",
    "admin/logout/",
    "admin/resources/resource/",
    "admin/resources/resource/add/",
    "admin/resources/resource/<path:object_id>/change/",
    "admin/resources/resource/<path:object_id>/reject/",
    "admin/resources/resource/<path:object_id>/archive/",
    "admin/resources/resource/<path:object_id>/merge/",
    "admin/resources/flag/",
    "admin/resources/flag/add/",
    "admin/resources/flag/<path:object_id>/change/",
    "admin/resources/editproposal/",
    "admin/resources/editproposal/add/",
    "admin/resources/editproposal/<path:object_id>/change/",
    "admin/resources/moderationevent/",
    "admin/resources/moderationevent/add/",
    "admin/resources/moderationevent/<path:object_id>/change/",
    "admin/resources/importbatch/",
    "admin/resources/importbatch/add/",
    "admin/resources/importbatch/<path:object_id>/change/",
    "admin/resources/importbatch/<path:object_id>/keep-link/",
    "admin/roadmap/section/",
    "admin/roadmap/section/add/",
    "admin/roadmap/section/<path:object_id>/change/",
    "admin/roadmap/roadmap/",
    "admin/roadmap/roadmap/add/",
    "admin/roadmap/roadmap/<path:object_id>/change/",
    "admin/accounts/user/",
    "admin/accounts/user/add/",
    "admin/accounts/user/<path:object_id>/change/",
    "admin/auth/group/",
    "admin/taggit/tag/",
    "admin/account/emailaddress/",
    "admin/socialaccount/socialapp/",
    "admin/socialaccount/socialtoken/",
    "admin/socialaccount/socialaccount/",
}
# Read-only views that do not restrict the method: a POST gets the same page as a GET (after
# the CSRF check). Only other projects' views (the admin's index, allauth's social pages); the
# site's own read-only views take GET and HEAD alone and answer anything else with 405.
READ_ONLY_ANSWERING_POST: set[str] = {
    "admin/",
    "accounts/social/login/cancelled/",
    "accounts/social/login/error/",
    "accounts/social/signup/",
    "accounts/social/connections/",
}
ANSWERS_POST = STATE_CHANGING | READ_ONLY_ANSWERING_POST

# Read-only views exempt from CSRF: a POST must still change nothing and get a 405.
CSRF_EXEMPT_READ_ONLY = {
    "api/sections/",
    "api/sections/<slug:slug>/",
    "api/resources/",
    "api/resources/<int:pk>/",
}


def classified_routes() -> set[str]:
    return {
        route.route
        for route in walk()
        if not any(re.search(pattern, route.route) for pattern in EXCLUDED)
    }


def answer(response) -> object:
    if response.status_code in (301, 302):
        arrow = "⇒" if response.status_code == 301 else "→"
        return arrow + urlsplit(response["Location"]).path
    return response.status_code


@pytest.fixture
def people():
    return make_people()


@pytest.fixture
def objects(people):
    return make_objects(people)


@contextmanager
def rolled_back():
    """Whatever the request changes is undone afterwards."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def first_address(route: str, objects: dict) -> str:
    return MATRIX[route][0][0].format(**objects)


# The table is complete


def test_every_url_pattern_is_in_the_matrix():
    unclassified = sorted(classified_routes() - set(MATRIX))
    assert unclassified == [], (
        "Add these URL patterns to MATRIX in tests/security/test_access_matrix.py, deciding who "
        f"may reach them: {unclassified}"
    )


def test_the_matrix_has_no_stale_rows():
    assert sorted(set(MATRIX) - classified_routes()) == []


def test_every_exclusion_still_matches_a_pattern():
    routes = [route.route for route in walk()]
    unused = [pattern for pattern in EXCLUDED if not any(re.search(pattern, r) for r in routes)]
    assert unused == []


# Each role gets what the table says


@pytest.mark.parametrize("role", ROLES)
def test_each_url_answers_each_role_as_the_matrix_says(role, people, objects):
    wrong = []
    for route in sorted(classified_routes()):
        for address, answers in MATRIX.get(route, []):
            url = address.format(**objects)
            client = client_for(people[role], raise_request_exception=False)
            got = answer(client.get(url))
            expected = answers[ROLES.index(role)]
            if got != expected:
                wrong.append(f"{url}: expected {expected}, got {got}")
    assert wrong == []


@pytest.mark.parametrize("route", sorted(GITHUB_ROUTES))
def test_github_sign_in_without_configuration_is_not_found_rather_than_an_error(
    route, people, objects
):
    for role in ROLES:
        client = client_for(people[role], raise_request_exception=False)
        assert client.get(first_address(route, objects)).status_code == 404


# State-changing endpoints


def accepts_post(route: str, people: dict, objects: dict) -> bool:
    """True unless the view answers POST with 405 (the superuser passes every other check)."""
    with rolled_back():
        client = client_for(people["superuser"], raise_request_exception=False)
        return client.post(first_address(route, objects), {}).status_code != 405


def test_post_routes_are_declared(people, objects):
    # The GitHub routes answer 404 to every method while GitHub is not configured.
    routes = classified_routes() - GITHUB_ROUTES
    found = {route for route in routes if accepts_post(route, people, objects)}
    assert sorted(found - ANSWERS_POST) == []
    assert sorted(ANSWERS_POST - found) == []


@pytest.mark.parametrize("role", ["verified", "moderator"])
def test_a_get_to_a_route_that_takes_posts_changes_nothing(role, people, objects):
    client = client_for(people[role], raise_request_exception=False)
    changed = []
    for route in sorted(STATE_CHANGING):
        for address, _ in MATRIX[route]:
            url = address.format(**objects)
            before, sent = snapshot(), len(mail.outbox)
            response = client.get(url)
            if response.status_code != 405 and (snapshot() != before or len(mail.outbox) != sent):
                changed.append(url)
    assert changed == []


@pytest.mark.parametrize("role", ["verified", "moderator"])
def test_a_post_without_a_csrf_token_is_refused_everywhere(role, people, objects):
    client = client_for(people[role], enforce_csrf_checks=True, raise_request_exception=False)
    wrong = []
    before = snapshot()
    for route in sorted(classified_routes()):
        for address, _ in MATRIX[route]:
            url = address.format(**objects)
            response = client.post(url, {"value": "up", "state": "done", "reason": "spam"})
            expected = 405 if route in CSRF_EXEMPT_READ_ONLY else 403
            if response.status_code != expected:
                wrong.append(f"{url}: expected {expected}, got {response.status_code}")
            elif expected == 403 and b"CSRF" not in response.content:
                wrong.append(f"{url}: a 403, but not the CSRF failure")
    assert wrong == []
    assert snapshot() == before
