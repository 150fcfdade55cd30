from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from resources.models import Resource, Status
from roadmap.markdown_io import guess_resource_type
from roadmap.models import Roadmap, Section
from tests.factories import ResourceFactory, SectionFactory

pytestmark = pytest.mark.django_db

# A realistic awesome list with the usual mess: badges, an image, a table of contents, a table,
# nested lists, a javascript: link, a duplicate, a cut-off link, a reference-style link, an
# HTML comment hiding a link, and prose sections without links.
MESSY = """\
# Awesome MLOps [![Awesome](https://awesome.re/badge.svg)](https://awesome.re) [![License: CC0](https://img.shields.io/badge/License-CC0-lightgrey.svg)](https://creativecommons.org/publicdomain/zero/1.0/)

![MLOps lifecycle](images/lifecycle.png)

A curated list of MLOps tools and reading. Inspired by [awesome-python](https://github.com/vinta/awesome-python).

## Table of Contents

- [Tools](#tools)
  - [Serving](#serving)
- [Papers](#papers)

## Tools

*Open-source tools for the ML lifecycle.*

* [MLflow](https://mlflow.org/) - Experiment tracking and a model registry.
* **[Kubeflow](https://www.kubeflow.org/)** — Machine learning pipelines on Kubernetes.
+ [DVC](https://dvc.org/): Data version control.
  Works with Git.
- [Evil link](javascript:alert(1)) - Not a web address.
- [broken](
* [MLflow, again](https://www.mlflow.org) - The same tool twice.

### Serving

| Tool | Description | Stars |
| ---- | ----------- | ----- |
| [BentoML](https://github.com/bentoml/BentoML) | Build and ship model services. | |
| [KServe](https://kserve.github.io/website/) | ![stars](https://img.shields.io/s.svg) | Serving. |

- Runtimes
  - [Triton](https://developer.nvidia.com/triton-inference-server) - NVIDIA's inference server.
  - [vLLM][vllm] - Fast LLM inference.

## Papers

1. [Hidden Technical Debt in Machine Learning Systems](https://papers.nips.cc/paper/5656) - 2015.
2. [MLOps: Overview, Definition, and Architecture](https://arxiv.org/abs/2205.02302)

<!--
- [Commented out](https://example.com/old-link)
-->

## Miscellaneous

- [Zoomcamp](https://github.com/DataTalksClub/mlops-zoomcamp) - A free course on GitHub.
- [MLOps explained](https://www.youtube.com/watch?v=abcdefghijk) - A talk.
- [MLOps course](https://www.coursera.org/learn/mlops) <!-- cost: freemium | level: beginner -->
- [Rules of ML](https://developers.google.com/machine-learning/guides/rules-of-ml) - Best practices.

## License

[![CC0](https://licensebuttons.net/p/zero/1.0/88x31.png)](https://creativecommons.org/publicdomain/zero/1.0/)

To the extent possible under law, the authors have waived all copyright.

[vllm]: https://docs.vllm.ai/
"""


def line_of(text: str, fragment: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), 1) if fragment in line)


def run_import(tmp_path: Path, text: str | bytes, *args: str) -> tuple[str, str]:
    path = tmp_path / "README.md"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    out, err = StringIO(), StringIO()
    try:
        call_command("import_markdown", str(path), *args, stdout=out, stderr=err)
    except CommandError as error:
        raise CommandError(f"{error}\n{out.getvalue()}\n{err.getvalue()}") from error
    return out.getvalue(), err.getvalue()


def titles_in(slug: str) -> list[str]:
    return list(
        Resource.objects.filter(section__slug=slug)
        .order_by("-created_at")
        .values_list("title", flat=True)
    )


def test_messy_list_links_become_resources_in_sections_named_after_headings(tmp_path):
    run_import(tmp_path, MESSY)
    assert titles_in("tools") == ["MLflow", "Kubeflow", "DVC"]
    assert titles_in("serving") == ["BentoML", "KServe", "Triton", "vLLM"]
    assert titles_in("papers") == [
        "Hidden Technical Debt in Machine Learning Systems",
        "MLOps: Overview, Definition, and Architecture",
    ]
    assert Section.objects.get(slug="serving").parent.slug == "tools"


