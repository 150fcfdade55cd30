"""What the catalogue's pages read: the section tree, popular tags, the explorer's results,
members' contributions. The roadmap app draws its pages from these."""

from typing import NamedTuple

from django.db.models import Count, IntegerField, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from taggit.models import Tag

from accounts.permissions import has_verified_email
from core.cache import cached, clear_pages, forget, kept_with_pages
from resources.filters import ResourceFilter
from resources.models import Resource, Status
from resources.sections import SECTION_TREE_KEY

POPULAR_TAGS_KEY = "popular-tags"


def pages_changed(**kwargs) -> None:
    """A change that anonymous pages show (a vote's score): their cache is emptied."""
    clear_pages()


def catalog_changed(**kwargs) -> None:
    """A change to sections, resources or tags: pages, the section tree and popular tags."""
    clear_pages()
    forget(SECTION_TREE_KEY, POPULAR_TAGS_KEY)


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


def reader_context(user) -> dict:
    """What resource cards need to know about the reader, in at most one query."""
    return {"can_vote": user.is_authenticated and has_verified_email(user)}


def reader_state(resources, user) -> str:
    """What cards of `resources` show that may change while the catalogue does not: their
    order and scores (votes do not empty the cache), and the reader's votes, progress and own
    suggestions among them. Signed-in readers' cached card lists are keyed by it (anonymous
    readers get whole pages from the page cache instead)."""
    if not user.is_authenticated:
        return ""
    return ",".join(
        f"{resource.pk}:{resource.score}:{resource.my_vote}:{resource.my_progress}"
        f":{int(resource.submitted_by_id == user.pk)}"
        for resource in resources
    )


def cards_for(user) -> QuerySet[Resource]:
    """Approved resources with what a card in a list shows, the reader's vote and progress."""
    return Resource.objects.approved().for_card_list().with_user_vote(user).with_user_progress(user)


def explorer_results(data, user) -> tuple[ResourceFilter, QuerySet[Resource]]:
    """The explorer's filter set for `data` and its results (none while it is invalid).
    Unknown choices are left out and listed in the filter set's `ignored`."""
    filterset = ResourceFilter(data, queryset=cards_for(user), ignore_invalid=True)
    return filterset, filterset.qs if filterset.is_valid() else Resource.objects.none()


def count_matches(results: QuerySet, *, key: str, limit: int | None = None) -> int:
    """How many rows `results` has (at most `limit`), counted once for each `key` (the filters
    that chose them) until the catalogue changes. What matches a filter depends on neither the
    reader nor the votes; a filter on scores would have to be part of `key`."""

    def count() -> int:
        rows = results.order_by().values("pk")
        return (rows[:limit] if limit is not None else rows).count()

    return kept_with_pages(f"count:{key}", count)


def approved_submissions(user) -> QuerySet[Resource]:
    """The member's approved suggestions, newest first, with their sections."""
    return (
        Resource.objects.approved()
        .filter(submitted_by=user)
        .select_related("section")
        .order_by_new()
    )


def contribution_stats(user) -> dict[str, int]:
    """Approved suggestions, votes they received, and karma (net votes), in one query."""
    stats = (
        Resource.objects.approved()
        .filter(submitted_by=user)
        .aggregate(
            approved=Count("id"),
            upvotes=Coalesce(Sum("upvotes"), 0, output_field=IntegerField()),
            downvotes=Coalesce(Sum("downvotes"), 0, output_field=IntegerField()),
        )
    )
    stats["karma"] = stats["upvotes"] - stats["downvotes"]
    return stats
