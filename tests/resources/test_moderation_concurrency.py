"""Moderators deciding at the same moment: the row locks keep every decision single."""

import pytest
from django.db import connection

from resources.models import Flag, FlagStatus, ModerationAction, ModerationEvent, Resource, Vote
from resources.moderation import (
    ModerationError,
    accept_flag,
    approve_resource,
    dismiss_flag,
    merge_resources,
)
from tests.factories import ResourceFactory, UserFactory, VoteFactory
from tests.resources.concurrency import run_concurrently
from tests.resources.moderation_factories import (
    FlagFactory,
    SuggestionFactory,
    make_moderator,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres_only]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("real row locks and parallel writers need PostgreSQL")


def test_moderators_approving_the_same_suggestion_at_once_record_one_decision():
    suggestion = SuggestionFactory()
    moderators = [make_moderator(f"mod{number}") for number in range(8)]

    outcomes = run_concurrently(
        [
            lambda moderator=moderator: approve_resource(resource=suggestion, moderator=moderator)
            for moderator in moderators
        ]
    )

    assert sum(not isinstance(outcome, ModerationError) for outcome in outcomes) == 1
    assert ModerationEvent.objects.filter(action=ModerationAction.APPROVED).count() == 1


def test_one_flag_dismissed_and_accepted_at_once_is_decided_once():
    flag = FlagFactory()
    moderator = make_moderator()
    jobs = [lambda: dismiss_flag(flag=flag, moderator=moderator)] * 4 + [
        lambda: accept_flag(flag=flag, moderator=moderator, action="mark_broken")
    ] * 4

    run_concurrently(jobs)

    flag.refresh_from_db()
    flag_events = ModerationEvent.objects.filter(flag=flag)
    assert flag_events.count() == 1
    expected = (
        FlagStatus.DISMISSED
        if flag_events.get().action == ModerationAction.FLAG_DISMISSED
        else FlagStatus.ACCEPTED
    )
    assert flag.status == expected
    assert Flag.objects.filter(status=FlagStatus.OPEN).count() == 0


def test_duplicates_merged_into_one_resource_at_once_keep_every_voter_once():
    target = ResourceFactory()
    sources = ResourceFactory.create_batch(6)
    voters = UserFactory.create_batch(10)
    for resource in [target, *sources]:
        for voter in voters[::2] if resource is target else voters:
            VoteFactory(user=voter, resource=resource, value=Vote.UP)
    moderator = make_moderator()

    run_concurrently(
        [
            lambda source=source: merge_resources(source=source, target=target, moderator=moderator)
            for source in sources
        ]
    )

    target.refresh_from_db()
    assert Vote.objects.filter(resource=target).count() == len(voters)
    assert Vote.objects.count() == len(voters)
    assert (target.upvotes, target.downvotes) == (len(voters), 0)
    assert Resource.objects.filter(merged_into=target).count() == len(sources)
