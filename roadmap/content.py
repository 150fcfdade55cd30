"""Parse the roadmap content file (roadmap/content/mlops-roadmap.md) into plain data.

The format is Markdown that reads well on its own:

    # Title
    Introduction ...
    ## Section title
    <!-- slug: section-slug | summary: One sentence. -->
    Prose ...
    - [Resource title](https://example.com/) - Description.
      <!-- type: course | cost: free | level: beginner | provider: Someone | tags: a, b -->

`##` starts a top-level section, `###` and deeper nest under the heading above them.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

from django.utils.text import slugify

DEFAULT_CONTENT_FILE = Path(__file__).resolve().parent / "content" / "mlops-roadmap.md"

# The title is cleaned by heading_title(): trimming in the pattern takes quadratic time on a
# line of many spaces.
HEADING = re.compile(r"^(?P<hashes>#{1,6})\s+(?P<text>\S.*)$")
COMMENT = re.compile(r"^\s*<!--(?P<body>.*)-->\s*$")
RESOURCE = re.compile(
    r"^\s{0,3}[-*+]\s+\[(?P<title>(?:\\.|[^\]\\])+)\]\((?P<url>[^\s)]+(?:\([^\s)]*\)[^\s)]*)*)"
    r"(?:\s+\"[^\"]*\")?\)(?:\s*(?:[-–—:]\s*)?(?P<description>.*))?$"
)
FENCE = re.compile(r"^\s*(```|~~~)")
# A generated table of contents sits between these markers (markdown-toc's convention); it
# repeats the headings, so readers skip it.
TOC_START = re.compile(r"^\s*<!--\s*toc\s*-->\s*$", re.IGNORECASE)
TOC_END = re.compile(r"^\s*<!--\s*(?:/toc|tocstop)\s*-->\s*$", re.IGNORECASE)
ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")


class ContentError(ValueError):
    """The content cannot be read; the message names the line."""

    def __init__(self, line_number: int, message: str):
        self.line_number = line_number
        super().__init__(f"line {line_number}: {message}")


@dataclass
class ResourceData:
    title: str
    url: str
    description: str
    line_number: int
    meta: dict[str, str] = field(default_factory=dict)

    @property
    def tags(self) -> list[str]:
        raw = self.meta.get("tags", "")
        return [tag.strip().lower() for tag in raw.split(",") if tag.strip()]


@dataclass
class SectionData:
    title: str
    depth: int
    line_number: int
    meta: dict[str, str] = field(default_factory=dict)
    body_lines: list[str] = field(default_factory=list)
    resources: list[ResourceData] = field(default_factory=list)
    parent: "SectionData | None" = None

    @property
    def slug(self) -> str:
        return self.meta.get("slug") or slugify(self.title)[:80]

    @property
    def summary(self) -> str:
        return self.meta.get("summary", "")

    @property
    def body(self) -> str:
        return "\n".join(self.body_lines).strip()


@dataclass
class RoadmapData:
    title: str = ""
    intro_lines: list[str] = field(default_factory=list)
    sections: list[SectionData] = field(default_factory=list)
    # Filled only by the lenient reader: links above the first heading, and lines it skipped.
    loose_resources: list[ResourceData] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)

    @property
    def intro(self) -> str:
        return "\n".join(self.intro_lines).strip()

    @property
    def resources(self) -> list[ResourceData]:
        return [resource for section in self.sections for resource in section.resources]


def parse_meta(body: str) -> dict[str, str]:
    """`key: value | key: value` inside an HTML comment, keys lower-cased."""
    meta = {}
    for part in body.split("|"):
        key, sep, value = part.partition(":")
        if sep and key.strip():
            meta[key.strip().lower()] = value.strip()
    return meta


def heading_title(heading: re.Match) -> str:
    """The heading's text without a closing run of `#`, which needs a space before it, so
    that "C#" keeps its hash (CommonMark)."""
    text = heading["text"].rstrip()
    without_hashes = text.rstrip("#")
    if without_hashes != text and without_hashes[-1:].isspace():
        text = without_hashes.rstrip()
    return text


def unescape(text: str) -> str:
    """Undo Markdown's backslash escapes of punctuation: `\\]` is `]`."""
    return ESCAPED.sub(r"\1", text)


