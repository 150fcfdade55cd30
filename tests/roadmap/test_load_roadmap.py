from pathlib import Path
from tempfile import TemporaryDirectory

import pytest
from django.core.management import CommandError, call_command
from django.test import TestCase

from resources.models import Resource, Status, Vote
from roadmap.content import DEFAULT_CONTENT_FILE
from roadmap.models import Roadmap, Section
from roadmap.services import load_roadmap
from tests.factories import ResourceFactory, UserFactory, VoteFactory

pytestmark = pytest.mark.django_db

SEED_SECTIONS = [
    "What is MLOps?",
    "Why MLOps?",
    "MLOps Learning Resources",
    "MLOps Projects",
    "MLOps Tools and Platforms",
    "MLOps Community",
    "MLOps Challenges and Opportunities",
    "Contributing",
]
SEED_SUBSECTIONS = ["Courses", "Books", "Blogs", "Podcasts", "Videos", "Papers"]
# The fourteen resources the seed names, by the canonical link each must carry.
SEED_RESOURCES = {
    "courses": [
        "https://www.coursera.org/specializations/machine-learning-engineering-for-production-mlops",
        "https://www.udacity.com/course/machine-learning-dev-ops-engineer-nanodegree--nd0821",
        "https://learn.microsoft.com/en-us/training/paths/build-first-machine-operations-workflow/",
        "https://www.coursera.org/specializations/mlops-machine-learning-duke",
    ],
    "books": [
        "https://www.oreilly.com/library/view/building-machine-learning/9781492053187/",
        "https://www.oreilly.com/library/view/practical-mlops/9781098103002/",
        "https://www.mlebook.com/",
        "https://www.informit.com/store/machine-learning-in-production-developing-and-optimizing-9780134116549",
    ],
    "blogs": [
        "https://mlops.community/blog/",
        "https://cloud.google.com/blog/products/ai-machine-learning",
        "https://aws.amazon.com/blogs/machine-learning/",
        "https://azure.microsoft.com/en-us/blog/category/ai-machine-learning/",
    ],
    "podcasts": [
        "https://podcasts.apple.com/us/podcast/mlops-community/id1505372978",
        "https://twimlai.com/podcast/twimlai/",
    ],
}
KEY_ASPECTS = [
    "Data management",
    "Model management",
    "Workflow orchestration",
    "Testing and validation",
    "Deployment and serving",
    "Monitoring and observability",
    "Continuous improvement",
]