def test_messy_list_descriptions_drop_separators_badges_and_keep_continuation_lines(tmp_path):
    run_import(tmp_path, MESSY)
    descriptions = dict(Resource.objects.values_list("title", "description"))
    assert descriptions["Kubeflow"] == "Machine learning pipelines on Kubernetes."
    assert descriptions["DVC"] == "Data version control. Works with Git."
    assert descriptions["BentoML"] == "Build and ship model services."
    assert descriptions["vLLM"] == "Fast LLM inference."
    assert descriptions["MLOps: Overview, Definition, and Architecture"] == ""


def test_messy_list_badges_images_prose_links_and_comments_are_not_resources(tmp_path):
    run_import(tmp_path, MESSY)
    urls = set(Resource.objects.values_list("url", flat=True))
    for ignored in [
        "https://awesome.re",
        "https://github.com/vinta/awesome-python",
        "https://example.com/old-link",
        "https://creativecommons.org/publicdomain/zero/1.0/",
    ]:
        assert ignored not in urls
    assert Resource.objects.count() == 13


def test_table_of_contents_and_sections_without_links_are_not_created(tmp_path):
    run_import(tmp_path, MESSY)
    assert set(Section.objects.values_list("slug", flat=True)) == {
        "tools",
        "serving",
        "papers",
        "miscellaneous",
    }


def test_the_title_and_introduction_start_a_roadmap_when_there_is_none(tmp_path):
    run_import(tmp_path, MESSY)
    roadmap = Roadmap.objects.get()
    assert roadmap.title == "Awesome MLOps"
    assert roadmap.intro.startswith("A curated list of MLOps tools and reading.")
    assert "badge" not in roadmap.intro and "#tools" not in roadmap.intro


def test_an_existing_roadmap_title_is_left_alone(tmp_path):
    Roadmap.objects.create(title="Ours", intro="Our intro.")
    run_import(tmp_path, MESSY)
    assert Roadmap.objects.values_list("title", "intro").get() == ("Ours", "Our intro.")


def test_unreadable_lines_are_reported_with_their_line_numbers(tmp_path):
    _, err = run_import(tmp_path, MESSY)
    assert f"line {line_of(MESSY, '[broken](')}: could not read a link" in err
    javascript = line_of(MESSY, "javascript:")
    assert f"line {javascript}: the link 'javascript:alert(1)' is not a web address" in err
    assert "Traceback" not in err


def test_a_link_repeated_in_the_file_is_skipped_with_the_line_it_repeats(tmp_path):
    out, _ = run_import(tmp_path, MESSY)
    again, first = line_of(MESSY, "[MLflow, again]"), line_of(MESSY, "[MLflow](")
    assert (
        f"line {again}: duplicate: 'MLflow, again' (https://www.mlflow.org) is the same as "
        f"line {first}" in out
    )
    assert not Resource.objects.filter(title="MLflow, again").exists()


def test_created_resources_are_printed_with_their_line(tmp_path):
    out, _ = run_import(tmp_path, MESSY)
    mlflow = Resource.objects.get(title="MLflow")
    assert f"line {line_of(MESSY, '[MLflow](')}: created #{mlflow.pk} 'MLflow' in Tools" in out
    assert (
        f"line {line_of(MESSY, '### Serving')}: heading 'Serving' -> serving (new hidden section)"
        in out
    )
    assert (
        "19 lines with links = 13 created + 1 duplicate + 3 skipped + 2 reported; "
        "13 resources (pending)" in out
    )


def test_a_link_already_on_the_site_is_skipped_naming_the_existing_resource(tmp_path):
    existing = ResourceFactory(title="MLflow (ours)", url="https://mlflow.org")
    out, _ = run_import(tmp_path, MESSY)
    assert (
        f"duplicate: 'MLflow' (https://mlflow.org/) is same as #{existing.pk} 'MLflow (ours)' "
        "(same link)" in out
    )
    assert Resource.objects.filter(normalized_url=existing.normalized_url).count() == 1


