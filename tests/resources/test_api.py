import html
import json
import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from resources.api import MAX_TAGS
from resources.filters import SORTS
from resources.models import Cost, Level, ResourceType, Status
from tests.factories import ResourceFactory, SectionFactory, UserFactory

pytestmark = pytest.mark.django_db

RESOURCE_FIELDS = {
    "id",
    "title",
    "url",
    "page_url",
    "description",
    "description_html",
    "type",
    "cost",
    "level",
    "provider",
    "section",
    "tags",
    "score",
    "upvotes",
    "downvotes",
    "wilson_score",
    "approved_at",
}
SECTION_FIELDS = {
    "slug",
    "title",
    "summary",
    "parent",
    "position",
    "depth",
    "resource_count",
    "url",
}
PAGE_FIELDS = {"count", "page", "pages", "page_size", "next", "previous", "results"}
# count, page of rows (sections joined), tags; the section tree only for ?section=
RESOURCE_LIST_QUERIES = 3
# section tree with counts
SECTION_LIST_QUERIES = 1
SECRET_EMAIL = "hidden.submitter@example.org"


@pytest.fixture
def catalogue():
    tools = SectionFactory(slug="tools", title="Tools")
    tracking = SectionFactory(slug="tracking", title="Tracking", parent=tools)
    books = SectionFactory(slug="books", title="Books")
    submitter = UserFactory(username="submitter", email=SECRET_EMAIL)
    return {
        "mlflow": ResourceFactory(
            title="MLflow",
            description="Open source platform for the ML lifecycle.",
            resource_type="tool",
            section=tracking,
            tags=["experiment-tracking", "open-source"],
            wilson_score=0.5,
            submitted_by=submitter,
        ),
        "wandb": ResourceFactory(
            title="Weights & Biases",
            description="Experiment tracking and model registry as a service.",
            resource_type="tool",
            cost="freemium",
            section=tracking,
            tags=["experiment-tracking"],
            wilson_score=0.7,
            upvotes=5,
            downvotes=1,
        ),
        "book": ResourceFactory(
            title="Designing Machine Learning Systems",
            description="Chip Huyen on production ML systems, including monitoring.",
            resource_type="book",
            cost="paid",
            level="intermediate",
            provider="Chip Huyen",
            section=books,
            tags=["system-design"],
        ),
        "pending": ResourceFactory(
            title="Pending MLflow tutorial", status=Status.PENDING, section=tracking
        ),
        "rejected": ResourceFactory(
            title="Rejected MLflow spam",
            status=Status.REJECTED,
            section=tracking,
            rejection_reason="Spam",
        ),
        "archived": ResourceFactory(
            title="Archived MLflow guide", status=Status.ARCHIVED, section=tracking
        ),
    }


def get_json(client, url):
    response = client.get(url)
    assert response["Content-Type"] == "application/json"
    return response, response.json()


def titles(body) -> list[str]:
    return [item["title"] for item in body["results"]]


def explorer_titles(client, query: str) -> list[str]:
    response = client.get(f"/resources/?{query}")
    return [resource.title for resource in response.context["cards"]]


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


# Resources: fields and privacy


def test_a_resource_carries_exactly_the_public_fields(client, catalogue):
    _, body = get_json(client, f"/api/resources/{catalogue['book'].pk}/")
    assert set(body) == RESOURCE_FIELDS
    assert body["title"] == "Designing Machine Learning Systems"
    assert body["url"] == catalogue["book"].url
    assert body["page_url"] == f"http://testserver/resources/{catalogue['book'].pk}/"
    assert body["type"] == "book"
    assert body["cost"] == "paid"
    assert body["level"] == "intermediate"
    assert body["provider"] == "Chip Huyen"
    assert body["section"] == {
        "slug": "books",
        "title": "Books",
        "url": "http://testserver/sections/books/",
    }
    assert body["tags"] == ["system-design"]


def test_votes_and_scores_are_numbers(client, catalogue):
    _, body = get_json(client, f"/api/resources/{catalogue['wandb'].pk}/")
    assert (body["upvotes"], body["downvotes"], body["score"]) == (5, 1, 4)
    assert body["wilson_score"] == pytest.approx(0.7)