def table_of_contents_lines(lines: list[str]) -> set[int]:
    """Line numbers (1-based) inside `<!-- toc -->` ... `<!-- /toc -->` blocks, markers included.

    A start marker without an end marker is left alone, so that it cannot swallow the file.
    """
    inside: set[int] = set()
    start = None
    in_fence = False
    for number, line in enumerate(lines, start=1):
        if FENCE.match(line):
            in_fence = not in_fence
        elif in_fence:
            continue
        elif start is None and TOC_START.match(line):
            start = number
        elif start is not None and TOC_END.match(line):
            inside.update(range(start, number + 1))
            start = None
    return inside


def parse_roadmap(text: str, *, top_level_depth: int = 2) -> RoadmapData:
    """Read roadmap Markdown; headings at `top_level_depth` become top-level sections."""
    roadmap = RoadmapData()
    current: SectionData | None = None
    last_resource: ResourceData | None = None
    stack: list[SectionData] = []
    in_fence = False
    number = 0
    lines = text.splitlines()
    toc_lines = table_of_contents_lines(lines)

    for number, line in enumerate(lines, start=1):
        if "\x00" in line:
            raise ContentError(number, "the line holds a NUL character")
        if number in toc_lines:
            continue
        if FENCE.match(line):
            in_fence = not in_fence
        heading = None if in_fence else HEADING.match(line)
        if heading and len(heading["hashes"]) < top_level_depth:
            if roadmap.sections:
                raise ContentError(number, "a title heading appears after the first section")
            roadmap.title = roadmap.title or heading_title(heading)
            last_resource = None
            continue
        if heading:
            depth = len(heading["hashes"]) - top_level_depth
            while stack and stack[-1].depth >= depth:
                stack.pop()
            if depth > len(stack):
                depth = len(stack)  # a heading that skips a level nests one level down
            current = SectionData(
                title=heading_title(heading),
                depth=depth,
                line_number=number,
                parent=stack[-1] if stack else None,
            )
            stack.append(current)
            roadmap.sections.append(current)
            last_resource = None
            continue
        comment = None if in_fence else COMMENT.match(line)
        if (
            comment
            and current is not None
            and not current.meta
            and not current.resources
            and not "".join(current.body_lines).strip()
        ):
            current.meta = parse_meta(comment["body"])
            continue
        if comment and last_resource is not None and not last_resource.meta:
            last_resource.meta = parse_meta(comment["body"])
            continue
        match = None if in_fence else RESOURCE.match(line)
        if match and current is not None:
            last_resource = ResourceData(
                title=unescape(match["title"]).strip(),
                url=match["url"].strip(),
                description=(match["description"] or "").strip(),
                line_number=number,
            )
            current.resources.append(last_resource)
            continue
        if line.strip():
            last_resource = None
        if current is None:
            roadmap.intro_lines.append(line)
        else:
            current.body_lines.append(line)

    if in_fence:
        raise ContentError(number, "a code block is opened but never closed")
    return roadmap


def read_roadmap_file(path: Path | str = DEFAULT_CONTENT_FILE) -> RoadmapData:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ContentError(0, f"the file is not UTF-8 text ({error.reason})") from error
    return parse_roadmap(text)


# Lenient reading of any awesome list (visenger/awesome-mlops, kelvins/awesome-mlops, ...):
# headings of any level, `*`/`-`/`+`/`1.` bullets at any depth, table rows that start with a
# link, reference-style links. Badges, images, in-page anchors and tables of contents are
# ignored; a line that cannot be read is recorded in `problems` instead of stopping the read.

