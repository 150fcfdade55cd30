"""The importer as a moderator's everyday tool (issue 12): batches, mapping, hidden sections,
type and cost, same-project duplicates, and every link-bearing line accounted for."""

import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from resources.models import Cost, ImportBatch, ImportStatus, Resource, Status
from resources.moderation import approve_resource, withdraw_import_batch
from roadmap import markdown_io
from roadmap.models import Section
from tests.factories import ResourceFactory, SectionFactory, UserFactory

pytestmark = pytest.mark.django_db

SHAPES = Path(__file__).resolve().parent.parent / "fixtures" / "awesome" / "shapes.md"
# An independent count: list items, table rows and HTML list items that hold a link.
LINK_LINE = re.compile(r"^\s*([-*+] |\| |<li>).*(\]\(|<a href)")


def link_lines(path: Path) -> int:
    return sum(1 for line in path.read_text().splitlines() if LINK_LINE.match(line))


def line_of(fragment: str) -> int:
    lines = SHAPES.read_text().splitlines()
    return next(number for number, line in enumerate(lines, 1) if fragment in line)


@pytest.fixture
def site():
    """A roadmap that already holds Feast, Airflow and MLflow, under other addresses."""
    stores = SectionFactory(slug="feature-stores", title="Feature stores")
    flows = SectionFactory(slug="workflow-orchestration", title="Workflow orchestration")
    tracking = SectionFactory(slug="experiment-tracking", title="Experiment tracking")
    return {
        "feast": ResourceFactory(
            title="Feast", url="https://github.com/feast-dev/feast", section=stores
        ),
        "airflow": ResourceFactory(
            title="Apache Airflow", url="https://airflow.apache.org/", section=flows
        ),
        "mlflow": ResourceFactory(
            title="MLflow", url="https://github.com/mlflow/mlflow", section=tracking
        ),
    }


def run(*args: str, path: Path = SHAPES) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_markdown", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_every_link_bearing_line_is_created_duplicate_skipped_or_reported(site):
    out, _ = run("--source", "shapes.md", "--revision", "abc123")
    batch = ImportBatch.objects.get()
    assert link_lines(SHAPES) == 20
    assert batch.link_lines == 20
    assert (batch.created, batch.duplicates, batch.skipped, batch.reported) == (11, 4, 3, 2)
    assert batch.created + batch.duplicates + batch.skipped + batch.reported == batch.link_lines
    assert (batch.source, batch.revision, batch.status) == ("shapes.md", "abc123", "finished")
    assert "20 lines with links = 11 created + 4 duplicate + 3 skipped + 2 reported" in out


def test_html_links_several_links_details_tables_and_contents_are_all_read(site):
    run()
    titles = set(Resource.objects.values_list("title", flat=True))
    assert {
        "Prefect",  # <a href> at the start of a list item
        "Made With ML lessons: Part 1",  # several links on one line
        "Made With ML lessons: Part 2",
        "Dagster: docs",
        "Kestra",  # inside <details>
        "Flyte",  # an HTML list inside <details>
        "Argo Workflows",
        "Designing Machine Learning Systems",  # a table of links
        "Hopsworks",  # under a heading below "Main Content", below "Contents"
    } <= titles
    bodies = " ".join(Section.objects.values_list("body", flat=True))
    assert "Click to expand" not in bodies
    assert "More orchestrators" not in bodies


def test_same_project_duplicates_are_not_created_and_reported_as_same_as(site):
    out, _ = run()
    feast, airflow, mlflow = site["feast"], site["airflow"], site["mlflow"]
    assert f"is same as #{feast.pk} 'Feast' (same project)" in out  # feast.dev vs the repo
    assert f"is same as #{airflow.pk} 'Apache Airflow' (same project)" in out
    assert f"is same as #{mlflow.pk} 'MLflow' (same project)" in out  # mlflow.org
    assert f"is same as #{mlflow.pk} 'MLflow' (same name)" in out  # "ML-Flow"
    assert f"line {line_of('[repo]')}: duplicate: 'Dagster: repo'" in out  # docs and repo
    assert Resource.objects.filter(title__in=["Feast", "Airflow", "MLflow"]).count() == 2
    report = ImportBatch.objects.get().report
    same_as = {row["same_as"] for row in report if row["outcome"] == "duplicate"}
    assert {feast.pk, airflow.pk, mlflow.pk} <= same_as


