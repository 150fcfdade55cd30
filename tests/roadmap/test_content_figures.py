"""What the content file promises a learner (issue 11): every step has resources, every skill
topic a free beginner one, every resource its metadata, and tags from one vocabulary."""

from collections import Counter
from pathlib import Path

import pytest

from resources.models import Resource
from resources.tags import TAGS, canonical_tag
from roadmap.content import read_roadmap_file
from roadmap.services import load_roadmap

CONTENT = read_roadmap_file()
PROSE_ONLY = {
    "What is MLOps?",
    "Why MLOps?",
    "MLOps Challenges and Opportunities",
    "Contributing",
}
STAGES_WITH_SKILLS = {"Foundations", "MLOps Tools and Platforms", "Production and Beyond"}


def _stage(section):
    while section.parent:
        section = section.parent
    return section


def _steps():
    """Every section a learner works through: not prose-only, not a heading over topics."""
    parents = {section.parent.slug for section in CONTENT.sections if section.parent}
    return [
        section
        for section in CONTENT.sections
        if section.title not in PROSE_ONLY and (section.resources or section.slug not in parents)
    ]


def test_the_content_file_uses_only_canonical_tags():
    tags = {tag for resource in CONTENT.resources for tag in resource.tags}
    aliases = {tag: canonical_tag(tag) for tag in tags if canonical_tag(tag) != tag}
    assert not aliases, f"use the canonical tags instead: {aliases}"
    unlisted = sorted(tags - set(TAGS))
    assert not unlisted, f"add these tags to resources/tags.py or use listed ones: {unlisted}"


def test_the_prose_only_sections_exist_under_their_titles():
    assert PROSE_ONLY <= {section.title for section in CONTENT.sections}


def test_every_resource_has_type_cost_level_and_provider():
    missing = [
        (resource.line_number, resource.title)
        for resource in CONTENT.resources
        if not all(resource.meta.get(key) for key in ("type", "cost", "level", "provider"))
    ]
    assert not missing


def test_every_step_on_the_path_holds_at_least_three_resources():
    thin = {section.title: len(section.resources) for section in _steps()}
    assert not {title: count for title, count in thin.items() if count < 3}


def test_every_skill_topic_has_a_free_beginner_resource():
    topics = [
        section
        for section in CONTENT.sections
        if (section.parent and _stage(section).title in STAGES_WITH_SKILLS)
        or section.title in ("Books", "Courses")
    ]
    assert len(topics) >= 40
    lacking = [
        section.title
        for section in topics
        if not any(
            resource.meta.get("cost") == "free" and resource.meta.get("level") == "beginner"
            for resource in section.resources
        )
    ]
    assert not lacking


def test_the_catalogue_keeps_its_size():
    tools = Counter(
        section.slug
        for section in CONTENT.sections
        for resource in section.resources
        if resource.meta.get("type") == "tool"
    )
    assert len(CONTENT.resources) >= 450
    assert sum(tools.values()) >= 150
    assert len(tools) >= 20


@pytest.mark.django_db
def test_the_loader_stores_canonical_tags_and_a_reload_changes_nothing(tmp_path: Path):
    content = tmp_path / "roadmap.md"
    content.write_text(
        "# Roadmap\n\n## Serving\n\n"
        "- [Serving at scale](https://example.org/serving) - How teams serve models.\n"
        "  <!-- type: article | cost: free | level: beginner | provider: Example | "
        "tags: Case-Studies, serving, online-serving -->\n"
    )
    load_roadmap(path=content)
    resource = Resource.objects.get(title="Serving at scale")
    assert sorted(tag.name for tag in resource.tags.all()) == ["case-study", "model-serving"]
    again = load_roadmap(path=content)
    assert again.counts["resources unchanged"] == 1
    assert again.counts["resources updated"] == 0


def test_every_heading_alias_names_a_section_of_the_content_file():
    from roadmap.markdown_io import load_aliases

    slugs = {section.slug for section in CONTENT.sections}
    aliases = load_aliases()
    assert aliases and not {slug for slug in aliases.values() if slug not in slugs}