def test_approved_at_is_iso_8601_in_utc(client):
    resource = ResourceFactory(approved_at=datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC))
    _, body = get_json(client, f"/api/resources/{resource.pk}/")
    assert body["approved_at"] == "2025-03-14T09:26:53Z"


def test_a_resource_without_level_has_null_level(client, catalogue):
    _, body = get_json(client, f"/api/resources/{catalogue['mlflow'].pk}/")
    assert body["level"] is None


def test_description_comes_as_markdown_and_as_sanitised_html(client):
    resource = ResourceFactory(
        description="Read **this**.\n\n<script>alert(1)</script> [x](javascript:alert(1))"
    )
    _, body = get_json(client, f"/api/resources/{resource.pk}/")
    assert body["description"] == resource.description
    assert "<strong>this</strong>" in body["description_html"]
    assert "<script" not in body["description_html"]
    assert "javascript:" not in body["description_html"]


@pytest.mark.parametrize("url", ["/api/resources/", "/api/resources/?q=mlflow", "detail"])
def test_the_submitters_email_never_appears(client, catalogue, url):
    if url == "detail":
        url = f"/api/resources/{catalogue['mlflow'].pk}/"
    response = client.get(url)
    assert response.status_code == 200
    content = response.content.decode()
    assert SECRET_EMAIL not in content
    assert "submitter" not in content
    assert "normalized_url" not in content
    assert "rejection_reason" not in content


def test_listed_resources_carry_exactly_the_public_fields(client, catalogue):
    _, body = get_json(client, "/api/resources/")
    assert body["results"]
    assert all(set(item) == RESOURCE_FIELDS for item in body["results"])


# Resources: only approved ones


def test_the_list_holds_only_approved_resources(client, catalogue):
    _, body = get_json(client, "/api/resources/")
    assert body["count"] == 3
    assert set(titles(body)) == {"MLflow", "Weights & Biases", "Designing Machine Learning Systems"}


@pytest.mark.parametrize("name", ["pending", "rejected", "archived"])
def test_an_unapproved_resource_is_a_json_404(client, catalogue, name):
    response, body = get_json(client, f"/api/resources/{catalogue[name].pk}/")
    assert response.status_code == 404
    assert body == {"errors": {"id": ["No approved resource has this id."]}}


def test_an_unknown_resource_is_a_json_404(client):
    response, body = get_json(client, "/api/resources/999999/")
    assert response.status_code == 404
    assert "id" in body["errors"]


# Resources: the explorer's filters and sort


@pytest.mark.parametrize(
    "query,expected",
    [
        ("q=mlflow", {"MLflow"}),
        ("q=Chip+Huyen", {"Designing Machine Learning Systems"}),
        ("q=experiment-tracking", {"MLflow", "Weights & Biases"}),
        ("section=tools", {"MLflow", "Weights & Biases"}),
        ("section=books", {"Designing Machine Learning Systems"}),
        (
            "type=tool&type=book",
            {"MLflow", "Weights & Biases", "Designing Machine Learning Systems"},
        ),
        ("cost=free", {"MLflow"}),
        ("level=intermediate", {"Designing Machine Learning Systems"}),
        ("tag=experiment-tracking&tag=open-source", {"MLflow"}),
        ("tag=no-such-tag", set()),
        ("q=tracking&cost=freemium", {"Weights & Biases"}),
    ],
)
def test_filters_select_what_the_explorer_selects(client, catalogue, query, expected):
    _, body = get_json(client, f"/api/resources/?{query}")
    assert set(titles(body)) == expected
    assert set(explorer_titles(client, query)) == expected


@pytest.mark.parametrize("query", ["", "sort=top", "sort=new", "sort=trending", "q=ml"])
def test_order_is_the_explorers_order(client, catalogue, query):
    _, body = get_json(client, f"/api/resources/?{query}")
    assert titles(body) == explorer_titles(client, query)


def test_top_is_the_default_order(client, catalogue):
    _, body = get_json(client, "/api/resources/")
    assert titles(body) == ["Weights & Biases", "MLflow", "Designing Machine Learning Systems"]


