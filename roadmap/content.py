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

HEADING = re.compile(r"^(?P<hashes>#{1,6})\s+(?P<title>.+?)\s*#*\s*$")
COMMENT = re.compile(r"^\s*<!--(?P<body>.*)-->\s*$")
RESOURCE = re.compile(
    r"^\s{0,3}[-*+]\s+\[(?P<title>[^\]]+)\]\((?P<url>[^\s)]+(?:\([^\s)]*\)[^\s)]*)*)"
    r"(?:\s+\"[^\"]*\")?\)(?:\s*(?:[-–—:]\s*)?(?P<description>.*))?$"
)
FENCE = re.compile(r"^\s*(```|~~~)")


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


def parse_roadmap(text: str, *, top_level_depth: int = 2) -> RoadmapData:
    """Read roadmap Markdown; headings at `top_level_depth` become top-level sections."""
    roadmap = RoadmapData()
    current: SectionData | None = None
    last_resource: ResourceData | None = None
    stack: list[SectionData] = []
    in_fence = False
    number = 0

    for number, line in enumerate(text.splitlines(), start=1):
        if "\x00" in line:
            raise ContentError(number, "the line holds a NUL character")
        if FENCE.match(line):
            in_fence = not in_fence
        heading = None if in_fence else HEADING.match(line)
        if heading and len(heading["hashes"]) < top_level_depth:
            if roadmap.sections:
                raise ContentError(number, "a title heading appears after the first section")
            roadmap.title = roadmap.title or heading["title"]
            last_resource = None
            continue
        if heading:
            depth = len(heading["hashes"]) - top_level_depth
            while stack and stack[-1].depth >= depth:
                stack.pop()
            if depth > len(stack):
                depth = len(stack)  # a heading that skips a level nests one level down
            current = SectionData(
                title=heading["title"].strip(),
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
                title=match["title"].strip(),
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
