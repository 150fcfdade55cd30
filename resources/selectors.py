"""What the catalogue's pages read: the section tree, popular tags, the explorer's results,
members' contributions. The roadmap app draws its pages from these."""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import (
    BooleanField,
    Count,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from taggit.models import Tag, TaggedItem

from accounts.permissions import has_verified_email
from core.cache import cached, clear_pages, forget, kept_with_pages
from resources.edits import HistoryChange, history_changes, section_titles_for
from resources.filters import ResourceFilter
from resources.models import (
    EditProposal,
    Flag,
    FlagStatus,
    Progress,
    RelatedBasis,
    Resource,
    Status,
    Vote,
)
from resources.sections import SECTION_TREE_KEY

POPULAR_TAGS_KEY = "popular-tags"


def pages_changed(**kwargs) -> None:
    """A change that anonymous pages show (a vote's score): their cache is emptied."""
    clear_pages()


def catalog_changed(**kwargs) -> None:
    """A change to sections, resources or tags: pages, the section tree and popular tags."""
    # The reads first: a page fragment drawn between the two (the filters, the popular tags)
    # then reads them afresh rather than keeping the old ones with the pages.
    forget(SECTION_TREE_KEY, POPULAR_TAGS_KEY)
    clear_pages()


class PopularTag(NamedTuple):
    name: str
    slug: str
    uses: int


def popular_tags(limit: int | None = 30) -> list[PopularTag]:
    """Tags on approved resources with how many each carries, most used first."""
    rows = cached(
        POPULAR_TAGS_KEY,
        # Plain tuples: thousands of them come out of the cache on every explorer page.
        lambda: list(
            Tag.objects.annotate(uses=Count("resource", filter=Q(resource__status=Status.APPROVED)))
            .filter(uses__gt=0)
            .order_by("-uses", "name")
            .values_list("name", "slug", "uses")
        ),
    )
    return [PopularTag(*row) for row in (rows if limit is None else rows[:limit])]


def may_see(user, resource: Resource) -> bool:
    """Everyone sees what is on the roadmap; submitters their own suggestions; moderators
    (the permission to view resources, not staff status alone) everything."""
    if resource.is_public:
        return True
    if not user.is_authenticated:
        return False
    return resource.submitted_by_id == user.pk or user.has_perm("resources.view_resource")


def public_tag(slug: str) -> Tag | None:
    """The tag, if at least one resource on the roadmap carries it: a tag only pending or
    rejected suggestions use says nothing to readers."""
    return Tag.objects.filter(slug=slug, resource__status=Status.APPROVED).first()


def reader_context(user) -> dict:
    """What resource cards need to know about the reader, in at most one query."""
    return {"can_vote": user.is_authenticated and has_verified_email(user)}


def with_tag_names(rows: list[dict]) -> list[dict]:
    """Set `tag_names` in each resource's row (`Resource.objects.api_rows()`): its tags'
    names in alphabetical order, read in one query of plain pairs (no Tag objects)."""
    names = defaultdict(list)
    if rows:
        pairs = TaggedItem.objects.filter(
            content_type=ContentType.objects.get_for_model(Resource),
            object_id__in=[row["id"] for row in rows],
        ).values_list("object_id", "tag__name")
        for object_id, name in pairs:
            names[object_id].append(name)
    for row in rows:
        row["tag_names"] = sorted(names[row["id"]], key=str.casefold)
    return rows


def cards_for(user) -> QuerySet[Resource]:
    """Approved resources with what a card in a list shows, the reader's vote and progress."""
    return Resource.objects.approved().for_card_list().with_user_vote(user).with_user_progress(user)


def explorer_results(data) -> tuple[ResourceFilter, Callable[[], QuerySet[Resource]]]:
    """The explorer's filter set for `data` and a function giving its results (none while it
    is invalid), to count and to page through: the cards of a page are read by their ids
    (matching_ids), with the reader's vote and progress. The results' queryset (the search,
    its rank, the tag match) costs a third of a signed-in page's filtering to build, so it is
    built only when the kept list of matches is not there. Unknown choices are left out and
    listed in the filter set's `ignored`."""
    filterset = ResourceFilter(data, queryset=Resource.objects.approved(), ignore_invalid=True)
    return filterset, lambda: filterset.qs if filterset.is_valid() else Resource.objects.none()


def count_matches(results: QuerySet, *, key: str) -> int:
    """How many rows `results` has (the API's pages), counted once for each `key` (the filters
    that chose them) until the catalogue changes. What matches a filter depends on neither the
    reader nor the votes; a filter on scores would have to be part of `key`. The explorer
    counts the list of matches it keeps (matching_ids) instead."""
    return kept_with_pages(f"count:{key}", lambda: results.order_by().values("pk").count())


def approved_submissions(user) -> QuerySet[Resource]:
    """The member's approved suggestions, newest first, with their sections."""
    return (
        Resource.objects.approved()
        .filter(submitted_by=user)
        .select_related("section")
        .order_by_new()
    )


# Karma an accepted suggested edit earns its proposer, on top of net votes.
EDIT_KARMA = 2


def contribution_stats(user) -> dict[str, int]:
    """Approved suggestions, votes they received, accepted edits, and karma (net votes plus
    EDIT_KARMA for each accepted edit), in one query."""
    mine = Resource.objects.approved().filter(submitted_by=OuterRef("pk")).order_by()
    totals = mine.values("submitted_by")

    def total(expression):
        return Coalesce(Subquery(totals.annotate(n=expression).values("n")), 0)

    edits = (
        EditProposal.objects.accepted()
        .filter(proposer=OuterRef("pk"))
        .order_by()
        .values("proposer")
        .annotate(n=Count("id"))
        .values("n")
    )
    stats = (
        get_user_model()
        .objects.filter(pk=user.pk)
        .annotate(
            approved=total(Count("id")),
            upvotes=total(Sum("upvotes")),
            downvotes=total(Sum("downvotes")),
            edits=Coalesce(Subquery(edits), 0),
        )
        .values("approved", "upvotes", "downvotes", "edits")
        .get()
    )
    stats["karma"] = stats["upvotes"] - stats["downvotes"] + EDIT_KARMA * stats["edits"]
    return stats


# Suggested edits and related resources


@dataclass(frozen=True)
class HistoryEntry:
    proposal: EditProposal
    changes: list[HistoryChange]


def resource_history(resource: Resource) -> list[HistoryEntry]:
    """The resource's accepted edits, newest first, with what each changed: two queries."""
    proposals = list(EditProposal.objects.filter(resource=resource).for_history())
    titles = section_titles_for(proposals)
    return [HistoryEntry(proposal, history_changes(proposal, titles)) for proposal in proposals]


RECENT_EDITS_SHOWN = 10


def recent_accepted_edits(user, limit: int = RECENT_EDITS_SHOWN) -> QuerySet[EditProposal]:
    """The member's latest accepted edits of resources still on the roadmap, one query."""
    return (
        EditProposal.objects.accepted()
        .filter(proposer=user, resource__status=Status.APPROVED)
        .select_related("resource")
        .only("pk", "decided_at", "resource_id", "resource__title")
        .order_by("-decided_at", "-id")[:limit]
    )


RELATED_SHOWN = 5


def related_resources(resource: Resource, limit: int = RELATED_SHOWN) -> QuerySet[Resource]:
    """The resource's precomputed neighbours that are on the roadmap now, best first: one
    query whatever their number (manage.py compute_related fills them)."""
    return (
        Resource.objects.approved()
        .filter(neighbour_of__resource_id=resource.pk)
        .exclude(pk=resource.pk)
        .select_related("section")
        .only("pk", "title", "resource_type", "cost", "section__title", "section__slug")
        .annotate(neighbour_rank=Min("neighbour_of__rank"))
        .order_by("neighbour_rank", "pk")[:limit]
    )


def readers_went_on_to(section, limit: int = RELATED_SHOWN) -> QuerySet[Resource]:
    """“Readers of this topic also went on to”: resources in other sections that the
    readers of this section's resources voted up or finished, strongest first (one query).

    Each candidate's strength is the sum of its co-reader similarities to the section's
    resources, from the precomputed neighbours, so popularity alone does not rank it."""
    section_pk = getattr(section, "pk", section)
    return (
        Resource.objects.approved()
        .exclude(section_id=section_pk)
        .filter(
            neighbour_of__resource__section_id=section_pk,
            neighbour_of__resource__status=Status.APPROVED,
            neighbour_of__basis=RelatedBasis.READERS,
        )
        .select_related("section")
        .annotate(
            strength=Sum("neighbour_of__score"),
            from_resources=Count("neighbour_of__resource", distinct=True),
        )
        .order_by("-strength", "-wilson_score", "pk")[:limit]
    )


def open_report(user, resource: Resource):
    """The reader's report on this resource that moderators have not dealt with yet, or None."""
    if not user.is_authenticated:
        return None
    return (
        Flag.objects.filter(user=user, resource=resource, status=FlagStatus.OPEN)
        .order_by("-created_at")
        .first()
    )


def reader_state_of(ids: list[int], user) -> str:
    """What the cards of `ids` show that may change while the catalogue does not, in the
    order of `ids`: their tallies (votes do not empty the cache; with a page's fixed columns
    they decide its order too), and the reader's votes, progress and own suggestions among
    them. Signed-in readers' cached card lists (a topic page's, an explorer page's) are keyed
    by it, so a cached list costs no card read (anonymous readers get whole pages from the
    page cache). One written-out statement: the same query built with two FilteredRelation
    joins cost three times as much Python to build, compile and read (4.2 ms against 1.4 ms
    for a topic page's 93 cards) as it ran."""
    if not user.is_authenticated or not ids:
        return ""
    if connection.vendor == "postgresql":
        among, params = "= ANY(%s)", [list(ids)]  # one parameter, one prepared statement
    else:
        among, params = f"IN ({', '.join(['%s'] * len(ids))})", list(ids)
    with connection.cursor() as cursor:
        cursor.execute(READER_STATE.format(among=among), [user.pk, user.pk, *params])
        rows = {row[0]: row[1:] for row in cursor.fetchall()}
    # One "id:up:down:vote:progress:own" entry a card.
    return ",".join(
        f"{pk}:{up}:{down}:{vote or 0}:{progress or ''}:{int(owner == user.pk)}"
        for pk in ids
        if pk in rows
        for up, down, vote, progress, owner in [rows[pk]]
    )


RESOURCES, VOTES, PROGRESS = (
    connection.ops.quote_name(model._meta.db_table) for model in (Resource, Vote, Progress)
)
READER_STATE = (
    "SELECT r.id, r.upvotes, r.downvotes, v.value, p.state, r.submitted_by_id"  # noqa: S608
    f" FROM {RESOURCES} r"
    f" LEFT JOIN {VOTES} v ON v.resource_id = r.id AND v.user_id = %s"
    f" LEFT JOIN {PROGRESS} p ON p.resource_id = r.id AND p.user_id = %s"
    f" WHERE r.status = '{Status.APPROVED}' AND r.id {{among}}"
)


def one_of(ids: list[int]):
    """`pk__in=ids`; on PostgreSQL as one array parameter (`id = ANY(%s)`): psycopg parses a
    statement of more than 50 parameters afresh each time (it keeps no more), a topic page
    shows about a hundred cards, and the statement's text stays the same whatever their
    number, so it is prepared once, not once for each number of ids."""
    if connection.vendor != "postgresql":
        return Q(pk__in=ids)
    quote = connection.ops.quote_name
    column = f"{quote(Resource._meta.db_table)}.{quote(Resource._meta.pk.column)}"
    # The names are the model's own, quoted; the ids go as a parameter.
    return RawSQL(f"{column} = ANY(%s)", (list(ids),), output_field=BooleanField())  # noqa: S611


def in_order_of(ids: list[int], rows, *, key=lambda row: row.pk) -> list:
    """`rows` in the order of `ids`, each found by its `key`, its id."""
    position = {pk: index for index, pk in enumerate(ids)}
    return sorted(rows, key=lambda row: position[key(row)])


def matching_ids(results: Callable[[], QuerySet], *, key: str, limit: int) -> list[int]:
    """The ids of `results()` in their order, at most `limit`, read once for each `key` (the
    filters that chose them) and kept with the pages until the catalogue changes: which
    resources match, and in what order their pages list them, is the same for every reader.
    An explorer's pages are slices of one such list, so none repeats or skips what another
    showed; votes reorder it only when it expires (PAGE_CACHE_SECONDS), while the cards show
    their scores and the reader's vote at once (reader_state_of)."""
    return kept_with_pages(
        f"ids:{key}", lambda: list(results().values_list("pk", flat=True)[:limit])
    )
