from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from taggit.models import Tag

from resources.models import Resource, Status
from resources.sections import flatten, section_tree
from roadmap.content import parse_roadmap
from roadmap.markdown_io import export_markdown, github_anchor
from roadmap.models import Roadmap, Section
from roadmap.services import load_roadmap
from tests.factories import ResourceFactory, SectionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree():
    Roadmap.objects.create(title="Sample Roadmap", intro="An *introduction*.")
    learning = SectionFactory(
        slug="learning", title="Learning", summary="Learn.", body="Prose.", position=0
    )
    courses = SectionFactory(slug="courses", title="Courses", parent=learning, position=0)
    deep = SectionFactory(slug="deep", title="Deep", parent=courses, position=0)
    tools = SectionFactory(slug="tools", title="Tools", summary="", body="", position=1)
    return learning, courses, deep, tools


def test_roadmap_md_is_served_as_utf8_markdown(client, tree):
    response = client.get("/roadmap.md")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    assert response.content.decode("utf-8").startswith("# Sample Roadmap\n\nAn *introduction*.\n")


def test_export_has_a_table_of_contents_and_headings_by_depth(client, tree):
    # Tools has neither prose nor an approved resource: readers, and the export, never see it.
    text = client.get("/roadmap.md").content.decode()
    assert "[Tools]" not in text
    assert (
        "<!-- toc -->\n**Contents**\n\n"
        "- [Learning](#learning)\n"
        "  - [Courses](#courses)\n"
        "    - [Deep](#deep)\n"
        "<!-- /toc -->\n"
    ) in text
    assert "## Learning\n<!-- slug: learning | summary: Learn. -->\n\nProse.\n" in text
    assert "### Courses\n<!-- slug: courses | summary: A part of the roadmap. -->\n" in text
    assert "#### Deep\n" in text
    assert "## Tools" not in text
    assert text.index("## Learning") < text.index("### Courses") < text.index("#### Deep")


def test_export_writes_resources_as_links_with_a_metadata_comment(tree):
    ResourceFactory(
        section=tree[1],
        title="A course",
        url="https://example.com/course",
        description="Learn\nthings   here.",
        resource_type="course",
        cost="freemium",
        level="beginner",
        provider="Example U",
        tags=["mlflow", "a-tag"],
    )
    ResourceFactory(section=tree[3], title="Bare", url="https://example.com/bare", description="")
    text = export_markdown()
    assert (
        "- [A course](https://example.com/course) - Learn things here.\n"
        "  <!-- type: course | cost: freemium | level: beginner | provider: Example U "
        "| tags: a-tag, mlflow -->\n"
    ) in text
    assert "- [Bare](https://example.com/bare)\n  <!-- type: article | cost: free -->\n" in text


def test_export_escapes_brackets_in_titles_and_keeps_metadata_on_one_line(tree):
    ResourceFactory(
        section=tree[3],
        title="Arrays [and] more",
        url="https://example.com/arrays",
        provider="A | B -->",
    )
    text = export_markdown()
    assert "- [Arrays \\[and\\] more](https://example.com/arrays)" in text
    assert "provider: A / B -> -->" in text
    [resource] = parse_roadmap(text).sections[-1].resources
    assert resource.title == "Arrays [and] more"


def test_export_lists_approved_resources_only(tree):
    ResourceFactory(section=tree[3], title="Shown")
    for status in [Status.PENDING, Status.REJECTED, Status.ARCHIVED]:
        ResourceFactory(section=tree[3], title=f"Hidden {status}", status=status)
    text = export_markdown()
    assert "[Shown]" in text
    assert "Hidden" not in text


def test_export_orders_resources_by_score_then_newest(tree):
    tools = tree[3]
    ResourceFactory(section=tools, title="Old and unvoted")
    ResourceFactory(section=tools, title="Loved", wilson_score=0.9)
    ResourceFactory(section=tools, title="New and unvoted")
    text = export_markdown()
    assert text.index("[Loved]") < text.index("[New and unvoted]") < text.index("[Old and")


