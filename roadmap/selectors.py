"""What the roadmap's pages read: the map with its counts and a section page's best cards,
drawn from the catalogue's selectors."""

from dataclasses import dataclass
from itertools import groupby

from django.db.models import Count, F
from django.utils.functional import SimpleLazyObject

from core.cache import kept_with_pages
from resources.models import Resource, ResourceType
from resources.sections import flatten
from resources.selectors import cards_for, one_of, reader_state_of, readers_went_on_to
from roadmap.learning_path import RULE, learning_path
from roadmap.models import Roadmap

SORTS = {"top": "Top", "new": "New"}
# The best cards a topic page shows first of its own resources (all of them at ?all=1) and
# of each sub-section.
SECTION_LIMIT = 5
SUBSECTION_LIMIT = 3
UNION_TERMS = 400


def home_page(user) -> dict:
    """The map: the path's stages, topics and sub-topics with their counts, and for a
    signed-in reader the status of each and their next step."""
    path = learning_path(user)
    return {
        "roadmap": Roadmap.objects.filter(pk=1).first(),
        "path": path,
        "resource_total": path.resource_total,
        "show_progress": path.show_status,
        "done_total": path.done_total if path.show_status else 0,
        "status_rule": RULE,
    }


@dataclass
class ResourceGroup:
    kind: str
    label: str
    resources: list
    total: int


def group_by_type(resources, totals: dict[str, int]) -> list[ResourceGroup]:
    """Cards grouped by type, groups in the order the types are declared."""
    order = {value: index for index, value in enumerate(ResourceType.values)}
    ranked = sorted(resources, key=lambda r: order[r.resource_type])  # stable: keeps sort
    labels = dict(ResourceType.choices)
    groups = []
    for kind, items in groupby(ranked, key=lambda r: r.resource_type):
        items = list(items)
        groups.append(ResourceGroup(kind, labels[kind], items, totals.get(kind, len(items))))
    return groups


def ranking(sort: str) -> list:
    """The order of a section's cards; the indexes `resource_section_top`/`_new` follow it."""
    if sort == "new":
        return [F("created_at").desc(), F("id").desc()]
    # Fewer down votes first among equal scores: with no up vote, -1 ranks below 0.
    return [
        F("wilson_score").desc(),
        F("downvotes").asc(),
        F("created_at").desc(),
        F("id").desc(),
    ]


def best_of_each_section(candidates, limits: dict[int, int], sort: str) -> list[int]:
    """The ids of the best `limits[section_id]` candidates of each section, in one query.

    Each section is its own `LIMIT` read down an index in rank order, so the cost follows
    the cards shown, not the size of the section; the parts are joined with UNION ALL.
    """
    ordering = ranking(sort)
    parts = [
        Resource.objects.filter(
            pk__in=candidates.filter(section_id=section_id).order_by(*ordering).values("pk")[:limit]
        )
        .order_by()
        .values_list("pk", flat=True)
        for section_id, limit in limits.items()
    ]
    ids: list[int] = []
    # SQLite takes at most 500 terms in one compound SELECT: a (very) large tree takes more
    # than one query.
    for start in range(0, len(parts), UNION_TERMS):
        batch = parts[start : start + UNION_TERMS]
        ids.extend(batch[0].union(*batch[1:], all=True))
    return ids


