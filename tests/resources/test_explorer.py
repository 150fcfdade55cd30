import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from resources.models import Resource, Status
from tests.factories import ResourceFactory, SectionFactory, VerifiedUserFactory

pytestmark = pytest.mark.django_db


def titles(response) -> list[str]:
    """The titles of the page's cards, in order (its page lists their ids)."""
    return [resource.title for resource in response.context["cards"]]


@pytest.fixture
def catalogue():
    tools = SectionFactory(slug="tools", title="Tools")
    tracking = SectionFactory(slug="tracking", title="Tracking", parent=tools)
    books = SectionFactory(slug="books", title="Books")
    return {
        "mlflow": ResourceFactory(
            title="MLflow",
            description="Open source platform for the ML lifecycle.",
            resource_type="tool",
            section=tracking,
            tags=["experiment-tracking", "open-source"],
            wilson_score=0.5,
        ),
        "wandb": ResourceFactory(
            title="Weights & Biases",
            description="Experiment tracking and model registry as a service.",
            resource_type="tool",
            cost="freemium",
            section=tracking,
            tags=["experiment-tracking"],
            wilson_score=0.7,
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
        "hidden": ResourceFactory(
            title="Pending MLflow tutorial", status=Status.PENDING, section=tracking
        ),
    }


def test_the_explorer_lists_only_approved_resources_by_top(client, catalogue):
    response = client.get("/resources/")
    assert response.status_code == 200
    assert titles(response) == [
        "Weights & Biases",
        "MLflow",
        "Designing Machine Learning Systems",
    ]


@pytest.mark.parametrize(
    "query,expected",
    [
        ("q=mlflow", {"MLflow"}),
        ("q=monitoring", {"Designing Machine Learning Systems"}),
        ("q=Chip+Huyen", {"Designing Machine Learning Systems"}),
        ("q=experiment-tracking", {"MLflow", "Weights & Biases"}),
        ("q=registry", {"Weights & Biases"}),
        ("q=nothing-like-this", set()),
        ("section=tools", {"MLflow", "Weights & Biases"}),
        ("section=books", {"Designing Machine Learning Systems"}),
        ("type=book", {"Designing Machine Learning Systems"}),
        (
            "type=tool&type=book",
            {"MLflow", "Weights & Biases", "Designing Machine Learning Systems"},
        ),
        ("cost=free", {"MLflow"}),
        ("level=intermediate", {"Designing Machine Learning Systems"}),
        ("tag=experiment-tracking", {"MLflow", "Weights & Biases"}),
        ("tag=experiment-tracking&tag=open-source", {"MLflow"}),
        ("tag=no-such-tag", set()),
        ("q=tracking&cost=freemium", {"Weights & Biases"}),
    ],
)
def test_filters_and_search(client, catalogue, query, expected):
    assert set(titles(client.get(f"/resources/?{query}"))) == expected


def test_search_ranks_title_matches_above_description_matches(client, catalogue):
    ResourceFactory(title="Monitoring in practice", description="Dashboards.", wilson_score=0)
    found = titles(client.get("/resources/?q=monitoring"))
    assert found[0] == "Monitoring in practice"
    if connection.vendor != "postgresql":
        return
    assert found == ["Monitoring in practice", "Designing Machine Learning Systems"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("top", ["Designing Machine Learning Systems", "Monitoring in practice"]),
        ("new", ["Monitoring in practice", "Designing Machine Learning Systems"]),
    ],
)
def test_a_search_with_a_sort_follows_the_sort_not_the_rank(client, catalogue, sort, expected):
    # The title match ranks first (test_search_ranks_title_matches_above_description_matches).
    ResourceFactory(title="Monitoring in practice", description="Dashboards.", wilson_score=0.1)
    Resource.objects.filter(pk=catalogue["book"].pk).update(wilson_score=0.2)
    assert titles(client.get(f"/resources/?q=monitoring&sort={sort}")) == expected


def test_a_search_does_not_read_the_search_vectors_of_the_cards(client, catalogue):
    with CaptureQueriesContext(connection) as queries:
        assert titles(client.get("/resources/?q=monitoring")) == [
            "Designing Machine Learning Systems"
        ]
    # The vector is read where it is compared and ranked, never sent back with the rows.
    assert not any(re.search(r'"search_vector"\)? AS', query["sql"]) for query in queries)


def test_postgres_search_understands_word_forms(client, catalogue):
    if connection.vendor != "postgresql":
        pytest.skip("stemming is a PostgreSQL full-text feature")
    assert set(titles(client.get("/resources/?q=systems+designs"))) == {
        "Designing Machine Learning Systems"
    }


def test_new_orders_by_date(client, catalogue):
    assert titles(client.get("/resources/?sort=new"))[0] == "Designing Machine Learning Systems"


def test_trending_orders_by_votes_weighted_by_age(client, catalogue):
    response = client.get("/resources/?sort=trending")
    assert response.status_code == 200
    assert len(titles(response)) == 3


@pytest.mark.parametrize(
    "query",
    [
        "level=guru",
        "section=nowhere",
        "sort=sideways",
        "page=abc",
        "page=99999",
        "q=" + "x" * 5000,
        "q=%00%01%02",
        "tag=" + "t" * 300,
        "type=spaceship",
        "q=%F0%9F%98%80&q=two",
        "q=')+OR+1=1--",
        "q=%26%7C%21%3A*",
    ],
)
def test_odd_parameters_never_break_the_page(client, catalogue, query):
    assert client.get(f"/resources/?{query}").status_code == 200


