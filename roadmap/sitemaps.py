"""The sitemap: public pages, sections, approved resources and tag pages.

Every sitemap answers in a fixed number of queries, however many URLs it lists.
"""

from functools import cached_property

from django.contrib.sitemaps import Sitemap
from django.db.models import Count, Max, Q
from django.urls import reverse
from taggit.models import Tag

from resources.models import Resource, Status
from resources.sections import flatten, section_tree
from roadmap.models import Section


def latest_approval():
    return Resource.objects.approved().aggregate(latest=Max("approved_at"))["latest"]


class PagesSitemap(Sitemap):
    """The home page, the explorer and the tag index change whenever a resource is approved."""

    changefreq = "daily"

    def items(self) -> list[str]:
        return ["roadmap:home", "resources:explorer", "tags"]

    def location(self, name: str) -> str:
        return reverse(name)

    @cached_property
    def _latest(self):
        return latest_approval()

    def lastmod(self, name: str):
        return self._latest


class SectionSitemap(Sitemap):
    changefreq = "weekly"

    @cached_property
    def _sections(self) -> list[Section]:
        sections = list(
            Section.objects.annotate(
                latest_approval=Max(
                    "resources__approved_at", filter=Q(resources__status=Status.APPROVED)
                )
            ).order_by("position", "id")
        )
        # A section's page lists its sub-sections' resources too, so their approvals count.
        children: dict[int | None, list[Section]] = {}
        for section in sections:
            children.setdefault(section.parent_id, []).append(section)
        reading_order: list[Section] = []

        def visit(section: Section):
            reading_order.append(section)
            dates = [section.updated_at, section.latest_approval]
            dates += [visit(child) for child in children.get(section.id, [])]
            section.changed_at = max(date for date in dates if date is not None)
            return section.changed_at

        for root in children.get(None, []):
            visit(root)
        visible = {node.section.id for node in flatten(section_tree())}
        return [section for section in reading_order if section.id in visible]

    def items(self) -> list[Section]:
        return self._sections

    def lastmod(self, section: Section):
        return section.changed_at


class ResourceSitemap(Sitemap):
    """Approved resources only; the framework splits them into pages of `limit` URLs."""

    changefreq = "weekly"

    def items(self):
        return Resource.objects.approved().only("id", "updated_at").order_by("id")

    def lastmod(self, resource: Resource):
        return resource.updated_at

    def get_latest_lastmod(self):
        # The default would load every resource just to find the newest date.
        return Resource.objects.approved().aggregate(latest=Max("updated_at"))["latest"]


class TagSitemap(Sitemap):
    """Tag pages that show at least one approved resource."""

    changefreq = "weekly"

    def items(self):
        approved = Q(resource__status=Status.APPROVED)
        return (
            Tag.objects.annotate(
                uses=Count("resource", filter=approved),
                latest_approval=Max("resource__approved_at", filter=approved),
            )
            .filter(uses__gt=0)
            .order_by("name", "id")
        )

    def location(self, tag: Tag) -> str:
        return reverse("tag", kwargs={"tag_slug": tag.slug})

    def lastmod(self, tag: Tag):
        return tag.latest_approval


SITEMAPS = {
    "pages": PagesSitemap,
    "sections": SectionSitemap,
    "resources": ResourceSitemap,
    "tags": TagSitemap,
}
