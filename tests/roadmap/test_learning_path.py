"""The learning path: section kinds, stages and prerequisites from the content file, a
reader's status on the map and topic pages, and what those pages cost."""

from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from resources.models import Progress, ProgressState, RelatedBasis, RelatedResource, Resource
from roadmap.content import ContentError
from roadmap.learning_path import learning_path
from roadmap.markdown_io import export_markdown
from roadmap.models import Prerequisite, Section
from roadmap.services import load_roadmap
from tests.factories import ResourceFactory, SectionFactory, VerifiedUserFactory
from tests.queries import assert_app_queries

pytestmark = pytest.mark.django_db

PATH_FILE = """# Path

An introduction.

## What is it?
<!-- slug: what | summary: Prose only. | kind: page -->

Prose.

## Basics
<!-- slug: basics | summary: First things. | stage: foundations -->

### Python
<!-- slug: python | summary: A language. -->

{python}
### Git
<!-- slug: git | summary: Versions. | builds-on: python -->

{git}
## Core
<!-- slug: core | summary: The middle. | stage: core | builds-on: basics -->

### Tracking
<!-- slug: tracking | summary: Runs. | stage: core | builds-on: git, python -->

{tracking}
### Serving
<!-- slug: serving | summary: Models online. | stage: production -->

{serving}
## Contributing
<!-- slug: contributing | summary: How to help. | kind: page -->

Prose.
"""


def resources(slug: str, count: int) -> str:
    return "".join(
        f"- [{slug} {n}](https://example.com/{slug}/{n}) - About {slug}.\n"
        f"  <!-- type: article | cost: free -->\n"
        for n in range(count)
    )


def write(tmp_path: Path, text: str | None = None, **counts: int) -> Path:
    sizes = {"python": 4, "git": 2, "tracking": 3, "serving": 1} | counts
    path = tmp_path / "path.md"
    path.write_text(
        text or PATH_FILE.format(**{slug: resources(slug, n) for slug, n in sizes.items()}),
        encoding="utf-8",
    )
    return path


@pytest.fixture
def path_file(tmp_path) -> Path:
    path = write(tmp_path)
    load_roadmap(path=path)
    return path


def mark(user, slug: str, count: int, state: str = ProgressState.DONE) -> None:
    for resource in Resource.objects.filter(section__slug=slug).order_by("id")[:count]:
        Progress.objects.update_or_create(user=user, resource=resource, defaults={"state": state})


def statuses(user) -> dict[str, str]:
    return {slug: step.status for slug, step in learning_path(user).by_slug.items()}


# The content file's keys -------------------------------------------------------------------


def test_kind_stage_and_builds_on_are_loaded_from_section_meta(path_file):
    sections = {section.slug: section for section in Section.objects.all()}
    assert sections["what"].kind == "page"
    assert sections["python"].kind == "step"
    assert (sections["basics"].stage, sections["core"].stage) == ("foundations", "core")
    assert sections["serving"].stage == "production"
    tracking = Prerequisite.objects.filter(section=sections["tracking"]).order_by("position")
    assert [link.requires.slug for link in tracking] == ["git", "python"]


def test_export_writes_the_path_keys_back_exactly(path_file):
    exported = export_markdown()
    written = path_file.read_text(encoding="utf-8")
    for line in written.splitlines():
        if line.startswith("<!-- slug:"):
            assert line in exported
    assert "<!-- slug: tracking | summary: Runs. | stage: core | builds-on: git, python -->" in (
        exported
    )