def test_headings_map_by_title_alias_and_map_option_and_wrappers_vanish(site):
    SectionFactory(slug="books", title="Books")
    out, _ = run("--map", "Reading=books")
    assert "heading 'Feature Store' -> feature-stores (existing, by title)" in out
    assert "heading 'Workflow Tools' -> workflow-orchestration (existing, by alias)" in out
    assert "heading 'Reading' -> books (existing, by --map)" in out
    assert "heading 'Main Content' -> (a wrapper: none)" in out
    assert not Section.objects.filter(title__in=["Main Content", "Contents"]).exists()
    assert Resource.objects.get(title="Prefect").section.slug == "workflow-orchestration"


def test_a_bad_map_option_is_a_clear_error(site):
    with pytest.raises(CommandError, match='not of the form "Heading=section-slug"'):
        run("--map", "Reading")


def test_dry_run_prints_the_plan_and_writes_nothing(site):
    before = Resource.objects.count()
    out, _ = run("--dry-run")
    assert "Dry run, nothing written" in out
    assert f"line {line_of('[Hopsworks]')}: would create 'Hopsworks' in feature-stores" in out
    assert "heading 'Reading' -> reading (new hidden section)" in out
    assert "11 created + 4 duplicate + 3 skipped + 2 reported" in out
    assert Resource.objects.count() == before
    assert not ImportBatch.objects.exists()
    assert not Section.objects.filter(slug="reading").exists()


def test_importing_twice_creates_nothing_the_second_time(site):
    run()
    count = Resource.objects.count()
    out, _ = run()
    assert Resource.objects.count() == count
    second = ImportBatch.objects.order_by("-pk").first()
    assert (second.created, second.resources_created) == (0, 0)
    assert second.duplicates == 15 and second.link_lines == 20
    assert "20 lines with links = 0 created + 15 duplicate + 3 skipped + 2 reported" in out


def test_type_and_cost_come_from_link_and_context_and_unsure_types_say_so(site):
    run()
    kinds = dict(Resource.objects.values_list("title", "resource_type"))
    assert kinds["Designing Machine Learning Systems"] == "book"  # O'Reilly
    assert kinds["Hidden Technical Debt in Machine Learning Systems"] == "paper"
    assert kinds["MLOps explained"] == "video"
    assert kinds["ML engineering for production"] == "course"
    assert kinds["Kestra"] == "tool"  # a repository under a tools heading
    hopsworks = Resource.objects.get(title="Hopsworks")  # a repository, no tools heading
    assert (hopsworks.resource_type, hopsworks.review_note) == (
        "tool",
        "type unsure (guessed tool)",
    )
    assert Resource.objects.get(title="Kestra").review_note == ""
    imported = Resource.objects.filter(import_batch__isnull=False)
    assert set(imported.values_list("cost", flat=True)) == {Cost.UNKNOWN}
    assert set(imported.values_list("source_line", flat=True)) >= {line_of("[Hopsworks]")}


def test_an_unmapped_heading_stays_hidden_until_a_resource_is_approved(client, site):
    run()
    reading = Section.objects.get(slug="reading")
    assert not reading.published
    assert "Reading" not in client.get("/").content.decode()
    assert client.get(reading.get_absolute_url()).status_code == 404
    assert reading.get_absolute_url() not in client.get("/sitemap-sections.xml").content.decode()
    assert "## Reading" not in client.get("/roadmap.md").content.decode()
    assert client.get(f"/feeds/sections/{reading.slug}/rss/").status_code == 404

    book = Resource.objects.get(title="Designing Machine Learning Systems")
    approve_resource(resource=book, moderator=UserFactory(is_staff=True))
    assert client.get(reading.get_absolute_url()).status_code == 200
    assert reading.get_absolute_url() in client.get("/sitemap-sections.xml").content.decode()
    assert "## Reading" in client.get("/roadmap.md").content.decode()
    # Approved as it is, an unknown cost is said plainly.
    assert "Cost unknown" in client.get(book.get_absolute_url()).content.decode()


def test_a_moderator_can_publish_a_hidden_section_with_prose(client):
    hidden = SectionFactory(slug="hidden", title="Hidden", published=False)
    assert client.get(hidden.get_absolute_url()).status_code == 404
    hidden.published = True
    hidden.save()
    assert client.get(hidden.get_absolute_url()).status_code == 200


