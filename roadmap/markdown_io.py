"""The roadmap as an awesome-list README, both ways.

`export_markdown()` writes the approved roadmap in the content-file format (so the export
can be loaded again), and `import_markdown()` reads any awesome-list Markdown into sections
and resources, skipping duplicates and reporting what it could not read, line by line.
"""

import re
import time
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.text import slugify

from core.cache import invalidate_once
from resources.models import Cost, ImportBatch, ImportStatus, Level, Resource, ResourceType, Status
from resources.normalize import (
    MIN_KEY_LENGTH,
    InvalidURL,
    fold_name,
    normalize_url,
    project_key,
    same_project_keys,
)
from resources.scoring import hot_score
from resources.sections import SectionNode, flatten, section_tree
from resources.services import (
    DuplicateResource,
    LookAlike,
    SameAs,
    TitleIndex,
    create_resource,
    find_same_as,
)
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


class TooLarge(Exception):
    """Above the documented caps: MAX_FILE_BYTES of Markdown, MAX_ITEMS links."""


# Caps (README: "Importing an awesome list"): a larger list is split, or imported in parts.
MAX_ITEMS = 60_000
# Resources per transaction, and the longest a transaction may hold SQLite's write lock:
# short write locks, so that the site keeps answering during an import.
CHUNK_SIZE = 200
CHUNK_SECONDS = 0.25
# SQLite has one write lock, and a writer that waits for it polls, sleeping up to 100 ms
# between tries: an import that took the lock again at once would starve it (/healthz's
# cache write failed after its 20 s busy timeout), so it leaves the lock free a little longer.
SQLITE_PAUSE_SECONDS = 0.12
ALIASES_FILE = Path(__file__).resolve().parent / "content" / "heading-aliases.toml"

_PAPER_HOSTS = (
    "arxiv.org",
    "openreview.net",
    "papers.nips.cc",
    "proceedings.neurips.cc",
    "neurips.cc",
    "proceedings.mlr.press",
    "dl.acm.org",
    "aclanthology.org",
    "aclweb.org",
    "ieeexplore.ieee.org",
    "semanticscholar.org",
)
_VIDEO_HOSTS = ("youtube.com", "youtu.be", "vimeo.com")
_COURSE_HOSTS = (
    "coursera.org",
    "udemy.com",
    "edx.org",
    "udacity.com",
    "pluralsight.com",
    "datacamp.com",
)
_PODCAST_HOSTS = ("podcasts.apple.com", "podcasts.google.com", "anchor.fm", "podbean.com")
_BOOK_HOSTS = ("packtpub.com", "leanpub.com", "amazon.com", "amazon.co.uk", "amazon.de")
_PROJECT_HOSTS = ("github.com", "gitlab.com")
# Words in a heading that say what its links are; the nearest heading wins. Words that could
# name a topic as well as a kind ("training", "research", "platforms") are left out.
_SECTION_WORDS = {
    ResourceType.BOOK: ("book", "books", "ebooks"),
    ResourceType.COURSE: ("course", "courses", "moocs"),
    ResourceType.PODCAST: ("podcast", "podcasts"),
    ResourceType.VIDEO: ("video", "videos", "talk", "talks", "lectures", "webinars"),
    ResourceType.PAPER: ("paper", "papers", "publications"),
    ResourceType.BLOG: ("blog", "blogs"),
    ResourceType.NEWSLETTER: ("newsletter", "newsletters"),
    ResourceType.COMMUNITY: ("community", "communities", "slack", "events", "conferences"),
    ResourceType.TOOL: ("tool", "tools", "frameworks", "libraries", "software"),
    ResourceType.PROJECT: ("projects", "examples", "templates"),
    ResourceType.ARTICLE: ("article", "articles", "posts"),
}


def _on_host(host: str, domains: tuple[str, ...]) -> bool:
    return any(host == domain or host.endswith(f".{domain}") for domain in domains)