def test_loading_the_same_file_twice_changes_nothing_and_a_new_order_is_an_update(
    path_file, tmp_path
):
    again = load_roadmap(path=path_file)
    assert again.counts["sections updated"] == 0
    text = path_file.read_text(encoding="utf-8").replace(
        "builds-on: git, python", "builds-on: python, git"
    )
    report = load_roadmap(path=write(tmp_path, text))
    assert report.counts["sections updated"] == 1
    tracking = Prerequisite.objects.filter(section__slug="tracking").order_by("position")
    assert [link.requires.slug for link in tracking] == ["python", "git"]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("builds-on: python -->", "builds-on: pyhton -->", "builds-on names 'pyhton'"),
        ("builds-on: python -->", "builds-on: git -->", "builds on itself"),
        (
            "slug: python | summary: A language. -->",
            "slug: python | summary: A language. | builds-on: tracking -->",
            "builds-on runs in a circle",
        ),
        ("stage: foundations", "stage: later", "stage 'later' is not one of"),
        ("kind: page", "kind: essay", "kind 'essay' is not one of"),
    ],
)
def test_bad_path_meta_is_a_content_error_with_its_line_and_nothing_is_written(
    tmp_path, old, new, message
):
    text = write(tmp_path).read_text(encoding="utf-8")
    assert old in text
    bad = text.replace(old, new, 1)
    line = next(n for n, row in enumerate(bad.splitlines(), start=1) if new in row) - 1
    with pytest.raises(ContentError, match=message) as error:
        load_roadmap(path=write(tmp_path, bad))
    if "circle" not in message:
        assert error.value.line_number == line  # the heading of the section that says it
    else:
        assert error.value.line_number > 0
    assert not Section.objects.exists()


# Status and the next step ------------------------------------------------------------------


def test_a_topic_is_done_at_three_done_resources_or_all_when_it_has_fewer(path_file):
    reader = VerifiedUserFactory()
    mark(reader, "python", 2)
    mark(reader, "serving", 1)
    assert statuses(reader)["python"] == "in-progress"
    assert statuses(reader)["serving"] == "done"  # one resource: one done is all of it
    mark(reader, "python", 3)
    assert statuses(reader)["python"] == "done"


def test_a_parent_is_done_when_all_its_steps_are_and_in_progress_when_anything_is_started(
    path_file,
):
    reader = VerifiedUserFactory()
    assert statuses(reader)["basics"] == "not-started"
    mark(reader, "git", 1, ProgressState.IN_PROGRESS)
    assert statuses(reader)["basics"] == "in-progress"
    mark(reader, "python", 3)
    mark(reader, "git", 2)
    assert statuses(reader)["basics"] == "done"
    assert statuses(reader)["what"] == ""  # a page is not a step and has no status


def test_saved_for_later_is_not_started(path_file):
    reader = VerifiedUserFactory()
    mark(reader, "python", 1, ProgressState.SAVED)
    assert statuses(reader)["python"] == "not-started"


def test_the_next_step_is_the_first_topic_not_done_whose_prerequisites_are(path_file):
    reader = VerifiedUserFactory()
    assert learning_path(reader).next_step.section.slug == "python"
    mark(reader, "python", 3)
    assert learning_path(reader).next_step.section.slug == "git"
    mark(reader, "git", 2)
    # Core builds on Basics, which is done now; Tracking builds on Git and Python.
    assert learning_path(reader).next_step.section.slug == "tracking"
    mark(reader, "serving", 1)  # done out of order: Tracking is still next
    assert learning_path(reader).next_step.section.slug == "tracking"
    mark(reader, "tracking", 3)
    assert learning_path(reader).next_step is None


def test_a_topic_whose_prerequisites_are_not_done_is_skipped(tmp_path):
    text = (
        write(tmp_path)
        .read_text(encoding="utf-8")
        .replace("| builds-on: python -->", "-->")
        .replace("summary: A language. -->", "summary: A language. | builds-on: git -->")
    )
    load_roadmap(path=write(tmp_path, text))
    reader = VerifiedUserFactory()
    # Python comes first but builds on Git, which is not done.
    assert learning_path(reader).next_step.section.slug == "git"
    mark(reader, "git", 2)
    assert learning_path(reader).next_step.section.slug == "python"


def test_pages_are_not_steps_and_stages_follow_the_file(path_file):
    path = learning_path(None)
    assert [page.section.slug for page in path.pages] == ["what", "contributing"]
    assert [(stage.value, [s.section.slug for s in stage.steps]) for stage in path.stages] == [
        ("foundations", ["basics"]),
        ("core", ["core"]),
    ]
    assert [step.section.slug for step in path.order] == [
        "basics",
        "python",
        "git",
        "core",
        "tracking",
        "serving",
    ]


# Pages ---------------------------------------------------------------------------------------


