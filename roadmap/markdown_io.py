"""The roadmap as an awesome-list README, both ways.

`export_markdown()` writes the approved roadmap in the content-file format (so the export
can be loaded again), and `import_markdown()` reads any awesome-list Markdown into sections
and resources, skipping duplicates and reporting what it could not read, line by line.
"""

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.text import slugify

from resources.models import Cost, Level, Resource, ResourceType, Status
from resources.normalize import InvalidURL, normalize_url
from resources.scoring import hot_score
from resources.sections import SectionNode, flatten, section_tree
from resources.services import create_resource, find_duplicates
from roadmap.content import ContentError, ResourceData, SectionData, parse_awesome_list
from roadmap.learning_path import (
    builds_on_slugs,
    path_values,
    prerequisite_pairs,
    prerequisites_changed,
)
from roadmap.models import Prerequisite, Roadmap, Section, SectionKind

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_HEADING_LEVEL = 6


# Export ------------------------------------------------------------------------------------


def _one_line(text: str) -> str:
    return " ".join((text or "").split())


def _meta_value(text: str) -> str:
    """A value inside `<!-- key: value | ... -->`: one line, no separator, no comment end."""
    return _one_line(text).replace("|", "/").replace("-->", "->")


def _lines(text: str) -> str:
    """Markdown typed into the admin arrives with CRLF line ends; the export uses LF."""
    return "\n".join((text or "").strip().splitlines())


def _escape_title(title: str) -> str:
    return re.sub(r"([\\\[\]])", r"\\\1", _one_line(title))


def _link_target(url: str) -> str:
    """The URL as a Markdown link target; parentheses are escaped only when unbalanced."""
    depth = 0
    for char in url:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            break
    if depth == 0:
        return url
    return url.replace("(", "%28").replace(")", "%29")


def github_anchor(title: str, used: Counter) -> str:
    """The fragment GitHub gives a heading: lower case, punctuation dropped, spaces to dashes."""
    anchor = re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")
    count = used[anchor]
    used[anchor] += 1
    return f"{anchor}-{count}" if count else anchor


def _resource_lines(resource: Resource) -> list[str]:
    line = f"- [{_escape_title(resource.title)}]({_link_target(resource.url)})"
    if description := _one_line(resource.description):
        line += f" - {description}"
    meta = [f"type: {resource.resource_type}", f"cost: {resource.cost}"]
    if resource.level:
        meta.append(f"level: {resource.level}")
    if resource.provider.strip():
        meta.append(f"provider: {_meta_value(resource.provider)}")
    tags = sorted(_meta_value(tag.name).replace(",", " ") for tag in resource.tag_list)
    if tags:
        meta.append(f"tags: {', '.join(tags)}")
    return [line, f"  <!-- {' | '.join(meta)} -->"]


def _section_lines(node: SectionNode, resources: list[Resource], builds_on: list[str]) -> list[str]:
    section = node.section
    level = min(node.depth + 2, MAX_HEADING_LEVEL)
    meta = f"slug: {section.slug}"
    if summary := _meta_value(section.summary):
        meta += f" | summary: {summary}"
    if section.kind != SectionKind.STEP:
        meta += f" | kind: {section.kind}"
    if section.stage:
        meta += f" | stage: {section.stage}"
    if builds_on:
        meta += f" | builds-on: {', '.join(builds_on)}"
    lines = [f"{'#' * level} {_one_line(section.title)}", f"<!-- {meta} -->", ""]
    if body := _lines(section.body):
        lines += [body, ""]
    for resource in resources:
        lines += _resource_lines(resource)
    if resources:
        lines.append("")
    return lines


