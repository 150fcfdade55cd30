import pytest

from roadmap.content import ContentError, parse_awesome_list, parse_roadmap

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


def test_an_unclosed_code_block_is_reported_at_the_line_that_opens_it():
    with pytest.raises(ContentError, match="line 3: a code block is opened but never closed"):
        parse_roadmap("## A\n\n```\ncode\n")


def test_an_unclosed_html_comment_in_the_content_file_is_reported():
    with pytest.raises(ContentError, match="line 3: an HTML comment starts here and never ends"):
        parse_roadmap("## A\n- [X](https://example.com/x)\n<!-- type: book\n")


def test_a_heading_two_levels_down_does_not_nest_the_next_one_of_its_level():
    data = parse_roadmap("## A\n#### B\n#### C\n### D\n")
    assert [(s.title, s.depth, s.parent and s.parent.title) for s in data.sections] == [
        ("A", 0, None),
        ("B", 1, "A"),
        ("C", 1, "A"),
        ("D", 1, "A"),
    ]


def test_reference_links_in_the_content_file_are_resources():
    text = "## A\n- [X][x] - About X.\n  <!-- type: book -->\n\n[x]: https://example.com/x\n"
    [resource] = parse_roadmap(text).sections[0].resources
    assert (resource.url, resource.description, resource.meta) == (
        "https://example.com/x",
        "About X.",
        {"type": "book"},
    )


def test_an_awesome_list_html_link_in_a_list_item_is_a_resource():
    text = '## Tools\n- <a href="https://example.com/a">A &amp; B</a> - Does things.\n'
    [resource] = parse_awesome_list(text).sections[0].resources
    assert (resource.title, resource.url, resource.description) == (
        "A & B",
        "https://example.com/a",
        "Does things.",
    )


def test_an_awesome_list_item_with_several_links_is_one_resource_for_the_first():
    text = "## Tools\n- [A](https://example.com/a) and its docs: [docs](https://example.com/d)\n"
    [resource] = parse_awesome_list(text).sections[0].resources
    assert resource.url == "https://example.com/a"
    assert resource.description == "and its docs: [docs](https://example.com/d)"


def test_details_wrappers_leave_no_click_to_expand_text_in_the_section():
    text = (
        "## Tools\n\nSome tools.\n\n<details>\n<summary>Click to expand!</summary>\n\n"
        "- [A](https://example.com/a)\n</details>\n"
    )
    [tools] = parse_awesome_list(text).sections
    assert [resource.title for resource in tools.resources] == ["A"]
    assert tools.body == "Some tools."


def test_setext_headings_in_an_awesome_list_are_sections():
    text = (
        "Tools\n=====\n\n- [A](https://example.com/a)\n\nPapers\n------\n\n- [B](https://e.org/b)\n"
    )
    data = parse_awesome_list(text)
    assert data.title == "Tools"
    assert [(s.title, [r.title for r in s.resources]) for s in data.sections] == [("Papers", ["B"])]
    assert [r.title for r in data.loose_resources] == ["A"]


def test_a_line_of_unclosed_badge_brackets_does_not_swallow_the_next_item():
    data = parse_awesome_list("## Tools\n- " + "[![" * 2_500 + "\n- [A](https://example.com/a)\n")
    assert [resource.title for resource in data.sections[0].resources] == ["A"]


HIDDEN = "\u202e\u200b\u2066\ufeff"
SPOOFED = f"""# Roadmap

## Tools{HIDDEN}
<!-- slug: tools | summary: Things{HIDDEN} to use -->

- [Safe\u202egnp.exe](https://example.com/tool) - A\u200b tool.
  <!-- type: tool | cost: free | provider: Evil\u202e Corp -->
"""


@pytest.mark.parametrize("parse", [parse_roadmap, parse_awesome_list])
def test_direction_overrides_and_zero_width_characters_leave_titles_and_names(parse):
    data = parse(SPOOFED)
    section = data.sections[0]
    resource = data.resources[0]
    assert section.title == "Tools"
    assert resource.title == "Safegnp.exe"
    assert resource.description == "A tool."
    if parse is parse_roadmap:
        assert section.summary == "Things to use"
        assert resource.meta["provider"] == "Evil Corp"