MAX_LINE_LENGTH = 8_000
TOC_TITLES = frozenset({"table of contents", "table of content", "contents", "content", "toc"})
META_KEYS = frozenset({"type", "cost", "level", "provider", "tags", "slug", "summary"})
BULLET = re.compile(r"^\s*(?:[-*+]|\d{1,9}[.)])\s+(?P<content>.*)$")
TASK_BOX = re.compile(r"^\[[ xX]\]\s+")
REFERENCE_DEFINITION = re.compile(
    r"^\s{0,3}\[(?P<label>[^\]]+)\]:\s*<?(?P<url>[^\s>]+)>?"
    r"(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*$"
)
# No character class below may match the character that starts another attempt (a bracket,
# parenthesis or `<`): otherwise a long line of repeated openers takes quadratic time.
_TARGET = r"\([^\s()]*(?:\s+\"[^\"()]{0,300}\")?\)"
IMAGE = re.compile(r"!\[(?P<alt>[^\[\]]*)\]" + _TARGET)
LINKED_IMAGE = re.compile(r"\[\s*!\[[^\[\]]*\]" + _TARGET + r"\s*\]" + _TARGET)
INLINE_LINK = re.compile(r"(?<!!)\[(?P<text>[^\[\]]*)\]" + _TARGET)
HTML_TAG = re.compile(r"</?[a-zA-Z][^<>]*>")
SEPARATOR = re.compile(r"^\s*(?:[-–—:|,]\s*)?")
NAVIGATION = object()  # a link to an anchor on the same page, such as a table of contents


class BrokenLink(ValueError):
    """A line that starts like a link but is not one."""

    def __init__(self, message: str = "could not read a link"):
        super().__init__(message)


@dataclass
class _Link:
    label: str
    url: str
    end: int


def _normal_label(label: str) -> str:
    return " ".join(label.split()).casefold()


def _closing_bracket(text: str) -> int:
    """Index of the `]` that closes the `[` at text[0], or -1."""
    depth = 0
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
            if depth == 0:
                return index
        index += 1
    return -1


def _skip_blanks(text: str, index: int) -> int:
    while index < len(text) and text[index] in " \t":
        index += 1
    return index


def _destination(text: str, start: int) -> tuple[str, int] | None:
    """Read `(url "title")` from the `(` at text[start]: the url and the index after `)`."""
    index = _skip_blanks(text, start + 1)
    if text.startswith("<", index):
        close = text.find(">", index)
        if close == -1:
            return None
        url, index = text[index + 1 : close], close + 1
    else:
        begin, depth = index, 0
        while index < len(text):
            char = text[index]
            if char == "\\":
                index += 2
                continue
            if char.isspace() or (char == ")" and depth == 0):
                break
            depth += {"(": 1, ")": -1}.get(char, 0)
            index += 1
        url = text[begin:index]
    index = _skip_blanks(text, index)
    if index < len(text) and text[index] in "\"'(":
        close = text.find(")" if text[index] == "(" else text[index], index + 1)
        if close == -1:
            return None
        index = _skip_blanks(text, close + 1)
    if text.startswith(")", index) and url:
        return url, index + 1
    return None


def _scan_link(text: str, references: dict[str, str]) -> _Link | None:
    """The link that `text` starts with; None when it starts with none; BrokenLink when the
    link is cut off or its reference is not defined."""
    if not text.startswith("["):
        return None
    close = _closing_bracket(text)
    if close == -1:
        if "](" in text:
            raise BrokenLink
        return None
    label, after = text[1:close], close + 1
    if text.startswith("(", after):
        found = _destination(text, after)
        if found is None:
            raise BrokenLink
        return _Link(label, found[0], found[1])
    if text.startswith("[", after):
        end = text.find("]", after)
        if end == -1:
            raise BrokenLink
        reference = text[after + 1 : end] or label
        if _normal_label(reference) not in references:
            raise BrokenLink(f"the link reference [{reference[:80]}] is not defined")
        return _Link(label, references[_normal_label(reference)], end + 1)
    if _normal_label(label) in references:  # a shortcut reference: [Title]
        return _Link(label, references[_normal_label(label)], after)
    return None  # "[x] done", "[sic]": brackets in prose


