from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from resources.models import Status
from resources.selectors import contribution_stats
from tests.factories import ResourceFactory, SectionFactory, UserFactory, VerifiedUserFactory

pytestmark = pytest.mark.django_db


def profile_url(user) -> str:
    return f"/u/{user.username}/"


def main_html(response) -> str:
    """The page's own content, without the site header that every page shares."""
    html = response.content.decode()
    return html[html.index("<main") : html.index("</main>")]


@pytest.fixture
def ada():
    return VerifiedUserFactory(
        username="ada",
        email="ada.private@example.com",
        first_name="Augusta",
        last_name="Lovelace",
    )


def suggest(user, n=1, **kwargs):
    return ResourceFactory.create_batch(n, submitted_by=user, **kwargs)


# Who has a profile


def test_profile_of_an_active_member_is_public(client, ada):
    response = client.get(profile_url(ada))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<h1") == 1
    assert "<h1>ada</h1>" in html


def test_profile_of_an_unknown_username_is_404(client):
    assert client.get("/u/nobody-here/").status_code == 404


def test_profile_of_an_inactive_member_is_404(client):
    user = UserFactory(username="gone", is_active=False)
    assert client.get(profile_url(user)).status_code == 404


# What it shows


def test_profile_shows_the_joined_date(client):
    user = UserFactory(username="early")
    user.date_joined = timezone.make_aware(timezone.datetime(2024, 3, 5, 12, 0))
    user.save()
    html = client.get(profile_url(user)).content.decode()
    assert '<time datetime="2024-03-05">5 March 2024</time>' in html


def test_profile_lists_only_approved_suggestions_of_that_member(client, ada):
    suggest(ada, title="Approved one")
    suggest(ada, title="Still pending", status=Status.PENDING, approved_at=None)
    suggest(ada, title="Turned down", status=Status.REJECTED, approved_at=None)
    suggest(UserFactory(), title="Someone else's")
    html = client.get(profile_url(ada)).content.decode()
    assert "Approved one" in html
    for hidden in ("Still pending", "Turned down", "Someone else&#x27;s"):
        assert hidden not in html


def test_each_suggestion_links_to_its_resource_page_and_section(client, ada):
    section = SectionFactory(slug="tools", title="Tools")
    resource = suggest(ada, section=section)[0]
    html = client.get(profile_url(ada)).content.decode()
    assert f'href="/resources/{resource.pk}/"' in html
    assert 'href="/sections/tools/"' in html


def test_suggestions_are_listed_newest_first(client, ada):
    older, newer = suggest(ada, 2)
    older.created_at = timezone.now() - timedelta(days=3)
    older.save(update_fields=["created_at"])
    html = client.get(profile_url(ada)).content.decode()
    assert html.index(newer.title) < html.index(older.title)


def test_suggestions_are_paginated_by_twenty(client, ada):
    suggest(ada, 21)
    first = client.get(profile_url(ada))
    second = client.get(profile_url(ada) + "?page=2")
    assert len(first.context["page"].object_list) == 20
    assert len(second.context["page"].object_list) == 1
    assert 'href="?page=2"' in first.content.decode()


def test_a_page_number_out_of_range_shows_the_last_page(client, ada):
    suggest(ada, 3)
    response = client.get(profile_url(ada) + "?page=99")
    assert response.status_code == 200
    assert response.context["page"].number == 1


def test_karma_is_net_votes_on_approved_suggestions_only(client, ada):
    suggest(ada, upvotes=10, downvotes=2)
    suggest(ada, upvotes=1, downvotes=4)
    suggest(ada, upvotes=50, downvotes=0, status=Status.PENDING, approved_at=None)
    suggest(UserFactory(), upvotes=99)
    response = client.get(profile_url(ada))
    assert response.context["stats"] == {
        "approved": 2,
        "upvotes": 11,
        "downvotes": 6,
        "edits": 0,
        "karma": 5,
    }
    assert "<dt>Karma</dt>\n      <dd>5</dd>" in response.content.decode()


def test_karma_can_be_negative(ada):
    suggest(ada, upvotes=1, downvotes=3)
    assert contribution_stats(ada)["karma"] == -2


def test_stats_of_a_member_without_suggestions_are_zero(ada):
    assert contribution_stats(ada) == {
        "approved": 0,
        "upvotes": 0,
        "downvotes": 0,
        "edits": 0,
        "karma": 0,
    }


def test_stats_take_one_query(ada):
    suggest(ada, 5)
    with CaptureQueriesContext(connection) as queries:
        contribution_stats(ada)
    assert len(queries) == 1


# Privacy


def test_profile_shows_no_email_address_or_real_name(client, ada):
    suggest(ada)
    html = client.get(profile_url(ada)).content.decode()
    for private in ("ada.private@example.com", "@example.com", "Augusta", "Lovelace"):
        assert private not in html


def test_owner_sees_a_link_to_my_suggestions(client, ada):
    client.force_login(ada)
    html = main_html(client.get(profile_url(ada)))
    assert '<a href="/resources/mine/">My suggestions</a>' in html


def test_other_members_do_not_see_the_owner_links(client, ada):
    client.force_login(VerifiedUserFactory(username="bob"))
    html = main_html(client.get(profile_url(ada)))
    assert "/resources/mine/" not in html
    assert "Account settings" not in html


def test_anonymous_visitors_do_not_see_the_owner_links(client, ada):
    html = main_html(client.get(profile_url(ada)))
    assert "/resources/mine/" not in html


# Query count


def profile_queries(client, user) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(profile_url(user))
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "owner"])
def test_profile_query_count_does_not_grow_with_the_number_of_suggestions(client, signed_in):
    few, many = VerifiedUserFactory(username="few"), VerifiedUserFactory(username="many")
    for user, count in ((few, 3), (many, 30)):
        for index in range(count):
            suggest(user, section=SectionFactory(), upvotes=index)
    if signed_in:
        client.force_login(few)
        few_queries = profile_queries(client, few)
        client.force_login(many)
        many_queries = profile_queries(client, many)
    else:
        few_queries = profile_queries(client, few)
        many_queries = profile_queries(client, many)
    assert few_queries == many_queries