def export_markdown() -> str:
    """The approved roadmap as an awesome-list README that load_roadmap can read back.

    Five queries, whatever the size of the roadmap.
    """
    roadmap = Roadmap.objects.filter(pk=1).first()
    order = flatten(section_tree())
    slugs = {node.section.id: node.section.slug for node in order}
    builds_on: dict[int, list[str]] = {}
    for section_id, required_id in prerequisite_pairs():
        if required_id in slugs:
            builds_on.setdefault(section_id, []).append(slugs[required_id])
    resources = (
        Resource.objects.approved()
        .prefetch_related(Prefetch("tags", to_attr="tag_list"))
        .order_by_top()
    )
    by_section: dict[int, list[Resource]] = {}
    for resource in resources:
        by_section.setdefault(resource.section_id, []).append(resource)

    lines = [f"# {_one_line(roadmap.title if roadmap else settings.SITE_NAME)}", ""]
    if roadmap and (intro := _lines(roadmap.intro)):
        lines += [intro, ""]
    if order:
        used: Counter = Counter()
        lines += ["<!-- toc -->", "**Contents**", ""]
        for node in order:
            anchor = github_anchor(_one_line(node.section.title), used)
            lines.append(f"{'  ' * node.depth}- [{_escape_title(node.section.title)}](#{anchor})")
        lines += ["<!-- /toc -->", ""]
    for node in order:
        lines += _section_lines(
            node, by_section.get(node.section.id, []), builds_on.get(node.section.id, [])
        )
    return "\n".join(lines).rstrip("\n") + "\n"


# Import ------------------------------------------------------------------------------------


class UnreadableFile(Exception):
    """The file cannot be read at all; the message says why (and where, when it can)."""