def strip_images(text: str) -> str:
    return IMAGE.sub("", LINKED_IMAGE.sub("", text))


def _unwrap(text: str) -> str:
    """Drop emphasis or code marks around the whole text: **Title** is Title."""
    for mark in ("**", "__", "`"):
        if len(text) > 2 * len(mark) and text.startswith(mark) and text.endswith(mark):
            return text[len(mark) : -len(mark)].strip()
    return text


def plain_heading(text: str) -> str:
    """A heading as plain text: no badges, images, link targets, HTML tags or emphasis."""
    text = INLINE_LINK.sub(lambda match: match["text"], strip_images(text))
    text = " ".join(HTML_TAG.sub("", text).split())
    return unescape(_unwrap(text))


def _link_title(label: str) -> str:
    title = _unwrap(" ".join(strip_images(label).split()))
    if not title and (image := IMAGE.search(label)):
        title = image["alt"].strip()  # a logo that links to the resource: its alt text
    return unescape(title)


def _link_item(content: str, references: dict[str, str], number: int):
    """A resource from the text of a list item or table cell that starts with a link."""
    text = TASK_BOX.sub("", content.strip(), count=1)
    while (image := IMAGE.match(text)) is not None:  # an icon before the link
        text = text[image.end() :].lstrip()
    emphasis = next((mark for mark in ("**", "__") if text.startswith(mark + "[")), "")
    link = _scan_link(text[len(emphasis) :], references)
    if link is None:
        return None
    if link.url.startswith("#"):
        return NAVIGATION
    rest = text[len(emphasis) + link.end :]
    if emphasis and rest.startswith(emphasis):
        rest = rest[len(emphasis) :]
    title = _link_title(link.label)
    if not title:
        raise BrokenLink("the link has no title")
    meta: dict[str, str] = {}
    start = rest.rfind("<!--")
    if start != -1 and rest.rstrip().endswith("-->"):  # metadata on the link's own line
        found = parse_meta(rest.rstrip()[start + 4 : -3])
        if found.keys() & META_KEYS:
            meta, rest = found, rest[:start]
    description = " ".join(SEPARATOR.sub("", strip_images(rest), count=1).split())
    return ResourceData(
        title=title, url=link.url.strip(), description=description, line_number=number, meta=meta
    )


def _table_cells(line: str) -> list[str]:
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip().strip("|"))]


def _read_item(line: str, references: dict[str, str], number: int):
    if (bullet := BULLET.match(line)) is not None:
        return _link_item(bullet["content"], references, number)
    if line.lstrip().startswith("|"):
        cells = _table_cells(line)
        item = _link_item(cells[0], references, number) if len(cells) > 1 else None
        if isinstance(item, ResourceData) and not item.description:
            # The first cell after the link that says something: badges say nothing.
            texts = (" ".join(strip_images(cell).split()) for cell in cells[1:])
            item.description = next((text for text in texts if text), "")
        return item
    return None


def _is_decoration(line: str) -> bool:
    """Badges, images and bare HTML (anchors, <p align>) carry nothing a section needs."""
    return bool(line.strip()) and not HTML_TAG.sub("", strip_images(line)).strip()


def _reference_definitions(lines: list[str]) -> tuple[dict[str, str], set[int]]:
    references: dict[str, str] = {}
    numbers: set[int] = set()
    for number, line in enumerate(lines, start=1):
        if len(line) <= MAX_LINE_LENGTH and (match := REFERENCE_DEFINITION.match(line)):
            references.setdefault(_normal_label(match["label"]), match["url"])
            numbers.add(number)
    return references, numbers


def _fence_lines(lines: list[str]) -> set[int]:
    numbers = [number for number, line in enumerate(lines, start=1) if FENCE.match(line)]
    if len(numbers) % 2:
        numbers.pop()  # a fence that is never closed is read as text, not as the rest of the file
    return set(numbers)


