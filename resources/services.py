"""State changes of the catalogue: new resources, suggestions, votes, flags and progress."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from resources.models import (
    Flag,
    FlagReason,
    FlagStatus,
    Progress,
    ProgressState,
    Resource,
    Status,
    Vote,
)
from resources.normalize import normalize_url
from resources.scoring import hot_score, wilson_lower_bound

NEW_ACCOUNT_AGE = timedelta(days=7)
NEW_ACCOUNT_PENDING_LIMIT = 3
DAILY_SUGGESTION_LIMIT = 10


class CommunityActionError(Exception):
    """A request the rules refuse; the message is shown to the user as it is."""


class DuplicateResource(CommunityActionError):
    def __init__(self, existing: Resource):
        self.existing = existing
        if existing.status == Status.APPROVED:
            message = "This link is already on the roadmap."
        elif existing.status == Status.PENDING:
            message = "This link has already been suggested and is waiting for review."
        else:
            message = "This link was suggested before and was not accepted."
        super().__init__(message)


class SuggestionLimitReached(CommunityActionError):
    pass


class NotAllowed(CommunityActionError):
    pass


# What a suggester may set; the admin and the content files may also mark a link broken.
SUGGESTION_FIELDS = (
    "title",
    "url",
    "resource_type",
    "section",
    "cost",
    "level",
    "provider",
    "description",
    "is_affiliated",
)
RESOURCE_FIELDS = (*SUGGESTION_FIELDS, "link_broken")


def _lock_user(user) -> None:
    """Serialise one user's submissions so that limits hold under concurrent requests."""
    list(get_user_model().objects.select_for_update().filter(pk=user.pk).values_list("pk"))


def _check_suggestion_limits(user) -> None:
    if user.is_staff:
        return
    now = timezone.now()
    counts = Resource.objects.filter(submitted_by=user).aggregate(
        pending=Count("id", filter=Q(status=Status.PENDING)),
        approved=Count("id", filter=Q(status=Status.APPROVED)),
        today=Count("id", filter=Q(created_at__gte=now - timedelta(days=1))),
    )
    is_new = user.date_joined > now - NEW_ACCOUNT_AGE and counts["approved"] == 0
    if is_new and counts["pending"] >= NEW_ACCOUNT_PENDING_LIMIT:
        raise SuggestionLimitReached(
            f"New accounts can have at most {NEW_ACCOUNT_PENDING_LIMIT} suggestions waiting for "
            "review. Once one is approved, or your account is a week old, you can add more."
        )
    if counts["today"] >= DAILY_SUGGESTION_LIMIT:
        raise SuggestionLimitReached(
            f"You have made {DAILY_SUGGESTION_LIMIT} suggestions in the last 24 hours, the most "
            "we accept in a day. Please come back tomorrow."
        )


def find_duplicates(
    normalized_urls: Iterable[str], *, exclude_pk: int | None = None
) -> dict[str, Resource]:
    """The resources that already hold these normalised links, keyed by link.

    This is what counts as a duplicate everywhere: the same link after resources.normalize.
    """
    duplicates = Resource.objects.filter(normalized_url__in=set(normalized_urls))
    if exclude_pk is not None:
        duplicates = duplicates.exclude(pk=exclude_pk)
    return {resource.normalized_url: resource for resource in duplicates}


def _refuse_duplicate(normalized_url: str, *, exclude_pk: int | None = None) -> None:
    if existing := find_duplicates([normalized_url], exclude_pk=exclude_pk).get(normalized_url):
        raise DuplicateResource(existing)


def _save_or_report_duplicate(resource: Resource) -> None:
    try:
        with transaction.atomic():
            resource.save()
    except IntegrityError:
        # A concurrent request with the same link won the race for the unique index.
        url = resource.normalized_url
        existing = find_duplicates([url], exclude_pk=resource.pk).get(url)
        if existing is None:
            raise
        raise DuplicateResource(existing) from None


