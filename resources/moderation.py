"""Moderators' decisions. Each changes resources or flags and records a ModerationEvent.

The admin, management commands and anything else that moderates call these functions; none of
them repeats the rules. A decision that does not apply to the row as it is now (approving an
approved resource, rejecting an archived one) raises ModerationError and records nothing.
"""

import difflib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import Literal
from urllib.parse import urlsplit

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, Group, Permission
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.utils import timezone

from resources.edits import (
    FIELD_LABELS,
    current_values,
    history_changes,
    section_titles_for,
    stale_fields,
)
from resources.models import (
    EDITABLE_FIELDS,
    EditProposal,
    Flag,
    FlagStatus,
    ImportBatch,
    ImportStatus,
    ModerationAction,
    ModerationEvent,
    Progress,
    ProposalStatus,
    Resource,
    ResourceLink,
    Status,
    Vote,
    section_model,
)
from resources.normalize import InvalidURL, normalize_url
from resources.services import find_duplicates, recount_votes

logger = logging.getLogger(__name__)

MODERATORS_GROUP = "Moderators"
# What a moderator may do in the admin: nothing about users, groups or permissions.
# resources/migrations/0003_moderators_group.py created the group with this list, less what
# 0010_edit_proposals.py added.
MODERATOR_PERMISSIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("resources", "resource"): ("view", "change"),
    ("resources", "flag"): ("view", "change"),
    ("resources", "moderationevent"): ("view",),
    ("resources", "editproposal"): ("view", "change"),
    ("resources", "importbatch"): ("view", "change"),
    ("roadmap", "section"): ("view", "add", "change"),
    ("taggit", "tag"): ("view", "add", "change", "delete"),
    ("taggit", "taggeditem"): ("view",),
}

REJECTION_REASONS = (
    "Duplicate of an existing resource",
    "Not about MLOps",
    "Paywalled or not as described",
    "Low quality or spam",
    "Broken link",
)

FlagDecision = Literal["archive", "mark_broken"]
FLAG_DECISIONS: dict[str, str] = {
    "archive": "Archived the resource",
    "mark_broken": "Marked the link as broken",
}

MAX_TITLE_CANDIDATES = 1000
TITLE_SIMILARITY = 0.8


class ModerationError(ValueError):
    """A decision that does not apply to the row as it is now; the message is for moderators."""


# Decisions on resources


def approve_resource(*, resource: Resource, moderator: AbstractBaseUser) -> Resource:
    """Publish a suggestion (or restore an archived resource) and tell the submitter."""
    with transaction.atomic():
        locked = _lock_resource(resource)
        if locked.status == Status.APPROVED:
            raise ModerationError(f"“{locked.title}” is already approved.")
        if locked.merged_into_id is not None:
            raise ModerationError(
                f"“{locked.title}” was merged into another resource and cannot be approved."
            )
        was_suggestion = locked.status in (Status.PENDING, Status.REJECTED)
        locked.status = Status.APPROVED
        locked.approved_at = timezone.now()
        locked.rejection_reason = ""
        _save(locked, resource, ["status", "approved_at", "rejection_reason"])
        recount_votes(locked)  # the trending score counts from the approval date
        _copy_fields(locked, resource, ["upvotes", "downvotes", "wilson_score", "hot_score"])
        _record(action=ModerationAction.APPROVED, resource=locked, moderator=moderator)
        if was_suggestion:
            _notify_submitter(locked, "approved")
    return locked


def reject_resource(*, resource: Resource, moderator: AbstractBaseUser, reason: str) -> Resource:
    """Turn down a pending suggestion with a reason the submitter is sent and can read."""
    reason = reason.strip()
    if not reason:
        raise ModerationError("A suggestion can only be rejected with a reason.")
    with transaction.atomic():
        locked = _lock_resource(resource)
        if locked.status == Status.REJECTED:
            raise ModerationError(f"“{locked.title}” is already rejected.")
        if locked.status != Status.PENDING:
            raise ModerationError(
                f"“{locked.title}” is {locked.get_status_display().lower()}: only pending "
                "suggestions can be rejected (archive a published resource instead)."
            )
        locked.status = Status.REJECTED
        locked.rejection_reason = reason
        _save(locked, resource, ["status", "rejection_reason"])
        _record(
            action=ModerationAction.REJECTED, resource=locked, moderator=moderator, reason=reason
        )
        _notify_submitter(locked, "rejected")
    return locked