def parse_awesome_list(text: str) -> RoadmapData:
    """Read any awesome-list Markdown leniently; what cannot be read lands in `problems`."""
    data = RoadmapData()
    lines = text.splitlines()
    references, definition_lines = _reference_definitions(lines)
    skipped_lines = table_of_contents_lines(lines) | definition_lines
    fences = _fence_lines(lines)
    stack: list[tuple[int, SectionData]] = []
    current: SectionData | None = None
    last_resource: ResourceData | None = None
    continues = False  # the line before belongs to last_resource
    in_fence = in_comment = False
    comment_line = 0
    in_link_table = False  # a table whose rows are links: the rest of it is not prose
    toc_level: int | None = None  # inside a "Table of contents" section of this heading level

    def prose(line: str) -> None:
        if toc_level is None:
            (data.intro_lines if current is None else current.body_lines).append(line)

    for number, line in enumerate(lines, start=1):
        if len(line) > MAX_LINE_LENGTH:
            data.problems.append((number, f"the line is too long to read ({len(line)} characters)"))
            last_resource, continues = None, False
            continue
        if "\x00" in line:
            data.problems.append((number, "the line holds binary data"))
            last_resource, continues = None, False
            continue
        if number in fences:
            in_fence = not in_fence
            prose(line)
            continue
        if in_fence:
            prose(line)
            continue
        if in_comment:
            in_comment = "-->" not in line
            continue
        if number in skipped_lines:
            continue
        if (heading := HEADING.match(line)) is not None:
            level, title = len(heading["hashes"]), plain_heading(heading_title(heading))[:200]
            if toc_level is not None and level > toc_level:
                continue
            toc_level, last_resource, continues = None, None, False
            if not title:
                continue
            if title.casefold() in TOC_TITLES:
                toc_level = level
                continue
            if level == 1 and not data.title and not data.sections and not data.loose_resources:
                data.title = title
                continue
            while stack and stack[-1][0] >= level:
                stack.pop()
            current = SectionData(
                title=title,
                depth=len(stack),
                line_number=number,
                parent=stack[-1][1] if stack else None,
            )
            stack.append((level, current))
            data.sections.append(current)
            continue
        if toc_level is not None:
            continue
        comment = COMMENT.match(line)
        if comment is not None:
            meta = parse_meta(comment["body"])
            if (
                meta
                and current is not None
                and not current.meta
                and not current.resources
                and not "".join(current.body_lines).strip()
            ):
                current.meta = meta
                continue
            if meta and last_resource is not None and not last_resource.meta:
                last_resource.meta = meta
                continues = False
                continue
        elif "<!--" in line and "-->" not in line.split("<!--", 1)[1]:
            in_comment, comment_line = True, number
            last_resource, continues = None, False
            continue
        try:
            item = _read_item(line, references, number)
        except BrokenLink as error:
            data.problems.append((number, str(error)))
            last_resource, continues = None, False
            continue
        if item is NAVIGATION:
            continue
        is_table_row = line.lstrip().startswith("|")
        if item is not None:
            if is_table_row:
                body = data.intro_lines if current is None else current.body_lines
                while body and body[-1].lstrip().startswith("|"):
                    body.pop()  # the header and separator rows of this table of links
                in_link_table = True
            (current.resources if current is not None else data.loose_resources).append(item)
            last_resource, continues = item, True
            continue
        if continues and comment is None and line[:1].isspace() and line.strip():
            # An indented line right below a link goes on describing it.
            if not BULLET.match(line):
                extra = strip_images(line)
                last_resource.description = " ".join(f"{last_resource.description} {extra}".split())
                continue
        if line.strip():
            last_resource = None
        continues = False
        in_link_table = in_link_table and is_table_row
        if not _is_decoration(line) and not in_link_table:
            prose(line)
    if in_comment:
        data.problems.append(
            (
                comment_line,
                "an HTML comment starts here and never ends; the lines after it were skipped",
            )
        )
    return data
