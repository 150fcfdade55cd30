import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from resources.models import Status
from roadmap.feeds import FEED_SIZE
from tests.factories import ResourceFactory, SectionFactory

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
DC = "{http://purl.org/dc/elements/1.1/}"


def rss_channel(response) -> ET.Element:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/rss+xml; charset=utf-8"
    root = ET.fromstring(response.content)  # noqa: S314 (our own output)
    assert root.tag == "rss"
    assert root.get("version") == "2.0"
    return root.find("channel")


def rss_titles(response) -> list[str]:
    return [item.findtext("title") for item in rss_channel(response).findall("item")]


def atom_feed(response) -> ET.Element:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    root = ET.fromstring(response.content)  # noqa: S314 (our own output)
    assert root.tag == f"{ATOM}feed"
    return root


@pytest.fixture
def tree():
    learning = SectionFactory(slug="learning", title="Learning")
    courses = SectionFactory(slug="courses", title="Courses", parent=learning)
    tools = SectionFactory(slug="tools", title="Tools")
    return learning, courses, tools


def test_site_rss_feed_is_valid_rss_with_title_link_description_author_and_tags(client, tree):
    _, courses, _ = tree
    resource = ResourceFactory(
        section=courses,
        title="Great course & more",
        description="Learn **things**.",
        provider="Someone",
        tags=["mlflow", "ci-cd"],
    )
    channel = rss_channel(client.get("/feeds/resources/rss/"))
    assert channel.findtext("title") == "MLOps Roadmap: new resources"
    assert channel.findtext("link") == "http://testserver/"
    assert channel.find(f"{ATOM}link").get("href") == "http://testserver/feeds/resources/rss/"
    [item] = channel.findall("item")
    assert item.findtext("title") == "Great course & more"
    assert item.findtext("link") == f"http://testserver/resources/{resource.pk}/"
    assert item.findtext("guid") == f"http://testserver/resources/{resource.pk}/"
    assert "<strong>things</strong>" in item.findtext("description")
    assert resource.url in item.findtext("description")
    assert item.findtext(f"{DC}creator") == "Someone"
    assert sorted(category.text for category in item.findall("category")) == ["ci-cd", "mlflow"]
    assert item.findtext("pubDate").endswith("+0000")


def test_site_atom_feed_is_valid_atom_with_entries(client, tree):
    _, courses, _ = tree
    resource = ResourceFactory(
        section=courses, title="A course", provider="Someone", tags=["mlflow"]
    )
    feed = atom_feed(client.get("/feeds/resources/atom/"))
    assert feed.findtext(f"{ATOM}title") == "MLOps Roadmap: new resources"
    assert feed.findtext(f"{ATOM}id") == "http://testserver/"
    assert feed.findtext(f"{ATOM}updated")
    links = {link.get("rel"): link.get("href") for link in feed.findall(f"{ATOM}link")}
    assert links == {
        "alternate": "http://testserver/",
        "self": "http://testserver/feeds/resources/atom/",
    }
    [entry] = feed.findall(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}title") == "A course"
    assert entry.find(f"{ATOM}link").get("href") == f"http://testserver/resources/{resource.pk}/"
    assert entry.find(f"{ATOM}summary").get("type") == "html"
    assert entry.findtext(f"{ATOM}author/{ATOM}name") == "Someone"
    assert entry.findtext(f"{ATOM}published") and entry.findtext(f"{ATOM}updated")
    assert [category.get("term") for category in entry.findall(f"{ATOM}category")] == ["mlflow"]


MARKUP_TITLES = [
    ("Learn <b>Docker</b> & K8s", "Learn Docker & K8s"),
    ('<img src=x onerror="alert(1)">Hi', "Hi"),
    ("Escaped &lt;script&gt;alert(1)&lt;/script&gt; twice", "Escaped twice"),
    ("x < y and y > z", "x < y and y > z"),
]


@pytest.mark.parametrize(("title", "expected"), MARKUP_TITLES)
def test_feed_titles_are_plain_text_without_markup(client, tree, title, expected):
    ResourceFactory(section=tree[2], title=title, provider="<i>Evil</i> Corp")
    [item] = rss_channel(client.get("/feeds/resources/rss/")).findall("item")
    assert item.findtext("title") == expected
    assert item.findtext(f"{DC}creator") == "Evil Corp"
    [entry] = atom_feed(client.get("/feeds/resources/atom/")).findall(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}title") == expected


def test_a_section_feed_title_is_plain_text_and_its_description_escaped_once(client):
    SectionFactory(slug="odd", title="Tools <b>&</b> more")
    channel = rss_channel(client.get("/feeds/sections/odd/rss/"))
    assert channel.findtext("title") == "MLOps Roadmap: new in Tools & more"
    # The RSS channel description is HTML: the name in it is escaped once, shown as typed.
    assert "Tools &lt;b&gt;&amp;&lt;/b&gt; more" in channel.findtext("description")


