"""What suggested edits share: a resource's editable values in the form a proposal stores,
how they read to people, and a field-by-field diff. No writes here (see services and
moderation)."""

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from resources.models import (
    EDITABLE_FIELDS,
    Cost,
    EditProposal,
    Level,
    Resource,
    ResourceType,
    section_model,
)

FIELD_LABELS = {
    "title": "Title",
    "url": "Link",
    "resource_type": "Type",
    "cost": "Cost",
    "level": "Level",
    "provider": "Provider or author",
    "description": "Description",
    "tags": "Tags",
    "section": "Section",
}
CHOICE_LABELS = {
    "resource_type": dict(ResourceType.choices),
    "cost": dict(Cost.choices),
    "level": {"": "Not specified", **dict(Level.choices)},
}
# Fields whose values are prose, shown as a word diff rather than old and new side by side.
TEXT_FIELDS = ("title", "url", "provider", "description")


def stored_value(field: str, value: Any) -> Any:
    """A form's cleaned value as a proposal stores it (JSON: a section id, a tag list)."""
    if field == "section":
        return value.pk if hasattr(value, "pk") else int(value)
    if field == "tags":
        return sorted({str(tag).strip().lower() for tag in value or [] if str(tag).strip()})
    return "" if value is None else str(value)


def current_values(resource: Resource, fields: Iterable[str] = EDITABLE_FIELDS) -> dict:
    """The resource's values of `fields` as a proposal stores them; tags cost one query."""
    values = {}
    for field in fields:
        if field == "section":
            values[field] = resource.section_id
        elif field == "tags":
            values[field] = sorted(tag.name.lower() for tag in resource.tags.all())
        else:
            values[field] = getattr(resource, field)
    return values


def changed_fields(resource: Resource, proposed: Mapping[str, Any]) -> dict:
    """The proposed values that differ from the resource's, in EDITABLE_FIELDS order."""
    wanted = [field for field in EDITABLE_FIELDS if field in proposed]
    now = current_values(resource, wanted)
    changes = {}
    for field in wanted:
        value = stored_value(field, proposed[field])
        if value != now[field]:
            changes[field] = value
    return changes


def display(field: str, value: Any, section_titles: Mapping[int, str]) -> str:
    """A stored value as a reader would name it."""
    if field == "section":
        return section_titles.get(value, f"(removed section {value})")
    if field == "tags":
        return ", ".join(value) if value else "(none)"
    if field in CHOICE_LABELS:
        return CHOICE_LABELS[field].get(value, value)
    return value if value else "(empty)"


def section_titles_for(proposals: Iterable[EditProposal], extra: Iterable[int] = ()) -> dict:
    """Titles of every section the proposals mention, in one query."""
    ids = set(extra)
    for proposal in proposals:
        for values in (proposal.changes, proposal.base):
            if "section" in values:
                ids.add(values["section"])
        ids.update(proposal.applied.get("section", ()))
    ids = {pk for pk in ids if isinstance(pk, int)}
    if not ids:
        return {}
    return dict(section_model().objects.filter(pk__in=ids).values_list("pk", "title"))


def word_diff(old: str, new: str) -> SafeString:
    """`new` against `old`, word by word, with <del> and <ins>; everything else escaped."""
    before, after = old.split(" "), new.split(" ")
    parts = []
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            parts.append(escape(" ".join(before[a1:a2])))
            continue
        if a2 > a1:
            parts.append(format_html("<del>{}</del>", " ".join(before[a1:a2])))
        if b2 > b1:
            parts.append(format_html("<ins>{}</ins>", " ".join(after[b1:b2])))
    return mark_safe(" ".join(parts))  # noqa: S308 - every part is escaped above


@dataclass(frozen=True)
class FieldDiff:
    field: str
    label: str
    when_proposed: str
    now: str
    proposed: str
    stale: bool  # the field changed since the proposal was made (another accepted edit)
    unchanged_now: bool  # the resource already holds the proposed value
    diff: SafeString  # proposed against now


def proposal_diff(
    proposal: EditProposal, resource: Resource, section_titles: Mapping[int, str]
) -> list[FieldDiff]:
    """Each field the proposal changes: as it was, as it is now, as proposed."""
    now = current_values(resource, proposal.changes)
    rows = []
    for field in EDITABLE_FIELDS:
        if field not in proposal.changes:
            continue
        base, current, new = proposal.base.get(field), now[field], proposal.changes[field]
        shown = [display(field, value, section_titles) for value in (base, current, new)]
        if field in TEXT_FIELDS:
            diff = word_diff(str(current or ""), str(new or ""))
        else:
            diff = format_html("<del>{}</del> <ins>{}</ins>", shown[1], shown[2])
        rows.append(
            FieldDiff(
                field=field,
                label=FIELD_LABELS[field],
                when_proposed=shown[0],
                now=shown[1],
                proposed=shown[2],
                stale=base != current,
                unchanged_now=new == current,
                diff=diff,
            )
        )
    return rows


def stale_fields(proposal: EditProposal, resource: Resource) -> list[str]:
    """The fields of the proposal that the resource no longer holds as they were proposed."""
    now = current_values(resource, proposal.changes)
    return [field for field in proposal.changes if proposal.base.get(field) != now[field]]


@dataclass(frozen=True)
class HistoryChange:
    label: str
    before: str
    after: str


def history_changes(
    proposal: EditProposal, section_titles: Mapping[int, str]
) -> list[HistoryChange]:
    """What accepting the proposal changed, in reading order."""
    return [
        HistoryChange(
            FIELD_LABELS[field],
            display(field, proposal.applied[field][0], section_titles),
            display(field, proposal.applied[field][1], section_titles),
        )
        for field in EDITABLE_FIELDS
        if field in proposal.applied
    ]