def decide_resource_type(url: str, headings: list[str]) -> tuple[str, bool]:
    """(type, sure) from the link and the headings above it (nearest first). Known hosts are
    sure; a repository under a tools heading is a tool; anything else is a guess, said so."""
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.")
    path = parts.path.lower()
    if _on_host(host, _PAPER_HOSTS):
        return ResourceType.PAPER, True
    if _on_host(host, _VIDEO_HOSTS):
        return ResourceType.VIDEO, True
    if _on_host(host, _COURSE_HOSTS):
        return ResourceType.COURSE, True
    if _on_host(host, _PODCAST_HOSTS) or "podcast" in host or "/podcast" in path:
        return ResourceType.PODCAST, True
    if (
        (_on_host(host, ("oreilly.com",)) and path.startswith("/library/view/"))
        or (_on_host(host, ("manning.com",)) and path.startswith("/books/"))
        or _on_host(host, _BOOK_HOSTS)
    ):
        return ResourceType.BOOK, True
    heading_kind = None
    for heading in headings:
        words = set(re.findall(r"\w+", heading.casefold()))
        heading_kind = next(
            (kind for kind, names in _SECTION_WORDS.items() if words & set(names)), None
        )
        if heading_kind:
            break
    repository = _on_host(host, _PROJECT_HOSTS) and len([p for p in path.split("/") if p]) == 2
    if heading_kind in (ResourceType.TOOL, ResourceType.PROJECT):
        return heading_kind, True
    if heading_kind and not repository:
        return heading_kind, True
    if repository:  # most repositories in an MLOps list are tools; a moderator confirms
        return ResourceType.TOOL, False
    return ResourceType.ARTICLE, False


def guess_resource_type(url: str, headings: list[str]) -> str:
    return decide_resource_type(url, headings)[0]


def _choice(item: ResourceData, key: str, choices, default: str) -> str:
    value = item.meta.get(key, "").strip().lower()
    if not value:
        return default
    if value not in choices.values:
        raise ContentError(
            item.line_number, f"{key} {value!r} is not one of: {', '.join(choices.values)}"
        )
    return value


def _heading_key(text: str) -> str:
    """A heading folded for matching: case, punctuation and a plural "s" do not matter."""
    return fold_name(text).removesuffix("s")


def load_aliases(path: Path = ALIASES_FILE) -> dict[str, str]:
    """The repository's heading -> section slug mapping (roadmap/content/heading-aliases.toml)."""
    with open(path, "rb") as file:
        return {_heading_key(heading): slug for heading, slug in tomllib.load(file).items()}


def parse_map_options(options: list[str]) -> dict[str, str]:
    """`--map "Heading=section-slug"` options as a mapping; ValueError names a bad one."""
    mapping = {}
    for option in options:
        heading, sep, slug = option.rpartition("=")
        if not sep or not heading.strip() or not slug.strip():
            raise ValueError(f'--map {option!r} is not of the form "Heading=section-slug"')
        mapping[_heading_key(heading)] = slug.strip()
    return mapping


@dataclass
class _Target:
    """Where a heading's links go: an existing section, or one this import may create."""

    title: str
    slug: str
    parent: "_Target | None"
    section: Section | None = None
    data: SectionData | None = None
    needed: bool = False
    how: str = ""
    heading: str = ""  # as the file wrote it, when it matched a section of another title

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
            names += [target.heading, target.title] if target.heading else [target.title]
            target = target.parent
        return names


@dataclass
class _Candidate:
    item: ResourceData
    normalized_url: str
    target: _Target
    values: dict


CREATED, DUPLICATE, SKIPPED, REPORTED = "created", "duplicate", "skipped", "reported"
OUTCOMES = (CREATED, DUPLICATE, SKIPPED, REPORTED)


