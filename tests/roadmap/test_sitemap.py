import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from resources.models import Status
from roadmap.sitemaps import ResourceSitemap
from tests.factories import ResourceFactory, SectionFactory

pytestmark = pytest.mark.django_db

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def parse(response) -> ET.Element:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    return ET.fromstring(response.content)  # noqa: S314 (our own output)


def locations(response) -> list[str]:
    root = parse(response)
    assert root.tag == f"{SITEMAP}urlset"
    return [url.findtext(f"{SITEMAP}loc") for url in root.findall(f"{SITEMAP}url")]


def lastmods(response) -> dict[str, str]:
    return {
        url.findtext(f"{SITEMAP}loc"): url.findtext(f"{SITEMAP}lastmod")
        for url in parse(response).findall(f"{SITEMAP}url")
    }


@pytest.fixture
def tree():
    learning = SectionFactory(slug="learning", title="Learning", position=0)
    courses = SectionFactory(slug="courses", title="Courses", parent=learning, position=0)
    tools = SectionFactory(slug="tools", title="Tools", position=1)
    return learning, courses, tools


def test_sitemap_index_is_valid_xml_pointing_at_every_part(client, tree):
    ResourceFactory(section=tree[1])
    root = parse(client.get("/sitemap.xml"))
    assert root.tag == f"{SITEMAP}sitemapindex"
    parts = [item.findtext(f"{SITEMAP}loc") for item in root.findall(f"{SITEMAP}sitemap")]
    assert parts == [
        "http://testserver/sitemap-pages.xml",
        "http://testserver/sitemap-sections.xml",
        "http://testserver/sitemap-resources.xml",
        "http://testserver/sitemap-tags.xml",
    ]


def test_sitemap_lists_home_explorer_and_tag_index(client, tree):
    assert locations(client.get("/sitemap-pages.xml")) == [
        "http://testserver/",
        "http://testserver/resources/",
        "http://testserver/tags/",
    ]


def test_sitemap_lists_every_section_in_reading_order(client, tree):
    assert locations(client.get("/sitemap-sections.xml")) == [
        "http://testserver/sections/learning/",
        "http://testserver/sections/courses/",
        "http://testserver/sections/tools/",
    ]


def test_a_sections_lastmod_is_its_newest_approval_below_it(client, tree):
    learning, courses, tools = tree
    later = timezone.now() + timedelta(days=3)
    ResourceFactory(section=courses, approved_at=later)
    ResourceFactory(section=tools, status=Status.PENDING, approved_at=None)
    dates = lastmods(client.get("/sitemap-sections.xml"))
    assert dates["http://testserver/sections/learning/"] == later.date().isoformat()
    assert dates["http://testserver/sections/courses/"] == later.date().isoformat()
    assert dates["http://testserver/sections/tools/"] == tools.updated_at.date().isoformat()


@pytest.mark.parametrize("status", [Status.PENDING, Status.REJECTED, Status.ARCHIVED])
def test_sitemap_lists_approved_resources_and_no_others(client, tree, status):
    shown = ResourceFactory(section=tree[1])
    hidden = ResourceFactory(section=tree[1], status=status)
    urls = locations(client.get("/sitemap-resources.xml"))
    assert urls == [f"http://testserver/resources/{shown.pk}/"]
    assert f"/resources/{hidden.pk}/" not in client.get("/sitemap-resources.xml").content.decode()


def test_sitemap_lists_tags_that_have_an_approved_resource(client, tree):
    ResourceFactory(section=tree[1], tags=["mlflow", "drift"])
    ResourceFactory(section=tree[1], status=Status.PENDING, tags=["secret-tag"])
    assert locations(client.get("/sitemap-tags.xml")) == [
        "http://testserver/tags/drift/",
        "http://testserver/tags/mlflow/",
    ]


def test_resources_are_split_into_pages_of_the_sitemap_limit(client, tree, monkeypatch):
    monkeypatch.setattr(ResourceSitemap, "limit", 2)
    ResourceFactory.create_batch(5, section=tree[1])
    root = parse(client.get("/sitemap.xml"))
    parts = [item.findtext(f"{SITEMAP}loc") for item in root.findall(f"{SITEMAP}sitemap")]
    assert "http://testserver/sitemap-resources.xml?p=2" in parts
    assert "http://testserver/sitemap-resources.xml?p=3" in parts
    assert len(locations(client.get("/sitemap-resources.xml"))) == 2
    assert len(locations(client.get("/sitemap-resources.xml?p=3"))) == 1
    assert client.get("/sitemap-resources.xml?p=4").status_code == 404


def test_an_unknown_sitemap_part_is_not_found(client):
    assert client.get("/sitemap-secrets.xml").status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/sitemap.xml",
        "/sitemap-pages.xml",
        "/sitemap-sections.xml",
        "/sitemap-resources.xml",
        "/sitemap-tags.xml",
    ],
)
def test_sitemap_query_count_does_not_grow_with_urls(client, url):
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    for number in range(5):
        parent = SectionFactory()
        ResourceFactory(section=SectionFactory(parent=parent), tags=[f"tag-{number}"])
    few = count_queries()
    for number in range(5, 40):
        parent = SectionFactory()
        ResourceFactory(section=SectionFactory(parent=parent), tags=[f"tag-{number}"])
    assert count_queries() == few


def test_robots_txt_keeps_crawlers_out_of_private_pages_and_names_the_sitemap(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    lines = response.content.decode().splitlines()
    assert "User-agent: *" in lines
    for path in ["/admin/", "/accounts/", "/resources/suggest/", "/resources/mine/", "/me/"]:
        assert f"Disallow: {path}" in lines
    assert "Disallow: /" not in lines  # everything public stays crawlable
    assert "Sitemap: http://testserver/sitemap.xml" in lines


def test_robots_txt_names_the_sitemap_with_the_requests_scheme_and_host(client, settings):
    settings.ALLOWED_HOSTS = ["roadmap.example.org"]
    response = client.get("/robots.txt", headers={"host": "roadmap.example.org"}, secure=True)
    assert "Sitemap: https://roadmap.example.org/sitemap.xml" in response.content.decode()
