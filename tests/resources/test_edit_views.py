"""Suggested edits through the site and the admin: who may do what, and what they see."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from resources.models import EditProposal, ProposalStatus, RelatedBasis, RelatedResource, Status
from resources.moderation import accept_proposal
from resources.services import propose_edit
from tests.factories import (
    ResourceFactory,
    SectionFactory,
    UnverifiedUserFactory,
    UserFactory,
    VerifiedUserFactory,
)
from tests.resources.moderation_factories import SuggestionFactory, make_moderator

pytestmark = pytest.mark.django_db


@pytest.fixture
def resource():
    return ResourceFactory(
        title="Feature stores explained",
        url="https://example.com/feature-stores",
        section=SectionFactory(title="Features"),
        tags=["feast"],
    )


def edit_url(resource) -> str:
    return f"/resources/{resource.pk}/edit/"


def form_data(resource, **overrides) -> dict:
    data = {
        "title": resource.title,
        "url": resource.url,
        "resource_type": resource.resource_type,
        "section": resource.section_id,
        "tags": "feast",
        "cost": resource.cost,
        "level": resource.level,
        "provider": resource.provider,
        "description": resource.description,
        "reason": "The page moved.",
    }
    return {**data, **overrides}


def signed_in(client, user):
    client.force_login(user)
    return user


# Who may propose


@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_visitors_are_sent_to_sign_in(client, resource, method):
    response = getattr(client, method)(edit_url(resource), form_data(resource, title="New"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    assert not EditProposal.objects.exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_members_without_a_verified_address_are_told_to_verify(client, resource, method):
    signed_in(client, UnverifiedUserFactory())
    response = getattr(client, method)(edit_url(resource), form_data(resource, title="New"))
    assert response.status_code == 403
    assert "verif" in response.content.decode().lower()
    assert not EditProposal.objects.exists()


def test_a_verified_reader_sees_the_form_filled_with_the_resource(client, resource):
    signed_in(client, VerifiedUserFactory())
    response = client.get(edit_url(resource))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Suggest an edit" in html
    assert 'value="Feature stores explained"' in html
    assert "I am the author" not in html  # a disclosure, not proposable


def test_a_verified_reader_proposes_an_edit_that_waits_for_review(client, resource):
    reader = signed_in(client, VerifiedUserFactory())
    response = client.post(edit_url(resource), form_data(resource, cost="paid"))
    assert response.status_code == 302
    assert response["Location"] == resource.get_absolute_url()
    proposal = EditProposal.objects.get()
    assert (proposal.proposer, proposal.changes) == (reader, {"cost": "paid"})
    resource.refresh_from_db()
    assert resource.cost == "free"  # nothing changes before a moderator decides


def test_a_moderator_may_propose_too(client, resource):
    signed_in(client, make_moderator())
    client.post(edit_url(resource), form_data(resource, title="A clearer title"))
    assert EditProposal.objects.get().changes == {"title": "A clearer title"}


def test_a_proposed_link_of_another_resource_is_refused_with_a_link_to_it(client, resource):
    other = ResourceFactory(url="https://example.com/taken-page")
    signed_in(client, VerifiedUserFactory())
    response = client.post(
        edit_url(resource), form_data(resource, url="https://www.example.com/taken-page/")
    )
    assert response.status_code == 200
    assert "already on the roadmap" in response.content.decode()
    assert other.get_absolute_url() in response.content.decode()
    assert not EditProposal.objects.exists()


def test_an_invalid_form_says_what_is_wrong_without_a_server_error(client, resource):
    signed_in(client, VerifiedUserFactory())
    response = client.post(
        edit_url(resource), form_data(resource, url="javascript:alert(1)", reason="")
    )
    assert response.status_code == 200
    assert not EditProposal.objects.exists()


def test_a_second_open_proposal_is_refused_with_a_message(client, resource):
    signed_in(client, VerifiedUserFactory())
    client.post(edit_url(resource), form_data(resource, cost="paid"))
    response = client.post(edit_url(resource), form_data(resource, cost="freemium"))
    assert "already have a suggested edit" in response.content.decode()
    assert EditProposal.objects.count() == 1


def test_pending_suggestions_of_others_cannot_be_edited(client):
    signed_in(client, VerifiedUserFactory())
    response = client.get(edit_url(SuggestionFactory()))
    assert response.status_code == 404


def test_a_submitter_still_corrects_their_own_pending_suggestion_directly(client):
    submitter = UserFactory()
    suggestion = SuggestionFactory(submitted_by=submitter, title="Typo tittle")
    signed_in(client, submitter)
    assert "Edit your suggestion" in client.get(edit_url(suggestion)).content.decode()
    data = form_data(suggestion, title="Fixed title", tags="")
    del data["reason"]
    client.post(edit_url(suggestion), data)
    suggestion.refresh_from_db()
    assert suggestion.title == "Fixed title"
    assert not EditProposal.objects.exists()


# A report that carries its fix


def test_a_broken_link_report_with_a_new_address_sends_a_proposal(client, resource):
    signed_in(client, VerifiedUserFactory())
    response = client.post(
        f"/resources/{resource.pk}/flag/",
        {"reason": "broken_link", "note": "", "new_url": "https://example.com/feature-stores-v2"},
    )
    assert response.status_code == 302
    proposal = EditProposal.objects.get()
    assert proposal.changes == {"url": "https://example.com/feature-stores-v2"}
    assert proposal.flag is not None


def test_a_cost_with_another_reason_is_refused(client, resource):
    signed_in(client, VerifiedUserFactory())
    response = client.post(
        f"/resources/{resource.pk}/flag/", {"reason": "outdated", "correct_cost": "paid"}
    )
    assert response.status_code == 200
    assert "goes with the reason" in response.content.decode()
    assert not EditProposal.objects.exists()


# Moderators decide in the admin


def review_url(proposal) -> str:
    return f"/admin/resources/editproposal/{proposal.pk}/change/"


@pytest.fixture
def proposal(resource):
    return propose_edit(
        user=VerifiedUserFactory(username="ada"),
        resource=resource,
        changes={"title": "Feature stores, explained", "cost": "paid"},
        reason="Typo, and it costs money now.",
    )


def test_the_review_page_shows_each_field_against_now(client, proposal):
    signed_in(client, make_moderator())
    response = client.get(review_url(proposal))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<del>stores</del> <ins>stores,</ins>" in html
    assert "<del>Free</del> <ins>Paid</ins>" in html
    assert "Typo, and it costs money now." in html


def test_the_review_page_shows_an_edit_accepted_since_and_marks_the_stale_field(
    client, resource, proposal
):
    moderator = signed_in(client, make_moderator())
    newer = propose_edit(
        user=VerifiedUserFactory(username="bob"),
        resource=resource,
        changes={"title": "Feature stores in practice"},
        reason="Better.",
    )
    accept_proposal(proposal=newer, moderator=moderator)
    html = client.get(review_url(proposal)).content.decode()
    assert "Edits accepted since this one was proposed" in html
    assert "changed since" in html


def test_a_moderator_accepts_some_fields_from_the_review_page(client, resource, proposal):
    signed_in(client, make_moderator())
    response = client.post(
        review_url(proposal), {"decision": "accept_some", "accept_fields": ["cost"]}
    )
    assert response.status_code == 302
    resource.refresh_from_db()
    assert (resource.title, resource.cost) == ("Feature stores explained", "paid")
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.PARTLY_ACCEPTED


def test_declining_without_a_reason_is_refused_on_the_page(client, proposal):
    signed_in(client, make_moderator())
    response = client.post(review_url(proposal), {"decision": "decline", "reason": ""})
    assert response.status_code == 200
    assert "Say why" in response.content.decode()
    proposal.refresh_from_db()
    assert proposal.is_open


def test_readers_cannot_reach_the_review_page(client, proposal):
    signed_in(client, VerifiedUserFactory())
    response = client.post(review_url(proposal), {"decision": "accept_all"})
    assert response.status_code in (302, 403)
    proposal.refresh_from_db()
    assert proposal.is_open


def test_staff_without_the_moderation_permissions_cannot_decide(client, proposal):
    signed_in(client, VerifiedUserFactory(is_staff=True))
    response = client.post(review_url(proposal), {"decision": "accept_all"})
    assert response.status_code == 403
    proposal.refresh_from_db()
    assert proposal.is_open


def test_the_queue_counts_open_edits_on_the_admin_index(client, proposal):
    signed_in(client, make_moderator())
    html = client.get("/admin/").content.decode()
    assert "Suggested edits" in html


# The public history


def test_anyone_reads_the_history_with_who_proposed_and_who_accepted(client, resource, proposal):
    accept_proposal(proposal=proposal, moderator=make_moderator("grace"))
    html = client.get(f"/resources/{resource.pk}/history/").content.decode()
    assert "proposed by" in html and ">ada</a>" in html
    assert "accepted by grace" in html
    assert "Feature stores, explained" in html


def test_the_history_of_an_unpublished_suggestion_is_not_public(client):
    response = client.get(f"/resources/{SuggestionFactory().pk}/history/")
    assert response.status_code == 404


# Related resources on the resource page


def relate(resource, others, basis=RelatedBasis.READERS):
    RelatedResource.objects.bulk_create(
        RelatedResource(resource=resource, related=other, rank=rank, score=1.0 / rank, basis=basis)
        for rank, other in enumerate(others, start=1)
    )


def test_the_resource_page_lists_its_related_resources_in_rank_order(client, resource):
    first, second = ResourceFactory(title="Feast tutorial"), ResourceFactory(title="Tecton docs")
    relate(resource, [second, first])
    html = client.get(resource.get_absolute_url()).content.decode()
    assert "Readers who found this useful also found" in html
    assert html.index("Tecton docs") < html.index("Feast tutorial")


def test_related_resources_taken_off_the_roadmap_since_are_not_shown(client, resource):
    archived = ResourceFactory(title="Gone now")
    relate(resource, [archived])
    archived.status = Status.ARCHIVED
    archived.save()
    assert "Gone now" not in client.get(resource.get_absolute_url()).content.decode()


def test_the_resource_page_query_count_does_not_grow_with_related_resources(client, resource):
    signed_in(client, VerifiedUserFactory())
    relate(resource, [ResourceFactory()])

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(resource.get_absolute_url()).status_code == 200
        return len(queries)

    one = count()
    RelatedResource.objects.all().delete()
    relate(resource, ResourceFactory.create_batch(5, section=SectionFactory()))
    assert count() == one


def test_a_member_old_enough_is_not_limited_like_a_new_one(resource):
    reader = VerifiedUserFactory()
    reader.date_joined = timezone.now() - timedelta(days=30)
    reader.save()
    for _ in range(4):
        propose_edit(
            user=reader, resource=ResourceFactory(), changes={"cost": "paid"}, reason="Paid."
        )
    assert EditProposal.objects.filter(proposer=reader).count() == 4


def test_the_proposers_profile_credits_the_accepted_edit(client, resource, proposal):
    accept_proposal(proposal=proposal, moderator=make_moderator())
    html = client.get("/u/ada/").content.decode()
    assert "<dt>Accepted edits</dt>\n      <dd>1</dd>" in html
    assert f'href="/resources/{resource.pk}/history/"' in html