def test_types_come_from_metadata_then_the_link_then_the_heading(tmp_path):
    run_import(tmp_path, MESSY)
    types = dict(Resource.objects.values_list("title", "resource_type"))
    assert types["MLflow"] == "tool"  # under "Tools"
    assert types["Hidden Technical Debt in Machine Learning Systems"] == "paper"
    assert types["MLOps: Overview, Definition, and Architecture"] == "paper"  # arxiv.org
    assert types["Zoomcamp"] == "tool"  # a repository: a tool, "type unsure"
    assert Resource.objects.get(title="Zoomcamp").review_note == "type unsure (guessed tool)"
    assert types["MLOps explained"] == "video"
    assert types["MLOps course"] == "course"
    assert types["Rules of ML"] == "article"


def test_metadata_in_a_comment_sets_cost_and_level_and_otherwise_cost_is_unknown(tmp_path):
    run_import(tmp_path, MESSY)
    specialization = Resource.objects.get(title="MLOps course")
    assert (specialization.cost, specialization.level) == ("freemium", "beginner")
    assert set(Resource.objects.exclude(pk=specialization.pk).values_list("cost", flat=True)) == {
        "unknown"
    }


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://arxiv.org/abs/2205.02302", "paper"),
        ("https://www.youtube.com/watch?v=abcdefghijk", "video"),
        ("https://youtu.be/abcdefghijk", "video"),
        ("https://github.com/mlflow/mlflow", "tool"),
        ("https://aclanthology.org/2020.acl-main.1/", "paper"),
        ("https://www.datacamp.com/courses/mlops-concepts", "course"),
        ("https://www.packtpub.com/product/mlops-book/123", "book"),
        ("https://www.amazon.com/dp/1098107969", "book"),
        ("https://www.coursera.org/learn/mlops", "course"),
        ("https://www.udemy.com/course/mlops/", "course"),
        ("https://www.edx.org/course/mlops", "course"),
        ("https://podcasts.apple.com/us/podcast/x/id1", "podcast"),
        ("https://twimlai.com/podcast/twimlai/", "podcast"),
        ("https://www.oreilly.com/library/view/practical-mlops/9781098103002/", "book"),
        ("https://example.com/post", "article"),
    ],
)
def test_type_is_guessed_from_the_host_and_path(url, expected):
    assert guess_resource_type(url, []) == expected


def test_type_is_guessed_from_the_nearest_heading_before_falling_back():
    assert guess_resource_type("https://changelog.com/practicalai", ["Podcasts"]) == "podcast"
    assert guess_resource_type("https://github.com/x/y", ["Serving", "Tools"]) == "tool"
    assert guess_resource_type("https://example.com/", ["Miscellaneous"]) == "article"


def test_imported_resources_wait_for_review_by_default(tmp_path):
    run_import(tmp_path, MESSY)
    assert set(Resource.objects.values_list("status", flat=True)) == {Status.PENDING}
    assert not Resource.objects.filter(approved_at__isnull=False).exists()
    assert not Resource.objects.approved().exists()


def test_status_approved_publishes_with_an_approval_date(tmp_path):
    run_import(tmp_path, MESSY, "--status", "approved")
    assert Resource.objects.approved().count() == 13
    assert not Resource.objects.filter(approved_at__isnull=True).exists()


def test_headings_map_onto_existing_sections_by_slug_or_title(tmp_path):
    tools = SectionFactory(slug="tools", title="Tools we like")
    papers = SectionFactory(slug="research", title="PAPERS")
    out, _ = run_import(tmp_path, MESSY)
    assert titles_in("tools")[:3] == ["MLflow", "Kubeflow", "DVC"]
    assert len(titles_in("research")) == 2
    assert Section.objects.get(slug="serving").parent == tools
    assert not Section.objects.filter(slug="papers").exists()
    assert "heading 'Papers' -> research (existing, by title)" in out
    papers.refresh_from_db()
    assert papers.title == "PAPERS"  # an import never rewrites what is there


def test_with_section_headings_become_its_sub_sections(tmp_path):
    elsewhere = SectionFactory(slug="papers", title="Papers")
    target = SectionFactory(slug="community-lists", title="Community lists")
    run_import(tmp_path, MESSY, "--section", "community-lists")
    tools = Section.objects.get(title="Tools")
    assert tools.parent == target
    assert Section.objects.get(title="Serving").parent == tools
    imported_papers = Section.objects.get(parent=target, title="Papers")
    assert imported_papers.slug == "community-lists-papers"
    assert not elsewhere.resources.exists()