def create_resource(
    *,
    data: Mapping[str, Any],
    status: str,
    submitted_by: AbstractBaseUser | None = None,
) -> Resource:
    """Create a resource from cleaned fields (RESOURCE_FIELDS and "tags") in any status.

    Every way a resource is born comes here: suggestions, the content loader, the Markdown
    importer and the admin. DuplicateResource when its link is known already; InvalidURL
    when the link cannot be normalised.
    """
    unknown = set(data) - {*RESOURCE_FIELDS, "tags"}
    if unknown:
        raise TypeError(f"create_resource() got unknown fields: {', '.join(sorted(unknown))}")
    if status not in Status.values:
        raise ValueError(f"{status!r} is not a resource status")
    normalized = normalize_url(data["url"])
    with transaction.atomic():
        _refuse_duplicate(normalized)
        resource = Resource(
            **{name: data[name] for name in RESOURCE_FIELDS if name in data},
            normalized_url=normalized,
            status=status,
            submitted_by=submitted_by,
        )
        if status == Status.APPROVED:
            resource.approved_at = timezone.now()
            resource.hot_score = hot_score(0, 0, resource.approved_at)
        _save_or_report_duplicate(resource)
        resource.tags.set(data.get("tags") or [])
    return resource


def submit_resource(*, user, data: dict) -> Resource:
    """Create a pending suggestion from cleaned form data, within the suggestion limits."""
    with transaction.atomic():
        _lock_user(user)
        # A known link is refused before the limits, so the message says what matters.
        _refuse_duplicate(normalize_url(data["url"]))
        _check_suggestion_limits(user)
        fields = {name: data[name] for name in (*SUGGESTION_FIELDS, "tags") if name in data}
        return create_resource(data=fields, status=Status.PENDING, submitted_by=user)


def update_suggestion(*, user, resource: Resource, data: dict) -> Resource:
    """Let a submitter correct their suggestion while it waits for review."""
    normalized = normalize_url(data["url"])
    with transaction.atomic():
        resource = Resource.objects.select_for_update().get(pk=resource.pk)
        if resource.submitted_by_id != user.pk or resource.status != Status.PENDING:
            raise NotAllowed("Only your own suggestions can be edited, and only while pending.")
        _refuse_duplicate(normalized, exclude_pk=resource.pk)
        for name in SUGGESTION_FIELDS:
            if name in data:
                setattr(resource, name, data[name])
        resource.normalized_url = normalized
        _save_or_report_duplicate(resource)
        resource.tags.set(data.get("tags") or [])
    return resource


def withdraw_suggestion(*, user, resource: Resource) -> None:
    """Remove a pending suggestion at its submitter's request."""
    with transaction.atomic():
        deleted, _ = Resource.objects.filter(
            pk=resource.pk, submitted_by=user, status=Status.PENDING
        ).delete()
    if not deleted:
        raise NotAllowed("Only your own suggestions can be withdrawn, and only while pending.")


@dataclass
class VoteResult:
    resource: Resource
    my_vote: int  # +1, -1, or 0 when the vote was taken back


def recount_votes(resource: Resource) -> None:
    """Rewrite a resource's tallies and scores from its Vote rows (repairs; votes move them)."""
    tallies = Vote.objects.filter(resource_id=resource.pk).aggregate(
        upvotes=Count("id", filter=Q(value=Vote.UP)),
        downvotes=Count("id", filter=Q(value=Vote.DOWN)),
    )
    tallies["wilson_score"] = wilson_lower_bound(tallies["upvotes"], tallies["downvotes"])
    tallies["hot_score"] = hot_score(tallies["upvotes"], tallies["downvotes"], resource.approved_at)
    Resource.objects.filter(pk=resource.pk).update(**tallies)
    for name, value in tallies.items():
        setattr(resource, name, value)


# What a vote reads of the resource (the rules, the scores, the vote widget) and the reader's
# vote on it, in one statement. Written out because the ORM's equivalent (only(), a Subquery
# annotation, get()) costs three times the Python time, a sixth of a whole vote.
VOTE_FIELDS = ("id", "title", "status", "submitted_by_id", "approved_at", "upvotes", "downvotes")
VOTE_READ = (
    f"SELECT {', '.join(VOTE_FIELDS)}, (SELECT value FROM {Vote._meta.db_table}"  # noqa: S608
    f" WHERE user_id = %s AND resource_id = {Resource._meta.db_table}.id) AS old_vote"
    f" FROM {Resource._meta.db_table} WHERE id = %s"
)
# Each failed attempt means another vote on the same resource went through, so a few suffice.
VOTE_ATTEMPTS = 50


def cast_vote(*, user, resource: Resource | int, value: int) -> VoteResult:
    """Vote up (+1) or down (-1); the same vote again takes it back, the other switches.

    `resource` is a Resource or its id; Resource.DoesNotExist when there is none. No lock and
    no recount: the vote row and the tallies each change by one compare-and-set statement,
    tried again when a concurrent vote changed what this one read.
    """
    if value not in (Vote.UP, Vote.DOWN):
        raise NotAllowed("A vote is either up or down.")
    pk = resource.pk if isinstance(resource, Resource) else resource
    for _attempt in range(VOTE_ATTEMPTS):
        try:
            with transaction.atomic():
                result = _try_vote(user=user, pk=pk, value=value)
        except IntegrityError:  # the same user's first vote on it landed a moment earlier
            continue
        if result is not None:
            return result
    raise NotAllowed("This resource is taking many votes at once; please try again.")


