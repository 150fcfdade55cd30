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

One reader walks markdown-it-py's tokens in two modes: `parse_roadmap` is strict (the content
file must load cleanly or name the line that stops it), `parse_awesome_list` is lenient (any
awesome list: badges, images, tables of links, in-page links and HTML are dealt with, and what
cannot be read lands in `problems` instead of stopping the read).
"""

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from django.utils.text import slugify
from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markdown_it.rules_inline.link import link as link_rule
from markdown_it.token import Token

from core.text import clean_text

DEFAULT_CONTENT_FILE = Path(__file__).resolve().parent / "content" / "mlops-roadmap.md"
MAX_LINE_LENGTH = 8_000
TOC_TITLES = frozenset({"table of contents", "table of content", "contents", "content", "toc"})
META_KEYS = frozenset({"type", "cost", "level", "provider", "tags", "slug", "summary"})
SEPARATORS = "-–—:|,"
TASK_BOXES = ("[ ] ", "[x] ", "[X] ")
# Re-reading the rest of a file after a code fence that never closes costs a pass each time.
MAX_UNCLOSED_FENCES = 3
ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")
UNESCAPE = r"\1"
NAVIGATION = object()  # a link to an anchor on the same page, such as a table of contents
# <details> and <summary> lines fold a list away on GitHub: the list is read, "Click to
# expand!" is not prose.
DISCLOSURE_LINE = re.compile(
    r"\s*(?:</?details\b[^>]*>|<summary\b[^>]*>.*?</summary>|</?summary\b[^>]*>|\s)+\s*",
    re.IGNORECASE,
)
# What may stand between the links of one list item that names several: "[Part 1](a), [Part 2](b)".
BETWEEN_LINKS = re.compile(r"\s*(?:[,;/|&+·•–—-]|\band\b|\bor\b)?\s*", re.IGNORECASE)

MARKDOWN = MarkdownIt("commonmark").enable("table")
# Link targets stay as written: the loader and the importer check them and name the bad ones.
MARKDOWN.validateLink = lambda url: True
MARKDOWN.normalizeLink = lambda url: url


class ContentError(ValueError):
    """The content cannot be read; the message names the line."""

    def __init__(self, line_number: int, message: str):
        self.line_number = line_number
        super().__init__(f"line {line_number}: {message}")


class BrokenLink(ValueError):
    """A list item or table cell that starts like a link but is not one."""


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
    # Lines (list items, table rows, HTML) that hold a link, and those read but left alone
    # on purpose (in-page links, badges), with why: an import accounts for every such line.
    link_lines: set[int] = field(default_factory=set)
    skipped: list[tuple[int, str]] = field(default_factory=list)

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
            meta[key.strip().lower()] = clean_text(value)
    return meta


def _comment(html: str) -> str | None:
    """The inside of an HTML block that is one `<!-- ... -->` comment."""
    html = html.strip()
    return html[4:-3] if html.startswith("<!--") and html.endswith("-->") else None


def _plain(tokens: list[Token]) -> str:
    """Inline tokens as one line of plain text: links keep their text, images and HTML go."""
    parts = []
    for token in tokens:
        if token.type in ("text", "code_inline"):
            parts.append(token.content)
        elif token.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return " ".join("".join(parts).split())


class _Anchors(HTMLParser):
    """The `<a href>` links of an HTML block: (line within the block, href, text, the text
    after it up to the next link or block tag)."""

    BLOCK = frozenset({"li", "p", "tr", "td", "br", "div", "ul", "ol", "table", "details"})

    def __init__(self, html: str):
        super().__init__()
        self.links: list[list] = []
        self.open: list | None = None
        self.after: list | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.after = None
            href = dict(attrs).get("href") or ""
            self.open = [self.getpos()[0], href.strip(), [], []]
            self.links.append(self.open)
        elif tag in self.BLOCK:
            self.after = None
        elif tag == "img" and self.open is not None:
            self.open[2].append("")

    def handle_endtag(self, tag):
        if tag == "a" and self.open is not None:
            self.after, self.open = self.open[3], None
        elif tag in self.BLOCK:
            self.after = None

    def handle_data(self, data):
        if self.open is not None:
            self.open[2].append(data)
        elif self.after is not None:
            self.after.append(data)

    def found(self):
        for line, href, text, after in self.links:
            yield line, href, " ".join("".join(text).split()), " ".join("".join(after).split())


class _Html(HTMLParser):
    """The visible text of some HTML (not a `<summary>` such as "Click to expand!"), and the
    attributes of its first tag."""

    HIDDEN = frozenset({"summary", "script", "style"})

    def __init__(self, html: str):
        super().__init__()
        self.attrs: dict[str, str | None] | None = None
        self.parts: list[str] = []
        self.hidden = 0
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.attrs = dict(attrs) if self.attrs is None else self.attrs
        self.hidden += tag in self.HIDDEN

    def handle_endtag(self, tag):
        if tag in self.HIDDEN and self.hidden:
            self.hidden -= 1

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)

    @property
    def text(self) -> str:
        return " ".join("".join(self.parts).split())


def _spans(text: str, env: dict) -> tuple[StateInline, dict[int, int]]:
    """Start -> end of each inline construct in `text` (link, image, HTML tag, code, ...), as
    the parser's own rules find them; linear, since the parser caches what it skipped. The state
    comes along for more questions about the same text."""
    state = StateInline(text, MARKDOWN, env, [])
    spans = {}
    while state.pos < state.posMax:
        start = state.pos
        MARKDOWN.inline.skipToken(state)
        if state.pos > start + 1:
            spans[start] = state.pos
    state.pos = 0
    return state, spans


def _label_end(state: StateInline, start: int, *, nested: bool = False) -> int:
    """Index of the `]` that closes the link label opened at state.src[start], or -1."""
    return MARKDOWN.helpers.parseLinkLabel(state, start, not nested)


def _drop_images(text: str, env: dict) -> str:
    """The text without its images and linked images (badges)."""
    if "![" not in text:
        return text
    kept, last = [], 0
    state, spans = _spans(text, env)
    for start, end in spans.items():
        if text.startswith("![", start) or (
            text.startswith("[![", start)
            and not _drop_images(text[start + 1 : _label_end(state, start)], env).strip()
        ):
            kept.append(text[last:start])
            last = end
    return "".join(kept) + text[last:]


def _unwrap(text: str) -> str:
    """Drop emphasis or code marks around the whole text: **Title** is Title."""
    for mark in ("**", "__", "`"):
        if len(text) > 2 * len(mark) and text.startswith(mark) and text.endswith(mark):
            return text[len(mark) : -len(mark)].strip()
    return text


def _broken_link(state: StateInline, start: int) -> str | None:
    """Why state.src[start:], which may start like a link, is not one; None for prose brackets
    such as "[sic]"."""
    text = state.src
    if not text.startswith("[", start):
        return None
    end = _label_end(state, start, nested=True)
    if end == -1:
        return "could not read a link" if "](" in text else None
    if text.startswith("(", end + 1):
        return "could not read a link"
    if text.startswith("[", end + 1):
        close = text.find("]", end + 2)
        if close == -1:
            return "could not read a link"
        reference = text[end + 2 : close] or text[start + 1 : end]
        return f"the link reference [{reference[:80]}] is not defined"
    return None


class _Reader:
    def __init__(self, text: str, *, lenient: bool, top_level_depth: int = 2):
        self.lenient, self.top_level_depth = lenient, top_level_depth
        self.data = RoadmapData()
        self.lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        self.dropped = [False] * len(self.lines)  # lines that are not prose
        self.env: dict = {}
        self.stack: list[tuple[int, SectionData]] = []
        self.current: SectionData | None = None
        # Where the prose goes from each line on: the introduction, a section, or nowhere.
        self.ranges: list[tuple[int, list[str] | None]] = [(0, self.data.intro_lines)]
        self.toc_level: int | None = None  # inside a "Table of contents" section of this level
        self.toc_heading: tuple[str, Token] | None = None
        self.last_resource: ResourceData | None = None  # a comment below it is its metadata
        self.resource_end = 0
        self.expect_section_meta = False
        self.link_table, self.table_map = False, [0, 0]

    def read(self) -> RoadmapData:
        self._check_lines()
        tokens = self._tokens()
        toc = self._toc_blocks(tokens)
        index = 0
        while index < len(tokens):
            if index in toc:  # a generated table of contents repeats the headings: skip it
                self._drop(tokens[index].map[0], tokens[toc[index]].map[1])
                for token in tokens[index : toc[index]]:
                    if token.type == "inline" and token.map and _has_link(token):
                        self._skip(token.map[0] + 1, "a link of the table of contents")
                index = toc[index] + 1
                continue
            self._visit(tokens, index)
            index += 1
        ends = [start for start, _ in self.ranges[1:]] + [len(self.lines)]
        for (start, prose), end in zip(self.ranges, ends, strict=True):
            if prose is not None:
                prose += [self.lines[n] for n in range(start, end) if not self.dropped[n]]
        return self.data

    def _check_lines(self) -> None:
        for number, line in enumerate(self.lines, start=1):
            problem = None
            if len(line) > MAX_LINE_LENGTH and self.lenient:
                problem = f"the line is too long to read ({len(line)} characters)"
            elif "\x00" in line:
                if not self.lenient:
                    raise ContentError(number, "the line holds a NUL character")
                problem = "the line holds binary data"
            elif self.lenient and "<" in line and DISCLOSURE_LINE.fullmatch(line):
                self.lines[number - 1], self.dropped[number - 1] = "", True
            if problem:
                self.data.problems.append((number, problem))
                self.lines[number - 1], self.dropped[number - 1] = "", True

    def _closed(self, fence: Token) -> bool:
        start, end = fence.map
        last = self.lines[end - 1].strip().lstrip("> \t")
        return end - start > 1 and last.startswith(fence.markup) and not last.strip(fence.markup[0])

    def _tokens(self) -> list[Token]:
        tokens: list[Token] = []
        start = 0
        for attempt in range(MAX_UNCLOSED_FENCES + 1):
            known = set(self.env.get("references", ()))
            part = MARKDOWN.parse("\n".join(self.lines[start:]), self.env)
            for label, reference in self.env.get("references", {}).items():
                if self.lenient and label not in known:  # `[label]: url` lines are not prose
                    self._drop(reference["map"][0] + start, reference["map"][1] + start)
            for token in part:
                if token.map:
                    token.map = [token.map[0] + start, token.map[1] + start]
                if token.type == "fence" and not self.lenient and not self._closed(token):
                    raise ContentError(token.map[0] + 1, "a code block is opened but never closed")
            tokens += part
            last = part[-1] if part else None
            if attempt == MAX_UNCLOSED_FENCES or not (
                last and last.type == "fence" and not self._closed(last)
            ):
                break
            # A fence that never closes is read as text, not as the rest of the file.
            tokens.pop()
            start = last.map[0] + 1
        return tokens

    @staticmethod
    def _toc_blocks(tokens: list[Token]) -> dict[int, int]:
        """`<!-- toc -->` marker -> the `<!-- /toc -->` that ends it (markdown-toc's convention);
        a start marker without an end is left alone, so that it cannot swallow the file."""
        pairs: dict[int, int] = {}
        start = None
        for index, token in enumerate(tokens):
            if token.type == "html_block" and token.level == 0:
                word = (_comment(token.content) or "").strip().lower()
                if start is None and word == "toc":
                    start = index
                elif start is not None and word in ("/toc", "tocstop"):
                    pairs[start], start = index, None
        return pairs

    def _drop(self, start: int, end: int) -> None:
        self.dropped[start:end] = [True] * (end - start)

    def _skip(self, number: int, reason: str) -> None:
        self.data.link_lines.add(number)
        self.data.skipped.append((number, reason))

    def _visit(self, tokens: list[Token], index: int) -> None:
        token = tokens[index]
        if token.type == "heading_open" and token.level == 0:
            self._heading(token, tokens[index + 1])
            return
        if self.toc_level is not None and not (
            token.type in ("list_item_open", "tr_open", "html_block") and self.lenient
        ):
            return
        if token.type == "html_block":
            self._html_block(token)
        elif token.type == "list_item_open" and tokens[index + 1].type == "paragraph_open":
            self._list_item(token, tokens[index + 1], tokens[index + 2])
        elif token.type == "paragraph_open" and self.lenient:
            if not _plain(tokens[index + 1].children or []):
                self._drop(*token.map)  # badges, images and bare HTML such as anchors
        elif token.type == "tr_open" and self.lenient and tokens[index + 1].type == "td_open":
            self._table_row(tokens, index)
        elif token.type == "table_open":
            self.link_table, self.table_map = False, token.map
        elif token.type == "table_close" and self.link_table:
            self._drop(*self.table_map)  # a table of links: its header is not prose either
        if token.map and token.nesting != -1 and token.type != "inline":
            self.expect_section_meta = False
            if token.map[0] >= self.resource_end:
                self.last_resource = None

    def _heading(self, token: Token, inline: Token) -> None:
        level = int(token.tag[1:])
        title = _plain(inline.children or []) if self.lenient else " ".join(inline.content.split())
        title = clean_text(title)
        title = title[:200] if self.lenient else title
        self.last_resource = None
        self._drop(*token.map)
        # A deeper heading ends a table of contents: "# Contents" above the list's categories.
        self.toc_level = self.toc_heading = None
        if not title:
            return
        if self.lenient and title.casefold() in TOC_TITLES:
            self.toc_level, self.toc_heading = level, (title, token)
            self.ranges.append((token.map[1], None))
            return
        self._start_section(level, title, token)

    def _leave_toc(self) -> None:
        """A "Contents" heading whose list links elsewhere than the page: a section after all."""
        (title, token), level = self.toc_heading, self.toc_level
        self.toc_level = self.toc_heading = None
        self._start_section(level, title, token)

    def _start_section(self, level: int, title: str, token: Token) -> None:
        data = self.data
        if self.lenient:
            is_title = level == 1 and not (data.title or data.sections or data.loose_resources)
        else:
            is_title = level < self.top_level_depth
            if is_title and data.sections:
                raise ContentError(
                    token.map[0] + 1, "a title heading appears after the first section"
                )
        if is_title:
            data.title = data.title or title
            self.ranges.append((token.map[1], data.intro_lines))
            return
        while self.stack and self.stack[-1][0] >= level:
            self.stack.pop()
        self.current = SectionData(
            title=title,
            depth=len(self.stack),
            line_number=token.map[0] + 1,
            parent=self.stack[-1][1] if self.stack else None,
        )
        self.stack.append((level, self.current))
        data.sections.append(self.current)
        self.ranges.append((token.map[1], self.current.body_lines))
        self.expect_section_meta = True

    def _html_block(self, token: Token) -> None:
        start, end = token.map
        if token.content.lstrip().startswith("<!--") and "-->" not in token.content:
            if not self.lenient:
                raise ContentError(start + 1, "an HTML comment starts here and never ends")
            self.data.problems.append(
                (
                    start + 1,
                    "an HTML comment starts here and never ends; the lines after it were skipped",
                )
            )
            self._drop(start, end)
            return
        body = _comment(token.content)
        if self.lenient and body is None and "<a" in token.content.lower():
            if self._html_links(token):
                self._drop(start, end)
                return
        meta = parse_meta(body) if body and "\n" not in body else {}  # longer ones hide text
        if meta and self.expect_section_meta:
            self.current.meta = meta
        elif meta and self.last_resource is not None and not self.last_resource.meta:
            self.last_resource.meta = meta
        elif not self.lenient or (body is None and _Html(token.content).text):
            return  # prose: the content file keeps its comments, any HTML with text is kept
        self._drop(start, end)

    def _html_links(self, token: Token) -> bool:
        """The links of an HTML block (`<ul><li><a href=...>`), as resources; True if any."""
        found = list(_Anchors(token.content).found())
        for line, href, text, after in found:
            number = token.map[0] + line
            self.data.link_lines.add(number)
            if href.startswith("#"):
                self._skip(number, "an in-page link")
            elif not text:
                self._skip(number, "a badge or image link without a title")
            else:
                if self.toc_level is not None:
                    self._leave_toc()
                description = after[1:].lstrip() if after[:1] in SEPARATORS else after
                resource = ResourceData(
                    title=clean_text(text),
                    url=href,
                    description=clean_text(description),
                    line_number=number,
                )
                self._add(resource, token.map[1])
        return bool(found)

    def _list_item(self, item: Token, paragraph: Token, inline: Token) -> None:
        if not self.lenient and (self.current is None or item.markup not in "-*+"):
            return
        number = paragraph.map[0] + 1
        if self.lenient and _has_link(inline):
            self.data.link_lines.add(number)
        found = self._link_item(inline.content, number)
        if found is None:
            return
        self._drop(*paragraph.map)
        if found is NAVIGATION:
            if self.lenient and number not in {line for line, _ in self.data.problems}:
                where = " of the table of contents" if self.toc_level is not None else ""
                self._skip(number, f"an in-page link{where}")
            return
        if self.toc_level is not None:
            self._leave_toc()
        for resource in found if isinstance(found, list) else [found]:
            self._add(resource, paragraph.map[1])

    def _table_row(self, tokens: list[Token], index: int) -> None:
        row, cells = tokens[index], []
        while tokens[index].type != "tr_close":
            if tokens[index].type == "inline":
                cells.append(tokens[index].content)
            index += 1
        found = self._link_item(cells[0], row.map[0] + 1) if cells else None
        self.link_table = self.link_table or found is not None
        if self.lenient and any("](" in cell or "<a " in cell.lower() for cell in cells):
            self.data.link_lines.add(row.map[0] + 1)
        if isinstance(found, list):  # several links in the first cell: the first is the row's
            found = found[0]
        if found is NAVIGATION and row.map[0] + 1 not in {n for n, _ in self.data.problems}:
            self._skip(row.map[0] + 1, "an in-page link")
        if isinstance(found, ResourceData):
            if not found.description:  # the first later cell that says something (not a badge)
                texts = (" ".join(_drop_images(cell, self.env).split()) for cell in cells[1:])
                found.description = next((text for text in texts if text), "")
            self._add(found, row.map[1])

    def _add(self, resource: ResourceData, end: int) -> None:
        (self.current.resources if self.current else self.data.loose_resources).append(resource)
        self.last_resource, self.resource_end = resource, end

    def _link_item(self, text: str, number: int):
        """The resource that a list item or table cell starts with; NAVIGATION for an in-page
        link or (recorded in `problems`) a broken one; None when it does not start with a link."""
        try:
            return self._read_link_item(text, number)
        except BrokenLink as error:
            if not self.lenient:
                return None
            self.data.problems.append((number, str(error)))
            return NAVIGATION

    def _link_at(self, state: StateInline, spans: dict[int, int], pos: int):
        """(label, url, end, image tokens) of the link that starts at state.src[pos], or None."""
        text = state.src
        if text.startswith("[", pos) and pos in spans:
            state.pos, state.tokens = pos, []
            if not link_rule(state, False):
                return None
            label = text[pos + 1 : _label_end(state, pos)]
            return label, state.tokens[0].attrs["href"], state.pos, state.tokens
        if self.lenient and text[pos : pos + 3].lower() == "<a " and pos in spans:
            url = (_Html(text[pos : spans[pos]]).attrs or {}).get("href") or ""
            close = next((s for s in spans if s > pos and text[s : s + 3].lower() == "</a"), -1)
            if not url or close == -1:
                return None
            return _Html(text[spans[pos] : close]).text, url, spans[close], []
        return None

    def _title(self, label: str, images: list[Token]) -> str:
        title = _unwrap(" ".join(_drop_images(label, self.env).split()))
        if not title:  # a logo that links to the resource: its alt text
            alts = (_plain(token.children or []) for token in images if token.type == "image")
            title = next((alt for alt in alts if alt), "")
        return clean_text(ESCAPED.sub(r"\1", title))

    def _read_link_item(self, text: str, number: int):
        env, (state, spans), pos, mark = self.env, _spans(text, self.env), 0, ""
        if self.lenient:
            pos = 4 if text.startswith(TASK_BOXES) else 0
            pos = len(text) - len(text[pos:].lstrip())
            while text.startswith("![", pos) and pos in spans:  # an icon before the link
                pos = len(text) - len(text[spans[pos] :].lstrip())
            mark = next((mark for mark in ("**", "__") if text.startswith(mark + "[", pos)), "")
            pos += len(mark)
        lead, found = "", self._link_at(state, spans, pos)
        if found is None and self.lenient:
            # "Designing ML Systems: [Part 1](...), [Part 2](...)": text, then links.
            later = (
                start for start in sorted(spans) if start > pos and not text.startswith("![", start)
            )
            for start in later:
                if (found := self._link_at(state, spans, start)) is not None:
                    lead = " ".join(_drop_images(text[pos:start], env).split())
                    lead = _unwrap(lead.rstrip(SEPARATORS + " ").strip())
                    mark = ""
                    break
        if found is None:
            if problem := _broken_link(state, pos):
                raise BrokenLink(problem)
            return None
        label, url, end, images = found
        if self.lenient and str(url).startswith("#"):
            return NAVIGATION
        links = [(label, url, images)]
        while self.lenient:  # more links in a row: each is a resource of its own
            after = BETWEEN_LINKS.match(text, end).end()
            following = self._link_at(state, spans, after) if after < len(text) else None
            if following is None or str(following[1]).startswith("#"):
                break
            links.append((following[0], following[1], following[3]))
            end = following[2]
        rest = text[end:].removeprefix(mark)
        meta: dict[str, str] = {}
        start = rest.rfind("<!--")
        if start != -1 and rest.rstrip().endswith("-->"):  # metadata on the link's own line
            found_meta = parse_meta(rest.rstrip()[start + 4 : -3])
            if found_meta.keys() & META_KEYS:
                meta, rest = found_meta, rest[:start]
        description = " ".join(_drop_images(rest, env).split())
        if description[:1] in SEPARATORS:
            description = description[1:].lstrip()
        resources = []
        for label, url, images in links:
            title = self._title(label, images)
            if not title and not resources and len(links) == 1:
                raise BrokenLink("the link has no title")
            if lead:
                title = f"{clean_text(ESCAPED.sub(UNESCAPE, lead))}: {title}".rstrip(": ")
            if title:
                resources.append(
                    ResourceData(
                        title=title,
                        url=str(url).strip(),
                        description=clean_text(description),
                        line_number=number,
                        meta=dict(meta),
                    )
                )
        if not resources:
            raise BrokenLink("the link has no title")
        return resources[0] if len(resources) == 1 else resources


def _has_link(inline: Token) -> bool:
    """The inline token holds a link (Markdown, or an HTML `<a>`), not only images."""
    for token in inline.children or ():
        if token.type == "link_open":
            return True
        if token.type == "html_inline" and token.content[:3].lower() == "<a ":
            return True
    return False


def parse_roadmap(text: str, *, top_level_depth: int = 2) -> RoadmapData:
    """Read roadmap Markdown; headings at `top_level_depth` become top-level sections."""
    return _Reader(text, lenient=False, top_level_depth=top_level_depth).read()


def read_roadmap_file(path: Path | str = DEFAULT_CONTENT_FILE) -> RoadmapData:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ContentError(0, f"the file is not UTF-8 text ({error.reason})") from error
    return parse_roadmap(text)


def parse_awesome_list(text: str) -> RoadmapData:
    """Read any awesome-list Markdown leniently; what cannot be read lands in `problems`."""
    return _Reader(text, lenient=True).read()
