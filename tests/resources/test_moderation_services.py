import pytest
from django.core import mail
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse

from resources.models import (
    AppendOnlyError,
    Flag,
    FlagReason,
    FlagStatus,
    ModerationAction,
    ModerationEvent,
    Progress,
    Resource,
    Status,
    Vote,
)
from resources.moderation import (
    ModerationError,
    accept_flag,
    approve_resource,
    archive_resource,
    dismiss_flag,
    find_possible_duplicates,
    merge_resources,
    reject_resource,
)
from resources.scoring import wilson_lower_bound
from tests.factories import ResourceFactory, SectionFactory, UserFactory, VoteFactory
from tests.resources.moderation_factories import (
    FlagFactory,
    SuggestionFactory,
    make_moderator,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def moderator():
    return make_moderator()


def events(resource=None):
    queryset = ModerationEvent.objects.all()
    if resource is not None:
        queryset = queryset.filter(resource=resource)
    return list(queryset.values_list("action", flat=True))


# Approving


def test_approving_a_suggestion_publishes_it_and_records_the_decision(moderator):
    suggestion = SuggestionFactory(title="Feature stores explained")

    approve_resource(resource=suggestion, moderator=moderator)

    suggestion.refresh_from_db()
    assert suggestion.status == Status.APPROVED
    assert suggestion.approved_at is not None
    assert Resource.objects.approved().filter(pk=suggestion.pk).exists()
    event = ModerationEvent.objects.get()
    assert (event.action, event.resource, event.moderator) == (
        ModerationAction.APPROVED,
        suggestion,
        moderator,
    )
    assert event.resource_title == "Feature stores explained"


def test_approval_updates_the_instance_the_caller_passed(moderator):
    suggestion = SuggestionFactory()
    approve_resource(resource=suggestion, moderator=moderator)
    assert suggestion.status == Status.APPROVED


def test_approval_emails_the_submitter_once_the_transaction_commits(
    moderator, django_capture_on_commit_callbacks
):
    suggestion = SuggestionFactory(title="Kubeflow pipelines", submitted_by__username="ada")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        approve_resource(resource=suggestion, moderator=moderator)
        assert mail.outbox == []

    # One deferred mail (the page cache's version bump is deferred too).
    assert [getattr(callback, "func", None) for callback in callbacks].count(send_mail) == 1
    [message] = mail.outbox
    assert message.to == ["ada@example.com"]
    assert "Kubeflow pipelines" in message.subject
    assert "approved" in message.body
    assert suggestion.get_absolute_url() in message.body


def test_no_mail_is_sent_when_the_decision_is_rolled_back(
    moderator, django_capture_on_commit_callbacks
):
    suggestion = SuggestionFactory()

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        with transaction.atomic():
            approve_resource(resource=suggestion, moderator=moderator)
            raise RuntimeError("something later failed")

    assert mail.outbox == []
    suggestion.refresh_from_db()
    assert suggestion.status == Status.PENDING
    assert not ModerationEvent.objects.exists()


def test_no_mail_when_the_submitter_has_no_address(moderator, django_capture_on_commit_callbacks):
    suggestion = SuggestionFactory(submitted_by__email="")
    with django_capture_on_commit_callbacks(execute=True):
        approve_resource(resource=suggestion, moderator=moderator)
    assert mail.outbox == []


def test_no_mail_when_there_is_no_submitter(moderator, django_capture_on_commit_callbacks):
    suggestion = SuggestionFactory(submitted_by=None)
    with django_capture_on_commit_callbacks(execute=True):
        approve_resource(resource=suggestion, moderator=moderator)
    assert mail.outbox == []
    assert events() == [ModerationAction.APPROVED]


def test_approving_an_approved_resource_is_refused_and_records_nothing(
    moderator, django_capture_on_commit_callbacks
):
    resource = ResourceFactory(status=Status.APPROVED)
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(ModerationError, match="already approved"):
            approve_resource(resource=resource, moderator=moderator)
    assert events() == []
    assert mail.outbox == []


def test_moderation_error_is_a_value_error():
    assert issubclass(ModerationError, ValueError)


def test_approving_a_rejected_suggestion_clears_its_rejection_reason(moderator):
    suggestion = SuggestionFactory()
    reject_resource(resource=suggestion, moderator=moderator, reason="Broken link")
    approve_resource(resource=suggestion, moderator=moderator)
    suggestion.refresh_from_db()
    assert (suggestion.status, suggestion.rejection_reason) == (Status.APPROVED, "")


def test_restoring_an_archived_resource_sends_no_mail(
    moderator, django_capture_on_commit_callbacks
):
    resource = ResourceFactory(submitted_by=UserFactory())
    archive_resource(resource=resource, moderator=moderator)
    with django_capture_on_commit_callbacks(execute=True):
        approve_resource(resource=resource, moderator=moderator)
    assert resource.status == Status.APPROVED
    assert mail.outbox == []


def test_an_approved_suggestion_is_on_its_section_page_at_once(client, moderator):
    section = SectionFactory(slug="serving")
    suggestion = SuggestionFactory(section=section, title="Serving models with BentoML")
    url = reverse("roadmap:section", kwargs={"slug": "serving"})
    assert "Serving models with BentoML" not in client.get(url).content.decode()

    approve_resource(resource=suggestion, moderator=moderator)

    assert "Serving models with BentoML" in client.get(url).content.decode()


# Rejecting


def test_rejecting_stores_the_reason_on_the_resource_and_the_event(moderator):
    suggestion = SuggestionFactory()

    reject_resource(resource=suggestion, moderator=moderator, reason="  Not about MLOps  ")

    suggestion.refresh_from_db()
    assert suggestion.status == Status.REJECTED
    assert suggestion.rejection_reason == "Not about MLOps"
    event = ModerationEvent.objects.get()
    assert (event.action, event.reason) == (ModerationAction.REJECTED, "Not about MLOps")
    assert not Resource.objects.approved().filter(pk=suggestion.pk).exists()


def test_rejection_emails_the_reason_to_the_submitter(
    moderator, django_capture_on_commit_callbacks
):
    suggestion = SuggestionFactory(title="Buy my course", submitted_by__username="bob")

    with django_capture_on_commit_callbacks(execute=True):
        reject_resource(resource=suggestion, moderator=moderator, reason="Low quality or spam")

    [message] = mail.outbox
    assert message.to == ["bob@example.com"]
    assert "not accepted" in message.subject
    assert "Reason: Low quality or spam" in message.body


def test_mail_text_is_not_html_escaped(moderator, django_capture_on_commit_callbacks):
    suggestion = SuggestionFactory(title="Tips & tricks <for> MLOps")
    with django_capture_on_commit_callbacks(execute=True):
        reject_resource(resource=suggestion, moderator=moderator, reason="Q&A sites are not <ok>")
    [message] = mail.outbox
    assert "Tips & tricks <for> MLOps" in message.subject
    assert "Q&A sites are not <ok>" in message.body


def test_rejecting_needs_a_reason(moderator):
    suggestion = SuggestionFactory()
    with pytest.raises(ModerationError, match="reason"):
        reject_resource(resource=suggestion, moderator=moderator, reason="   ")
    suggestion.refresh_from_db()
    assert suggestion.status == Status.PENDING
    assert events() == []


def test_rejecting_a_rejected_suggestion_is_refused_and_records_nothing(
    moderator, django_capture_on_commit_callbacks
):
    suggestion = SuggestionFactory()
    reject_resource(resource=suggestion, moderator=moderator, reason="Broken link")
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(ModerationError, match="already rejected"):
            reject_resource(resource=suggestion, moderator=moderator, reason="Other")
    assert events() == [ModerationAction.REJECTED]
    assert mail.outbox == []
    suggestion.refresh_from_db()
    assert suggestion.rejection_reason == "Broken link"


def test_an_approved_resource_cannot_be_rejected(moderator):
    resource = ResourceFactory(status=Status.APPROVED)
    with pytest.raises(ModerationError, match="archive"):
        reject_resource(resource=resource, moderator=moderator, reason="Outdated")
    assert events() == []


# Archiving


def test_archiving_takes_an_approved_resource_off_the_roadmap(moderator):
    resource = ResourceFactory(status=Status.APPROVED)
    VoteFactory(resource=resource)

    archive_resource(resource=resource, moderator=moderator, reason="Outdated since 2021")

    resource.refresh_from_db()
    assert resource.status == Status.ARCHIVED
    assert not Resource.objects.approved().filter(pk=resource.pk).exists()
    assert resource.votes.count() == 1  # history is kept
    event = ModerationEvent.objects.get()
    assert (event.action, event.reason) == (ModerationAction.ARCHIVED, "Outdated since 2021")


def test_archiving_twice_is_refused(moderator):
    resource = ResourceFactory(status=Status.APPROVED)
    archive_resource(resource=resource, moderator=moderator)
    with pytest.raises(ModerationError, match="already archived"):
        archive_resource(resource=resource, moderator=moderator)
    assert events() == [ModerationAction.ARCHIVED]


def test_a_pending_suggestion_cannot_be_archived(moderator):
    with pytest.raises(ModerationError, match="reject"):
        archive_resource(resource=SuggestionFactory(), moderator=moderator)
    assert events() == []


# Merging


def test_merge_moves_votes_and_keeps_the_targets_vote_for_users_who_voted_on_both(moderator):
    source, target = ResourceFactory(), ResourceFactory()
    both, only_source, only_target = UserFactory(), UserFactory(), UserFactory()
    VoteFactory(user=both, resource=source, value=Vote.UP)
    VoteFactory(user=both, resource=target, value=Vote.DOWN)
    VoteFactory(user=only_source, resource=source, value=Vote.UP)
    VoteFactory(user=only_target, resource=target, value=Vote.UP)

    merge_resources(source=source, target=target, moderator=moderator)

    assert set(Vote.objects.values_list("user", "resource", "value")) == {
        (both.pk, target.pk, Vote.DOWN),
        (only_source.pk, target.pk, Vote.UP),
        (only_target.pk, target.pk, Vote.UP),
    }


def test_merge_moves_progress_and_keeps_the_targets_for_readers_who_track_both(moderator):
    source, target = ResourceFactory(), ResourceFactory()
    both, only_source = UserFactory(), UserFactory()
    Progress.objects.create(user=both, resource=source, state="done")
    Progress.objects.create(user=both, resource=target, state="saved")
    Progress.objects.create(user=only_source, resource=source, state="in_progress")

    merge_resources(source=source, target=target, moderator=moderator)

    assert set(Progress.objects.values_list("user", "resource", "state")) == {
        (both.pk, target.pk, "saved"),
        (only_source.pk, target.pk, "in_progress"),
    }


def test_merge_recomputes_the_targets_tallies_from_its_votes(moderator):
    source, target = ResourceFactory(), ResourceFactory(upvotes=99, wilson_score=0.99)
    for _ in range(3):
        VoteFactory(resource=source, value=Vote.UP)
    VoteFactory(resource=target, value=Vote.DOWN)

    merge_resources(source=source, target=target, moderator=moderator)

    target.refresh_from_db()
    assert (target.upvotes, target.downvotes) == (3, 1)
    assert target.wilson_score == pytest.approx(wilson_lower_bound(3, 1))
    source.refresh_from_db()
    assert (source.upvotes, source.downvotes, source.wilson_score) == (0, 0, 0.0)


def test_merge_archives_the_source_and_points_it_at_the_target(moderator):
    source, target = ResourceFactory(title="MLOps zoomcamp (dup)"), ResourceFactory()

    merge_resources(source=source, target=target, moderator=moderator)

    source.refresh_from_db()
    assert source.status == Status.ARCHIVED
    assert source.merged_into == target
    assert list(target.merged_from.all()) == [source]
    event = ModerationEvent.objects.get()
    assert (event.action, event.resource, event.target) == (
        ModerationAction.MERGED,
        source,
        target,
    )
    assert event.resource_title == "MLOps zoomcamp (dup)"


def test_merge_moves_flags_and_closes_a_readers_second_open_flag(moderator):
    source, target = ResourceFactory(), ResourceFactory()
    reader, other = UserFactory(), UserFactory()
    duplicate = FlagFactory(resource=source, user=reader)
    FlagFactory(resource=target, user=reader)
    moved = FlagFactory(resource=source, user=other)

    merge_resources(source=source, target=target, moderator=moderator)

    assert Flag.objects.filter(resource=source).count() == 0
    moved.refresh_from_db()
    assert (moved.resource, moved.status) == (target, FlagStatus.OPEN)
    duplicate.refresh_from_db()
    assert (duplicate.resource, duplicate.status) == (target, FlagStatus.DISMISSED)
    assert Flag.objects.filter(resource=target, status=FlagStatus.OPEN).count() == 2


def test_merging_into_a_resource_that_absorbed_others_leaves_no_chains(moderator):
    first, second, third = ResourceFactory(), ResourceFactory(), ResourceFactory()
    merge_resources(source=first, target=second, moderator=moderator)
    merge_resources(source=second, target=third, moderator=moderator)
    first.refresh_from_db()
    assert first.merged_into == third


@pytest.mark.parametrize(
    "target_status", [Status.ARCHIVED, Status.REJECTED], ids=["archived", "rejected"]
)
def test_merge_refuses_a_target_that_is_not_public_or_pending(moderator, target_status):
    source, target = ResourceFactory(), ResourceFactory(status=target_status)
    VoteFactory(resource=source)
    with pytest.raises(ModerationError, match="merge into"):
        merge_resources(source=source, target=target, moderator=moderator)
    assert source.votes.count() == 1
    assert events() == []


def test_a_resource_cannot_be_merged_into_itself(moderator):
    resource = ResourceFactory()
    with pytest.raises(ModerationError, match="itself"):
        merge_resources(source=resource, target=resource, moderator=moderator)


def test_an_already_merged_resource_cannot_be_merged_again(moderator):
    source, target, other = ResourceFactory(), ResourceFactory(), ResourceFactory()
    merge_resources(source=source, target=target, moderator=moderator)
    with pytest.raises(ModerationError, match="already been merged"):
        merge_resources(source=source, target=other, moderator=moderator)


def test_a_merged_resource_cannot_be_approved_again(moderator):
    source, target = ResourceFactory(), ResourceFactory()
    merge_resources(source=source, target=target, moderator=moderator)
    with pytest.raises(ModerationError, match="merged"):
        approve_resource(resource=source, moderator=moderator)


# Flags


def test_dismissing_a_flag_closes_it_and_records_the_decision(moderator):
    flag = FlagFactory(reason=FlagReason.OUTDATED)

    dismiss_flag(flag=flag, moderator=moderator, reason="Still current in 2026")

    flag.refresh_from_db()
    assert (flag.status, flag.resolved_by) == (FlagStatus.DISMISSED, moderator)
    assert flag.resolved_at is not None
    assert flag.resource.status == Status.APPROVED
    event = ModerationEvent.objects.get()
    assert (event.action, event.flag, event.resource, event.reason) == (
        ModerationAction.FLAG_DISMISSED,
        flag,
        flag.resource,
        "Still current in 2026",
    )


def test_a_closed_flag_cannot_be_decided_again(moderator):
    flag = FlagFactory()
    dismiss_flag(flag=flag, moderator=moderator)
    with pytest.raises(ModerationError, match="already dismissed"):
        accept_flag(flag=flag, moderator=moderator, action="archive")
    flag.resource.refresh_from_db()
    assert flag.resource.status == Status.APPROVED
    assert events() == [ModerationAction.FLAG_DISMISSED]


def test_accepting_a_flag_and_archiving_records_both_decisions(moderator):
    flag = FlagFactory(reason=FlagReason.SPAM)

    accept_flag(flag=flag, moderator=moderator, action="archive")

    flag.refresh_from_db()
    flag.resource.refresh_from_db()
    assert flag.status == FlagStatus.ACCEPTED
    assert flag.resource.status == Status.ARCHIVED
    assert sorted(events()) == sorted([ModerationAction.ARCHIVED, ModerationAction.FLAG_ACCEPTED])
    assert ModerationEvent.objects.get(action=ModerationAction.ARCHIVED).reason == (
        "Reported: Spam or self-promotion."
    )


def test_accepting_a_second_flag_on_an_archived_resource_only_closes_the_flag(moderator):
    resource = ResourceFactory()
    first, second = FlagFactory(resource=resource), FlagFactory(resource=resource)
    accept_flag(flag=first, moderator=moderator, action="archive")
    accept_flag(flag=second, moderator=moderator, action="archive")
    assert events().count(ModerationAction.ARCHIVED) == 1
    assert events().count(ModerationAction.FLAG_ACCEPTED) == 2


def test_accepting_a_flag_and_marking_the_link_broken_keeps_the_resource_public(moderator):
    flag = FlagFactory(reason=FlagReason.BROKEN_LINK)

    accept_flag(flag=flag, moderator=moderator, action="mark_broken")

    resource = Resource.objects.get(pk=flag.resource_id)
    assert resource.link_broken is True
    assert resource.status == Status.APPROVED
    event = ModerationEvent.objects.get()
    assert (event.action, event.reason) == (
        ModerationAction.FLAG_ACCEPTED,
        "Marked the link as broken.",
    )


def test_accepting_a_flag_with_an_unknown_decision_is_refused(moderator):
    flag = FlagFactory()
    with pytest.raises(ModerationError, match="Unknown decision"):
        accept_flag(flag=flag, moderator=moderator, action="delete")
    flag.refresh_from_db()
    assert flag.status == FlagStatus.OPEN


# The record itself


def test_a_recorded_event_cannot_be_changed_or_deleted(moderator):
    approve_resource(resource=SuggestionFactory(), moderator=moderator)
    event = ModerationEvent.objects.get()
    event.reason = "rewritten history"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    assert ModerationEvent.objects.get().reason == ""


def test_events_outlive_the_resource_and_keep_its_title(moderator):
    suggestion = SuggestionFactory(title="Gone but logged")
    reject_resource(resource=suggestion, moderator=moderator, reason="Broken link")
    suggestion.delete()
    event = ModerationEvent.objects.get()
    assert event.resource is None
    assert event.resource_title == "Gone but logged"


def test_the_database_accepts_archived_and_refuses_unknown_statuses():
    resource = ResourceFactory()
    Resource.objects.filter(pk=resource.pk).update(status=Status.ARCHIVED)
    with pytest.raises(IntegrityError), transaction.atomic():
        Resource.objects.filter(pk=resource.pk).update(status="deleted")


def test_the_database_refuses_a_merged_resource_that_is_still_public():
    source, target = ResourceFactory(), ResourceFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Resource.objects.filter(pk=source.pk).update(merged_into=target)


def test_the_database_refuses_an_unknown_moderation_action():
    with pytest.raises(IntegrityError), transaction.atomic():
        ModerationEvent.objects.create(action="deleted", resource_title="x")


# Possible duplicates


def test_possible_duplicates_share_the_site_and_first_path_segment():
    resource = ResourceFactory(title="MLOps course", url="https://madewithml.com/courses/mlops/")
    same_path = ResourceFactory(
        title="Foundations", url="https://www.madewithml.com/courses/foundations/"
    )
    ResourceFactory(title="A blog post", url="https://madewithml.com/blog/post/")
    ResourceFactory(title="Another site", url="https://madewithml.community/courses/mlops/")

    found = find_possible_duplicates(resource)

    assert [dup.resource for dup in found] == [same_path]
    assert found[0].why == "same site and path"


def test_possible_duplicates_include_similar_titles_elsewhere():
    resource = ResourceFactory(
        title="Designing Machine Learning Systems", url="https://oreilly.com/library/dmls"
    )
    similar = ResourceFactory(
        title="Designing Machine-Learning Systems (2nd ed)", url="https://huyenchip.com/books/"
    )
    ResourceFactory(title="Introducing MLOps", url="https://example.org/introducing")

    found = find_possible_duplicates(resource)

    assert [dup.resource for dup in found] == [similar]
    assert found[0].why.startswith("similar title")


def test_finding_possible_duplicates_costs_a_fixed_number_of_queries(
    django_assert_max_num_queries,
):
    resource = ResourceFactory(title="Practical MLOps", url="https://example.org/books/mlops")
    for number in range(30):
        ResourceFactory(title=f"Practical MLOps volume {number}")
        ResourceFactory(url=f"https://example.org/books/other-{number}")
    with django_assert_max_num_queries(3):
        found = find_possible_duplicates(resource)
    assert len(found) == 10


def test_merge_gives_the_target_the_sources_tags_too(moderator):
    target = ResourceFactory(tags=["mlops", "serving"])
    source = ResourceFactory(tags=["serving", "kserve"])
    merge_resources(source=source, target=target, moderator=moderator)
    assert sorted(target.tags.names()) == ["kserve", "mlops", "serving"]