def section_page(slug: str, sort: str, user, *, show_all: bool = False) -> dict | None:
    """A topic: its best few cards first (all of them, grouped by type, with `show_all`),
    the best of each section below it, what it builds on and what comes next; None when
    there is no such section."""
    path = learning_path(user)
    step = path.by_slug.get(slug)
    if step is None:
        return None
    tree, node = path.tree, step.node
    if sort not in SORTS:
        sort = "top"
    show_progress = path.show_status
    subtree = flatten([node])
    own_limit = max(step.own_total, 1) if show_all else SECTION_LIMIT
    limits = {item.section.id: own_limit if item is node else SUBSECTION_LIMIT for item in subtree}
    # Which cards a topic shows and how many it has are the same for every reader until the
    # catalogue changes: kept with the pages. Votes move the order only when that expires.
    best_ids, totals = kept_with_pages(
        f"section-best:{node.section.id}:{sort}:{int(show_all)}",
        lambda: _best_and_totals(subtree, limits, sort),
    )

    def draw() -> dict:
        by_section: dict[int, list[Resource]] = {}
        for resource in cards_for(user).filter(one_of(best_ids)).order_by(*ranking(sort)):
            by_section.setdefault(resource.section_id, []).append(resource)
        blocks = [
            {
                "node": item,
                "depth": item.depth - node.depth,
                # All of the topic's own cards by type (?all=1); a sub-topic's best as lines.
                "groups": group_by_type(
                    by_section.get(item.section.id, []), totals.get(item.section.id, {})
                )
                if item is node and show_all
                else [],
                "picks": by_section.get(item.section.id, []) if item is not node else [],
                "shown": len(by_section.get(item.section.id, [])),
                "total": sum(totals.get(item.section.id, {}).values()),
            }
            for item in subtree
        ]
        return {"blocks": blocks, "own_best": by_section.get(node.section.id, [])}

    # The cards are read only when they are drawn: not when a signed-in reader's cached card
    # list (keyed by reader_state, one narrow query) is still good.
    drawn = SimpleLazyObject(draw)
    done = ",".join(str(item.done_count) for item in subtree) if show_progress else ""
    reading_order = flatten(tree)
    index = next(i for i, item in enumerate(reading_order) if item is node)
    if step.is_step:
        following = step.leads_to or [after for after in [path.step_after(step)] if after]
    else:
        following = path.order[:1]
    return {
        "section": node.section,
        "node": node,
        "step": step,
        "path": path,
        "builds_on": step.builds_on,
        "following": following,
        "leads_to": bool(step.leads_to),
        "status_rule": RULE,
        "show_all": show_all,
        "section_limit": SECTION_LIMIT,
        "own_best": SimpleLazyObject(lambda: drawn["own_best"]),
        "own_total": step.own_total,
        "blocks": SimpleLazyObject(lambda: drawn["blocks"]),
        "breadcrumbs": _ancestors(reading_order, node),
        "previous": reading_order[index - 1] if index > 0 else None,
        # The pager's next page comes after this topic's own sub-topics, which it shows.
        "next": reading_order[index + len(subtree)]
        if index + len(subtree) < len(reading_order)
        else None,
        "sort": sort,
        "sorts": SORTS,
        "show_progress": show_progress,
        "reader_state": SimpleLazyObject(lambda: f"{reader_state_of(best_ids, user)};{done}"),
        "progress_key": done,
        # From the related-resource table that `compute_related` fills: the same for everyone,
        # so signed-in readers get it as a fragment kept with the pages; read when drawn.
        "went_on_to": SimpleLazyObject(lambda: list(readers_went_on_to(node.section))),
    }


def _best_and_totals(subtree, limits: dict[int, int], sort: str) -> tuple[list[int], dict]:
    """The ids of each section's best cards, and each section's resources counted by type."""
    best_ids = best_of_each_section(Resource.objects.approved(), limits, sort)
    totals: dict[int, dict[str, int]] = {}
    for section_id, kind, count in (
        Resource.objects.approved()
        .filter(section__in=[item.section for item in subtree])
        .order_by()
        .values_list("section_id", "resource_type")
        .annotate(count=Count("*"))
    ):
        totals.setdefault(section_id, {})[kind] = count
    return best_ids, totals


def _ancestors(reading_order, node) -> list:
    by_id = {item.section.id: item for item in reading_order}
    chain, parent_id = [], node.section.parent_id
    while parent_id in by_id:
        chain.insert(0, by_id[parent_id])
        parent_id = by_id[parent_id].section.parent_id
    return chain
