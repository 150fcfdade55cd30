"""State changes of the roadmap: loading the content file."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.db import transaction
from django.db.models import prefetch_related_objects
from django.utils import timezone

from resources.models import Cost, Level, Resource, ResourceType, Status
from resources.normalize import InvalidURL, normalize_url
from resources.scoring import hot_score
from resources.services import create_resource, find_duplicates
from resources.tags import canonical_tags
from roadmap.content import (
    DEFAULT_CONTENT_FILE,
    ContentError,
    ResourceData,
    RoadmapData,
    read_roadmap_file,
)
from roadmap.learning_path import check_prerequisites, path_values, prerequisites_changed
from roadmap.models import Prerequisite, Roadmap, Section


@dataclass
class LoadReport:
    counts: Counter = field(default_factory=Counter)

    def add(self, kind: str, outcome: str) -> None:
        self.counts[f"{kind} {outcome}"] += 1

    def __str__(self) -> str:
        parts = []
        for kind in ("sections", "resources"):
            numbers = ", ".join(
                f"{self.counts[f'{kind} {outcome}']} {outcome}"
                for outcome in ("created", "updated", "unchanged")
            )
            parts.append(f"{kind}: {numbers}")
        return "; ".join(parts)


def _update_fields(instance, values: dict) -> list[str]:
    changed = [name for name, value in values.items() if getattr(instance, name) != value]
    for name in changed:
        setattr(instance, name, values[name])
    return changed


def _choice(resource: ResourceData, key: str, choices, *, required: bool, default="") -> str:
    value = resource.meta.get(key, "").strip().lower() or default
    if not value and not required:
        return ""
    if value not in choices.values:
        allowed = ", ".join(choices.values)
        raise ContentError(resource.line_number, f"{key} {value!r} is not one of: {allowed}")
    return value


def resource_values(resource: ResourceData, section: Section) -> dict:
    """The model fields a content-file resource sets, validated."""
    if not resource.meta:
        raise ContentError(resource.line_number, "the resource has no metadata comment below it")
    return {
        "title": resource.title[:200],
        "url": resource.url,
        "description": resource.description,
        "resource_type": _choice(resource, "type", ResourceType, required=True),
        "cost": _choice(resource, "cost", Cost, required=True, default=Cost.FREE),
        "level": _choice(resource, "level", Level, required=False),
        "provider": resource.meta.get("provider", "")[:200],
        "section": section,
    }


def _load_sections(data: RoadmapData, report: LoadReport) -> dict[str, Section]:
    prerequisites = check_prerequisites(data)
    existing = {section.slug: section for section in Section.objects.all()}
    loaded: dict[str, Section] = {}
    outcomes: dict[str, str] = {}
    positions: Counter = Counter()
    for item in data.sections:
        if item.slug in loaded:
            raise ContentError(item.line_number, f"the slug {item.slug!r} is used twice")
        parent = loaded[item.parent.slug] if item.parent else None
        position = positions[item.parent.slug if item.parent else None]
        positions[item.parent.slug if item.parent else None] += 1
        values = {
            "title": item.title[:200],
            "summary": item.summary[:300],
            "body": item.body,
            "parent": parent,
            "position": position,
            **path_values(item),
        }
        section = existing.get(item.slug)
        if section is None:
            section = Section.objects.create(slug=item.slug, **values)
            outcomes[item.slug] = "created"
        elif changed := _update_fields(section, values):
            section.save(update_fields=[*changed, "updated_at"])
            outcomes[item.slug] = "updated"
        else:
            outcomes[item.slug] = "unchanged"
        loaded[item.slug] = section
    for slug in set_prerequisites(sections=loaded, prerequisites=prerequisites):
        if outcomes[slug] == "unchanged":
            outcomes[slug] = "updated"
    for outcome in outcomes.values():
        report.add("sections", outcome)
    return loaded


def set_prerequisites(
    *, sections: dict[str, Section], prerequisites: dict[str, list[str]]
) -> list[str]:
    """Make each section build on exactly the sections its slugs name, in their order; the
    slugs of the sections that changed. One query when nothing changes."""
    current: dict[int, list[int]] = {}
    for section_id, required_id in (
        Prerequisite.objects.filter(section__in=list(sections.values()))
        .order_by("section_id", "position", "id")
        .values_list("section_id", "requires_id")
    ):
        current.setdefault(section_id, []).append(required_id)
    changed = []
    for slug, section in sections.items():
        wanted = [sections[required].id for required in prerequisites.get(slug, [])]
        if current.get(section.id, []) == wanted:
            continue
        Prerequisite.objects.filter(section=section).delete()
        Prerequisite.objects.bulk_create(
            Prerequisite(section=section, requires_id=required_id, position=position)
            for position, required_id in enumerate(wanted)
        )
        changed.append(slug)
    if changed:
        prerequisites_changed()  # bulk_create sends no signal
    return changed


def _load_resources(data: RoadmapData, sections: dict[str, Section], report: LoadReport):
    items = []
    seen: dict[str, int] = {}
    for section_data in data.sections:
        for item in section_data.resources:
            try:
                normalized = normalize_url(item.url)
            except InvalidURL as error:
                raise ContentError(item.line_number, str(error)) from error
            if normalized in seen:
                raise ContentError(
                    item.line_number, f"the link is already listed on line {seen[normalized]}"
                )
            seen[normalized] = item.line_number
            items.append((item, normalized, resource_values(item, sections[section_data.slug])))

    existing = find_duplicates(seen)
    prefetch_related_objects(list(existing.values()), "tags")
    now = timezone.now()
    created = []
    for item, normalized, values in items:
        resource = existing.get(normalized)
        if resource is None:
            resource = create_resource(data={**values, "tags": item.tags}, status=Status.APPROVED)
            created.append(resource)
            report.add("resources", "created")
            continue
        # Votes, status and submitter belong to the site; only the content is refreshed.
        changed = _update_fields(resource, values)
        if changed:
            resource.save(update_fields=[*changed, "updated_at"])
        tags = canonical_tags(item.tags)
        if sorted(tag.name for tag in resource.tags.all()) != sorted(tags):
            resource.tags.set(tags)
            changed.append("tags")
        report.add("resources", "updated" if changed else "unchanged")
    # Until votes separate them, ties sort newest first: date new rows so that the file's
    # curated order is the order readers see.
    for offset, resource in enumerate(created):
        resource.created_at = resource.approved_at = now - timedelta(seconds=offset)
        resource.hot_score = hot_score(0, 0, resource.approved_at)
    Resource.objects.bulk_update(
        created, ["created_at", "approved_at", "hot_score"], batch_size=500
    )


def load_roadmap(*, path: Path | str = DEFAULT_CONTENT_FILE) -> LoadReport:
    """Create or update sections and resources from the content file; never delete."""
    data = read_roadmap_file(path)
    if not data.sections:
        raise ContentError(0, "the file has no sections (## headings)")
    report = LoadReport()
    with transaction.atomic():
        roadmap = Roadmap.objects.filter(pk=1).first() or Roadmap(pk=1)
        if roadmap.title != data.title or roadmap.intro != data.intro or roadmap._state.adding:
            roadmap.title = data.title or "MLOps Roadmap"
            roadmap.intro = data.intro
            roadmap.save()
        sections = _load_sections(data, report)
        _load_resources(data, sections, report)
    return report