def test_a_published_section_without_prose_or_approved_resources_is_not_shown(client):
    empty = SectionFactory(slug="empty", title="Empty", summary="", body="")
    ResourceFactory(section=empty, status=Status.PENDING)
    assert client.get(empty.get_absolute_url()).status_code == 404


def test_withdrawing_a_batch_removes_its_pending_items_only(site):
    run()
    batch = ImportBatch.objects.get()
    kept = Resource.objects.get(title="Hopsworks")
    moderator = UserFactory(is_staff=True)
    approve_resource(resource=kept, moderator=moderator)
    pending = Resource.objects.filter(import_batch=batch, status=Status.PENDING).count()
    removed = withdraw_import_batch(batch=batch, moderator=moderator)
    assert removed == pending > 0
    assert list(Resource.objects.filter(import_batch=batch)) == [kept]
    assert not Section.objects.filter(slug="reading").exists()  # emptied, so removed
    assert site["feast"] in Resource.objects.all()
    batch.refresh_from_db()
    assert (batch.status, batch.withdrawn_by) == (ImportStatus.WITHDRAWN, moderator)


def test_the_admin_filters_by_batch_and_shows_source_lines_and_same_as(admin_client, site):
    run()
    batch = ImportBatch.objects.get()
    url = reverse("admin:resources_resource_changelist")
    page = admin_client.get(url, {"import_batch__id__exact": batch.pk}).content.decode()
    assert f"import #{batch.pk}</a>, line {line_of('[Hopsworks]')}" in page
    assert "type unsure" in page
    assert "Apache Airflow" not in page  # not of this batch
    report = admin_client.get(reverse("admin:resources_importbatch_change", args=[batch.pk]))
    text = report.content.decode()
    assert f'/admin/resources/resource/{site["feast"].pk}/change/">#{site["feast"].pk}' in text
    assert "20 lines with links = 11 created + 4 duplicate + 3 skipped + 2 reported" in text


def test_the_admin_withdraws_a_batch_by_post(admin_client, site):
    run()
    batch = ImportBatch.objects.get()
    url = reverse("admin:resources_importbatch_changelist")
    response = admin_client.post(
        url, {"action": "withdraw_selected", "_selected_action": [batch.pk]}, follow=True
    )
    assert "pending resources removed" in response.content.decode()
    assert not Resource.objects.filter(import_batch=batch).exists()


def test_above_the_item_cap_the_import_is_refused_with_a_clear_message(site, monkeypatch):
    monkeypatch.setattr(markdown_io, "MAX_ITEMS", 5)
    with pytest.raises(CommandError, match="the most one import takes is 5: split it"):
        run()
    assert not ImportBatch.objects.exists()


def test_above_the_size_cap_the_import_is_refused_with_a_clear_message(tmp_path, monkeypatch):
    monkeypatch.setattr(markdown_io, "MAX_FILE_BYTES", 1024 * 1024)
    big = tmp_path / "big.md"
    big.write_text("## Tools\n" + "- [x](https://example.com/x) - " + "y" * 2_000_000 + "\n")
    with pytest.raises(CommandError, match="larger than 1 MB"):
        run(path=big)


def test_a_failed_import_takes_back_what_it_wrote_and_says_so(site, monkeypatch):
    calls = []

    def fail_in_second_chunk(**kwargs):
        calls.append(1)
        if len(calls) > 3:
            raise RuntimeError("disk full")
        return original(**kwargs)

    original = markdown_io.create_resource
    monkeypatch.setattr(markdown_io, "CHUNK_SIZE", 2)
    monkeypatch.setattr(markdown_io, "create_resource", fail_in_second_chunk)
    with pytest.raises(RuntimeError):
        run()
    assert not Resource.objects.filter(import_batch__isnull=False).exists()
    assert ImportBatch.objects.get().status == ImportStatus.FAILED


def test_a_near_identical_title_is_a_duplicate_on_either_database(site):
    paper = ResourceFactory(
        title="Hidden technical debt in machine learning system",
        url="https://research.example.org/hidden-debt",
    )
    out, _ = run()
    assert f"is same as #{paper.pk} 'Hidden technical debt in machine learning system' " in out
    assert "(similar title (9" in out
    assert not Resource.objects.filter(url="https://papers.nips.cc/paper/5656").exists()