class TestTheRealRoadmapLoaded(TestCase):
    """What one load of the real content file writes, and what loading it again changes:
    loaded once for the class in each test worker that runs its tests (Django's
    setUpTestData; each test's own changes are rolled back to it, and the load after the
    class), as a load takes seconds."""

    @classmethod
    def setUpTestData(cls):
        cls.first = load_roadmap()

    def test_every_seed_section_is_loaded_in_order(self):
        top_level = list(
            Section.objects.filter(parent__isnull=True).values_list("title", flat=True)
        )
        # The learning path adds sections of its own (Foundations, ...) between the seed's; every
        # seed section is still there, each once, in the seed's order.
        seed_positions = [top_level.index(title) for title in SEED_SECTIONS]
        assert seed_positions == sorted(seed_positions)
        assert all(top_level.count(title) == 1 for title in SEED_SECTIONS)
        assert top_level[: SEED_SECTIONS.index("Why MLOps?") + 1] == SEED_SECTIONS[:2]
        learning = Section.objects.get(title="MLOps Learning Resources")
        children = list(learning.children.values_list("title", flat=True))
        assert children[: len(SEED_SUBSECTIONS)] == SEED_SUBSECTIONS

    def test_every_seed_resource_is_loaded_approved_in_its_section(self):
        for slug, urls in SEED_RESOURCES.items():
            loaded = set(
                Resource.objects.approved().filter(section__slug=slug).values_list("url", flat=True)
            )
            for url in urls:
                assert url in loaded, (slug, url)

    def test_seed_prose_is_kept(self):
        what = Section.objects.get(title="What is MLOps?")
        for aspect in KEY_ASPECTS:
            assert aspect in what.body
        assert "Faster time-to-market" in Section.objects.get(title="Why MLOps?").body
        assert "DevOps" in Roadmap.objects.get().intro

    def test_the_sections_the_seed_never_reaches_are_written_out(self):
        for title in ["Videos", "Papers", "MLOps Projects", "MLOps Tools and Platforms"]:
            section = Section.objects.get(title=title)
            count = Resource.objects.approved().filter(
                section__in=[section, *section.children.all()]
            )
            assert count.count() >= 3, title
        papers = Resource.objects.filter(section__slug="papers").values_list("title", flat=True)
        assert any("Hidden Technical Debt" in title for title in papers)
        assert any("ML Test Score" in title for title in papers)
        tools = set(Resource.objects.filter(resource_type="tool").values_list("title", flat=True))
        for name in ["MLflow", "Kubeflow", "DVC", "Feast", "BentoML", "KServe", "Evidently"]:
            assert any(name.lower() in title.lower() for title in tools), name
        assert "vote" in Section.objects.get(slug="contributing").body.lower()

    def test_every_loaded_resource_has_a_secure_link_type_and_cost(self):
        for resource in Resource.objects.all():
            assert resource.url.startswith(("https://", "http://")), resource.url
            assert resource.resource_type and resource.cost

    # Loading again: each test's changes are rolled back to the class's one load.

    def test_loading_twice_creates_nothing_new(self):
        counts = (Section.objects.count(), Resource.objects.count())
        second = load_roadmap()
        assert (Section.objects.count(), Resource.objects.count()) == counts
        assert second.counts["sections created"] == 0
        assert second.counts["resources created"] == 0
        assert second.counts["resources updated"] == 0
        assert second.counts["resources unchanged"] == self.first.counts["resources created"]

    def test_an_edited_title_in_the_file_updates_the_row(self):
        text = DEFAULT_CONTENT_FILE.read_text()
        assert "## Why MLOps?" in text
        with TemporaryDirectory() as folder:
            edited = Path(folder) / "roadmap.md"
            edited.write_text(
                text.replace("## Why MLOps?", "## Why MLOps matters").replace(
                    "[Practical MLOps]", "[Practical MLOps, 1st edition]"
                )
            )
            report = load_roadmap(path=edited)
        assert Section.objects.filter(title="Why MLOps matters").count() == 1
        assert not Section.objects.filter(title="Why MLOps?").exists()
        titled = Resource.objects.filter(title__startswith="Practical MLOps, 1st edition")
        assert titled.count() == 1
        assert report.counts["sections updated"] == 1
        assert report.counts["resources updated"] == 1

    def test_votes_and_resources_added_on_the_site_survive_a_reload(self):
        section = Section.objects.get(slug="courses")
        suggested = ResourceFactory(
            section=section, status=Status.PENDING, submitted_by=UserFactory()
        )
        seeded = Resource.objects.filter(section=section).exclude(pk=suggested.pk).first()
        VoteFactory(resource=seeded)
        load_roadmap()
        assert Resource.objects.filter(pk=suggested.pk, status=Status.PENDING).exists()
        assert Vote.objects.filter(resource=seeded).count() == 1

    def test_a_moderators_status_decision_is_not_undone_by_a_reload(self):
        resource = Resource.objects.first()
        Resource.objects.filter(pk=resource.pk).update(status=Status.REJECTED)
        load_roadmap()
        resource.refresh_from_db()
        assert resource.status == Status.REJECTED


def test_bad_metadata_is_reported_with_its_line_and_nothing_is_written(tmp_path: Path):
    path = tmp_path / "bad.md"
    path.write_text(
        "# T\n\n## A\n\n- [Good](https://example.com/a) - ok\n  <!-- type: book | cost: free -->\n"
        "- [Bad](https://example.com/b) - no\n  <!-- type: spaceship | cost: free -->\n"
    )
    with pytest.raises(CommandError, match="line 7: type 'spaceship'"):
        call_command("load_roadmap", str(path))
    assert Section.objects.count() == 0
    assert Resource.objects.count() == 0


def test_a_non_http_link_in_the_file_is_refused(tmp_path: Path):
    path = tmp_path / "bad.md"
    path.write_text("# T\n\n## A\n\n- [X](javascript:alert(1)) - no\n  <!-- type: book -->\n")
    with pytest.raises(CommandError, match="line 5"):
        call_command("load_roadmap", str(path))


def test_a_missing_file_is_a_clear_error():
    with pytest.raises(CommandError, match="no such file"):
        call_command("load_roadmap", "/nonexistent/roadmap.md")