def read_markdown_file(path: Path | str) -> str:
    path = Path(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise UnreadableFile(f"the file is larger than {MAX_FILE_BYTES // 1024 // 1024} MB")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise UnreadableFile("no such file") from None
    except OSError as error:
        raise UnreadableFile(f"cannot read the file ({error.strerror or error})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise UnreadableFile(
            f"line {line}: the file is not UTF-8 text (byte 0x{raw[error.start]:02x}); "
            "save it as UTF-8 and try again"
        ) from None
    if not text.strip():
        raise UnreadableFile("the file is empty")
    return text


class UnknownSection(Exception):
    pass


_PAPER_HOSTS = (
    "arxiv.org",
    "openreview.net",
    "papers.nips.cc",
    "proceedings.neurips.cc",
    "proceedings.mlr.press",
    "dl.acm.org",
    "aclanthology.org",
    "ieeexplore.ieee.org",
    "semanticscholar.org",
)
_VIDEO_HOSTS = ("youtube.com", "youtu.be", "vimeo.com")
_COURSE_HOSTS = ("coursera.org", "udemy.com", "edx.org", "udacity.com", "pluralsight.com")
_PODCAST_HOSTS = ("podcasts.apple.com", "podcasts.google.com", "anchor.fm", "podbean.com")
_PROJECT_HOSTS = ("github.com", "gitlab.com")
# Words in a heading that say what its links are; the nearest heading wins.
_SECTION_WORDS = {
    ResourceType.BOOK: ("book", "books", "ebooks"),
    ResourceType.COURSE: ("course", "courses", "training"),
    ResourceType.PODCAST: ("podcast", "podcasts"),
    ResourceType.VIDEO: ("video", "videos", "talk", "talks", "lectures", "webinars"),
    ResourceType.PAPER: ("paper", "papers", "research", "publications"),
    ResourceType.BLOG: ("blog", "blogs"),
    ResourceType.NEWSLETTER: ("newsletter", "newsletters"),
    ResourceType.COMMUNITY: ("community", "communities", "slack", "events", "conferences"),
    ResourceType.TOOL: ("tool", "tools", "platform", "platforms", "frameworks", "libraries"),
    ResourceType.PROJECT: ("project", "projects", "examples", "templates"),
    ResourceType.ARTICLE: ("article", "articles"),
}


def _on_host(host: str, domains: tuple[str, ...]) -> bool:
    return any(host == domain or host.endswith(f".{domain}") for domain in domains)


def guess_resource_type(url: str, headings: list[str]) -> str:
    """A resource type from the link and the headings above it (nearest first)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.")
    path = parts.path.lower()
    if _on_host(host, _PAPER_HOSTS):
        return ResourceType.PAPER
    if _on_host(host, _VIDEO_HOSTS):
        return ResourceType.VIDEO
    if _on_host(host, _COURSE_HOSTS):
        return ResourceType.COURSE
    if _on_host(host, _PODCAST_HOSTS) or "podcast" in host or "/podcast" in path:
        return ResourceType.PODCAST
    if (
        (_on_host(host, ("oreilly.com",)) and path.startswith("/library/view/"))
        or (_on_host(host, ("manning.com",)) and path.startswith("/books/"))
        or _on_host(host, ("leanpub.com",))
    ):
        return ResourceType.BOOK
    for heading in headings:
        words = set(re.findall(r"\w+", heading.casefold()))
        for kind, names in _SECTION_WORDS.items():
            if words & set(names):
                return kind
    if _on_host(host, _PROJECT_HOSTS):
        return ResourceType.PROJECT
    return ResourceType.ARTICLE


def _choice(item: ResourceData, key: str, choices, default: str) -> str:
    value = item.meta.get(key, "").strip().lower()
    if not value:
        return default
    if value not in choices.values:
        raise ContentError(
            item.line_number, f"{key} {value!r} is not one of: {', '.join(choices.values)}"
        )
    return value


@dataclass
class _Target:
    """Where a heading's links go: an existing section, or one this import may create."""

    title: str
    slug: str
    parent: "_Target | None"
    section: Section | None = None
    data: SectionData | None = None
    needed: bool = False

    def need(self) -> None:
        """This target holds a link: create it, and the new sections above it, on import."""
        target = self
        while target is not None and target.section is None and not target.needed:
            target.needed = True
            target = target.parent

    @property
    def headings(self) -> list[str]:
        names, target = [], self
        while target is not None:
            names.append(target.title)
            target = target.parent
        return names


@dataclass
class _Candidate:
    item: ResourceData
    normalized_url: str
    target: _Target
    values: dict


@dataclass
class ImportReport:
    status: str
    created: list[tuple[int, Resource]] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)
    unreadable: list[tuple[int, str]] = field(default_factory=list)
    sections_created: list[Section] = field(default_factory=list)
    sections_matched: list[tuple[str, Section]] = field(default_factory=list)

    @property
    def imported_nothing(self) -> bool:
        """True when no line held a usable link: nothing created and no duplicate seen."""
        return not (self.created or self.skipped or self.sections_created)