@dataclass
class ImportReport:
    status: str
    dry_run: bool = False
    batch: ImportBatch | None = None
    created: list[tuple[int, Resource]] = field(default_factory=list)
    would_create: list[tuple[int, str, str]] = field(default_factory=list)
    duplicates: list[tuple[int, str, Resource | None]] = field(default_factory=list)
    # line -> (link, title) of a "same as #N" line, for keeping it as an alternate link.
    duplicate_links: dict[int, tuple[str, str]] = field(default_factory=dict)
    skipped: list[tuple[int, str]] = field(default_factory=list)
    unreadable: list[tuple[int, str]] = field(default_factory=list)
    sections_created: list[Section] = field(default_factory=list)
    sections_planned: list[str] = field(default_factory=list)
    sections_matched: list[tuple[str, Section]] = field(default_factory=list)
    headings: list[tuple[int, str, str]] = field(default_factory=list)  # line, heading, mapping
    line_outcomes: dict[int, str] = field(default_factory=dict)

    @property
    def imported_nothing(self) -> bool:
        """True when no line held a usable link: nothing created and no duplicate seen."""
        return not (self.created or self.would_create or self.duplicates or self.sections_created)

    @property
    def counts(self) -> dict[str, int]:
        """Link-bearing lines by outcome; they add up to `link_lines`."""
        counts = dict.fromkeys(OUTCOMES, 0)
        for outcome in self.line_outcomes.values():
            counts[outcome] += 1
        return counts

    @property
    def link_lines(self) -> int:
        return len(self.line_outcomes)

    def entries(self) -> list[dict]:
        """What did not become a resource, line by line, for the batch's report page."""
        rows = [
            {
                "line": line,
                "outcome": DUPLICATE,
                "reason": why,
                "same_as": getattr(found, "pk", None),
            }
            for line, why, found in self.duplicates
        ]
        for row in rows:  # the link a moderator may keep as an alternate link of #N
            if row["same_as"] and (link := self.duplicate_links.get(row["line"])):
                row["url"], row["title"] = link
        rows += [{"line": line, "outcome": SKIPPED, "reason": why} for line, why in self.skipped]
        rows += [
            {"line": line, "outcome": REPORTED, "reason": why} for line, why in self.unreadable
        ]
        return sorted(rows, key=lambda row: row["line"])


