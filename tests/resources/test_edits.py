"""Suggested edits: proposing, deciding, the diff, the history, karma and e-mails."""

from datetime import timedelta

import pytest
from django.core import mail
from django.test import TestCase
from django.utils import timezone

from resources.edits import proposal_diff, section_titles_for
from resources.models import (
    EditProposal,
    Flag,
    FlagReason,
    ModerationAction,
    ModerationEvent,
    ProposalStatus,
    Status,
)
from resources.moderation import ModerationError, accept_proposal, decline_proposal
from resources.selectors import EDIT_KARMA, contribution_stats, resource_history
from resources.services import (
    DAILY_SUGGESTION_LIMIT,
    NEW_ACCOUNT_PENDING_LIMIT,
    DuplicateResource,
    NotAllowed,
    SuggestionLimitReached,
    flag_with_fix,
    propose_edit,
)
from tests.factories import ResourceFactory, SectionFactory, VerifiedUserFactory
from tests.resources.moderation_factories import make_moderator

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader():
    return VerifiedUserFactory(username="reader")


@pytest.fixture
def moderator():
    return make_moderator()


@pytest.fixture
def resource():
    return ResourceFactory(
        title="MLOps Zoomcamp", url="https://example.com/zoomcamp", cost="free", tags=["course"]
    )


def propose(user, resource, **changes):
    return propose_edit(user=user, resource=resource, changes=changes, reason="It moved.")


# Proposing


def test_a_proposal_keeps_only_the_fields_that_change_and_their_values_before(reader, resource):
    proposal = propose(reader, resource, title="MLOps Zoomcamp 2026", cost="free", tags=["Course"])

    assert proposal.changes == {"title": "MLOps Zoomcamp 2026"}
    assert proposal.base == {"title": "MLOps Zoomcamp"}
    assert proposal.status == ProposalStatus.OPEN


def test_a_proposal_that_changes_nothing_is_refused(reader, resource):
    with pytest.raises(NotAllowed, match="changes nothing"):
        propose(reader, resource, title="MLOps Zoomcamp")


def test_one_open_proposal_per_reader_and_resource(reader, resource):
    propose(reader, resource, title="First")
    with pytest.raises(NotAllowed, match="already have a suggested edit"):
        propose(reader, resource, title="Second")
    assert EditProposal.objects.count() == 1


def test_the_submitter_of_a_resource_may_propose_an_edit_of_it(reader):
    own = ResourceFactory(submitted_by=reader)
    assert propose(reader, own, title="Better title").resource == own


def test_pending_resources_cannot_be_edited_this_way(reader):
    pending = ResourceFactory(status=Status.PENDING, approved_at=None)
    with pytest.raises(NotAllowed, match="Only resources on the roadmap"):
        propose(reader, pending, title="Better")


def test_a_proposed_link_that_another_resource_holds_is_refused_as_a_duplicate(reader, resource):
    other = ResourceFactory(url="https://example.com/other-course")
    # The same link after normalisation: scheme, case, tracking parameters and slash.
    with pytest.raises(DuplicateResource) as caught:
        propose(reader, resource, url="http://EXAMPLE.com/other-course/?utm_source=x")
    assert caught.value.existing == other
    assert not EditProposal.objects.exists()


def test_new_accounts_have_few_open_proposals_like_suggestions(reader):
    for number in range(NEW_ACCOUNT_PENDING_LIMIT):
        propose(reader, ResourceFactory(), title=f"Better {number}")
    with pytest.raises(SuggestionLimitReached, match="New accounts"):
        propose(reader, ResourceFactory(), title="One too many")


def test_proposals_have_the_daily_limit_of_suggestions(reader):
    reader.date_joined = timezone.now() - timedelta(days=30)
    reader.save()
    for number in range(DAILY_SUGGESTION_LIMIT):
        propose(reader, ResourceFactory(), title=f"Better {number}")
    with pytest.raises(SuggestionLimitReached):
        propose(reader, ResourceFactory(), title="One too many")


# Accepting


def test_accepting_all_applies_every_field_records_an_event_and_credits_the_proposer(
    reader, moderator, resource
):
    section = SectionFactory(title="Monitoring")
    proposal = propose(
        reader,
        resource,
        title="MLOps Zoomcamp 2026",
        url="https://example.com/zoomcamp-2026",
        cost="freemium",
        tags=["course", "monitoring"],
        section=section,
        description="Now with **monitoring**.",
    )
    before = contribution_stats(reader)["karma"]

    accept_proposal(proposal=proposal, moderator=moderator)

    resource.refresh_from_db()
    assert resource.title == "MLOps Zoomcamp 2026"
    assert resource.url == "https://example.com/zoomcamp-2026"
    assert resource.normalized_url == "https://example.com/zoomcamp-2026"
    assert resource.cost == "freemium"
    assert resource.section == section
    assert "<strong>monitoring</strong>" in resource.description_html
    assert sorted(resource.tags.names()) == ["course", "monitoring"]
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.ACCEPTED
    assert proposal.decided_by == moderator
    assert proposal.applied["title"] == ["MLOps Zoomcamp", "MLOps Zoomcamp 2026"]
    event = ModerationEvent.objects.get(action=ModerationAction.EDIT_ACCEPTED)
    assert event.proposal == proposal and event.moderator == moderator
    assert contribution_stats(reader)["edits"] == 1
    assert contribution_stats(reader)["karma"] == before + EDIT_KARMA