@pytest.mark.parametrize("empty_filter", ["sort=", "q=", "level=&cost=&type=&tag=&section="])
def test_a_page_without_filters_is_the_page_of_empty_filters(client, empty_filter):
    """Without a filter the list skips the filter set: the same resources, in the same order,
    with the same count and fields as the filter set gives for filters left empty."""
    section = SectionFactory()
    for index in range(28):  # scores in another order than creation, some tied
        ResourceFactory(section=section, wilson_score=(index * 7 % 10) / 10, downvotes=index % 3)
    for page in (1, 2, 3):
        _, plain = get_json(client, f"/api/resources/?page_size=10&page={page}")
        _, filtered = get_json(client, f"/api/resources/?page_size=10&page={page}&{empty_filter}")
        assert plain["count"] == filtered["count"] == 28
        assert plain["results"] == filtered["results"]


def test_new_puts_the_newest_first(client, catalogue):
    _, body = get_json(client, "/api/resources/?sort=new")
    assert titles(body)[0] == "Designing Machine Learning Systems"


# Pagination


@pytest.fixture
def many_tools():
    section = SectionFactory()
    ResourceFactory.create_batch(25, section=section, resource_type="tool")
    ResourceFactory.create_batch(3, section=section, resource_type="book")


def test_the_first_page_links_to_the_next_with_the_same_filters(client, many_tools):
    _, body = get_json(client, "/api/resources/?type=tool&page_size=10")
    assert set(body) == PAGE_FIELDS
    assert (body["count"], body["page"], body["pages"], body["page_size"]) == (25, 1, 3, 10)
    assert len(body["results"]) == 10
    assert body["previous"] is None
    assert body["next"].startswith("http://testserver/api/resources/?")
    assert query_of(body["next"]) == {"type": ["tool"], "page_size": ["10"], "page": ["2"]}


def test_the_last_page_links_back_and_not_forward(client, many_tools):
    _, body = get_json(client, "/api/resources/?type=tool&page_size=10&page=3")
    assert len(body["results"]) == 5
    assert body["next"] is None
    assert query_of(body["previous"]) == {"type": ["tool"], "page_size": ["10"], "page": ["2"]}


def test_following_next_visits_every_resource_once(client, many_tools):
    seen, url = [], "/api/resources/?page_size=7"
    while url:
        _, body = get_json(client, url)
        seen.extend(item["id"] for item in body["results"])
        url = body["next"]
    assert len(seen) == len(set(seen)) == 28


def test_pages_hold_twenty_by_default(client, many_tools):
    _, body = get_json(client, "/api/resources/")
    assert (len(body["results"]), body["page_size"], body["pages"]) == (20, 20, 2)


def test_an_empty_result_is_one_empty_page(client, catalogue):
    response, body = get_json(client, "/api/resources/?tag=no-such-tag")
    assert response.status_code == 200
    assert (body["count"], body["page"], body["pages"], body["results"]) == (0, 1, 1, [])


# Invalid input


@pytest.mark.parametrize(
    "query,field",
    [
        ("page=abc", "page"),
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=99", "page"),
        ("page_size=0", "page_size"),
        ("page_size=101", "page_size"),
        ("page_size=lots", "page_size"),
        ("sort=sideways", "sort"),
        ("level=guru", "level"),
        ("type=spaceship", "type"),
        ("cost=priceless", "cost"),
        ("section=nowhere", "section"),
        ("q=" + "x" * 201, "q"),
        ("q=" + "x" * 5000, "q"),
        ("q=%00", "q"),
        ("q=ml%01ops", "q"),
        ("q=ml%0Aops", "q"),
        ("tag=a%7Fb", "tag"),
        ("page=1%00", "page"),
        ("&".join(f"tag=t{n}" for n in range(MAX_TAGS + 1)), "tag"),
    ],
)
def test_invalid_parameters_are_a_json_400_naming_the_field(client, catalogue, query, field):
    response, body = get_json(client, f"/api/resources/?{query}")
    assert response.status_code == 400
    assert list(body) == ["errors"]
    assert field in body["errors"]
    assert body["errors"][field]
    assert all(isinstance(message, str) for message in body["errors"][field])


