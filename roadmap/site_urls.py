"""Feeds, the sitemap, robots.txt and the roadmap as Markdown, at the site root; all read-only
(GET and HEAD)."""

from django.contrib.sitemaps import views as sitemap_views
from django.urls import path
from django.views.decorators.http import require_safe

from roadmap import feeds, site_views
from roadmap.sitemaps import SITEMAPS

app_name = "site"

urlpatterns = [
    path("feeds/resources/rss/", require_safe(feeds.NewResourcesFeed()), name="resources_rss"),
    path(
        "feeds/resources/atom/", require_safe(feeds.NewResourcesAtomFeed()), name="resources_atom"
    ),
    path("feeds/sections/<slug:slug>/rss/", require_safe(feeds.SectionFeed()), name="section_rss"),
    path(
        "feeds/sections/<slug:slug>/atom/",
        require_safe(feeds.SectionAtomFeed()),
        name="section_atom",
    ),
    path("feeds/tags/<slug:slug>/rss/", require_safe(feeds.TagFeed()), name="tag_rss"),
    path("feeds/tags/<slug:slug>/atom/", require_safe(feeds.TagAtomFeed()), name="tag_atom"),
    path(
        "sitemap.xml",
        require_safe(sitemap_views.index),
        {"sitemaps": SITEMAPS, "sitemap_url_name": "site:sitemap_section"},
        name="sitemap",
    ),
    path(
        "sitemap-<str:section>.xml",
        require_safe(sitemap_views.sitemap),
        {"sitemaps": SITEMAPS},
        name="sitemap_section",
    ),
    path("robots.txt", site_views.robots_txt, name="robots"),
    path("roadmap.md", site_views.roadmap_markdown, name="markdown"),
]