def archive_resource(
    *, resource: Resource, moderator: AbstractBaseUser, reason: str = ""
) -> Resource:
    """Take a published resource off the roadmap, keeping its votes and history."""
    with transaction.atomic():
        locked = _lock_resource(resource)
        if locked.status == Status.ARCHIVED:
            raise ModerationError(f"“{locked.title}” is already archived.")
        if locked.status != Status.APPROVED:
            raise ModerationError(
                f"“{locked.title}” is {locked.get_status_display().lower()}: only approved "
                "resources can be archived (reject a pending suggestion instead)."
            )
        locked.status = Status.ARCHIVED
        _save(locked, resource, ["status"])
        _record(
            action=ModerationAction.ARCHIVED,
            resource=locked,
            moderator=moderator,
            reason=reason.strip(),
        )
    return locked


def merge_resources(*, source: Resource, target: Resource, moderator: AbstractBaseUser) -> Resource:
    """Fold a duplicate into the resource that stays: votes and flags move, the source is
    archived and points at the target. A user who voted on both keeps the target's vote."""
    if source.pk == target.pk:
        raise ModerationError("A resource cannot be merged into itself.")
    with transaction.atomic():
        # Locking both rows in primary-key order keeps two crossing merges from deadlocking.
        locked = {
            row.pk: row
            for row in Resource.objects.select_for_update()
            .filter(pk__in=[source.pk, target.pk])
            .order_by("pk")
        }
        src, dst = locked[source.pk], locked[target.pk]
        if src.merged_into_id is not None:
            raise ModerationError(f"“{src.title}” has already been merged.")
        if dst.merged_into_id is not None or dst.status not in (Status.APPROVED, Status.PENDING):
            raise ModerationError(
                f"“{dst.title}” is {dst.get_status_display().lower()}: merge into an approved "
                "or pending resource."
            )

        list(Vote.objects.select_for_update().filter(resource__in=[src, dst]))
        target_voters = Vote.objects.filter(resource=dst).values("user_id")
        Vote.objects.filter(resource=src, user_id__in=target_voters).delete()
        Vote.objects.filter(resource=src).update(resource=dst)
        # Readers' progress follows too, unless they already track the target.
        trackers = Progress.objects.filter(resource=dst).values("user_id")
        Progress.objects.filter(resource=src, user_id__in=trackers).delete()
        Progress.objects.filter(resource=src).update(resource=dst)

        list(Flag.objects.select_for_update().filter(resource__in=[src, dst]))
        # One open flag per user and resource: a reader who flagged both keeps the target's.
        target_flaggers = Flag.objects.filter(
            resource=dst, status=FlagStatus.OPEN, user__isnull=False
        ).values("user_id")
        Flag.objects.filter(
            resource=src, status=FlagStatus.OPEN, user_id__in=target_flaggers
        ).update(status=FlagStatus.DISMISSED, resolved_by=moderator, resolved_at=timezone.now())
        Flag.objects.filter(resource=src).update(resource=dst)

        # Earlier duplicates of the source now point straight at the target: no chains.
        Resource.objects.filter(merged_into=src).update(merged_into=dst)
        # The target keeps its tags and gains the source's: readers found it under both.
        dst.tags.add(*src.tags.all())

        src.status = Status.ARCHIVED
        src.merged_into = dst
        src.upvotes = src.downvotes = 0
        src.wilson_score = 0.0
        _save(src, source, ["status", "merged_into", "upvotes", "downvotes", "wilson_score"])
        recount_votes(dst)
        _copy_fields(dst, target, ["upvotes", "downvotes", "wilson_score", "hot_score"])
        _record(
            action=ModerationAction.MERGED,
            resource=src,
            moderator=moderator,
            target=dst,
            reason=f"Duplicate of “{dst.title}”.",
        )
    return dst


# Decisions on flags


def dismiss_flag(*, flag: Flag, moderator: AbstractBaseUser, reason: str = "") -> Flag:
    """Close a reader's report without changing the resource."""
    with transaction.atomic():
        locked = _lock_open_flag(flag)
        _resolve(locked, flag, FlagStatus.DISMISSED, moderator)
        _record(
            action=ModerationAction.FLAG_DISMISSED,
            resource=locked.resource,
            moderator=moderator,
            flag=locked,
            reason=reason.strip(),
        )
    return locked


