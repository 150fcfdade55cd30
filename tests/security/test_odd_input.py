"""Odd input found by attack and fuzzing: a clean refusal, never a 500 (run on PostgreSQL too,
where text cannot hold NUL)."""

import pytest
from django.test import Client

from tests.factories import ResourceFactory, VerifiedUserFactory
from tests.resources.moderation_factories import make_superuser

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client():
    client = Client(raise_request_exception=False)
    client.force_login(make_superuser())
    return client


@pytest.mark.parametrize(
    "path",
    [
        "/admin/resources/resource/?tag=%00",
        "/admin/resources/resource/?status__exact=%00",
        "/admin/resources/resource/?section__id__exact=%00",
        "/admin/resources/resource/?q=a%00b",
        "/admin/resources/flag/?status__exact=%00",
        "/admin/resources/moderationevent/?action__exact=%00",
        "/admin/roadmap/section/?q=%00",
        "/admin/accounts/user/?is_staff__exact=%00",
    ],
)
def test_a_nul_in_an_admin_changelist_filter_is_a_bad_filter_not_a_500(superuser_client, path):
    response = superuser_client.get(path)
    assert response.status_code == 302
    assert response.url.endswith("?e=1")


@pytest.mark.parametrize("charset", ["utf-16", "utf-16-le", "utf-32", "cp037"])
def test_a_form_post_in_a_charset_that_is_not_utf8_is_refused_and_saves_nothing(charset):
    resource = ResourceFactory()
    client = Client(raise_request_exception=False)
    client.force_login(VerifiedUserFactory())
    response = client.generic(
        "POST",
        f"/resources/{resource.pk}/vote/",
        "value=up&next=/".encode(charset if charset != "utf-16" else "utf-16-le"),
        content_type=f"application/x-www-form-urlencoded; charset={charset}",
    )
    assert response.status_code == 400
    resource.refresh_from_db()
    assert resource.upvotes == 0
