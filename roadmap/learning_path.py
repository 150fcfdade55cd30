"""The learning path: which sections are steps, in which stage, what each builds on, and where
a reader stands on it.

Section meta in the content file sets it: `kind: page` (prose only, not a step), `stage:
foundations | core | production` (a top-level step's stage; below the top, the group a
sub-topic is shown in), `builds-on: slug, slug` (prerequisites).

The rule a reader sees: a topic is done when they have marked done min(3, its resources) of
its own resources and every step below it is done; it is in progress when they have started
or done any resource in it.
"""

from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Count

from core.cache import cached, clear_pages, forget
from resources.models import Progress, ProgressState, Status
from resources.sections import SectionNode, section_tree
from roadmap.content import ContentError, RoadmapData, SectionData
from roadmap.models import Prerequisite, SectionKind, Stage

PREREQUISITES_KEY = "section-prerequisites"
DONE_AT = 3  # a topic is done when the reader has done min(DONE_AT, its resources)
STAGE_ORDER = {value: index for index, value in enumerate(Stage.values)}

NOT_STARTED, IN_PROGRESS, DONE = "not-started", "in-progress", "done"
STATUS_LABELS = {NOT_STARTED: "Not started", IN_PROGRESS: "In progress", DONE: "Done"}
RULE = (
    f"A topic is done when you have marked done {DONE_AT} of its resources (all of them when it "
    "has fewer) and every topic below it is done; it is in progress once you have started or "
    "done any of its resources."
)


# The content file's keys -------------------------------------------------------------------


def builds_on_slugs(item: SectionData) -> list[str]:
    raw = item.meta.get("builds-on", "")
    return list(dict.fromkeys(slug.strip() for slug in raw.split(",") if slug.strip()))


def path_values(item: SectionData) -> dict:
    """The Section fields that a section's meta sets for the path, validated."""
    kind = item.meta.get("kind", "").strip().lower() or SectionKind.STEP
    if kind not in SectionKind.values:
        raise ContentError(
            item.line_number, f"kind {kind!r} is not one of: {', '.join(SectionKind.values)}"
        )
    stage = item.meta.get("stage", "").strip().lower()
    if stage and stage not in Stage.values:
        raise ContentError(
            item.line_number, f"stage {stage!r} is not one of: {', '.join(Stage.values)}"
        )
    return {"kind": kind, "stage": stage}


def check_prerequisites(data: RoadmapData) -> dict[str, list[str]]:
    """Each section's `builds-on` slugs: every one names a section of the file, and none
    leads back to the section itself."""
    items = {item.slug: item for item in data.sections}
    graph: dict[str, list[str]] = {}
    for item in data.sections:
        slugs = builds_on_slugs(item)
        for slug in slugs:
            if slug == item.slug:
                raise ContentError(item.line_number, f"the section {slug!r} builds on itself")
            if slug not in items:
                raise ContentError(
                    item.line_number, f"builds-on names {slug!r}, which is no section's slug"
                )
        graph[item.slug] = slugs
    state: dict[str, int] = {}  # 1: on the current walk, 2: finished

    def walk(slug: str, trail: list[str]) -> None:
        state[slug] = 1
        for required in graph[slug]:
            if state.get(required) == 1:
                circle = [*trail[trail.index(required) :], required]
                raise ContentError(
                    items[required].line_number,
                    f"builds-on runs in a circle: {' -> '.join(circle)}",
                )
            if required not in state:
                walk(required, [*trail, required])
        state[slug] = 2

    for slug in graph:
        if slug not in state:
            walk(slug, [slug])
    return graph


def prerequisite_pairs() -> list[tuple[int, int]]:
    """(section id, required section id), in each section's file order: one query or a hit."""
    return cached(
        PREREQUISITES_KEY,
        lambda: list(
            Prerequisite.objects.order_by("section_id", "position", "id").values_list(
                "section_id", "requires_id"
            )
        ),
    )


def prerequisites_changed(**kwargs) -> None:
    """A prerequisite was added or removed: the cached pairs and the pages that show them."""
    clear_pages()
    forget(PREREQUISITES_KEY)


# The path and a reader's place on it --------------------------------------------------------


@dataclass(eq=False)
class Step:
    """A section on the map, with the reader's counts when they are signed in."""

    node: SectionNode
    parent: "Step | None" = None
    children: list["Step"] = field(default_factory=list)
    builds_on: list["Step"] = field(default_factory=list)
    leads_to: list["Step"] = field(default_factory=list)
    own_done: int = 0
    own_started: int = 0
    # Here and below: counted once from the bottom up for a signed-in reader.
    done: int = 0
    started: int = 0
    status: str = ""

    @property
    def section(self):
        return self.node.section

    @property
    def is_step(self) -> bool:
        return self.section.kind == SectionKind.STEP

    @property
    def own_total(self) -> int:
        return getattr(self.section, "own_resource_count", 0)

    @property
    def total(self) -> int:
        return self.node.resource_count

    @property
    def needed(self) -> int:
        return min(DONE_AT, self.own_total)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, "")

    @property
    def groups(self) -> list[tuple[str, list["Step"]]]:
        """The sub-topics by stage, when any of them names one (the tool groups)."""
        if not any(child.section.stage for child in self.children):
            return []
        by_stage: dict[str, list[Step]] = {}
        for child in self.children:
            by_stage.setdefault(child.section.stage or self.stage, []).append(child)
        return [
            (Stage(stage).label, by_stage[stage]) for stage in Stage.values if stage in by_stage
        ]

    @property
    def stage(self) -> str:
        step = self
        while step.parent is not None and not step.section.stage:
            step = step.parent
        return step.section.stage or Stage.FOUNDATIONS

    def satisfied(self) -> bool:
        """Done, or nothing to do: what a prerequisite must be."""
        return self.status in (DONE, "")