def accept_flag(*, flag: Flag, moderator: AbstractBaseUser, action: FlagDecision) -> Flag:
    """Agree with a reader's report and act on it: archive the resource or mark it broken."""
    if action not in FLAG_DECISIONS:
        raise ModerationError(f"Unknown decision {action!r}: use one of {sorted(FLAG_DECISIONS)}.")
    with transaction.atomic():
        locked = _lock_open_flag(flag)
        resource = _lock_resource(locked.resource)
        if action == "archive" and resource.status != Status.ARCHIVED:
            archive_resource(
                resource=resource,
                moderator=moderator,
                reason=f"Reported: {locked.get_reason_display()}.",
            )
        elif action == "mark_broken" and not resource.link_broken:
            resource.link_broken = True
            resource.save(update_fields=["link_broken", "updated_at"])
        _resolve(locked, flag, FlagStatus.ACCEPTED, moderator)
        _record(
            action=ModerationAction.FLAG_ACCEPTED,
            resource=resource,
            moderator=moderator,
            flag=locked,
            reason=f"{FLAG_DECISIONS[action]}.",
        )
    return locked


# Imports


def withdraw_import_batch(*, batch: ImportBatch, moderator: AbstractBaseUser) -> int:
    """Take back an import that was a mistake: its pending resources go, and the sections it
    created that are left empty; nothing approved (or otherwise decided) is touched. Returns
    how many resources were removed."""
    with transaction.atomic():
        locked = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if locked.status == ImportStatus.RUNNING:
            raise ModerationError(f"Import {locked} is still running; withdraw it when it ends.")
        pending = Resource.objects.filter(import_batch=locked, status=Status.PENDING)
        removed = pending.count()
        pending.delete()
        sections = section_model().objects.filter(import_batch=locked, resources__isnull=True)
        while True:  # sub-sections first: a section is protected while it has children
            deleted, _ = sections.filter(children__isnull=True).delete()
            if not deleted:
                break
        locked.status = ImportStatus.WITHDRAWN
        locked.withdrawn_at = timezone.now()
        locked.withdrawn_by = moderator
        locked.save(update_fields=["status", "withdrawn_at", "withdrawn_by"])
    return removed


def keep_alternate_link(
    *, batch: ImportBatch, line: int, moderator: AbstractBaseUser
) -> tuple[ResourceLink, bool]:
    """Keep an import's "same as #N" line as an alternate link of resource #N, and mark the
    line as kept. Returns (link, created): pressing again creates nothing."""
    with transaction.atomic():
        locked = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        row = next(
            (
                row
                for row in locked.report
                if row.get("line") == line and row.get("same_as") and row.get("url")
            ),
            None,
        )
        if row is None:
            raise ModerationError(
                f'Line {line} of import {locked} is not a "same as #N" line with a link.'
            )
        if row.get("kept_link"):
            link = ResourceLink.objects.filter(pk=row["kept_link"]).first()
            if link is not None:
                return link, False
        resource = Resource.objects.filter(pk=row["same_as"]).first()
        if resource is None:
            raise ModerationError(f"Resource #{row['same_as']} no longer exists.")
        try:
            normalized = normalize_url(row["url"])
        except InvalidURL as error:
            raise ModerationError(
                f"The link of line {line} is not a web address: {error}"
            ) from None
        existing = find_duplicates([normalized]).get(normalized)
        if existing is not None and existing.pk != resource.pk:
            raise ModerationError(f"{row['url']} is already the link of #{existing.pk}.")
        link = ResourceLink.objects.filter(normalized_url=normalized).first()
        created = link is None
        if created:
            if existing is not None:  # the resource's own link: nothing to keep
                raise ModerationError(f"{row['url']} is already the link of #{resource.pk}.")
            link = ResourceLink.objects.create(
                resource=resource,
                url=row["url"][:2000],
                normalized_url=normalized,
                label=(row.get("title") or "")[:200],
                added_by=moderator,
                import_batch=locked,
                source_line=line,
            )
        row["kept_link"] = link.pk
        locked.save(update_fields=["report"])
    return link, created


# Who moderates


def ensure_moderators_group() -> Group:
    """The Moderators group, created with its permissions if it is missing."""
    group, created = Group.objects.get_or_create(name=MODERATORS_GROUP)
    if created:
        group.permissions.set(moderator_permissions())
    return group