class _Importer:
    def __init__(self, *, data, target_section: Section | None, status: str):
        self.data = data
        self.status = status
        self.report = ImportReport(status=status)
        sections = list(Section.objects.order_by("position", "id"))
        self.taken_slugs = {section.slug for section in sections}
        self.next_position = Counter()
        for section in sections:
            self.next_position[section.parent_id] = max(
                self.next_position[section.parent_id], section.position + 1
            )
        # With a target section, headings match only sections below it, never elsewhere.
        if target_section is None:
            candidates = sections
        else:
            candidates = self._descendants(sections, target_section)
        self.by_slug = {section.slug: section for section in candidates}
        self.by_title: dict[str, Section] = {}
        for section in candidates:
            self.by_title.setdefault(section.title.casefold(), section)
        self.root = (
            _Target(target_section.title, target_section.slug, None, section=target_section)
            if target_section
            else None
        )
        self.planned: dict[str, _Target] = {}

    @staticmethod
    def _descendants(sections: list[Section], root: Section) -> list[Section]:
        children: dict[int | None, list[Section]] = {}
        for section in sections:
            children.setdefault(section.parent_id, []).append(section)
        found, todo = [], list(children.get(root.id, []))
        while todo:  # breadth first: of two equal titles, the one nearer the root matches
            section = todo.pop(0)
            found.append(section)
            todo.extend(children.get(section.id, []))
        return found

    # Sections --------------------------------------------------------------------------

    def _target_for(self, item: SectionData, parent: _Target | None) -> _Target:
        slug = slugify(item.meta.get("slug", ""))[:80] or slugify(item.title)[:80] or "section"
        title_key = item.title.casefold()
        existing = self.by_slug.get(slug)
        if existing is None and "slug" not in item.meta:
            existing = self.by_title.get(title_key)
        if existing is not None:
            self.report.sections_matched.append((item.title, existing))
            return _Target(existing.title, existing.slug, parent, section=existing)
        planned = self.planned.get(slug) or (
            None if "slug" in item.meta else self.planned.get(title_key)
        )
        if planned is not None:  # the same heading twice: one section
            return planned
        target = _Target(item.title[:200], self._free_slug(slug, parent), parent, data=item)
        self.planned.setdefault(slug, target)
        self.planned.setdefault(title_key, target)
        if "slug" in item.meta:
            target.need()  # the file is a roadmap export: keep its sections even when empty
        return target

    def _free_slug(self, slug: str, parent: _Target | None) -> str:
        if slug not in self.taken_slugs:
            self.taken_slugs.add(slug)
            return slug
        base = f"{parent.slug}-{slug}"[:80] if parent else slug
        candidate, number = base, 2
        while candidate in self.taken_slugs:
            suffix = f"-{number}"
            candidate, number = base[: 80 - len(suffix)] + suffix, number + 1
        self.taken_slugs.add(candidate)
        return candidate

    def _create_section(self, target: _Target) -> None:
        parent = target.parent.section if target.parent else None
        parent_id = parent.id if parent else None
        position = self.next_position[parent_id]
        self.next_position[parent_id] += 1
        try:
            path = path_values(target.data)
        except ContentError:  # an awesome list's own meta: the section is a plain step
            path = {}
        target.section = Section.objects.create(
            slug=target.slug,
            title=target.title,
            summary=target.data.summary[:300],
            body=target.data.body,
            parent=parent,
            position=position,
            **path,
        )
        self.report.sections_created.append(target.section)

    def _link_prerequisites(self, created: list[_Target]) -> None:
        """New sections build on the sections their `builds-on` slugs name, where those exist."""
        slugs = {slug for target in created for slug in builds_on_slugs(target.data)}
        found = {section.slug: section for section in Section.objects.filter(slug__in=slugs)}
        Prerequisite.objects.bulk_create(
            Prerequisite(section=target.section, requires=found[slug], position=position)
            for target in created
            for position, slug in enumerate(
                slug
                for slug in builds_on_slugs(target.data)
                if slug in found and found[slug] != target.section
            )
        )
        prerequisites_changed()  # bulk_create sends no signal

    # Resources -------------------------------------------------------------------------

    def _values(self, item: ResourceData, target: _Target) -> dict:
        kind = _choice(item, "type", ResourceType, "")
        scheme, _, rest = item.url.partition(":")
        return {
            "title": item.title[:200],
            "url": f"{scheme.lower()}:{rest}",  # "HTTPS://..." is valid, but not to the database
            "description": item.description,
            "resource_type": kind or guess_resource_type(item.url, target.headings),
            "cost": _choice(item, "cost", Cost, Cost.FREE),
            "level": _choice(item, "level", Level, ""),
            "provider": item.meta.get("provider", "")[:200],
        }

    def _candidates(self, placed: list[tuple[ResourceData, _Target | None]]) -> list[_Candidate]:
        normalized: dict[int, str] = {}
        for index, (item, _target) in enumerate(placed):
            try:
                normalized[index] = normalize_url(item.url)
            except InvalidURL as error:
                shown = item.url if len(item.url) <= 80 else item.url[:77] + "..."
                self.report.unreadable.append(
                    (item.line_number, f"the link {shown!r} is not a web address: {error}")
                )
        existing = find_duplicates(normalized.values())
        seen: dict[str, int] = {}
        candidates = []
        for index, (item, target) in enumerate(placed):
            if index not in normalized:
                continue
            url = normalized[index]
            if target is None:
                self.report.unreadable.append(
                    (
                        item.line_number,
                        "the link comes before any heading, so it has no section "
                        "(import with --section SLUG to place it)",
                    )
                )
            elif url in existing:
                found = existing[url]
                self.report.skipped.append(
                    (
                        item.line_number,
                        f"{item.title!r} is already on the site as #{found.pk} "
                        f"{found.title!r} ({found.get_status_display().lower()})",
                    )
                )
            elif url in seen:
                self.report.skipped.append(
                    (item.line_number, f"{item.title!r} repeats the link on line {seen[url]}")
                )
            else:
                try:
                    values = self._values(item, target)
                except ContentError as error:
                    self.report.unreadable.append((item.line_number, str(error).split(": ", 1)[1]))
                    continue
                seen[url] = item.line_number
                target.need()
                candidates.append(_Candidate(item, url, target, values))
        return candidates

    def _create_resources(self, candidates: list[_Candidate]) -> None:
        now = timezone.now()
        approved = self.status == Status.APPROVED
        created = []
        for candidate in candidates:
            tags = list(dict.fromkeys(tag[:100] for tag in candidate.item.tags))
            resource = create_resource(
                data={**candidate.values, "section": candidate.target.section, "tags": tags},
                status=self.status,
            )
            created.append(resource)
            self.report.created.append((candidate.item.line_number, resource))
        # As the loader does: date rows a second apart so that "newest first" keeps file order.
        for offset, resource in enumerate(created):
            resource.created_at = now - timedelta(seconds=offset)
            if approved:
                resource.approved_at = resource.created_at
                resource.hot_score = hot_score(0, 0, resource.approved_at)
        Resource.objects.bulk_update(
            created, ["created_at", "approved_at", "hot_score"], batch_size=500
        )

    def run(self) -> ImportReport:
        data = self.data
        self.report.unreadable.extend(data.problems)
        targets: dict[int, _Target] = {}
        for item in data.sections:
            parent = targets[id(item.parent)] if item.parent is not None else self.root
            targets[id(item)] = self._target_for(item, parent)
        placed = [(item, self.root) for item in data.loose_resources]
        for item in data.sections:
            placed += [(resource, targets[id(item)]) for resource in item.resources]
        placed.sort(key=lambda pair: pair[0].line_number)
        candidates = self._candidates(placed)

        if self.root is None and data.title and not Roadmap.objects.filter(pk=1).exists():
            Roadmap(title=data.title[:200], intro=data.intro).save()
        created = []
        for item in data.sections:
            target = targets[id(item)]
            if target.needed and target.section is None:
                self._create_section(target)
                created.append(target)
        self._link_prerequisites(created)
        self._create_resources(candidates)
        self.report.unreadable.sort(key=lambda pair: pair[0])
        self.report.skipped.sort(key=lambda pair: pair[0])
        return self.report


def import_markdown(
    *, text: str, section_slug: str | None = None, status: str = Status.PENDING
) -> ImportReport:
    """Create sections and resources from awesome-list Markdown, all or nothing.

    Links already on the site (by normalised URL) are skipped; lines that cannot be read are
    reported, not fatal. Headings map onto existing sections by slug or title; with
    `section_slug`, everything goes below that section.
    """
    if status not in (Status.PENDING, Status.APPROVED):
        raise ValueError(f"status must be pending or approved, not {status!r}")
    data = parse_awesome_list(text)
    with transaction.atomic():
        target = None
        if section_slug is not None:
            target = Section.objects.filter(slug=section_slug).first()
            if target is None:
                raise UnknownSection(f"there is no section with the slug {section_slug!r}")
        return _Importer(data=data, target_section=target, status=status).run()