def test_every_invalid_parameter_is_reported_at_once(client, catalogue):
    _, body = get_json(client, "/api/resources/?sort=sideways&level=guru&page=abc")
    assert set(body["errors"]) == {"sort", "level", "page"}


@pytest.mark.parametrize("query", ["page=abc", "page=2", "page_size=101", "page=%01"])
def test_invalid_section_pages_are_a_json_400(client, catalogue, query):
    response, body = get_json(client, f"/api/sections/?{query}")
    assert response.status_code == 400
    assert set(body["errors"]) <= {"page", "page_size"}


@pytest.mark.parametrize(
    "query", ["q=%F0%9F%98%80&q=two", "q=')+OR+1=1--", "q=%26%7C%21%3A*", "tag=" + "t" * 300]
)
def test_odd_but_valid_searches_answer_200(client, catalogue, query):
    response, body = get_json(client, f"/api/resources/?{query}")
    assert response.status_code == 200
    assert "results" in body


def test_unknown_parameters_are_ignored(client, catalogue):
    response, body = get_json(client, "/api/resources/?callback=x&format=xml")
    assert response.status_code == 200
    assert body["count"] == 3


# Methods and headers


@pytest.mark.parametrize(
    "url", ["/api/sections/", "/api/sections/tools/", "/api/resources/", "resource"]
)
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "options"])
def test_only_get_and_head_are_allowed(catalogue, url, method):
    if url == "resource":
        url = f"/api/resources/{catalogue['book'].pk}/"
    client = Client(enforce_csrf_checks=True)
    response = getattr(client, method)(url)
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert "method" in response.json()["errors"]


def test_head_answers_like_get(client, catalogue):
    response = client.head("/api/resources/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    "url", ["/api/sections/", "/api/sections/tools/", "/api/resources/", "resource"]
)
def test_success_is_public_and_cacheable_for_a_minute(client, catalogue, url, settings):
    settings.PAGE_CACHE_SECONDS = 300
    if url == "resource":
        url = f"/api/resources/{catalogue['book'].pk}/"
    response = client.get(url)
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=60"
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "Set-Cookie" not in response
    assert "Cookie" not in response.get("Vary", "")


@pytest.mark.parametrize("url", ["/api/resources/?sort=sideways", "/api/resources/999999/"])
def test_errors_are_readable_cross_origin_but_not_cached(client, url):
    response = client.get(url)
    assert response.status_code in (400, 404)
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "Cache-Control" not in response


# Sections


@pytest.fixture
def tree():
    root = SectionFactory(slug="tools", title="Tools", position=1, summary="Tools summary.")
    child = SectionFactory(slug="tracking", title="Tracking", position=1, parent=root)
    grandchild = SectionFactory(slug="registries", title="Registries", position=1, parent=child)
    other = SectionFactory(slug="books", title="Books", position=2, body="A *good* read.")
    ResourceFactory(section=root)
    ResourceFactory.create_batch(2, section=child)
    ResourceFactory(section=grandchild)
    ResourceFactory(section=grandchild, status=Status.PENDING)
    ResourceFactory(section=other, status=Status.REJECTED)
    return {"root": root, "child": child, "grandchild": grandchild, "other": other}


def test_sections_come_in_reading_order_with_parents_and_depths(client, tree):
    _, body = get_json(client, "/api/sections/")
    assert [(s["slug"], s["parent"], s["depth"]) for s in body["results"]] == [
        ("tools", None, 0),
        ("tracking", "tools", 1),
        ("registries", "tracking", 2),
        ("books", None, 0),
    ]
    assert all(set(item) == SECTION_FIELDS for item in body["results"])


def test_section_counts_include_sub_sections_and_only_approved(client, tree):
    _, body = get_json(client, "/api/sections/")
    counts = {item["slug"]: item["resource_count"] for item in body["results"]}
    assert counts == {"tools": 4, "tracking": 3, "registries": 1, "books": 0}


def test_a_section_carries_its_page_url_and_summary(client, tree):
    _, body = get_json(client, "/api/sections/")
    first = body["results"][0]
    assert first["url"] == "http://testserver/sections/tools/"
    assert first["summary"] == "Tools summary."
    assert first["title"] == "Tools"
    assert first["position"] == 1