def moderator_permissions() -> list[Permission]:
    wanted = Q(pk__in=[])
    for (app_label, model), verbs in MODERATOR_PERMISSIONS.items():
        wanted |= Q(
            content_type__app_label=app_label,
            content_type__model=model,
            codename__in=[f"{verb}_{model}" for verb in verbs],
        )
    return list(Permission.objects.filter(wanted))


def grant_moderator(*, user: AbstractBaseUser) -> None:
    """Make a user with a verified email address staff and a member of Moderators."""
    if not user.is_active:
        raise ModerationError(f"{user.get_username()} is inactive and cannot moderate.")
    if not EmailAddress.objects.filter(user=user, verified=True).exists():
        raise ModerationError(
            f"{user.get_username()} has no verified email address; only verified users "
            "can moderate."
        )
    with transaction.atomic():
        user.groups.add(ensure_moderators_group())
        if not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])


def revoke_moderator(*, user: AbstractBaseUser) -> None:
    """Remove a user from Moderators; they stay staff only as a superuser or via other groups."""
    with transaction.atomic():
        user.groups.remove(*Group.objects.filter(name=MODERATORS_GROUP))
        if user.is_staff and not user.is_superuser and not user.groups.exists():
            user.is_staff = False
            user.save(update_fields=["is_staff"])


# What a moderator reads before deciding


@dataclass(frozen=True)
class PossibleDuplicate:
    resource: Resource
    why: str


def find_possible_duplicates(resource: Resource, *, limit: int = 10) -> list[PossibleDuplicate]:
    """Other resources on the same site under the same first path segment, or with a
    similar title. Both searches are bounded, so this costs two queries at most."""
    found: dict[int, PossibleDuplicate] = {}
    others = Resource.objects.exclude(pk=resource.pk).only(
        "pk", "title", "url", "normalized_url", "status"
    )
    host, segment = _host_and_first_segment(resource.normalized_url)
    if host:
        prefix = f"https://{host}/{segment}" if segment else f"https://{host}"
        for other in others.filter(normalized_url__startswith=prefix).order_by("pk")[:50]:
            if _host_and_first_segment(other.normalized_url) == (host, segment):
                found[other.pk] = PossibleDuplicate(other, "same site and path")
    title = resource.title.casefold()
    matcher = difflib.SequenceMatcher(a=title)
    similar: list[tuple[float, int, str]] = []
    for pk, other_title in others.order_by("-created_at", "-pk").values_list("pk", "title")[
        :MAX_TITLE_CANDIDATES
    ]:
        matcher.set_seq2(other_title.casefold())
        if matcher.real_quick_ratio() > TITLE_SIMILARITY and matcher.ratio() > TITLE_SIMILARITY:
            similar.append((matcher.ratio(), pk, other_title))
    similar.sort(reverse=True)
    title_pks = [pk for _, pk, _ in similar[:limit] if pk not in found]
    by_pk = {other.pk: other for other in others.filter(pk__in=title_pks)} if title_pks else {}
    for ratio, pk, _ in similar[:limit]:
        if pk in by_pk:
            found[pk] = PossibleDuplicate(by_pk[pk], f"similar title ({ratio:.0%})")
    return list(found.values())[:limit]


def submitter_record(user: AbstractBaseUser | None) -> dict[str, int]:
    """How a submitter's suggestions were decided so far, counted in one query."""
    if user is None:
        return {}
    return Resource.objects.filter(submitted_by=user).aggregate(
        approved=Count("pk", filter=Q(status=Status.APPROVED)),
        rejected=Count("pk", filter=Q(status=Status.REJECTED)),
        pending=Count("pk", filter=Q(status=Status.PENDING)),
        archived=Count("pk", filter=Q(status=Status.ARCHIVED)),
    )


def queue_counts() -> dict[str, int]:
    """What waits for moderators: pending suggestions, open flags and suggested edits."""
    return {
        "pending": Resource.objects.filter(status=Status.PENDING).count(),
        "open_flags": Flag.objects.filter(status=FlagStatus.OPEN).count(),
        "open_edits": EditProposal.objects.open().count(),
    }


# Helpers


def _lock_resource(resource: Resource) -> Resource:
    return Resource.objects.select_for_update().get(pk=resource.pk)


def _lock_open_flag(flag: Flag) -> Flag:
    locked = Flag.objects.select_for_update().get(pk=flag.pk)
    if locked.status != FlagStatus.OPEN:
        raise ModerationError(
            f"This report about “{locked.resource.title}” is already "
            f"{locked.get_status_display().lower()}."
        )
    return locked


