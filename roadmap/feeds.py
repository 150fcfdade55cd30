"""RSS and Atom feeds of newly approved resources: site-wide, per section and per tag."""

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.db.models import F, Prefetch
from django.http import Http404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape
from taggit.models import Tag

from core.text import plain_text
from resources.models import Resource
from resources.sections import find_node, flatten, section_tree
from resources.selectors import public_tag

FEED_SIZE = 50


def newest_approved(resources=None):
    """The latest approvals with everything an item shows, in two queries."""
    resources = Resource.objects.approved() if resources is None else resources
    return (
        resources.select_related("section")
        .prefetch_related(Prefetch("tags", to_attr="tag_list"))
        .order_by(F("approved_at").desc(nulls_last=True), "-id")[:FEED_SIZE]
    )


class NewResourcesFeed(Feed):
    """Every resource newly approved on the site, newest first.

    Readers take RSS titles as HTML or as text, each its own way: titles, names and tags are
    given as plain text with any markup dropped (feedgenerator escapes them once for XML);
    descriptions are the sanitised HTML of the site's own pages."""

    description_template = "roadmap/feeds/resource_description.html"

    def title(self, obj=None) -> str:
        return f"{settings.SITE_NAME}: new resources"

    def link(self, obj=None) -> str:
        return reverse("roadmap:home")

    def summary_text(self, obj=None) -> str:
        return f"Resources newly approved on the {settings.SITE_NAME}, newest first."

    def description(self, obj=None) -> str:
        # RSS readers render the channel description as HTML; names in it must stay text.
        return escape(self.summary_text(obj))

    def subtitle(self, obj=None) -> str:  # Atom's name for the description, plain text
        return self.summary_text(obj)

    def items(self, obj=None):
        return newest_approved()

    def item_title(self, item: Resource) -> str:
        return plain_text(item.title)

    def item_link(self, item: Resource) -> str:
        return item.get_absolute_url()

    def item_pubdate(self, item: Resource):
        return item.approved_at

    def item_updateddate(self, item: Resource):
        return item.approved_at

    def item_author_name(self, item: Resource) -> str | None:
        return plain_text(item.provider) or None

    def item_categories(self, item: Resource) -> list[str]:
        return sorted(plain_text(tag.name) for tag in item.tag_list)


class NewResourcesAtomFeed(NewResourcesFeed):
    feed_type = Atom1Feed


class SectionFeed(NewResourcesFeed):
    """Resources newly approved in one section or any section below it."""

    def get_object(self, request, slug: str):
        node = find_node(section_tree(), slug)
        if node is None:
            raise Http404("No such section")
        return node

    def title(self, node) -> str:
        return f"{settings.SITE_NAME}: new in {plain_text(node.section.title)}"

    def link(self, node) -> str:
        return node.section.get_absolute_url()

    def summary_text(self, node) -> str:
        return f"Resources newly approved in {node.section.title} and its sub-sections."

    def items(self, node):
        sections = [item.section.id for item in flatten([node])]
        return newest_approved(Resource.objects.approved().filter(section_id__in=sections))


class SectionAtomFeed(SectionFeed):
    feed_type = Atom1Feed


class TagFeed(NewResourcesFeed):
    """Resources newly approved with one tag."""

    def get_object(self, request, slug: str) -> Tag:
        tag = public_tag(slug)
        if tag is None:
            raise Http404("No such tag")
        return tag

    def title(self, tag: Tag) -> str:
        return f"{settings.SITE_NAME}: new resources tagged #{plain_text(tag.name)}"

    def link(self, tag: Tag) -> str:
        return reverse("tag", kwargs={"tag_slug": tag.slug})

    def summary_text(self, tag: Tag) -> str:
        return f"Resources newly approved with the tag #{tag.name}."

    def items(self, tag: Tag):
        return newest_approved(Resource.objects.approved().filter(tags=tag))


class TagAtomFeed(TagFeed):
    feed_type = Atom1Feed