def test_feed_descriptions_carry_user_markup_escaped_once(client, tree):
    ResourceFactory(section=tree[2], description="Tom & Jerry use <b>bold</b> and a < b")
    description = rss_channel(client.get("/feeds/resources/rss/")).find("item/description").text
    assert "Tom &amp; Jerry" in description
    assert "&amp;amp;" not in description
    assert "<b>bold</b>" in description  # sanitised HTML, as the site shows it
    assert "a &lt; b" in description


def test_feed_descriptions_are_the_sanitised_html(client, tree):
    ResourceFactory(section=tree[2], description="Hi <script>alert(1)</script> [x](javascript:y)")
    description = rss_channel(client.get("/feeds/resources/rss/")).find("item/description").text
    assert "<script" not in description
    assert "javascript:" not in description


@pytest.mark.parametrize("status", [Status.PENDING, Status.REJECTED, Status.ARCHIVED])
def test_feeds_list_approved_resources_only(client, tree, status):
    _, courses, _ = tree
    ResourceFactory(section=courses, title="Visible", tags=["mlflow"])
    ResourceFactory(section=courses, title="Hidden", status=status, tags=["mlflow"])
    for url in [
        "/feeds/resources/rss/",
        "/feeds/sections/learning/rss/",
        "/feeds/tags/mlflow/rss/",
    ]:
        assert rss_titles(client.get(url)) == ["Visible"], url


def test_feed_items_are_newest_approved_first_and_at_most_fifty(client, tree):
    now = timezone.now()
    for days in range(FEED_SIZE + 2):
        ResourceFactory(
            section=tree[2], title=f"Approved {days} days ago", approved_at=now - timedelta(days)
        )
    titles = rss_titles(client.get("/feeds/resources/rss/"))
    assert len(titles) == FEED_SIZE == 50
    assert titles[:2] == ["Approved 0 days ago", "Approved 1 days ago"]
    assert "Approved 51 days ago" not in titles


def test_section_feed_includes_its_sub_sections_and_nothing_else(client, tree):
    learning, courses, tools = tree
    ResourceFactory(section=learning, title="In learning")
    ResourceFactory(section=courses, title="In courses")
    ResourceFactory(section=tools, title="In tools")
    assert sorted(rss_titles(client.get("/feeds/sections/learning/rss/"))) == [
        "In courses",
        "In learning",
    ]
    feed = atom_feed(client.get("/feeds/sections/courses/atom/"))
    assert [entry.findtext(f"{ATOM}title") for entry in feed.findall(f"{ATOM}entry")] == [
        "In courses"
    ]
    assert feed.findtext(f"{ATOM}title") == "MLOps Roadmap: new in Courses"
    assert feed.findtext(f"{ATOM}id") == "http://testserver/sections/courses/"


def test_tag_feed_lists_resources_with_that_tag(client, tree):
    ResourceFactory(section=tree[2], title="Tagged", tags=["feature-store"])
    ResourceFactory(section=tree[2], title="Other", tags=["mlflow"])
    channel = rss_channel(client.get("/feeds/tags/feature-store/rss/"))
    assert [item.findtext("title") for item in channel.findall("item")] == ["Tagged"]
    assert channel.findtext("link") == "http://testserver/tags/feature-store/"
    feed = atom_feed(client.get("/feeds/tags/feature-store/atom/"))
    assert len(feed.findall(f"{ATOM}entry")) == 1


@pytest.mark.parametrize(
    "url",
    [
        "/feeds/sections/no-such-section/rss/",
        "/feeds/sections/no-such-section/atom/",
        "/feeds/tags/no-such-tag/rss/",
        "/feeds/tags/no-such-tag/atom/",
    ],
)
def test_feed_of_an_unknown_section_or_tag_is_not_found(client, tree, url):
    assert client.get(url).status_code == 404


def test_an_empty_feed_is_still_valid(client):
    assert rss_channel(client.get("/feeds/resources/rss/")).findall("item") == []
    assert atom_feed(client.get("/feeds/resources/atom/")).findall(f"{ATOM}entry") == []


@pytest.mark.parametrize(
    "url",
    [
        "/feeds/resources/rss/",
        "/feeds/resources/atom/",
        "/feeds/sections/learning/rss/",
        "/feeds/tags/mlflow/atom/",
    ],
)
def test_feed_query_count_does_not_grow_with_items(client, tree, url):
    _, courses, _ = tree

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    ResourceFactory.create_batch(5, section=courses, tags=["mlflow", "a"])
    few = count_queries()
    ResourceFactory.create_batch(35, section=courses, tags=["mlflow", "b"])
    assert count_queries() == few