def test_with_section_links_above_every_heading_go_into_that_section(tmp_path):
    target = SectionFactory(slug="inbox", title="Inbox")
    run_import(
        tmp_path, "- [Loose](https://example.com/loose) - No heading.\n", "--section", "inbox"
    )
    assert list(target.resources.values_list("title", flat=True)) == ["Loose"]


def test_without_section_links_above_every_heading_are_reported(tmp_path):
    text = "- [Loose](https://example.com/loose)\n\n## Tools\n\n- [Kept](https://example.com/k)\n"
    _, err = run_import(tmp_path, text)
    assert "line 1: the link comes before any heading" in err
    assert titles_in("tools") == ["Kept"]


def test_an_unknown_section_slug_is_an_error(tmp_path):
    with pytest.raises(CommandError, match="no section with the slug 'nowhere'"):
        run_import(tmp_path, MESSY, "--section", "nowhere")
    assert not Resource.objects.exists()


def test_importing_the_same_file_twice_skips_everything_the_second_time(tmp_path):
    run_import(tmp_path, MESSY)
    out, _ = run_import(tmp_path, MESSY)
    assert "19 lines with links = 0 created + 14 duplicate + 3 skipped + 2 reported" in out
    assert Resource.objects.count() == 13


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"  \n\n\t\n", "the file is empty"),
        (b"## Tools\n- [Caf\xe9](https://example.com/)\n", "line 2: the file is not UTF-8"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "line 1: the file is not UTF-8"),
    ],
)
def test_an_unreadable_file_is_an_error_without_a_traceback(tmp_path, content, message):
    with pytest.raises(CommandError, match=message):
        run_import(tmp_path, content)


