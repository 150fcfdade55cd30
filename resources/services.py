"""State changes of the catalogue: new resources, suggestions, votes, flags and progress."""

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, FilteredRelation, Q
from django.utils import timezone
from django.utils.text import slugify
from taggit.models import Tag, TaggedItem

from resources.edits import changed_fields, current_values
from resources.models import (
    EDITABLE_FIELDS,
    EditProposal,
    Flag,
    FlagReason,
    FlagStatus,
    Progress,
    ProgressState,
    ProposalStatus,
    Resource,
    Status,
    Vote,
)
from resources.normalize import (
    MIN_KEY_LENGTH,
    fold_name,
    normalize_url,
    project_key,
    same_project_keys,
    trigrams,
)
from resources.scoring import hot_score, wilson_lower_bound
from resources.tags import canonical_tag, canonical_tags

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
            # Its title, never a link: the reader may not see a pending suggestion's page.
            message = (
                f"This link has already been suggested as “{existing.title}” and is waiting "
                "for review."
            )
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
# What an import records beside them: where the item came from, what a moderator should check.
IMPORT_FIELDS = ("import_batch", "source_line", "review_note")


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

    This is what counts as a duplicate everywhere: the same link after resources.normalize,
    as a resource's own link or one of its alternate links (ResourceLink). One query.
    """
    wanted = set(normalized_urls)
    if not wanted:
        return {}
    duplicates = (
        Resource.objects.annotate(
            matched_link=FilteredRelation(
                "alternate_links", condition=Q(alternate_links__normalized_url__in=wanted)
            )
        )
        .filter(Q(normalized_url__in=wanted) | Q(matched_link__normalized_url__in=wanted))
        .annotate(alternate_url=F("matched_link__normalized_url"))
    )
    if exclude_pk is not None:
        duplicates = duplicates.exclude(pk=exclude_pk)
    found: dict[str, Resource] = {}
    for resource in duplicates:
        for url in (resource.normalized_url, resource.alternate_url):
            if url in wanted:
                found.setdefault(url, resource)
    return found


# Titles this similar (pg_trgm's similarity, or resources.normalize.trigram_similarity on
# SQLite) name the same thing: "Feature Store" and "Feature stores".
SIMILAR_TITLE = 0.8


@dataclass(frozen=True)
class LookAlike:
    """The item to check for a same-project duplicate: its link and title."""

    normalized_url: str
    url: str
    title: str


@dataclass(frozen=True)
class SameAs:
    resource: Resource
    why: str  # "same link", "same project", "same name", "similar title (91%)"

    @property
    def message(self) -> str:
        return f"same as #{self.resource.pk} {self.resource.title!r} ({self.why})"


_SAME_AS_FIELDS = ("pk", "title", "url", "normalized_url", "status", "project_key", "name_key")


def _best(resources) -> dict[str, Resource]:
    """One resource per key, approved ones first, then the oldest."""
    ranked = sorted(
        resources, key=lambda resource: (resource.status != Status.APPROVED, resource.pk)
    )
    return {resource.pk: resource for resource in ranked}


class TitleIndex:
    """Existing titles by trigram, to find near-identical ones in Python (SQLite's stand-in
    for pg_trgm). Build it once and ask it many times: an import asks thousands."""

    def __init__(self, exclude_pk: int | None = None):
        self.grams: dict[int, frozenset[str]] = {}
        self.postings: dict[str, list[int]] = {}
        for pk, title in Resource.objects.exclude(pk=exclude_pk or 0).values_list("pk", "title"):
            grams = self.grams[pk] = trigrams(title)
            for gram in grams:
                self.postings.setdefault(gram, []).append(pk)

    def most_similar(self, title: str) -> tuple[int, float] | None:
        """(pk, similarity) of the most similar title at or above SIMILAR_TITLE, or None.

        Two sets this similar share at least ceil(t * |A|) trigrams, so every choice of
        |A| - ceil(t * |A|) + 1 trigrams of A meets B: the rarest are probed, the rest checked.
        """
        grams = trigrams(title)
        if not grams:
            return None
        needed = math.ceil(SIMILAR_TITLE * len(grams))
        probes = sorted(grams, key=lambda gram: len(self.postings.get(gram, ())))
        candidates = {
            pk for gram in probes[: len(grams) - needed + 1] for pk in self.postings.get(gram, ())
        }
        best = None
        for pk in candidates:
            other = self.grams[pk]
            shared = len(grams & other)
            score = shared / (len(grams) + len(other) - shared)
            if score >= SIMILAR_TITLE and (best is None or (score, -pk) > (best[1], -best[0])):
                best = (pk, score)
        return best


def _similar_titles(
    titles: dict[int, str], exclude_pk: int | None, index: "TitleIndex | None"
) -> dict[int, tuple[int, float]]:
    """index -> (pk, similarity) of the most similar existing title at or above SIMILAR_TITLE."""
    found: dict[int, tuple[int, float]] = {}
    titles = {number: title for number, title in titles.items() if title.strip()}
    if not titles:
        return found
    if connection.vendor == "postgresql":
        numbers = list(titles)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT t.idx, r.id, similarity(r.title, t.title) AS score "
                "FROM unnest(%s::int[], %s::text[]) AS t(idx, title) "
                "JOIN resources_resource r ON r.title %% t.title "
                "WHERE similarity(r.title, t.title) >= %s AND r.id <> %s "
                "ORDER BY score DESC, r.id",
                [numbers, [titles[number] for number in numbers], SIMILAR_TITLE, exclude_pk or 0],
            )
            for number, pk, score in cursor.fetchall():
                found.setdefault(number, (pk, score))
        return found
    index = index or TitleIndex(exclude_pk)
    for number, title in titles.items():
        if best := index.most_similar(title):
            found[number] = best
    return found


def find_same_as(
    items: Sequence[LookAlike],
    *,
    exclude_pk: int | None = None,
    titles: bool = True,
    title_index: TitleIndex | None = None,
) -> dict[int, SameAs]:
    """For each item (by index) that is already on the site, the resource it duplicates.

    The one place that decides what counts as a duplicate: the same link after
    resources.normalize, then the same project (a repository and its homepage, the same PyPI
    package: normalize.project_key), the same name (case and punctuation folded), then a
    near-identical title. A bounded number of queries, however many items.
    """
    found: dict[int, SameAs] = {}
    by_url = find_duplicates([item.normalized_url for item in items], exclude_pk=exclude_pk)
    keys = {index: project_key(item.url) for index, item in enumerate(items)}
    names = {index: fold_name(item.title) for index, item in enumerate(items)}
    names = {index: name for index, name in names.items() if len(name) >= MIN_KEY_LENGTH}
    projects = {key for key in keys.values() if key}
    other_homes = {other for key in projects for other in same_project_keys(key)}
    project_names = {key.partition(":")[2] for key in projects}
    wanted_names = set(names.values()) | project_names
    others = Resource.objects.none()
    if other_homes or wanted_names:
        others = Resource.objects.filter(
            Q(project_key__in=other_homes) | Q(name_key__in=wanted_names)
        )
        if exclude_pk is not None:
            others = others.exclude(pk=exclude_pk)
    by_project, by_name = {}, {}
    for resource in _best(others.only(*_SAME_AS_FIELDS)).values():
        if resource.project_key:
            by_project.setdefault(resource.project_key, resource)
        by_name.setdefault(resource.name_key, resource)
    for index, item in enumerate(items):
        key, name = keys[index], names.get(index, "")
        homes = [by_project[other] for other in same_project_keys(key) if other in by_project]
        if item.normalized_url in by_url:
            found[index] = SameAs(by_url[item.normalized_url], "same link")
        elif homes or (key and key.partition(":")[2] in by_name):
            found[index] = SameAs(
                homes[0] if homes else by_name[key.partition(":")[2]], "same project"
            )
        elif name and name in by_name:
            found[index] = SameAs(by_name[name], "same name")
    if titles:
        rest = {index: item.title for index, item in enumerate(items) if index not in found}
        similar = _similar_titles(rest, exclude_pk, title_index)
        if similar:
            resources = Resource.objects.only(*_SAME_AS_FIELDS).in_bulk(
                {pk for pk, _ in similar.values()}
            )
            for index, (pk, score) in similar.items():
                found[index] = SameAs(resources[pk], f"similar title ({score:.0%})")
    return found


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
    unknown = set(data) - {*RESOURCE_FIELDS, *IMPORT_FIELDS, "tags"}
    if unknown:
        raise TypeError(f"create_resource() got unknown fields: {', '.join(sorted(unknown))}")
    if status not in Status.values:
        raise ValueError(f"{status!r} is not a resource status")
    normalized = normalize_url(data["url"])
    with transaction.atomic():
        _refuse_duplicate(normalized)
        resource = Resource(
            **{name: data[name] for name in (*RESOURCE_FIELDS, *IMPORT_FIELDS) if name in data},
            normalized_url=normalized,
            status=status,
            submitted_by=submitted_by,
        )
        if status == Status.APPROVED:
            resource.approved_at = timezone.now()
            resource.hot_score = hot_score(0, 0, resource.approved_at)
        _save_or_report_duplicate(resource)
        resource.tags.set(canonical_tags(data.get("tags") or []))
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
        resource.tags.set(canonical_tags(data.get("tags") or []))
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


def note_votes_of_leaving_member(sender, instance, **kwargs) -> None:
    """Before a member's account is deleted (pre_delete): which resources their votes, which
    go with it, are counted in."""
    instance._voted_resource_ids = list(
        Vote.objects.filter(user_id=instance.pk).values_list("resource_id", flat=True)
    )


def recount_votes_of_leaving_member(sender, instance, **kwargs) -> None:
    """Once the account and its votes are deleted (post_delete, in the same transaction):
    those resources' tallies and scores counted again from the votes left, each under its
    row lock, so that a vote cast meanwhile is neither lost nor counted twice."""
    ids = getattr(instance, "_voted_resource_ids", [])
    for resource in Resource.objects.select_for_update().filter(pk__in=ids).order_by("pk"):
        recount_votes(resource)


# What a vote reads of the resource (the rules, the scores, the vote widget) and the reader's
# vote on it, in one statement. Written out because the ORM's equivalent (only(), a Subquery
# annotation, get()) costs three times the Python time, a sixth of a whole vote.
VOTE_FIELDS = ("id", "title", "status", "submitted_by_id", "approved_at", "upvotes", "downvotes")
VOTES, RESOURCES = (connection.ops.quote_name(model._meta.db_table) for model in (Vote, Resource))
VOTE_READ = (
    f"SELECT {', '.join(VOTE_FIELDS)}, (SELECT value FROM {VOTES}"  # noqa: S608
    f" WHERE user_id = %s AND resource_id = {RESOURCES}.id) AS old_vote"
    f" FROM {RESOURCES} WHERE id = %s"
)
# The vote row's change and the tallies' compare-and-set, written out for the same reason:
# the ORM's filter().update() with F() and create() cost four times the Python time of a
# cursor's execute(). Nothing listens to Vote's signals, which these do not send.
VOTE_INSERT = (
    f"INSERT INTO {VOTES}"  # noqa: S608
    " (user_id, resource_id, value, created_at, updated_at) VALUES (%s, %s, %s, %s, %s)"
)
VOTE_SWITCH = (
    f"UPDATE {VOTES} SET value = %s, updated_at = %s"  # noqa: S608
    " WHERE user_id = %s AND resource_id = %s AND value = %s"
)
VOTE_DELETE = f"DELETE FROM {VOTES} WHERE user_id = %s AND resource_id = %s AND value = %s"  # noqa: S608
TALLIES_MOVE = (
    f"UPDATE {RESOURCES}"  # noqa: S608
    " SET upvotes = upvotes + %s, downvotes = downvotes + %s, wilson_score = %s, hot_score = %s"
    " WHERE id = %s AND upvotes = %s AND downvotes = %s AND status = %s"
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
    pk = int(pk)
    found = list(Resource.objects.raw(VOTE_READ, [user.pk, pk]))
    if not found:
        raise Resource.DoesNotExist("No such resource.")
    current = found[0]
    if current.status != Status.APPROVED:
        raise NotAllowed("Only resources on the roadmap can be voted on.")
    if current.submitted_by_id == user.pk:
        raise NotAllowed("You cannot vote on your own suggestion.")
    old = current.old_vote or 0
    new = 0 if old == value else value
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    # The write names the value it read, so that it does nothing if that changed meanwhile.
    if not old:
        _execute(VOTE_INSERT, [user.pk, pk, new, now, now])  # IntegrityError if raced
    elif not new:
        if not _execute(VOTE_DELETE, [user.pk, pk, old]):
            return None
    elif not _execute(VOTE_SWITCH, [new, now, user.pk, pk, old]):
        return None
    up = (new == Vote.UP) - (old == Vote.UP)
    down = (new == Vote.DOWN) - (old == Vote.DOWN)
    while not _move_tallies(current, up=up, down=down):
        current.refresh_from_db(fields=["upvotes", "downvotes", "status"])
        if current.status != Status.APPROVED:  # archived or merged since the read
            raise NotAllowed("Only resources on the roadmap can be voted on.")
    return VoteResult(resource=current, my_vote=new)


def _move_tallies(resource: Resource, *, up: int, down: int) -> bool:
    """Add `up` and `down` to the tallies and set the scores they give, in one UPDATE that
    applies only while the tallies are still those `resource` holds and it is on the roadmap;
    False when not (a vote on it landed meanwhile, or a moderator archived or merged it)."""
    upvotes, downvotes = resource.upvotes + up, resource.downvotes + down
    scores = {
        "wilson_score": wilson_lower_bound(upvotes, downvotes),
        "hot_score": hot_score(upvotes, downvotes, resource.approved_at),
    }
    moved = _execute(
        TALLIES_MOVE,
        [up, down, scores["wilson_score"], scores["hot_score"]]
        + [resource.pk, resource.upvotes, resource.downvotes, Status.APPROVED],
    )
    if moved:
        resource.upvotes, resource.downvotes = upvotes, downvotes
        resource.wilson_score, resource.hot_score = scores["wilson_score"], scores["hot_score"]
    return bool(moved)


def _execute(sql: str, params: list) -> int:
    """Run one written-out statement; how many rows it changed."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


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