def test_the_whole_state_is_in_the_url_for_pagination(client):
    section = SectionFactory()
    ResourceFactory.create_batch(25, section=section, resource_type="tool", tags=["x"])
    response = client.get("/resources/?type=tool&sort=new")
    html = response.content.decode()
    assert "type=tool&amp;sort=new&amp;page=2" in html
    assert len(titles(client.get("/resources/?type=tool&sort=new&page=2"))) == 5


def test_htmx_requests_get_only_the_results(client, catalogue):
    response = client.get("/resources/?q=mlflow", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results")
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="results"')
    assert "MLflow" in html


def test_tag_pages_and_the_tag_list(client, catalogue):
    response = client.get("/tags/experiment-tracking/")
    assert response.status_code == 200
    assert set(titles(response)) == {"MLflow", "Weights & Biases"}
    assert client.get("/tags/unknown/").status_code == 404
    tags = client.get("/tags/").content.decode()
    assert "#experiment-tracking" in tags
    assert 'href="/tags/experiment-tracking/"' in tags


def test_explorer_query_count_does_not_grow_with_results(client):
    member = VerifiedUserFactory()
    client.force_login(member)
    section = SectionFactory()

    def count(url) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    ResourceFactory.create_batch(3, section=section, tags=["a"])
    urls = ["/resources/", "/resources/?q=resource&tag=a", "/tags/a/"]
    small = [count(url) for url in urls]
    ResourceFactory.create_batch(40, section=section, tags=["a", "b"])
    assert [count(url) for url in urls] == small


def test_a_broad_search_counts_no_further_than_the_cap(client, monkeypatch):
    from resources import views

    monkeypatch.setattr(views, "EXPLORER_COUNT_CAP", 5)
    section = SectionFactory()
    ResourceFactory.create_batch(4, section=section, title="Feature store guide")
    html = client.get("/resources/?q=feature").content.decode()
    assert "4 resources matching" in html
    assert "These are the first" not in html

    ResourceFactory.create_batch(4, section=section, title="Feature store notes")
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/resources/?q=feature")
    html = response.content.decode()
    assert "More than 5 resources matching" in html
    assert len(titles(response)) == 5
    assert "These are the first 5." in html
    # One read of the matches' ids, no further than the cap and one more; no COUNT.
    reads = [q["sql"] for q in queries if "LIMIT 6" in q["sql"]]
    assert len(reads) == 1
    assert reads[0].startswith('SELECT "resources_resource"."id" AS "pk" FROM')
    assert not any(q["sql"].startswith("SELECT COUNT(*) FROM (SELECT") for q in queries)


ALL_APPROVED = {"MLflow", "Weights & Biases", "Designing Machine Learning Systems"}


@pytest.mark.parametrize(
    "query", ["level=", "cost=", "type=", "tag=", "section=", "sort=", "level=&cost=&type="]
)
def test_an_empty_filter_value_means_any(client, catalogue, query):
    response = client.get(f"/resources/?{query}")
    assert set(titles(response)) == ALL_APPROVED
    html = response.content.decode()
    assert "Select a valid choice" not in html
    assert "Left out" not in html


def test_an_empty_value_beside_a_real_one_keeps_the_real_one(client, catalogue):
    assert set(titles(client.get("/resources/?level=&level=intermediate"))) == {
        "Designing Machine Learning Systems"
    }


@pytest.mark.parametrize(
    "query,label,value",
    [
        ("level=guru", "level", "guru"),
        ("cost=priceless", "cost", "priceless"),
        ("type=spaceship", "type", "spaceship"),
        ("section=nowhere", "section", "nowhere"),
        ("sort=sideways", "sort by", "sideways"),
    ],
)
def test_an_unknown_filter_value_is_left_out_with_a_short_note(
    client, catalogue, query, label, value
):
    response = client.get(f"/resources/?{query}")
    assert set(titles(response)) == ALL_APPROVED
    html = response.content.decode()
    assert f"Left out what the explorer does not know: {label} “{value}”." in html
    assert "Select a valid choice" not in html
    assert "not one of the available choices" not in html


def test_an_unknown_value_leaves_the_known_filters_working(client, catalogue):
    response = client.get("/resources/?type=tool&type=spaceship&cost=freemium")
    assert titles(response) == ["Weights & Biases"]
    assert "type “spaceship”" in response.content.decode()


def test_top_never_ranks_a_resource_voted_down_above_one_nobody_voted_on(client):
    from resources.services import cast_vote

    unvoted = ResourceFactory(title="Unvoted monitoring guide")
    disliked = ResourceFactory(title="Disliked monitoring guide")  # newer: wins a tie on date
    cast_vote(user=VerifiedUserFactory(), resource=disliked.pk, value=-1)
    liked = ResourceFactory(title="Liked monitoring guide")
    cast_vote(user=VerifiedUserFactory(), resource=liked.pk, value=1)
    expected = [liked.title, unvoted.title, disliked.title]
    assert titles(client.get("/resources/")) == expected
    assert titles(client.get("/resources/?sort=top")) == expected
    assert titles(client.get("/resources/?q=monitoring+guide")) == expected