def test_export_query_count_does_not_grow_with_resources(tree):
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            export_markdown()
        return len(queries)

    ResourceFactory.create_batch(5, section=tree[1], tags=["a", "b"])
    few = count_queries()
    ResourceFactory.create_batch(35, section=tree[2], tags=["c"])
    assert count_queries() == few


def test_github_anchors_follow_githubs_rules_and_number_repeats():
    from collections import Counter

    used = Counter()
    assert github_anchor("CI/CD and infrastructure", used) == "cicd-and-infrastructure"
    assert github_anchor("What is MLOps?", used) == "what-is-mlops"
    assert github_anchor("What is MLOps?", used) == "what-is-mlops-1"


def test_export_markdown_command_writes_to_a_file_or_standard_output(tree, tmp_path: Path):
    ResourceFactory(section=tree[3], title="A tool")
    target = tmp_path / "README.md"
    out = StringIO()
    call_command("export_markdown", "--output", str(target), stdout=out)
    assert target.read_text(encoding="utf-8") == export_markdown()
    assert str(target) in out.getvalue()
    out = StringIO()
    call_command("export_markdown", stdout=out)
    assert out.getvalue() == export_markdown()


def test_the_export_of_the_real_roadmap_reloads_without_changes(tmp_path: Path):
    first = load_roadmap()
    exported = tmp_path / "export.md"
    exported.write_text(export_markdown(), encoding="utf-8")
    report = load_roadmap(path=exported)
    assert report.counts["sections unchanged"] == first.counts["sections created"]
    assert report.counts["resources unchanged"] == first.counts["resources created"]
    assert report.counts["sections updated"] == report.counts["resources updated"] == 0


def roadmap_snapshot() -> dict:
    """Everything the round trip must keep, independent of database ids."""
    nodes = flatten(section_tree())
    slugs = {node.section.id: node.section.slug for node in nodes}
    resources = Resource.objects.approved().select_related("section").prefetch_related("tags")
    return {
        "roadmap": list(Roadmap.objects.values_list("title", "intro")),
        "sections": [
            (
                node.section.slug,
                node.section.title,
                slugs.get(node.section.parent_id),
                node.depth,
                node.section.summary,
                node.section.body,
            )
            for node in nodes
        ],
        "resources": sorted(
            (
                resource.url,
                resource.title,
                resource.description,
                resource.resource_type,
                resource.cost,
                resource.level,
                resource.provider,
                tuple(sorted(tag.name for tag in resource.tags.all())),
                resource.section.slug,
            )
            for resource in resources
        ),
    }


def empty_the_database() -> None:
    Resource.objects.all().delete()
    while Section.objects.exists():  # parents are protected: remove leaves first
        Section.objects.filter(children__isnull=True).delete()
    Tag.objects.all().delete()
    Roadmap.objects.all().delete()


def test_export_then_import_into_an_empty_database_keeps_the_whole_roadmap(tmp_path: Path):
    load_roadmap()
    before = roadmap_snapshot()
    assert len(before["sections"]) > 20 and len(before["resources"]) > 100
    exported = tmp_path / "roadmap.md"
    exported.write_text(export_markdown(), encoding="utf-8")

    empty_the_database()
    call_command(
        "import_markdown",
        str(exported),
        "--status",
        "approved",
        stdout=StringIO(),
        stderr=StringIO(),
    )

    assert roadmap_snapshot() == before
    assert not Resource.objects.exclude(status=Status.APPROVED).exists()
    assert not Resource.objects.filter(approved_at__isnull=True).exists()
    assert export_markdown() == exported.read_text(encoding="utf-8")


def test_headings_ending_in_a_hash_keep_it_through_an_export(tree):
    SectionFactory(slug="dotnet", title="ML in C#", position=2)
    titles = [section.title for section in parse_roadmap(export_markdown()).sections]
    assert titles[-1] == "ML in C#"


def test_prose_typed_with_windows_line_ends_is_exported_with_unix_ones(tree):
    SectionFactory(slug="crlf", title="CRLF", body="One.\r\n\r\nTwo.", position=3)
    text = export_markdown()
    assert "\r" not in text
    assert (
        "## CRLF\n<!-- slug: crlf | summary: A part of the roadmap. -->\n\nOne.\n\nTwo.\n" in text
    )
