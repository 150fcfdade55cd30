import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from resources.models import Status
from roadmap import selectors
from roadmap.models import Roadmap
from tests.factories import ResourceFactory, SectionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def roadmap_tree():
    Roadmap.objects.create(title="MLOps Roadmap", intro="An **introduction** to the roadmap.")
    learning = SectionFactory(slug="learning", title="Learning", position=0)
    courses = SectionFactory(slug="courses", title="Courses", parent=learning, position=0)
    tools = SectionFactory(slug="tools", title="Tools", position=1)
    return learning, courses, tools


def test_home_shows_every_section_as_a_node_with_counts_and_the_introduction(client, roadmap_tree):
    learning, courses, tools = roadmap_tree
    ResourceFactory.create_batch(3, section=courses)
    ResourceFactory(section=learning)
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<h1") == 1
    assert f'href="{learning.get_absolute_url()}"' in html
    assert f'href="{courses.get_absolute_url()}"' in html
    assert "4 resources" in html  # Learning counts its own and its sub-sections' resources
    assert "<strong>introduction</strong>" in html


def test_section_page_shows_prose_and_each_subsection_best_as_lines(client, roadmap_tree):
    learning, courses, _ = roadmap_tree
    card = ResourceFactory(
        section=courses,
        title="Great course",
        provider="Someone",
        level="beginner",
        resource_type="course",
        tags=["mlflow"],
    )
    response = client.get(learning.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<h1") == 1
    assert "<em>prose</em>" in html
    assert 'id="courses"' in html
    assert (
        f'<a href="{card.url}" rel="noopener" class="external-link" '
        'aria-describedby="external-link-note">Great course</a>'
    ) in html
    pick = html[html.index('<li class="pick">') :]
    pick = pick[: pick.index("</li>")]
    for text in ["Course", "Free", "by Someone", "0 points", f'href="{card.get_absolute_url()}"']:
        assert text in pick
    # A line, not a card: its level, tags and buttons are on the sub-topic's own page.
    assert 'class="card"' not in html and "#mlflow" not in html
    own_page = client.get(courses.get_absolute_url()).content.decode()
    assert 'class="card"' in own_page
    for text in ["Course", "Free", "Beginner", "by Someone", "#mlflow"]:
        assert text in own_page


def test_resources_on_a_section_page_are_grouped_by_type(client, roadmap_tree):
    _, _, tools = roadmap_tree
    ResourceFactory(section=tools, resource_type="tool", title="A tool")
    ResourceFactory(section=tools, resource_type="paper", title="A paper")
    html = client.get(tools.get_absolute_url() + "?all=1").content.decode()
    assert "Tools <span" in html and "Papers <span" in html
    assert html.index("A paper") < html.index("A tool")  # groups follow the declared types


@pytest.mark.parametrize("status", [Status.PENDING, Status.REJECTED])
def test_unapproved_resources_never_appear(client, roadmap_tree, status):
    learning, courses, _ = roadmap_tree
    hidden = ResourceFactory(section=courses, status=status, title="Hidden suggestion")
    for url in ["/", learning.get_absolute_url(), courses.get_absolute_url()]:
        assert "Hidden suggestion" not in client.get(url).content.decode()
    assert client.get(hidden.get_absolute_url()).status_code == 404
    assert "0 resources" in client.get("/").content.decode()


def test_section_page_orders_by_top_by_default_and_offers_new(client, roadmap_tree):
    _, courses, _ = roadmap_tree
    older = ResourceFactory(section=courses, title="Older but loved", upvotes=10, wilson_score=0.8)
    newer = ResourceFactory(section=courses, title="Newer")
    top = client.get(courses.get_absolute_url()).content.decode()
    assert top.index(older.title) < top.index(newer.title)
    new = client.get(courses.get_absolute_url() + "?sort=new").content.decode()
    assert new.index(newer.title) < new.index(older.title)
    assert client.get(courses.get_absolute_url() + "?sort=bogus").status_code == 200


def test_on_a_section_page_a_resource_at_minus_one_ranks_below_those_at_zero(client, roadmap_tree):
    _, courses, _ = roadmap_tree
    disliked = ResourceFactory(section=courses, title="Voted down once", downvotes=1)
    unvoted = ResourceFactory(section=courses, title="Not voted on yet")
    disliked.created_at = unvoted.created_at.replace(year=unvoted.created_at.year + 1)
    disliked.save(update_fields=["created_at"])  # newer, so the date alone would rank it first
    html = client.get(courses.get_absolute_url()).content.decode()
    assert html.index(unvoted.title) < html.index(disliked.title)


def test_resource_page_shows_one_resource_in_full(client, roadmap_tree):
    _, courses, _ = roadmap_tree
    resource = ResourceFactory(section=courses, description="Long *description*.")
    response = client.get(resource.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert "<em>description</em>" in html
    assert courses.title in html


def test_unknown_section_and_resource_answer_404_in_the_site_style(client, roadmap_tree):
    for url in ["/sections/nope/", "/resources/999999/"]:
        response = client.get(url)
        assert response.status_code == 404
        assert "Page not found" in response.content.decode()


def test_resource_descriptions_are_sanitised(client, roadmap_tree):
    _, courses, _ = roadmap_tree
    ResourceFactory(
        section=courses,
        description=(
            "<script>alert(1)</script> [x](javascript:alert(2)) <img src=x onerror=alert(3)>"
        ),
    )
    html = client.get(courses.get_absolute_url()).content.decode()
    assert "<script>alert" not in html
    assert "javascript:" not in html
    assert "onerror" not in html


def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("url_name", ["home", "learning", "courses"])
def test_query_count_does_not_grow_with_resources(client, roadmap_tree, url_name):
    learning, courses, _ = roadmap_tree
    url = {
        "home": "/",
        "learning": learning.get_absolute_url(),
        "courses": courses.get_absolute_url(),
    }[url_name]
    ResourceFactory.create_batch(5, section=courses, tags=["a", "b"])
    small = _count_queries(client, url)
    ResourceFactory.create_batch(195, section=courses, tags=["c"])
    ResourceFactory.create_batch(10, section=learning, tags=["d"])
    assert _count_queries(client, url) == small
    assert small <= 8  # cache off: the tree, the prerequisites and "went on to" are read too


def test_healthz_answers(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_a_large_section_shows_its_best_cards_first_and_links_to_all(client, roadmap_tree):
    _, courses, _ = roadmap_tree
    ResourceFactory.create_batch(30, section=courses, resource_type="course", wilson_score=0.1)
    best = ResourceFactory(section=courses, resource_type="course", title="Best", wilson_score=0.9)
    response = client.get(courses.get_absolute_url())
    assert len(response.context["own_best"]) == selectors.SECTION_LIMIT
    assert response.context["own_best"][0] == best
    html = response.content.decode()
    assert "All 31 resources in Courses" in html
    response = client.get(courses.get_absolute_url() + "?all=1")
    [block] = response.context["blocks"]
    [group] = block["groups"]
    assert (group.total, len(group.resources), group.resources[0]) == (31, 31, best)
    assert "All 31 courses" not in response.content.decode()


def test_a_parent_section_shows_a_few_of_each_sub_section_and_links_to_it(client, roadmap_tree):
    learning, courses, _ = roadmap_tree
    ResourceFactory.create_batch(10, section=courses, resource_type="course")
    response = client.get(learning.get_absolute_url())
    sub = next(block for block in response.context["blocks"] if block["node"].section == courses)
    assert (sub["shown"], sub["total"]) == (selectors.SUBSECTION_LIMIT, 10)
    html = response.content.decode()
    assert f'<a href="{courses.get_absolute_url()}">All 10 resources in Courses</a>' in html
    assert "All 10 courses in Courses" not in html


def test_a_tree_wider_than_one_compound_query_still_ranks_every_section(monkeypatch):
    from resources.models import Resource

    monkeypatch.setattr(selectors, "UNION_TERMS", 2)
    sections = [SectionFactory() for _ in range(5)]
    best = {
        section.pk: ResourceFactory(section=section, wilson_score=0.9).pk for section in sections
    }
    for section in sections:
        ResourceFactory(section=section, wilson_score=0.1)
    ids = selectors.best_of_each_section(
        Resource.objects.approved(), {section.pk: 1 for section in sections}, "top"
    )
    assert sorted(ids) == sorted(best.values())
