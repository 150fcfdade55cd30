import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections

from resources import services
from resources.models import Resource, Vote
from resources.scoring import hot_score, wilson_lower_bound
from tests.factories import ResourceFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 32


def run_concurrently(jobs, workers: int = THREADS):
    """Run the jobs on `workers` threads that all start at the same moment."""
    start = threading.Event()

    def run(job):
        try:
            start.wait(timeout=10)
            return job()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(run, job) for job in jobs]
        start.set()
        return [future.result() for future in futures]


def test_concurrent_votes_are_neither_lost_nor_doubled():
    resource = ResourceFactory()
    voters = UserFactory.create_batch(48)
    up, down = voters[:30], voters[30:]
    jobs = [
        (
            lambda user=user, value=value: services.cast_vote(
                user=user, resource=resource, value=value
            )
        )
        for users, value in ((up, Vote.UP), (down, Vote.DOWN))
        for user in users
    ]
    run_concurrently(jobs)
    resource.refresh_from_db()
    assert (resource.upvotes, resource.downvotes) == (30, 18)
    assert Vote.objects.filter(resource=resource).count() == 48


def test_concurrent_switches_and_takebacks_end_with_exact_totals():
    resource = ResourceFactory()
    voters = UserFactory.create_batch(32)
    for user in voters:
        services.cast_vote(user=user, resource=resource, value=Vote.UP)
    # The first ten and the last twelve vote up again, which takes the vote back; the ten
    # between switch to down: all 32 at once.
    jobs = [
        (
            lambda user=user, value=value: services.cast_vote(
                user=user, resource=resource, value=value
            )
        )
        for user, value in zip(
            voters, [Vote.UP] * 10 + [Vote.DOWN] * 10 + [Vote.UP] * 12, strict=True
        )
    ]
    run_concurrently(jobs)
    resource.refresh_from_db()
    assert (resource.upvotes, resource.downvotes) == (0, 10)
    assert Vote.objects.filter(resource=resource, value=Vote.DOWN).count() == 10
    assert Vote.objects.filter(resource=resource).count() == 10


def test_the_same_user_double_clicking_never_leaves_two_votes():
    resource = ResourceFactory()
    voter = UserFactory()
    run_concurrently([lambda: services.cast_vote(user=voter, resource=resource, value=Vote.UP)] * 8)
    resource.refresh_from_db()
    count = Vote.objects.filter(resource=resource).count()
    assert count == 0  # an even number of identical votes toggles back to none
    assert (resource.upvotes, resource.downvotes) == (0, 0)


def test_concurrent_suggestions_of_one_link_create_exactly_one_resource():
    section = ResourceFactory().section
    users = UserFactory.create_batch(20)

    def suggest(user):
        try:
            services.submit_resource(
                user=user,
                data={
                    "title": "Same link",
                    "url": "https://example.com/same?utm_source=" + user.username,
                    "resource_type": "article",
                    "section": section,
                    "cost": "free",
                },
            )
            return "created"
        except services.DuplicateResource:
            return "duplicate"

    outcomes = run_concurrently([lambda user=user: suggest(user) for user in users])
    assert sorted(outcomes).count("created") == 1
    assert outcomes.count("duplicate") == 19
    assert Resource.objects.filter(normalized_url="https://example.com/same").count() == 1


def test_concurrent_mixed_votes_leave_the_scores_their_tallies_give():
    resource = ResourceFactory()
    voters = UserFactory.create_batch(24)
    for user in voters[:12]:
        services.cast_vote(user=user, resource=resource, value=Vote.DOWN)
    # Twelve earlier down votes: four taken back, eight switched up; twelve new up votes.
    values = [Vote.DOWN] * 4 + [Vote.UP] * 8 + [Vote.UP] * 12
    jobs = [
        (
            lambda user=user, value=value: services.cast_vote(
                user=user, resource=resource, value=value
            )
        )
        for user, value in zip(voters, values, strict=True)
    ]
    run_concurrently(jobs)
    resource.refresh_from_db()
    assert (resource.upvotes, resource.downvotes) == (20, 0)
    assert resource.wilson_score == wilson_lower_bound(20, 0)
    assert resource.hot_score == hot_score(20, 0, resource.approved_at)
