"""The roadmap's sections as the tree every page navigates: nested, ordered, with counts of
approved resources. (The Section model belongs to the roadmap app, above this one.)"""

from dataclasses import dataclass, field

from django.db.models import Count, Q

from core.cache import cached
from resources.models import Progress, Status, section_model

SECTION_TREE_KEY = "section-tree"


@dataclass
class SectionNode:
    section: object  # roadmap.Section
    children: list["SectionNode"] = field(default_factory=list)
    depth: int = 0
    done_count: int = 0
    # Approved resources in this section and every section below it (section_tree counts
    # them once, from the bottom up).
    resource_count: int = 0


def _sections_with_counts() -> list:
    return list(
        section_model()
        .objects.annotate(
            own_resource_count=Count("resources", filter=Q(resources__status=Status.APPROVED))
        )
        .order_by("position", "id")
    )


def section_tree(*, include_hidden: bool = False) -> list[SectionNode]:
    """Every section readers may see, nested and ordered, with resource counts: one query or
    a cache hit. `include_hidden` keeps the sections `is_visible` leaves out."""
    sections = cached(SECTION_TREE_KEY, _sections_with_counts)
    nodes = {section.id: SectionNode(section) for section in sections}
    roots = []
    for node in nodes.values():
        parent = nodes.get(node.section.parent_id)
        (parent.children if parent else roots).append(node)
    _lift_cycles(nodes, roots)
    for node in reversed(flatten(roots)):  # children before their parents
        node.resource_count = getattr(node.section, "own_resource_count", 0) + sum(
            child.resource_count for child in node.children
        )
    if not include_hidden:
        roots = _visible(roots)
    for node in flatten(roots):
        for child in node.children:
            child.depth = node.depth + 1
    return roots


def is_visible(node: SectionNode) -> bool:
    """Readers see a section that holds an approved resource (here or below), or one that is
    published and has prose or a visible sub-section: never an empty shell, nor an imported
    heading that no moderator has looked at."""
    if node.resource_count:
        return True
    section = node.section
    if not getattr(section, "published", True):
        return False
    has_prose = bool(section.body.strip() or section.summary.strip())
    return has_prose or any(is_visible(child) for child in node.children)


def _visible(nodes: list[SectionNode]) -> list[SectionNode]:
    kept = []
    for node in nodes:
        if is_visible(node):
            node.children = _visible(node.children)
            kept.append(node)
    return kept


def _lift_cycles(nodes: dict[int, SectionNode], roots: list[SectionNode]) -> None:
    """Sections whose parents run in a circle reach no root and would vanish from the map;
    each circle is cut at its first section, which becomes a root (the admin refuses them,
    this is for rows written past it)."""
    reached = {node.section.id for node in flatten(roots)}
    for node in nodes.values():
        if node.section.id in reached:
            continue
        nodes[node.section.parent_id].children.remove(node)
        roots.append(node)
        reached.update(found.section.id for found in flatten([node]))


def find_node(tree: list[SectionNode], slug: str) -> SectionNode | None:
    for node in tree:
        if node.section.slug == slug:
            return node
        if found := find_node(node.children, slug):
            return found
    return None


def flatten(tree: list[SectionNode]) -> list[SectionNode]:
    """Depth-first reading order of the whole roadmap."""
    order = []
    for node in tree:
        order.append(node)
        order.extend(flatten(node.children))
    return order


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


def done_counts(user) -> dict:
    """The reader's done resources in each section and below it, by slug, and in all."""
    tree = section_tree()
    attach_progress(tree, user)
    return {
        "sections": {node.section.slug: node.done_count for node in flatten(tree)},
        "total": sum(node.done_count for node in tree),
    }


def section_path(section_id) -> list:
    """The sections from the top of the roadmap down to this one, for a breadcrumb."""

    def walk(nodes: list[SectionNode], trail: list) -> list | None:
        for node in nodes:
            here = [*trail, node.section]
            if node.section.id == section_id:
                return here
            if found := walk(node.children, here):
                return found
        return None

    return walk(section_tree(), []) or []