@dataclass
class StageGroup:
    value: str
    label: str
    number: int
    steps: list[Step]


@dataclass
class LearningPath:
    pages: list[Step]
    stages: list[StageGroup]
    order: list[Step]  # every step, in path order
    by_slug: dict[str, Step]
    tree: list[SectionNode] = field(default_factory=list)
    show_status: bool = False
    next_step: Step | None = None
    status_counts: Counter = field(default_factory=Counter)

    @property
    def resource_total(self) -> int:
        return sum(node.resource_count for node in self.tree)

    @property
    def done_total(self) -> int:
        return sum(step.done for step in self.by_slug.values() if step.parent is None)

    def step_after(self, step: Step) -> Step | None:
        """The first step after `step` and everything below it."""
        below = set(map(id, _walk([step])))
        later = self.order[self.order.index(step) + 1 :] if step in self.order else self.order
        return next((item for item in later if id(item) not in below), None)


def _walk(steps: list[Step]) -> list[Step]:
    order = []
    for step in steps:
        order.append(step)
        order.extend(_walk(step.children))
    return order


def _child_order(step: Step) -> None:
    if any(child.section.stage for child in step.children):
        step.children.sort(key=lambda child: STAGE_ORDER[child.section.stage or step.stage])
    for child in step.children:
        _child_order(child)


def learning_path(user=None) -> LearningPath:
    """The whole path, and the reader's status on it when they are signed in: three queries
    at most (the tree and the prerequisites are cached), whatever the size of the roadmap."""
    tree = section_tree()

    def build(node: SectionNode, parent: Step | None) -> Step:
        step = Step(node, parent)
        step.children = [build(child, step) for child in node.children]
        return step

    roots = [build(node, None) for node in tree]
    pages = [step for step in roots if not step.is_step]
    top = [step for step in roots if step.is_step]
    stage = Stage.FOUNDATIONS
    staged: dict[str, list[Step]] = {}
    for step in top:  # a top-level step without a stage joins the stage before it
        stage = step.section.stage or stage
        staged.setdefault(stage, []).append(step)
    stages = [
        StageGroup(value, Stage(value).label, number, staged[value])
        for number, value in enumerate((v for v in Stage.values if v in staged), start=1)
    ]
    for step in top:
        _child_order(step)
    order = [step for group in stages for step in _walk(group.steps) if step.is_step]
    everything = _walk(roots)
    by_id = {step.section.id: step for step in everything}
    for section_id, required_id in prerequisite_pairs():
        if section_id in by_id and required_id in by_id:
            by_id[section_id].builds_on.append(by_id[required_id])
            by_id[required_id].leads_to.append(by_id[section_id])
    path = LearningPath(
        pages=pages,
        stages=stages,
        order=order,
        by_slug={step.section.slug: step for step in everything},
        tree=tree,
    )
    if user is not None and user.is_authenticated:
        _attach_status(path, by_id, user)
    else:
        path.next_step = next((step for step in order if step.own_total), None)
    return path


def _attach_status(path: LearningPath, by_id: dict[int, Step], user) -> None:
    rows = (
        Progress.objects.filter(
            user=user,
            state__in=[ProgressState.DONE, ProgressState.IN_PROGRESS],
            resource__status=Status.APPROVED,
        )
        .values_list("resource__section_id", "state")
        .annotate(count=Count("id"))
        .order_by()
    )
    for section_id, state, count in rows:
        if step := by_id.get(section_id):
            if state == ProgressState.DONE:
                step.own_done = count
            else:
                step.own_started = count
    for step in reversed(by_id.values()):  # by_id is in reading order: children after parents
        step.done = step.own_done + sum(child.done for child in step.children)
        step.started = step.own_started + sum(child.started for child in step.children)

    def settle(step: Step) -> None:
        for child in step.children:
            settle(child)
        if not step.is_step or not step.total:
            step.status = ""
        elif step.own_done >= step.needed and all(
            child.satisfied() for child in step.children if child.is_step
        ):
            step.status = DONE
        elif step.done or step.started:
            step.status = IN_PROGRESS
        else:
            step.status = NOT_STARTED

    for group in path.stages:
        for step in group.steps:
            settle(step)
    for step in by_id.values():
        step.node.done_count = step.done
    path.show_status = True
    path.status_counts = Counter(step.status for step in path.order if step.status)
    path.next_step = next((step for step in path.order if _is_next(step)), None)


def prerequisites_met(step: Step) -> bool:
    """Its own prerequisites and those of every topic above it are done."""
    item: Step | None = step
    while item is not None:
        if not all(required.satisfied() for required in item.builds_on):
            return False
        item = item.parent
    return True


def _is_next(step: Step) -> bool:
    return bool(step.own_total) and step.own_done < step.needed and prerequisites_met(step)