def _resolve(locked: Flag, original: Flag, status: str, moderator: AbstractBaseUser) -> None:
    locked.status = status
    locked.resolved_by = moderator
    locked.resolved_at = timezone.now()
    locked.save(update_fields=["status", "resolved_by", "resolved_at"])
    _copy_fields(locked, original, ["status", "resolved_by_id", "resolved_at"])


def _save(locked: Resource, original: Resource, fields: list[str]) -> None:
    """Save the locked row and bring the caller's instance up to date with it."""
    locked.save(update_fields=[*fields, "updated_at"])
    if original is not locked:
        _copy_fields(locked, original, [*fields, "updated_at"])


def _copy_fields(source: object, destination: object, fields: list[str]) -> None:
    if source is destination:
        return
    for name in fields:
        setattr(destination, name, getattr(source, name))


def _record(
    *,
    action: str,
    resource: Resource,
    moderator: AbstractBaseUser,
    reason: str = "",
    target: Resource | None = None,
    flag: Flag | None = None,
    proposal: EditProposal | None = None,
) -> ModerationEvent:
    return ModerationEvent.objects.create(
        action=action,
        resource=resource,
        resource_title=resource.title[:200],
        target=target,
        flag=flag,
        moderator=moderator,
        reason=reason,
        proposal=proposal,
    )


def _notify_submitter(resource: Resource, decision: Literal["approved", "rejected"]) -> None:
    """Email the submitter once the decision is committed; skip when there is no address."""
    submitter = resource.submitted_by
    if submitter is None or not submitter.email:
        return
    context = {
        "resource": resource,
        "submitter": submitter,
        "site_name": settings.SITE_NAME,
        "site_url": getattr(settings, "SITE_URL", "http://127.0.0.1:8000").rstrip("/"),
    }
    subject = render_to_string(f"resources/email/{decision}_subject.txt", context)
    body = render_to_string(f"resources/email/{decision}.txt", context)
    transaction.on_commit(
        partial(send_mail, " ".join(subject.split()), body, None, [submitter.email]),
        robust=True,
    )


def _host_and_first_segment(normalized_url: str) -> tuple[str, str]:
    parts = urlsplit(normalized_url)
    return parts.netloc, parts.path.strip("/").split("/", 1)[0]


# Decisions on suggested edits


def accept_proposal(
    *,
    proposal: EditProposal,
    moderator: AbstractBaseUser,
    fields: Iterable[str] | None = None,
) -> EditProposal:
    """Apply a suggested edit, all of it or the `fields` chosen, in one transaction; credit
    and tell the proposer. A field changed since the proposal was made (by another accepted
    edit) is never applied over the newer value: ModerationError names it."""
    with transaction.atomic():
        # The resource first, as every decision on it does: two acceptances of proposals on
        # one resource run one after the other, and the second sees the first's changes.
        resource = _lock_resource(proposal.resource)
        locked = EditProposal.objects.select_for_update().get(pk=proposal.pk)
        if not locked.is_open:
            raise ModerationError(
                f"This edit of “{resource.title}” is already {locked.get_status_display().lower()}."
            )
        if resource.status != Status.APPROVED:
            raise ModerationError(
                f"“{resource.title}” is {resource.get_status_display().lower()}: only edits of "
                "resources on the roadmap can be accepted."
            )
        chosen = [name for name in EDITABLE_FIELDS if name in locked.changes]
        if fields is not None:
            wanted = set(fields)
            if unknown := wanted - set(chosen):
                raise ModerationError(
                    f"The edit does not change {', '.join(sorted(unknown))}; choose among "
                    f"{', '.join(FIELD_LABELS[name].lower() for name in chosen)}."
                )
            chosen = [name for name in chosen if name in wanted]
        if not chosen:
            raise ModerationError("Choose at least one field to accept, or decline the edit.")
        if stale := [name for name in stale_fields(locked, resource) if name in chosen]:
            names = ", ".join(FIELD_LABELS[name].lower() for name in stale)
            raise ModerationError(
                f"{names.capitalize()} of “{resource.title}” changed since this edit was "
                "proposed; accept the other fields, or decline it."
            )
        before = current_values(resource, chosen)
        applied = _apply_changes(resource, proposal.resource, locked.changes, chosen)
        locked.applied = {name: [before[name], locked.changes[name]] for name in applied}
        locked.status = (
            ProposalStatus.ACCEPTED
            if len(applied) == len(locked.changes)
            else ProposalStatus.PARTLY_ACCEPTED
        )
        locked.decided_by = moderator
        locked.decided_at = timezone.now()
        locked.save(update_fields=["applied", "status", "decided_by", "decided_at"])
        flag = locked.flag
        if flag is not None and flag.status == FlagStatus.OPEN:
            _resolve(flag, flag, FlagStatus.ACCEPTED, moderator)
        _record(
            action=ModerationAction.EDIT_ACCEPTED,
            resource=resource,
            moderator=moderator,
            reason="Changed " + ", ".join(FIELD_LABELS[name].lower() for name in applied) + ".",
            flag=flag,
            proposal=locked,
        )
        _notify_proposer(locked, resource, "edit_accepted")
    _copy_fields(locked, proposal, ["applied", "status", "decided_by", "decided_at"])
    return locked


