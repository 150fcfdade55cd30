"""Markdown to safe HTML: every user- or file-supplied text passes through here."""

import re

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.html_re import HTML_TAG_RE
from markdown_it.rules_inline.autolink import AUTOLINK_RE, EMAIL_RE
from markdown_it.rules_inline.state_inline import StateInline

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h2", "h3", "h4", "h5", "h6",
    "hr", "i", "li", "ol", "p", "pre", "strong", "sub", "sup", "table", "tbody", "td", "th",
    "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "td": {"align"}, "th": {"align"}}

# CommonMark and tables. Raw HTML is read only inline (as an HTML block, a <script> line would
# hide the Markdown after it), and every link becomes an <a>: nh3 alone decides what stays, the
# allowed tags and http/https/mailto targets; scripts and event handlers go with their tags.
MARKDOWN = MarkdownIt("commonmark").enable("table").disable("html_block")
MARKDOWN.validateLink = lambda url: True

_BACKTICKS = re.compile(r"`+")
_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def _skipped_span_end(src: str, pos: int) -> int:
    """Where a code span, an autolink or an inline HTML tag that starts at pos ends (the
    inline parser reads them whole, brackets in them included), or pos if none starts."""
    char = src[pos]
    if char == "`":
        run = _BACKTICKS.match(src, pos).group()
        for closer in _BACKTICKS.finditer(src, pos + len(run)):
            if closer.group() == run:
                return closer.end()
        return pos + len(run)
    if char == "<":
        end = src.find(">", pos)
        if end != -1 and (
            AUTOLINK_RE.search(src[pos + 1 : end]) or EMAIL_RE.search(src[pos + 1 : end])
        ):
            return end + 1
        if tag := HTML_TAG_RE.match(src, pos):
            return tag.end()
    return pos


def _unmatched_openers(src: str) -> frozenset[int]:
    """Positions of "[" that no later "]" closes: none of them can open a link label."""
    openers: list[int] = []
    pos = 0
    while pos < len(src):
        char = src[pos]
        if char == "\\" and pos + 1 < len(src) and src[pos + 1] in _PUNCTUATION:
            pos += 2
            continue
        if char in "`<" and (end := _skipped_span_end(src, pos)) > pos:
            pos = end
            continue
        if char == "[":
            openers.append(pos)
        elif char == "]" and openers:
            openers.pop()
        pos += 1
    return frozenset(openers)


def _literal_bracket(state: StateInline, silent: bool) -> bool:
    """A "[" (or "![") that nothing closes is plain text. Without this rule the link and image
    rules scan the rest of the paragraph for each such bracket, a cost that grows with the
    square of a line of "[" or "![" (issue 13)."""
    pos = state.pos
    start = pos + 1 if state.src.startswith("![", pos) else pos
    if state.src[start] != "[":
        return False
    cache = state.env.setdefault("_unmatched_openers", {})
    if state.src not in cache:
        cache[state.src] = _unmatched_openers(state.src)
    if start not in cache[state.src]:
        return False
    if not silent:
        state.pending += state.src[pos : start + 1]
    state.pos = start + 1
    return True


MARKDOWN.inline.ruler.before("link", "literal_bracket", _literal_bracket)


def render_markdown(text: str) -> str:
    """Render Markdown and sanitise it: no raw HTML, scripts or non-http(s) links survive."""
    return nh3.clean(
        MARKDOWN.render(text or "").rstrip("\n"),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener nofollow ugc",
    )