def test_the_map_links_pages_from_its_introduction_and_shows_status_as_text(client, path_file):
    anonymous = client.get("/").content.decode()
    assert "Read first" in anonymous
    assert 'href="/sections/what/"' in anonymous and 'href="/sections/contributing/"' in anonymous
    assert "Start here:" in anonymous
    assert "Not started" not in anonymous
    reader = VerifiedUserFactory()
    mark(reader, "python", 3)
    mark(reader, "git", 1)
    client.force_login(reader)
    html = client.get("/").content.decode()
    assert "Your next step:" in html
    assert "How status is counted:" in html
    for label in ("Done", "In progress", "Not started"):
        assert f"</span>{label}</span>" in html
    assert html.index('href="/sections/what/"') < html.index('class="map"')


def test_the_map_is_a_nested_list_of_stages_topics_and_sub_topics(client, path_file):
    html = client.get("/").content.decode()
    stages = html.index('<ol class="map">')
    python = html.index('href="/sections/python/"', stages)
    assert html.index("Foundations", stages) < python < html.index("MLOps core", stages)
    # Sub-topics that name a stage are grouped by it.
    assert "For mlops core" in html and "For production and beyond" in html


def test_a_topic_page_shows_its_best_few_then_links_to_all(client, tmp_path):
    load_roadmap(path=write(tmp_path, python=12))
    python = Section.objects.get(slug="python")
    best = Resource.objects.filter(section=python).order_by("id").first()
    Resource.objects.filter(pk=best.pk).update(wilson_score=0.99)
    response = client.get("/sections/python/")
    html = response.content.decode()
    assert len(response.context["own_best"]) == 5
    assert response.context["own_best"][0] == best
    assert "All 12 resources in Python" in html
    assert 'href="?sort=top&amp;all=1"' in html
    everything = client.get("/sections/python/?all=1")
    assert sum(len(group.resources) for group in everything.context["blocks"][0]["groups"]) == 12


def test_the_full_list_of_a_topic_is_cached_for_anonymous_readers(client, path_file, settings):
    settings.PAGE_CACHE_SECONDS = 60
    response = client.get("/sections/python/?all=1")
    assert "max-age=60" in response.headers["Cache-Control"]


def test_a_topic_page_says_what_it_builds_on_and_what_comes_next(client, path_file):
    git = client.get("/sections/git/")
    assert [step.section.slug for step in git.context["builds_on"]] == ["python"]
    assert [step.section.slug for step in git.context["following"]] == ["tracking"]
    html = git.content.decode()
    assert "Builds on" in html and "Next: what builds on it" in html
    basics = client.get("/sections/basics/")
    assert [step.section.slug for step in basics.context["following"]] == ["core"]
    # Serving: nothing builds on it and it is the last step.
    assert client.get("/sections/serving/").context["following"] == []


def test_next_is_never_the_pages_own_first_sub_section(client, tmp_path):
    text = write(tmp_path).read_text(encoding="utf-8").replace(" | builds-on: basics", "")
    load_roadmap(path=write(tmp_path, text))
    following = client.get("/sections/basics/").context["following"]
    assert [step.section.slug for step in following] == ["core"]  # not Python


def test_a_topic_page_shows_the_readers_status_and_the_rule(client, path_file):
    reader = VerifiedUserFactory()
    mark(reader, "python", 1)
    client.force_login(reader)
    html = client.get("/sections/python/").content.decode()
    assert "Status: In progress" in html
    assert "you have done 1 of the 3 resources this topic needs" in html


# Query counts --------------------------------------------------------------------------------


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def grow(user=None) -> None:
    """More topics, sub-topics, prerequisites, resources and progress."""
    core = Section.objects.get(slug="core")
    for number in range(3):
        below = SectionFactory(slug=f"core-extra-{number}", parent=core, stage="core")
        ResourceFactory.create_batch(5, section=below, tags=["z"])
    for number in range(8):
        topic = SectionFactory(slug=f"extra-{number}", stage="core")
        sub = SectionFactory(slug=f"extra-{number}-sub", parent=topic, stage="production")
        Prerequisite.objects.create(section=topic, requires=core)
        for section in (topic, sub):
            made = ResourceFactory.create_batch(6, section=section, tags=["x"])
            if user is not None:
                for resource in made[:2]:
                    Progress.objects.create(user=user, resource=resource, state=ProgressState.DONE)