def fold_tags_into_canonical(*, tag_model=None, item_model=None) -> dict[str, str]:
    """Merge every stored tag whose name is not canonical into its canonical tag (renamed in
    place when that does not exist yet); returns old name -> new name. The models can be a
    migration's historical ones."""
    tag_model, item_model = tag_model or Tag, item_model or TaggedItem
    merged = {}
    with transaction.atomic():
        for tag in list(tag_model.objects.order_by("pk")):
            name = canonical_tag(tag.name)
            if not name or name == tag.name:
                continue
            target = (
                tag_model.objects.exclude(pk=tag.pk)
                .filter(Q(name=name) | Q(slug=slugify(name)))
                .first()
            )
            merged[tag.name] = name
            if target is None:
                tag.name, tag.slug = name, slugify(name)
                tag.save(update_fields=["name", "slug"])
                continue
            tagged = set(
                item_model.objects.filter(tag=target).values_list("content_type_id", "object_id")
            )
            for item in item_model.objects.filter(tag=tag):
                if (item.content_type_id, item.object_id) in tagged:
                    item.delete()
                else:
                    item.tag = target
                    item.save(update_fields=["tag"])
            tag.delete()
    return merged


# Suggested edits


def _check_proposal_limits(user) -> None:
    """The same limits as suggestions: few open ones for new accounts, a daily maximum."""
    if user.is_staff:
        return
    now = timezone.now()
    counts = EditProposal.objects.filter(proposer=user).aggregate(
        open=Count("id", filter=Q(status=ProposalStatus.OPEN)),
        today=Count("id", filter=Q(created_at__gte=now - timedelta(days=1))),
    )
    has_approved = Resource.objects.approved().filter(submitted_by=user).exists()
    is_new = user.date_joined > now - NEW_ACCOUNT_AGE and not has_approved
    if is_new and counts["open"] >= NEW_ACCOUNT_PENDING_LIMIT:
        raise SuggestionLimitReached(
            f"New accounts can have at most {NEW_ACCOUNT_PENDING_LIMIT} suggested edits waiting "
            "for review. Once one is decided, or your account is a week old, you can add more."
        )
    if counts["today"] >= DAILY_SUGGESTION_LIMIT:
        raise SuggestionLimitReached(
            f"You have suggested {DAILY_SUGGESTION_LIMIT} edits in the last 24 hours, the most "
            "we accept in a day. Please come back tomorrow."
        )