def test_a_section_detail_adds_its_body_html(client, tree):
    _, body = get_json(client, "/api/sections/books/")
    assert set(body) == SECTION_FIELDS | {"body_html"}
    assert body["body_html"] == "<p>A <em>good</em> read.</p>"


def test_a_nested_section_detail_names_its_parent_and_counts_below_it(client, tree):
    _, body = get_json(client, "/api/sections/tracking/")
    assert (body["parent"], body["depth"], body["resource_count"]) == ("tools", 1, 3)


def test_an_unknown_section_is_a_json_404(client, tree):
    response, body = get_json(client, "/api/sections/nowhere/")
    assert response.status_code == 404
    assert "slug" in body["errors"]


def test_sections_are_paginated(client, tree):
    _, body = get_json(client, "/api/sections/?page_size=3")
    assert (body["count"], body["pages"], len(body["results"])) == (4, 2, 3)
    assert query_of(body["next"]) == {"page_size": ["3"], "page": ["2"]}


# Query counts


def count_queries(client, url) -> int:
    """The page's own queries; the page cache's lookups (a table when there is no Redis)
    are not the page's."""
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return sum('"django_cache' not in query["sql"] for query in queries)


def test_query_count_does_not_grow_with_resources(client):
    sections = [SectionFactory(), SectionFactory()]
    sections.append(SectionFactory(parent=sections[0]))
    urls = [
        "/api/resources/?page_size=100",
        "/api/resources/?q=resource&tag=a&page_size=100",
        "/api/resources/?section=" + sections[0].slug,
    ]
    for index in range(5):
        ResourceFactory(section=sections[index % 3], tags=["a", f"t{index}"])
    small = [count_queries(client, url) for url in urls]
    sections_small = count_queries(client, "/api/sections/?page_size=100")
    for index in range(55):
        ResourceFactory(section=sections[index % 3], tags=["a", "b", f"u{index}"])
    assert [count_queries(client, url) for url in urls] == small
    assert count_queries(client, "/api/sections/?page_size=100") == sections_small
    assert small == [RESOURCE_LIST_QUERIES, RESOURCE_LIST_QUERIES, RESOURCE_LIST_QUERIES + 1]
    assert sections_small == SECTION_LIST_QUERIES


def test_one_resource_takes_a_fixed_number_of_queries(client):
    resource = ResourceFactory(tags=["a", "b", "c"])
    assert count_queries(client, f"/api/resources/{resource.pk}/") == 2


# The documentation page


def test_the_docs_page_renders_as_a_site_page_with_one_heading(client):
    response = client.get("/api/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert page.count("<h1") == 1
    assert 'class="site-header"' in page
    for path in ("/api/sections/", "/api/resources/"):
        assert f'<code>GET <a href="{path}">' in page


def test_the_docs_list_every_allowed_value(client):
    page = client.get("/api/").content.decode()
    for choices in (ResourceType, Cost, Level):
        for value in choices.values:
            assert f"<code>{value}</code>" in page
    for value in SORTS:
        assert f"<code>{value}</code>" in page


def test_the_docs_example_has_the_shape_of_a_real_response(client, catalogue):
    page = client.get("/api/").content.decode()
    match = re.search(r'<code id="example-response">(.*?)</code>', page, re.DOTALL)
    example = json.loads(html.unescape(match.group(1)))
    _, real = get_json(client, "/api/resources/")
    assert set(example) == set(real)
    assert set(example["results"][0]) == set(real["results"][0])
    assert set(example["results"][0]["section"]) == set(real["results"][0]["section"])
    assert "curl 'http://testserver/api/resources/?type=course" in page


@pytest.mark.parametrize("query", ["level=", "cost=", "type=", "tag=", "level=&cost=&section="])
def test_an_empty_filter_value_means_any_in_the_api(client, catalogue, query):
    response, body = get_json(client, f"/api/resources/?{query}")
    assert response.status_code == 200
    assert set(titles(body)) == {"MLflow", "Weights & Biases", "Designing Machine Learning Systems"}