def decline_proposal(
    *, proposal: EditProposal, moderator: AbstractBaseUser, reason: str
) -> EditProposal:
    """Turn down a suggested edit with a reason the proposer is sent."""
    reason = reason.strip()
    if not reason:
        raise ModerationError("A suggested edit can only be declined with a reason.")
    with transaction.atomic():
        resource = _lock_resource(proposal.resource)
        locked = EditProposal.objects.select_for_update().get(pk=proposal.pk)
        if not locked.is_open:
            raise ModerationError(
                f"This edit of “{resource.title}” is already {locked.get_status_display().lower()}."
            )
        locked.status = ProposalStatus.DECLINED
        locked.decline_reason = reason
        locked.decided_by = moderator
        locked.decided_at = timezone.now()
        locked.save(update_fields=["status", "decline_reason", "decided_by", "decided_at"])
        _record(
            action=ModerationAction.EDIT_DECLINED,
            resource=resource,
            moderator=moderator,
            reason=reason,
            flag=locked.flag,
            proposal=locked,
        )
        _notify_proposer(locked, resource, "edit_declined")
    _copy_fields(locked, proposal, ["status", "decline_reason", "decided_by", "decided_at"])
    return locked


def _apply_changes(
    resource: Resource, original: Resource, changes: dict, fields: list[str]
) -> list[str]:
    """Set the chosen fields on the locked resource and save it; a new link is normalised and
    refused when another resource holds it."""
    plain = [name for name in fields if name not in ("tags", "section")]
    for name in plain:
        setattr(resource, name, changes[name])
    saved = list(plain)
    if "section" in fields:
        resource.section_id = changes["section"]
        saved.append("section")
    if "url" in fields:
        resource.normalized_url = normalize_url(changes["url"])
        if existing := find_duplicates([resource.normalized_url], exclude_pk=resource.pk).get(
            resource.normalized_url
        ):
            raise ModerationError(
                f"The new link is already held by “{existing.title}” "
                f"({existing.get_status_display().lower()}); merge the two instead."
            )
        saved.append("normalized_url")
    if saved:
        try:
            with transaction.atomic():
                _save(resource, original, saved)
        except IntegrityError:
            raise ModerationError(
                "The change could not be saved: its new link was just taken by another resource, "
                "or its section removed. Reload the page and decide again."
            ) from None
    if "tags" in fields:
        resource.tags.set(changes["tags"])
    return fields


def _notify_proposer(
    proposal: EditProposal, resource: Resource, decision: Literal["edit_accepted", "edit_declined"]
) -> None:
    """E-mail the proposer once the decision is committed; skip when there is no address."""
    proposer = proposal.proposer
    if proposer is None or not proposer.email:
        return
    section_titles = section_titles_for([proposal])
    context = {
        "proposal": proposal,
        "resource": resource,
        "proposer": proposer,
        "changes": history_changes(proposal, section_titles),
        "site_name": settings.SITE_NAME,
        "site_url": getattr(settings, "SITE_URL", "http://127.0.0.1:8000").rstrip("/"),
    }
    subject = render_to_string(f"resources/email/{decision}_subject.txt", context)
    body = render_to_string(f"resources/email/{decision}.txt", context)
    transaction.on_commit(
        partial(send_mail, " ".join(subject.split()), body, None, [proposer.email]),
        robust=True,
    )