# Without the page cache (as in tests), not counting the cache's and sessions' own statements:
# the section tree, the prerequisites, the roadmap row, the cards and their counts; signed in,
# the user and their progress on top.
QUERIES = {
    ("/", "anonymous"): 3,
    ("/", "signed_in"): 5,
    ("/sections/core/", "anonymous"): 7,
    ("/sections/core/", "signed_in"): 9,
    ("/sections/python/?all=1", "anonymous"): 7,
    ("/sections/python/?all=1", "signed_in"): 9,
}


@pytest.mark.parametrize(("url", "reader"), list(QUERIES))
def test_query_counts_do_not_grow_with_topics_or_resources(client, path_file, reader, url):
    user = None
    if reader == "signed_in":
        user = VerifiedUserFactory()
        mark(user, "python", 2)
        client.force_login(user)
    with assert_app_queries(QUERIES[url, reader]):
        assert client.get(url).status_code == 200
    grow(user)
    ResourceFactory.create_batch(30, section=Section.objects.get(slug="python"), tags=["y"])
    with assert_app_queries(QUERIES[url, reader]):
        assert client.get(url).status_code == 200


def test_signed_in_status_on_the_map_costs_one_query_more_than_anonymous(client, path_file):
    anonymous = count_queries(client, "/")
    user = VerifiedUserFactory()
    client.force_login(user)
    signed_in = count_queries(client, "/")
    with CaptureQueriesContext(connection) as queries:
        client.get("/")
    progress = [q["sql"] for q in queries if "resources_progress" in q["sql"]]
    assert len(progress) == 1
    assert signed_in > anonymous


@pytest.mark.parametrize("url", ["/", "/sections/core/"])
def test_with_warm_caches_a_signed_in_readers_map_reads_no_tree_or_prerequisites(
    client, path_file, settings, url
):
    settings.PAGE_CACHE_SECONDS = 60
    user = VerifiedUserFactory()
    mark(user, "python", 2)
    client.force_login(user)
    client.get(url)  # warms the section tree and the prerequisites
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    tables = " ".join(query["sql"] for query in queries)
    assert "roadmap_prerequisite" not in tables
    assert 'FROM "roadmap_section"' not in tables


def test_a_topic_page_shows_where_its_readers_went_on_to_and_its_pager_skips_its_sub_topics(
    client,
):
    parent = SectionFactory(slug="tools-x", title="Tools X", position=1)
    child = SectionFactory(slug="tools-x-child", title="Tools X child", parent=parent)
    after = SectionFactory(slug="later", title="Later topic", position=2)
    here = ResourceFactory(section=parent)
    ResourceFactory(section=child)
    there = ResourceFactory(section=after, title="Where readers went")
    RelatedResource.objects.create(
        resource=here, related=there, rank=1, score=0.9, basis=RelatedBasis.READERS
    )
    html = client.get(parent.get_absolute_url()).content.decode()
    assert "Readers of this topic also went on to" in html
    assert f'href="{there.get_absolute_url()}">Where readers went</a>' in html
    pager = html[html.index('class="pager"') :]
    assert "Later topic" in pager and "Tools X child" not in pager


def test_with_a_warm_cache_a_signed_in_topic_page_reads_no_cards_until_one_changes(
    client, path_file, settings
):
    settings.PAGE_CACHE_SECONDS = 60
    user = VerifiedUserFactory()
    client.force_login(user)
    url = "/sections/python/"
    client.get(url)  # draws the cards and keeps them, keyed by what this reader sees

    def card_reads() -> list[str]:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        # A card read selects the description with the reader's vote; the key's narrow read
        # has the vote only.
        return [
            q["sql"]
            for q in queries
            if '"resources_resource"."description_html"' in q["sql"]
            and "resources_vote" in q["sql"]
        ]

    assert card_reads() == []
    resource = Resource.objects.filter(section__slug="python").order_by("pk").first()
    Progress.objects.create(user=user, resource=resource, state=ProgressState.DONE)
    assert len(card_reads()) == 1  # the reader's own progress changed: drawn again
    assert card_reads() == []
