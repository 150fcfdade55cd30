"""Markdown made of punctuation renders in time linear in its length: each shape is timed
against ordinary prose of the same size (a ratio, so a slow machine slows both)."""

import gc
import time

import pytest
from markdown_it import MarkdownIt

from core.markdown import MARKDOWN, render_markdown

SIZE = 7900
PROSE = "Learn *MLOps* with [this course](https://example.com/x), then read `docs`: it's free! "
PATHOLOGICAL = {
    "open brackets": "[",
    "image openers": "![",
    "unclosed links": "[a](",
    "empty links": "[](",
    "closing then opening": "](",
    "emphasis": "*a",
    "underscores": "_a",
    "angle brackets": "<",
    "backticks": "`",
}


def fastest(text: str, rounds: int = 3) -> float:
    """The best of `rounds` renders in CPU time of this thread, with the garbage collector
    held off: neither another process taking the core nor a collection landing in one
    measurement and not the other is growth."""
    best = float("inf")
    gc.collect()
    gc.disable()
    try:
        for _ in range(rounds):
            start = time.thread_time()
            render_markdown(text)
            best = min(best, time.thread_time() - start)
    finally:
        gc.enable()
    return best


def of_size(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


@pytest.mark.parametrize("unit", ["[", "!["])
def test_brackets_that_nothing_closes_render_about_as_fast_as_prose(unit):
    # They took 13 to 18 times as long as prose before the literal-bracket rule; now about 2.
    assert fastest(of_size(unit, SIZE)) < 6 * fastest(of_size(PROSE, SIZE))


@pytest.mark.parametrize("unit", PATHOLOGICAL.values(), ids=PATHOLOGICAL.keys())
def test_punctuation_shapes_render_in_linear_time(unit):
    # Four times the text may take about four times as long; a quadratic parser would take
    # sixteen. The bound sits between them, far from either, so that a busy machine is no fail.
    small, large = of_size(unit, SIZE // 2), of_size(unit, SIZE * 2)
    assert fastest(large, rounds=5) < 9 * fastest(small, rounds=5)
    assert fastest(of_size(unit, SIZE)) < 40 * fastest(of_size(PROSE, SIZE))


def test_nested_brackets_render_in_linear_time():
    def nested(size: int) -> str:
        return "[" * (size // 2) + "]" * (size // 2)

    assert fastest(nested(SIZE * 2), rounds=5) < 9 * fastest(nested(SIZE // 2), rounds=5)


EDGE_CASES = [
    "[a](https://x.example)",
    "[[a](https://x.example)",
    "[a `[` b](https://x.example)",
    "[a <span title='['>x</span> b](https://x.example)",
    "[ <https://a.example/[b> ](https://y.example)",
    "![img](https://i.example/p.png) [",
    "\\[a](https://x.example)",
    "[![logo](https://l.example/p.png)](https://z.example)",
    "[foo]\n\n[foo]: https://bar.example",
    "a [ b ![ c [d](https://e.example)",
]


@pytest.mark.parametrize("text", EDGE_CASES)
def test_brackets_that_nothing_closes_are_text_and_links_still_links(text):
    plain_commonmark = MarkdownIt("commonmark").enable("table").disable("html_block")
    plain_commonmark.validateLink = lambda url: True
    assert MARKDOWN.render(text) == plain_commonmark.render(text)