class _Importer:
    def __init__(self, *, data, target_section, status, aliases, mapping, progress):
        self.data = data
        self.status = status
        self.progress = progress
        self.report = ImportReport(status=status)
        sections = list(Section.objects.order_by("position", "id"))
        self.taken_slugs = {section.slug for section in sections}
        self.next_position = Counter()
        for section in sections:
            self.next_position[section.parent_id] = max(
                self.next_position[section.parent_id], section.position + 1
            )
        self.all_by_slug = {section.slug: section for section in sections}
        # With a target section, headings match only sections below it, never elsewhere.
        if target_section is None:
            candidates = sections
        else:
            candidates = self._descendants(sections, target_section)
        self.by_slug = {section.slug: section for section in candidates}
        self.by_title: dict[str, Section] = {}
        for section in candidates:
            self.by_title.setdefault(_heading_key(section.title), section)
        self.aliases, self.mapping = aliases, mapping
        self.root = (
            _Target(target_section.title, target_section.slug, None, section=target_section)
            if target_section
            else None
        )
        self.planned: dict[str, _Target] = {}
        self.created_roadmap = False

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

    def _existing_for(self, item: SectionData) -> tuple[Section | None, str]:
        key = _heading_key(item.title)
        if key in self.mapping:
            return self.all_by_slug.get(self.mapping[key]), "by --map"
        slug = slugify(item.meta.get("slug", ""))[:80] or slugify(item.title)[:80] or "section"
        if slug in self.by_slug:
            return self.by_slug[slug], "by slug"
        if "slug" in item.meta:
            return None, ""
        if key in self.by_title:
            return self.by_title[key], "by title"
        if key in self.aliases and self.aliases[key] in self.by_slug:
            return self.by_slug[self.aliases[key]], "by alias"
        return None, ""

    def _target_for(self, item: SectionData, parent: _Target | None) -> _Target:
        existing, how = self._existing_for(item)
        if existing is not None:
            self.report.sections_matched.append((item.title, existing))
            return _Target(
                existing.title, existing.slug, parent, section=existing, how=how, heading=item.title
            )
        slug = slugify(item.meta.get("slug", ""))[:80] or slugify(item.title)[:80] or "section"
        title_key = _heading_key(item.title)
        planned = self.planned.get(slug) or (
            None if "slug" in item.meta else self.planned.get(title_key)
        )
        if planned is not None:  # the same heading twice: one section
            return planned
        target = _Target(item.title[:200], self._free_slug(slug, parent), parent, data=item)
        target.how = "new hidden section"
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

    def _create_section(self, target: _Target, batch: ImportBatch) -> None:
        parent = target.parent.section if target.parent else None
        parent_id = parent.id if parent else None
        position = self.next_position[parent_id]
        self.next_position[parent_id] += 1
        try:
            path = path_values(target.data)
        except ContentError:  # an awesome list's own meta: the section is a plain step
            path = {}
        exported = "slug" in target.data.meta  # a roadmap export: its sections are reviewed
        target.section = Section.objects.create(
            slug=target.slug,
            title=target.title,
            summary=target.data.summary[:300],
            body=target.data.body,
            parent=parent,
            position=position,
            **path,
            published=exported,
            import_batch=batch,
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
        note = ""
        if not kind:
            kind, sure = decide_resource_type(item.url, target.headings)
            if not sure:
                note = f"type unsure (guessed {kind})"
        return {
            "title": item.title[:200],
            "url": f"{scheme.lower()}:{rest}",  # "HTTPS://..." is valid, but not to the database
            "description": item.description,
            "resource_type": kind,
            "cost": _choice(item, "cost", Cost, Cost.UNKNOWN),
            "level": _choice(item, "level", Level, ""),
            "provider": item.meta.get("provider", "")[:200],
            "review_note": note,
        }

    def _candidates(self, placed: list[tuple[ResourceData, _Target | None]]) -> list[_Candidate]:
        readable: list[tuple[ResourceData, _Target | None, str]] = []
        for item, target in placed:
            try:
                readable.append((item, target, normalize_url(item.url)))
            except InvalidURL as error:
                shown = item.url if len(item.url) <= 80 else item.url[:77] + "..."
                self.report.unreadable.append(
                    (item.line_number, f"the link {shown!r} is not a web address: {error}")
                )
        same_as: dict[int, SameAs] = {}
        # A roadmap export (its sections carry slugs) was curated here: exact links only.
        exported = any("slug" in section.meta for section in self.data.sections)
        titles = (
            TitleIndex()
            if readable and not exported and connection.vendor != "postgresql"
            else None
        )
        for start in range(0, len(readable), 500) if not exported else ():
            part = readable[start : start + 500]
            found = find_same_as(
                [LookAlike(url, item.url, item.title) for item, _, url in part], title_index=titles
            )
            same_as.update({start + index: value for index, value in found.items()})
        seen: dict[str, int] = {}
        candidates = []
        for index, (item, target, url) in enumerate(readable):
            line = item.line_number
            keys, earlier = [url], [url]
            if not exported:
                home, name = project_key(item.url), fold_name(item.title)
                if home:
                    keys.append(home)
                    earlier += same_project_keys(home)
                    earlier.append(f"name:{home.partition(':')[2]}")
                if len(name) >= MIN_KEY_LENGTH:
                    keys.append(f"name:{name}")
                    earlier.append(f"name:{name}")
            if target is None:
                self.report.unreadable.append(
                    (
                        line,
                        "the link comes before any heading, so it has no section "
                        "(import with --section SLUG to place it)",
                    )
                )
            elif index in same_as:
                found = same_as[index]
                self.report.duplicates.append(
                    (line, f"{item.title!r} ({item.url}) is {found.message}", found.resource)
                )
                if found.why != "same link":  # an address the resource does not hold yet
                    self.report.duplicate_links[line] = (item.url, item.title)
            elif repeated := next((seen[key] for key in earlier if key in seen), None):
                self.report.duplicates.append(
                    (line, f"{item.title!r} ({item.url}) is the same as line {repeated}", None)
                )
            else:
                try:
                    values = self._values(item, target)
                except ContentError as error:
                    self.report.unreadable.append((line, str(error).split(": ", 1)[1]))
                    continue
                for key in keys:
                    seen.setdefault(key, line)
                target.need()
                candidates.append(_Candidate(item, url, target, values))
        return candidates

    def _create_resources(self, candidates: list[_Candidate], batch: ImportBatch) -> None:
        now = timezone.now()
        remaining = iter(enumerate(candidates))
        done = 0
        while done < len(candidates):
            # One transaction holds the write lock: at most CHUNK_SIZE resources, and no longer
            # than CHUNK_SECONDS, so that a reader's write (a session, /healthz) soon gets in.
            started, created = time.monotonic(), []
            with transaction.atomic(), invalidate_once():
                for offset, candidate in remaining:
                    done += 1
                    if (resource := self._create_one(candidate, batch)) is not None:
                        # As the loader does: a second apart, so "newest first" keeps file order.
                        resource.created_at = now - timedelta(seconds=offset)
                        if self.status == Status.APPROVED:
                            resource.approved_at = resource.created_at
                            resource.hot_score = hot_score(0, 0, resource.approved_at)
                        created.append(resource)
                    full = len(created) >= CHUNK_SIZE
                    if full or time.monotonic() - started > CHUNK_SECONDS:
                        break
                Resource.objects.bulk_update(created, ["created_at", "approved_at", "hot_score"])
            if connection.vendor == "sqlite" and done < len(candidates):
                time.sleep(SQLITE_PAUSE_SECONDS)
            if self.progress:
                self.progress(done, len(candidates))

    def _create_one(self, candidate: _Candidate, batch: ImportBatch) -> Resource | None:
        tags = list(dict.fromkeys(tag[:100] for tag in candidate.item.tags))
        line = candidate.item.line_number
        data = {
            **candidate.values,
            "section": candidate.target.section,
            "tags": tags,
            "import_batch": batch,
            "source_line": line,
        }
        try:
            resource = create_resource(data=data, status=self.status)
        except DuplicateResource as error:  # added on the site meanwhile
            self.report.duplicates.append(
                (line, f"same as #{error.existing.pk} (same link)", error.existing)
            )
            return None
        self.report.created.append((line, resource))
        return resource

    def plan(self) -> list[_Candidate]:
        data = self.data
        self.report.unreadable.extend(data.problems)
        self.report.skipped.extend(data.skipped)
        self.targets: dict[int, _Target] = {}
        for item in data.sections:
            parent = self.targets[id(item.parent)] if item.parent is not None else self.root
            target = self._target_for(item, parent)
            # A heading with neither links nor prose that only holds others ("Main Content"):
            # its sub-headings take its place.
            if (
                target.section is None
                and not item.resources
                and not item.body
                and "slug" not in item.meta
                and any(other.parent is item for other in data.sections)
            ):
                self.targets[id(item)] = parent
                self.report.headings.append((item.line_number, item.title, "(a wrapper: none)"))
                continue
            self.targets[id(item)] = target
        placed = [(item, self.root) for item in data.loose_resources]
        for item in data.sections:
            placed += [(resource, self.targets[id(item)]) for resource in item.resources]
        placed.sort(key=lambda pair: pair[0].line_number)
        candidates = self._candidates(placed)
        for item in data.sections:
            target = self.targets[id(item)]
            if target is None or any(
                line == item.line_number for line, _, _ in self.report.headings
            ):
                continue
            if target.section is not None:
                mapping = f"{target.section.slug} (existing, {target.how})"
            elif target.needed:
                mapping = f"{target.slug} (new hidden section)"
                if target.slug not in self.report.sections_planned:
                    self.report.sections_planned.append(target.slug)
            else:
                mapping = "(no links: none)"
            self.report.headings.append((item.line_number, item.title, mapping))
        self.report.headings.sort()
        for candidate in candidates:
            self.report.would_create.append(
                (candidate.item.line_number, candidate.values["title"], candidate.target.slug)
            )
        return candidates

    def write(self, candidates: list[_Candidate], batch: ImportBatch) -> None:
        data = self.data
        with transaction.atomic():
            if self.root is None and data.title and not Roadmap.objects.filter(pk=1).exists():
                Roadmap(title=data.title[:200], intro=data.intro).save()
                self.created_roadmap = True
            created = []
            for item in data.sections:
                target = self.targets[id(item)]
                if target is not None and target.needed and target.section is None:
                    self._create_section(target, batch)
                    created.append(target)
            self._link_prerequisites(created)
        self._create_resources(candidates, batch)

    def finish(self) -> ImportReport:
        report = self.report
        outcomes: dict[int, str] = {}
        rank = {outcome: index for index, outcome in enumerate(OUTCOMES)}

        def note(line: int, outcome: str) -> None:
            if line not in outcomes or rank[outcome] < rank[outcomes[line]]:
                outcomes[line] = outcome

        for line, _ in report.created:
            note(line, CREATED)
        if report.dry_run:
            for line, _, _ in report.would_create:
                note(line, CREATED)
        for line, _, _ in report.duplicates:
            note(line, DUPLICATE)
        for line, _ in report.skipped:
            note(line, SKIPPED)
        for line, _ in report.unreadable:
            note(line, REPORTED)
        for line in self.data.link_lines - outcomes.keys():  # nothing goes unaccounted for
            report.unreadable.append((line, "a link on this line could not be read"))
            note(line, REPORTED)
        report.line_outcomes = dict(sorted(outcomes.items()))
        for entries in (report.unreadable, report.skipped, report.duplicates):
            entries.sort(key=lambda entry: entry[0])
        return report


def _progress_none(done: int, total: int) -> None:
    pass


def import_markdown(
    *,
    text: str,
    section_slug: str | None = None,
    status: str = Status.PENDING,
    source: str = "",
    revision: str = "",
    run_by=None,
    dry_run: bool = False,
    mapping: dict[str, str] | None = None,
    progress=None,
) -> ImportReport:
    """Create sections and resources from awesome-list Markdown, as one recorded batch.

    Duplicates (the same link, project, name or a near-identical title: find_same_as) are not
    created but reported as "same as #N"; unreadable lines are reported, not fatal. Headings
    map onto existing sections by --map, slug, title or the aliases file; the others become
    hidden sections. Written in chunks of CHUNK_SIZE resources, each its own transaction, so
    the site keeps answering; if the import fails midway, what it wrote is removed again.
    With `dry_run`, nothing is written and the report says what would happen.
    """
    if status not in (Status.PENDING, Status.APPROVED):
        raise ValueError(f"status must be pending or approved, not {status!r}")
    size = len(text.encode())
    if size > MAX_FILE_BYTES:
        raise TooLarge(
            f"the file holds {size / 1024 / 1024:.1f} MB of Markdown; the most one import takes "
            f"is {MAX_FILE_BYTES // 1024 // 1024} MB: split it at a heading and import the parts"
        )
    data = parse_awesome_list(text)
    items = len(data.loose_resources) + sum(len(section.resources) for section in data.sections)
    if items > MAX_ITEMS:
        raise TooLarge(
            f"the file holds {items} links; the most one import takes is {MAX_ITEMS}: split it "
            "at a heading and import the parts"
        )
    target = None
    if section_slug is not None:
        target = Section.objects.filter(slug=section_slug).first()
        if target is None:
            raise UnknownSection(f"there is no section with the slug {section_slug!r}")
    importer = _Importer(
        data=data,
        target_section=target,
        status=status,
        aliases=load_aliases(),
        mapping=mapping or {},
        progress=progress,
    )
    candidates = importer.plan()
    if dry_run:
        importer.report.dry_run = True
        return importer.finish()
    batch = ImportBatch.objects.create(
        source=source[:500] or "(text)", revision=revision[:100], run_by=run_by
    )
    importer.report.batch = batch
    try:
        importer.write(candidates, batch)
    except BaseException:
        _remove_failed_batch(batch, roadmap=importer.created_roadmap)
        raise
    report = importer.finish()
    counts = report.counts
    batch.status = ImportStatus.FINISHED
    batch.finished_at = timezone.now()
    batch.link_lines = report.link_lines
    batch.created, batch.duplicates = counts[CREATED], counts[DUPLICATE]
    batch.skipped, batch.reported = counts[SKIPPED], counts[REPORTED]
    batch.resources_created = len(report.created)
    batch.sections_created = len(report.sections_created)
    batch.report = report.entries()
    batch.save()
    return report


def _remove_failed_batch(batch: ImportBatch, *, roadmap: bool) -> None:
    """An import that stopped midway takes back what it wrote; the batch stays, as failed."""
    with transaction.atomic():
        if roadmap:
            Roadmap.objects.filter(pk=1).delete()
        Resource.objects.filter(import_batch=batch).delete()
        sections = Section.objects.filter(import_batch=batch)
        while sections.exists():  # children before their parents (PROTECT)
            deleted, _ = sections.filter(children__isnull=True).delete()
            if not deleted:
                break
        batch.status = ImportStatus.FAILED
        batch.finished_at = timezone.now()
        batch.save(update_fields=["status", "finished_at"])