def test_a_missing_file_is_an_error(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_markdown", str(tmp_path / "missing.md"), stdout=StringIO())


def test_a_file_without_any_usable_link_is_an_error_that_still_lists_its_lines(tmp_path):
    text = "## Tools\n\n- [broken](\n- [x](javascript:void(0))\nJust prose.\n"
    err = StringIO()
    path = tmp_path / "bad.md"
    path.write_text(text)
    with pytest.raises(CommandError, match="nothing could be imported"):
        call_command("import_markdown", str(path), stdout=StringIO(), stderr=err)
    assert "line 3: could not read a link" in err.getvalue()
    assert "line 4: the link 'javascript:void(0)' is not a web address" in err.getvalue()
    assert not Section.objects.exists()


def test_binary_and_overlong_lines_are_reported_and_the_rest_imported(tmp_path):
    text = (
        "## Tools\n"
        "- [Bin\x00ary](https://example.com/binary)\n"
        f"- [Huge](https://example.com/{'x' * 20_000})\n"
        "- [Fine](https://example.com/fine)\n"
    )
    _, err = run_import(tmp_path, text)
    assert "line 2: the line holds binary data" in err
    assert "line 3: the line is too long to read" in err
    assert titles_in("tools") == ["Fine"]


def test_relative_links_and_links_without_a_title_are_reported(tmp_path):
    text = (
        "## Tools\n"
        "- [Contributing](CONTRIBUTING.md)\n"
        "- [](https://example.com/untitled)\n"
        "- [![MLflow](logo.png)](https://mlflow.org/) - Logo link.\n"
    )
    _, err = run_import(tmp_path, text)
    assert "line 2: the link 'CONTRIBUTING.md' is not a web address" in err
    assert "line 3: the link has no title" in err
    assert titles_in("tools") == ["MLflow"]  # a logo link takes its alt text


def test_an_undefined_reference_link_is_reported(tmp_path):
    _, err = run_import(tmp_path, "## Tools\n- [A][missing] - x\n- [B](https://example.com/b)\n")
    assert "line 2: the link reference [missing] is not defined" in err


def test_invalid_metadata_is_reported_and_that_link_skipped(tmp_path):
    text = (
        "## Tools\n"
        "- [A](https://example.com/a)\n  <!-- type: spaceship -->\n"
        "- [B](https://example.com/b)\n"
    )
    _, err = run_import(tmp_path, text)
    assert "line 2: type 'spaceship' is not one of:" in err
    assert titles_in("tools") == ["B"]


def test_an_unclosed_code_block_does_not_hide_the_rest_of_the_file(tmp_path):
    run_import(tmp_path, "## Tools\n```\n- [A](https://example.com/a)\n")
    assert titles_in("tools") == ["A"]


def test_links_inside_a_closed_code_block_are_not_resources(tmp_path):
    text = "## Tools\n```\n- [A](https://example.com/a)\n```\n- [B](https://example.com/b)\n"
    run_import(tmp_path, text)
    assert titles_in("tools") == ["B"]
    assert "- [A](https://example.com/a)" in Section.objects.get(slug="tools").body


def test_a_crash_midway_leaves_nothing_behind(tmp_path, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("roadmap.markdown_io.hot_score", explode)
    with pytest.raises(RuntimeError, match="disk full"):
        run_import(tmp_path, MESSY, "--status", "approved")
    assert not Resource.objects.exists()
    assert not Section.objects.exists()
    assert not Roadmap.objects.exists()


def test_an_html_comment_that_never_ends_is_reported(tmp_path):
    text = "## Tools\n- [A](https://example.com/a)\n<!-- hidden\n- [B](https://example.com/b)\n"
    _, err = run_import(tmp_path, text)
    assert "line 3: an HTML comment starts here and never ends" in err
    assert titles_in("tools") == ["A"]


def test_the_header_of_a_table_of_links_does_not_stay_behind_as_prose(tmp_path):
    run_import(tmp_path, MESSY)
    serving = Section.objects.get(slug="serving")
    assert "| Tool |" not in serving.body
    assert "| ----" not in serving.body


def test_a_new_heading_whose_links_all_land_in_an_existing_section_is_not_created(tmp_path):
    books = SectionFactory(slug="books", title="Books")
    run_import(tmp_path, "## Reading\n\n### Books\n\n- [A book](https://example.com/book)\n")
    assert list(books.resources.values_list("title", flat=True)) == ["A book"]
    assert not Section.objects.filter(title="Reading").exists()


# visenger/awesome-mlops style: `#` headings for sections, HTML anchors above them, a table
# of contents as a table, numbered lists, curly quotes, a second link after a `|`.
H1_SECTIONS = """\
# Awesome MLOps [![Awesome](https://awesome.re/badge.svg)](https://github.com/sindresorhus/awesome)

![MLOps. You Design It. You Train It. You Run It.](awesome-mlops-intro.png)

*An awesome list of references for MLOps :point_right: [ml-ops.org](https://ml-ops.org/)*

# Table of Content
| <!-- -->                  | <!-- -->                    |
| ------------------------- | --------------------------- |
| [MLOps Core](#core-mlops) | [MLOps Books](#mlops-books) |

<a name="core-mlops"></a>
# MLOps Core

1. [Machine Learning Operations](https://ml-ops.org/)
1. [Udemy “Deployment of ML Models”](https://www.udemy.com/course/deployment-of-ml-models/)

<a name="mlops-books"></a>
# MLOps Books

1. [“Machine Learning Engineering” by Andriy Burkov](http://www.mlebook.com/wiki/)
1. [State of ML 2021](https://example.com/state) | Also as [PDF](https://example.com/s.pdf)
"""


def test_a_list_with_h1_sections_and_anchor_lines_is_read(tmp_path):
    run_import(tmp_path, H1_SECTIONS)
    assert list(Section.objects.values_list("title", "parent")) == [
        ("MLOps Core", None),
        ("MLOps Books", None),
    ]
    assert Roadmap.objects.get().title == "Awesome MLOps"
    resources = {r.title: r for r in Resource.objects.all()}
    assert resources["Udemy “Deployment of ML Models”"].resource_type == "course"
    assert resources["“Machine Learning Engineering” by Andriy Burkov"].resource_type == "book"
    assert resources["State of ML 2021"].description == "Also as [PDF](https://example.com/s.pdf)"
    assert Section.objects.get(title="MLOps Core").body == ""


def test_upper_case_schemes_and_overlong_tags_do_not_break_the_import(tmp_path):
    text = (
        f"## Tools\n- [A](HTTPS://example.com/a)\n  <!-- type: tool | tags: {'x' * 150}, ok -->\n"
    )
    run_import(tmp_path, text)
    resource = Resource.objects.get()
    assert resource.url == "https://example.com/a"
    assert sorted(len(tag.name) for tag in resource.tags.all()) == [2, 100]
