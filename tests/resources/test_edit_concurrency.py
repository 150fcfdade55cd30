"""Two moderators accepting edits of one resource at the same moment (PostgreSQL)."""

import pytest
from django.db import connection

from resources.models import EditProposal, ModerationAction, ModerationEvent, ProposalStatus
from resources.moderation import ModerationError, accept_proposal
from resources.services import propose_edit
from tests.factories import ResourceFactory, VerifiedUserFactory
from tests.resources.concurrency import run_concurrently
from tests.resources.moderation_factories import make_moderator

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres_only]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("real row locks and parallel writers need PostgreSQL")


def proposals_of_one_resource(**changes_by_reader):
    resource = ResourceFactory(title="Original", cost="free")
    return resource, [
        propose_edit(
            user=VerifiedUserFactory(username=name), resource=resource, changes=changes, reason="x"
        )
        for name, changes in changes_by_reader.items()
    ]


def test_two_edits_of_the_same_field_accepted_at_once_apply_one_and_refuse_the_other():
    resource, proposals = proposals_of_one_resource(ada={"title": "Ada's"}, bob={"title": "Bob's"})
    moderators = [make_moderator("mod1"), make_moderator("mod2")]

    outcomes = run_concurrently(
        [
            lambda p=proposal, m=moderator: accept_proposal(proposal=p, moderator=m)
            for proposal, moderator in zip(proposals, moderators, strict=True)
        ]
    )

    errors = [outcome for outcome in outcomes if isinstance(outcome, ModerationError)]
    assert len(errors) == 1 and "changed since" in str(errors[0])
    winner = next(outcome for outcome in outcomes if isinstance(outcome, EditProposal))
    resource.refresh_from_db()
    assert resource.title == winner.changes["title"]
    assert EditProposal.objects.filter(status=ProposalStatus.OPEN).count() == 1
    assert ModerationEvent.objects.filter(action=ModerationAction.EDIT_ACCEPTED).count() == 1


def test_two_edits_of_different_fields_accepted_at_once_both_apply():
    resource, proposals = proposals_of_one_resource(ada={"title": "Ada's"}, bob={"cost": "paid"})
    moderators = [make_moderator("mod1"), make_moderator("mod2")]

    outcomes = run_concurrently(
        [
            lambda p=proposal, m=moderator: accept_proposal(proposal=p, moderator=m)
            for proposal, moderator in zip(proposals, moderators, strict=True)
        ]
    )

    assert all(isinstance(outcome, EditProposal) for outcome in outcomes)
    resource.refresh_from_db()
    assert (resource.title, resource.cost) == ("Ada's", "paid")


def test_one_edit_accepted_by_two_moderators_at_once_is_applied_once():
    resource, (proposal,) = proposals_of_one_resource(ada={"title": "Ada's"})
    moderators = [make_moderator(f"mod{number}") for number in range(4)]

    outcomes = run_concurrently(
        [
            lambda m=moderator: accept_proposal(proposal=proposal, moderator=m)
            for moderator in moderators
        ]
    )

    assert sum(isinstance(outcome, EditProposal) for outcome in outcomes) == 1
    assert ModerationEvent.objects.filter(action=ModerationAction.EDIT_ACCEPTED).count() == 1