def test_accepting_some_fields_applies_only_those(reader, moderator, resource):
    proposal = propose(reader, resource, title="New title", cost="paid")

    accept_proposal(proposal=proposal, moderator=moderator, fields=["cost"])

    resource.refresh_from_db()
    assert (resource.title, resource.cost) == ("MLOps Zoomcamp", "paid")
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.PARTLY_ACCEPTED
    assert list(proposal.applied) == ["cost"]


def test_accepting_emails_the_proposer_what_changed(reader, moderator, resource):
    proposal = propose(reader, resource, cost="paid")
    with pytest.raises(ModerationError):
        accept_proposal(proposal=proposal, moderator=moderator, fields=["title"])

    with TestCase.captureOnCommitCallbacks(execute=True):
        accept_proposal(proposal=proposal, moderator=moderator)

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["reader@example.com"]
    assert "accepted" in mail.outbox[0].subject
    assert "Cost: Free → Paid" in mail.outbox[0].body


def test_a_stale_field_is_not_applied_over_an_edit_accepted_since(moderator, resource):
    first = propose(VerifiedUserFactory(), resource, title="Title from the first edit")
    second = propose(VerifiedUserFactory(), resource, title="Title from the second", cost="paid")
    accept_proposal(proposal=first, moderator=moderator)

    with pytest.raises(ModerationError, match="Title of .* changed since"):
        accept_proposal(proposal=second, moderator=moderator)
    resource.refresh_from_db()
    assert resource.title == "Title from the first edit"
    second.refresh_from_db()
    assert second.is_open

    # The diff shows it against both, and the other fields can still be accepted.
    titles = section_titles_for([second])
    title_row = next(row for row in proposal_diff(second, resource, titles) if row.field == "title")
    assert title_row.stale
    assert (title_row.when_proposed, title_row.now) == (
        "MLOps Zoomcamp",
        "Title from the first edit",
    )
    accept_proposal(proposal=second, moderator=moderator, fields=["cost"])
    resource.refresh_from_db()
    assert (resource.title, resource.cost) == ("Title from the first edit", "paid")


def test_accepting_a_link_taken_since_by_another_resource_is_refused(reader, moderator, resource):
    proposal = propose(reader, resource, url="https://example.com/new-home")
    ResourceFactory(url="https://example.com/new-home")

    with pytest.raises(ModerationError, match="already held by"):
        accept_proposal(proposal=proposal, moderator=moderator)
    resource.refresh_from_db()
    assert resource.url == "https://example.com/zoomcamp"
    assert not ModerationEvent.objects.exists()


def test_a_decided_proposal_cannot_be_decided_again(reader, moderator, resource):
    proposal = propose(reader, resource, cost="paid")
    accept_proposal(proposal=proposal, moderator=moderator)
    with pytest.raises(ModerationError, match="already accepted"):
        decline_proposal(proposal=proposal, moderator=moderator, reason="No")


# Declining


def test_declining_needs_a_reason_records_it_and_emails_it(reader, moderator, resource):
    proposal = propose(reader, resource, cost="paid")
    with pytest.raises(ModerationError, match="reason"):
        decline_proposal(proposal=proposal, moderator=moderator, reason="  ")

    with TestCase.captureOnCommitCallbacks(execute=True):
        decline_proposal(proposal=proposal, moderator=moderator, reason="It is still free.")

    resource.refresh_from_db()
    assert resource.cost == "free"
    assert ModerationEvent.objects.get().action == ModerationAction.EDIT_DECLINED
    assert "Reason: It is still free." in mail.outbox[0].body
    assert contribution_stats(reader)["edits"] == 0


# History


def test_the_history_lists_accepted_edits_newest_first_with_who_and_what(moderator, resource):
    ada, bob = VerifiedUserFactory(username="ada"), VerifiedUserFactory(username="bob")
    accept_proposal(proposal=propose(ada, resource, cost="paid"), moderator=moderator)
    declined = propose(bob, resource, title="Nope")
    decline_proposal(proposal=declined, moderator=moderator, reason="Wrong.")
    accept_proposal(proposal=propose(bob, resource, title="Renamed"), moderator=moderator)

    history = resource_history(resource)

    assert [entry.proposal.proposer.username for entry in history] == ["bob", "ada"]
    assert [(c.label, c.before, c.after) for c in history[0].changes] == [
        ("Title", "MLOps Zoomcamp", "Renamed")
    ]
    assert history[1].proposal.decided_by == moderator


# Flags that carry a fix


def test_a_broken_link_report_with_the_new_address_becomes_a_proposal(reader, resource):
    flag = flag_with_fix(
        user=reader,
        resource=resource,
        reason=FlagReason.BROKEN_LINK,
        note="404 since May",
        fix={"url": "https://example.com/zoomcamp-moved"},
    )
    proposal = EditProposal.objects.get()
    assert proposal.flag == flag
    assert proposal.changes == {"url": "https://example.com/zoomcamp-moved"}
    assert "404 since May" in proposal.reason


def test_accepting_a_proposal_from_a_report_closes_the_report(reader, moderator, resource):
    flag_with_fix(
        user=reader, resource=resource, reason=FlagReason.NOT_FREE, note="", fix={"cost": "paid"}
    )
    accept_proposal(proposal=EditProposal.objects.get(), moderator=moderator)
    assert Flag.objects.get().status == "accepted"


def test_a_report_whose_fix_duplicates_another_resource_is_not_saved_at_all(reader, resource):
    ResourceFactory(url="https://example.com/taken")
    with pytest.raises(DuplicateResource):
        flag_with_fix(
            user=reader,
            resource=resource,
            reason=FlagReason.BROKEN_LINK,
            note="",
            fix={"url": "https://example.com/taken"},
        )
    assert not Flag.objects.exists()
    assert not EditProposal.objects.exists()