def _try_vote(*, user, pk: int, value: int) -> VoteResult | None:
    """One attempt at a vote: None when a concurrent vote by the same user came first."""
    found = list(Resource.objects.raw(VOTE_READ, [user.pk, int(pk)]))
    if not found:
        raise Resource.DoesNotExist("No such resource.")
    current = found[0]
    if current.status != Status.APPROVED:
        raise NotAllowed("Only resources on the roadmap can be voted on.")
    if current.submitted_by_id == user.pk:
        raise NotAllowed("You cannot vote on your own suggestion.")
    old = current.old_vote or 0
    new = 0 if old == value else value
    # The write names the value it read, so that it does nothing if that changed meanwhile.
    mine = Vote.objects.filter(user_id=user.pk, resource_id=pk, value=old)
    if not old:
        Vote.objects.create(user_id=user.pk, resource_id=pk, value=new)  # IntegrityError if raced
    elif not new:
        if not mine.delete()[0]:
            return None
    elif not mine.update(value=new, updated_at=timezone.now()):
        return None
    up = (new == Vote.UP) - (old == Vote.UP)
    down = (new == Vote.DOWN) - (old == Vote.DOWN)
    while not _move_tallies(current, up=up, down=down):
        current.refresh_from_db(fields=["upvotes", "downvotes"])
    return VoteResult(resource=current, my_vote=new)


def _move_tallies(resource: Resource, *, up: int, down: int) -> bool:
    """Add `up` and `down` to the tallies and set the scores they give, in one UPDATE that
    applies only while the tallies are still those `resource` holds; False when they are not."""
    upvotes, downvotes = resource.upvotes + up, resource.downvotes + down
    scores = {
        "wilson_score": wilson_lower_bound(upvotes, downvotes),
        "hot_score": hot_score(upvotes, downvotes, resource.approved_at),
    }
    moved = Resource.objects.filter(
        pk=resource.pk, upvotes=resource.upvotes, downvotes=resource.downvotes
    ).update(upvotes=F("upvotes") + up, downvotes=F("downvotes") + down, **scores)
    if moved:
        resource.upvotes, resource.downvotes = upvotes, downvotes
        resource.wilson_score, resource.hot_score = scores["wilson_score"], scores["hot_score"]
    return bool(moved)


def flag_resource(*, user, resource: Resource, reason: str, note: str = "") -> Flag:
    """Report a problem with a public resource to the moderators."""
    note = note.strip()
    if reason not in FlagReason.values:
        raise NotAllowed("Choose a reason from the list.")
    if reason == FlagReason.OTHER and not note:
        raise NotAllowed("Please say what is wrong when you choose “Other”.")
    with transaction.atomic():
        locked = Resource.objects.select_for_update().get(pk=resource.pk)
        if locked.status != Status.APPROVED:
            raise NotAllowed("Only resources on the roadmap can be flagged.")
        if Flag.objects.filter(user=user, resource=locked, status=FlagStatus.OPEN).exists():
            raise NotAllowed("You have already flagged this resource; moderators will look at it.")
        try:
            with transaction.atomic():
                return Flag.objects.create(user=user, resource=locked, reason=reason, note=note)
        except IntegrityError:
            raise NotAllowed(
                "You have already flagged this resource; moderators will look at it."
            ) from None


def set_progress(*, user, resource: Resource, state: str | None) -> Progress | None:
    """Record where the user stands with a resource; None forgets it (any resource, any time).

    Only resources on the roadmap can be marked, so that nobody tracks a pending suggestion.
    """
    if state is None:
        with transaction.atomic():
            Progress.objects.filter(user=user, resource_id=resource.pk).delete()
        return None
    if state not in ProgressState.values:
        raise NotAllowed("Choose done, in progress or saved.")
    with transaction.atomic():
        if not Resource.objects.approved().filter(pk=resource.pk).exists():
            raise NotAllowed("Only resources on the roadmap can be tracked.")
        # update_or_create retries the lookup when a concurrent request inserted the row first.
        progress, _ = Progress.objects.update_or_create(
            user=user, resource_id=resource.pk, defaults={"state": state}
        )
    return progress
