import pytest

from roadmap.content import ContentError, parse_roadmap

SAMPLE = """# Sample Roadmap

Welcome to the *sample*.

## First part
<!-- slug: first | summary: The first part. -->

Some prose.

- **Not a resource**: a prose bullet.
- [A course](https://example.com/course) - Learn things.
  <!-- type: course | cost: free | level: beginner | provider: Example U | tags: a, B -->

### Nested
<!-- slug: nested -->

- [A book](https://example.com/book) - Read things.
  <!-- type: book | cost: paid -->

## Second part

```
## not a heading inside a code block
- [not a resource](https://example.com/code)
```
"""


def test_title_and_introduction_come_before_the_first_section():
    data = parse_roadmap(SAMPLE)
    assert data.title == "Sample Roadmap"
    assert data.intro == "Welcome to the *sample*."


def test_sections_nest_under_the_heading_above_them():
    data = parse_roadmap(SAMPLE)
    assert [(s.slug, s.depth) for s in data.sections] == [
        ("first", 0),
        ("nested", 1),
        ("second-part", 0),
    ]
    assert data.sections[1].parent is data.sections[0]


def test_section_metadata_and_prose_are_read():
    first = parse_roadmap(SAMPLE).sections[0]
    assert first.summary == "The first part."
    assert "Some prose." in first.body
    assert "**Not a resource**" in first.body


def test_list_items_starting_with_a_link_are_resources_with_their_metadata():
    first = parse_roadmap(SAMPLE).sections[0]
    [course] = first.resources
    assert course.title == "A course"
    assert course.url == "https://example.com/course"
    assert course.description == "Learn things."
    assert course.meta["provider"] == "Example U"
    assert course.tags == ["a", "b"]


def test_code_blocks_are_prose_not_headings_or_resources():
    second = parse_roadmap(SAMPLE).sections[2]
    assert second.resources == []
    assert "not a heading inside a code block" in second.body


def test_an_unclosed_code_block_is_reported_with_its_line():
    with pytest.raises(ContentError, match=r"line \d+: a code block is opened"):
        parse_roadmap("## A\n```\ncode")


def test_a_title_heading_after_the_sections_is_reported():
    with pytest.raises(ContentError, match="line 3"):
        parse_roadmap("## A\ntext\n# Late title\n")