OPEN_PROPOSAL_MESSAGE = (
    "You already have a suggested edit of this resource waiting for review; a moderator will "
    "decide it first."
)


def propose_edit(*, user, resource: Resource, changes: Mapping[str, Any], reason: str, flag=None):
    """Send a correction of a published resource to the moderators: an EditProposal.

    `changes` holds cleaned values of resources.models.EDITABLE_FIELDS; those equal to the
    resource's are dropped. A new link is normalised and refused when another resource holds it.
    """
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"propose_edit() got fields it cannot change: {', '.join(sorted(unknown))}")
    reason = reason.strip()
    if not reason:
        raise NotAllowed("Say in a few words why the change is right.")
    with transaction.atomic():
        _lock_user(user)
        locked = Resource.objects.select_for_update().get(pk=resource.pk)
        if locked.status != Status.APPROVED:
            raise NotAllowed("Only resources on the roadmap can be edited this way.")
        if EditProposal.objects.open().filter(proposer=user, resource=locked).exists():
            raise NotAllowed(OPEN_PROPOSAL_MESSAGE)
        proposed = changed_fields(locked, changes)
        if not proposed:
            raise NotAllowed("Your edit changes nothing: change at least one field.")
        if "url" in proposed:
            _refuse_duplicate(normalize_url(proposed["url"]), exclude_pk=locked.pk)
        _check_proposal_limits(user)
        try:
            with transaction.atomic():
                return EditProposal.objects.create(
                    resource=locked,
                    proposer=user,
                    changes=proposed,
                    base=current_values(locked, proposed),
                    reason=reason,
                    flag=flag,
                )
        except IntegrityError:
            raise NotAllowed(OPEN_PROPOSAL_MESSAGE) from None


def flag_with_fix(*, user, resource: Resource, reason: str, note: str, fix: Mapping[str, Any]):
    """A report that also proposes the fix (a new link, the right cost): both, or neither."""
    with transaction.atomic():
        flag = flag_resource(user=user, resource=resource, reason=reason, note=note)
        if fix:
            label = FlagReason(reason).label
            why = f"Reported as “{label}”" + (f": {flag.note}" if flag.note else ".")
            propose_edit(user=user, resource=resource, changes=fix, reason=why[:500], flag=flag)
    return flag
