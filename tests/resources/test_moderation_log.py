import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from resources.models import ModerationAction, ModerationEvent
from resources.moderation import (
    accept_flag,
    approve_resource,
    merge_resources,
    reject_resource,
)
from resources.moderation_views import LOG_PAGE_SIZE
from tests.factories import ResourceFactory, UserFactory
from tests.resources.moderation_factories import (
    FlagFactory,
    SuggestionFactory,
    make_moderator,
)

pytestmark = pytest.mark.django_db

LOG_URL = reverse("moderation:log")


@pytest.fixture
def moderator():
    return make_moderator("marta")


def rows(response) -> list[str]:
    html = response.content.decode()
    return re.findall(r'<tr class="log-event[^"]*">(.*?)</tr>', html, flags=re.S)


def add_events(count: int, moderator) -> None:
    """Events of every shape a row can take: plain, merged (with a target), about a flag."""
    events = []
    for number in range(count):
        resource = ResourceFactory()
        kind = number % 3
        events.append(
            ModerationEvent(
                action=[
                    ModerationAction.APPROVED,
                    ModerationAction.MERGED,
                    ModerationAction.FLAG_DISMISSED,
                ][kind],
                resource=resource,
                resource_title=f"Event {number}",
                target=ResourceFactory() if kind == 1 else None,
                flag=FlagFactory(resource=resource, user=None) if kind == 2 else None,
                moderator=moderator,
            )
        )
    ModerationEvent.objects.bulk_create(events)


def test_the_log_shows_decisions_newest_first_with_reason_and_moderator(client, moderator):
    first = SuggestionFactory(title="First decided")
    second = SuggestionFactory(title="Second decided")
    approve_resource(resource=first, moderator=moderator)
    reject_resource(resource=second, moderator=moderator, reason="Not about MLOps")

    response = client.get(LOG_URL)

    assert response.status_code == 200
    newest, oldest = rows(response)
    assert "Rejected" in newest and "Second decided" in newest
    assert "Not about MLOps" in newest and "marta" in newest
    assert "Approved" in oldest
    assert f'<a href="{first.get_absolute_url()}">First decided</a>' in oldest


def test_titles_link_only_to_public_resources(client, moderator):
    suggestion = SuggestionFactory(title="Still private")
    reject_resource(resource=suggestion, moderator=moderator, reason="Broken link")

    [row] = rows(client.get(LOG_URL))

    assert "Still private" in row
    assert suggestion.get_absolute_url() not in row


def test_a_rejected_suggestion_shows_its_reason_but_not_its_submitter(client, moderator):
    suggestion = SuggestionFactory(
        title="Self-promo", submitted_by=UserFactory(username="secret_submitter")
    )
    reject_resource(resource=suggestion, moderator=moderator, reason="Low quality or spam")

    html = client.get(LOG_URL).content.decode()

    assert "Low quality or spam" in html
    assert "secret_submitter" not in html


def test_merges_and_flag_decisions_read_well(client, moderator):
    source = ResourceFactory(title="Duplicate copy")
    target = ResourceFactory(title="The original")
    merge_resources(source=source, target=target, moderator=moderator)
    flag = FlagFactory(resource=target, user=UserFactory(username="reporter_name"))
    accept_flag(flag=flag, moderator=moderator, action="mark_broken")

    html = client.get(LOG_URL).content.decode()

    assert f'Duplicate of <a href="{target.get_absolute_url()}">The original</a>' in html
    assert "Reported: Broken link." in html
    assert "Marked the link as broken." in html
    assert "reporter_name" not in html


def test_a_deleted_moderator_is_shown_without_a_name(client, moderator):
    approve_resource(resource=SuggestionFactory(), moderator=moderator)
    moderator.delete()
    assert "a former moderator" in rows(client.get(LOG_URL))[0]


def test_the_log_is_paginated(client, moderator):
    add_events(LOG_PAGE_SIZE + 5, moderator)

    first_page = client.get(LOG_URL)
    second_page = client.get(LOG_URL, {"page": 2})

    assert len(rows(first_page)) == LOG_PAGE_SIZE
    assert len(rows(second_page)) == 5
    assert 'href="?page=2"' in first_page.content.decode()
    assert 'rel="next"' in first_page.content.decode()


@pytest.mark.parametrize("page", ["bogus", "0", "-1", "999", ""])
def test_a_bad_page_number_shows_a_page_instead_of_an_error(client, moderator, page):
    add_events(LOG_PAGE_SIZE + 1, moderator)
    response = client.get(LOG_URL, {"page": page})
    assert response.status_code == 200
    assert rows(response)


def test_the_empty_log_says_so(client):
    assert "No decisions yet." in client.get(LOG_URL).content.decode()


def test_the_log_does_not_query_per_row(client, moderator):
    def queries_for_page() -> int:
        with CaptureQueriesContext(connection) as context:
            assert client.get(LOG_URL).status_code == 200
        return len(context)

    add_events(3, moderator)
    few = queries_for_page()
    add_events(27, moderator)
    assert len(rows(client.get(LOG_URL))) == LOG_PAGE_SIZE
    assert queries_for_page() == few
