"""Markdown to safe HTML: every user- or file-supplied text passes through here."""

import nh3
from markdown_it import MarkdownIt

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


def render_markdown(text: str) -> str:
    """Render Markdown and sanitise it: no raw HTML, scripts or non-http(s) links survive."""
    return nh3.clean(
        MARKDOWN.render(text or "").rstrip("\n"),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener nofollow ugc",
    )
