from dataclasses import dataclass
from itertools import groupby

from django.db.models import Count, F, Window
from django.db.models.functions import RowNumber
from django.http import Http404
from django.shortcuts import render

from resources.models import Progress, Resource, ResourceType
from resources.views import community_context
from roadmap.models import Roadmap
from roadmap.selectors import SectionNode, find_node, flatten, section_tree

SORTS = {"top": "Top", "new": "New"}
# The best cards a section page shows of its own section and of each sub-section; the
# explorer lists the rest.
SECTION_LIMIT = 24
SUBSECTION_LIMIT = 6


def home(request):
    tree = section_tree()
    show_progress = attach_progress(tree, request.user)
    return render(
        request,
        "roadmap/home.html",
        {
            "roadmap": Roadmap.objects.filter(pk=1).first(),
            "tree": tree,
            "resource_total": sum(node.resource_count for node in tree),
            "show_progress": show_progress,
            "done_total": sum(node.done_count for node in tree) if show_progress else 0,
        },
    )


def attach_progress(tree: list[SectionNode], user) -> bool:
    """Give every node `done_count`: the user's done resources in it and below it.

    One grouped query for the whole tree; False (and no query) for anonymous readers.
    """
    if not user.is_authenticated:
        return False
    done_by_section = Progress.objects.done_counts_by_section(user)

    def count(node: SectionNode) -> int:
        node.done_count = done_by_section.get(node.section.id, 0) + sum(
            count(child) for child in node.children
        )
        return node.done_count

    for node in tree:
        count(node)
    return True


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


def best_of_each_section(cards, candidates, sort: str, limit: int):
    """At most `limit` cards per section, best first, in one query.

    The window ranks only ids and sort keys (an index scan, a narrow sort); the full rows
    are read for the chosen ids alone.
    """
    if sort == "new":
        ordering = [F("created_at").desc(), F("id").desc()]
    else:
        ordering = [F("wilson_score").desc(), F("created_at").desc(), F("id").desc()]
    best_ids = (
        candidates.annotate(
            section_rank=Window(RowNumber(), partition_by=[F("section_id")], order_by=ordering)
        )
        .filter(section_rank__lte=limit)
        .values("pk")
    )
    return cards.filter(pk__in=best_ids).order_by(*ordering)


def section_detail(request, slug):
    tree = section_tree()
    node = find_node(tree, slug)
    if node is None:
        raise Http404("No such section")
    sort = request.GET.get("sort", "top")
    if sort not in SORTS:
        sort = "top"
    show_progress = attach_progress(tree, request.user)
    subtree = flatten([node])
    in_subtree = Resource.objects.approved().filter(section__in=[item.section for item in subtree])
    resources = best_of_each_section(
        Resource.objects.for_cards().with_user_vote(request.user).with_user_progress(request.user),
        in_subtree,
        sort,
        SECTION_LIMIT,
    )
    by_section: dict[int, list[Resource]] = {}
    for resource in resources:
        shown = by_section.setdefault(resource.section_id, [])
        if resource.section_id == node.section.id or len(shown) < SUBSECTION_LIMIT:
            shown.append(resource)
    totals: dict[int, dict[str, int]] = {}
    for section_id, kind, count in (
        in_subtree.order_by().values_list("section_id", "resource_type").annotate(count=Count("id"))
    ):
        totals.setdefault(section_id, {})[kind] = count
    blocks = [
        {
            "node": item,
            "depth": item.depth - node.depth,
            "groups": group_by_type(
                by_section.get(item.section.id, []), totals.get(item.section.id, {})
            ),
            "shown": len(by_section.get(item.section.id, [])),
            "total": sum(totals.get(item.section.id, {}).values()),
        }
        for item in subtree
    ]
    reading_order = flatten(tree)
    index = next(i for i, item in enumerate(reading_order) if item is node)
    return render(
        request,
        "roadmap/section.html",
        {
            "section": node.section,
            "node": node,
            "blocks": blocks,
            "breadcrumbs": _ancestors(reading_order, node),
            "previous": reading_order[index - 1] if index > 0 else None,
            "next": reading_order[index + 1] if index + 1 < len(reading_order) else None,
            "sort": sort,
            "sorts": SORTS,
            "show_progress": show_progress,
            **community_context(request),
        },
    )


def _ancestors(reading_order, node) -> list:
    by_id = {item.section.id: item for item in reading_order}
    chain, parent_id = [], node.section.parent_id
    while parent_id in by_id:
        chain.insert(0, by_id[parent_id])
        parent_id = by_id[parent_id].section.parent_id
    return chain
