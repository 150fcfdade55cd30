"""Query counts of the hot paths, pinned: they stay the same however much data there is."""

from datetime import timedelta

import pytest
from django.utils import timezone

from resources.models import Vote
from tests.factories import ResourceFactory, UserFactory, VerifiedUserFactory, VoteFactory

pytestmark = pytest.mark.django_db

# The session and the user (with whether their address is verified), then the savepoint that
# the test's own transaction turns the service's transaction into.
REQUEST = 2
TRANSACTION = 2


@pytest.fixture
def member(client):
    user = VerifiedUserFactory(date_joined=timezone.now() - timedelta(days=30))
    client.force_login(user)
    return user


@pytest.mark.parametrize("clicks", [["up"], ["up", "down"], ["down", "down"]])
def test_a_vote_is_a_read_one_write_and_one_tally_update_however_many_votes_it_has(
    client, member, django_assert_num_queries, clicks
):
    resource = ResourceFactory()
    for voter in UserFactory.create_batch(30):
        VoteFactory(user=voter, resource=resource, value=Vote.UP)
    for click in clicks[:-1]:
        client.post(f"/resources/{resource.pk}/vote/", {"value": click}, HTTP_HX_REQUEST="true")
    with django_assert_num_queries(REQUEST + TRANSACTION + 3):
        response = client.post(
            f"/resources/{resource.pk}/vote/", {"value": clicks[-1]}, HTTP_HX_REQUEST="true"
        )
    assert response.status_code == 200
