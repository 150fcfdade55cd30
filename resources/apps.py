from django.apps import AppConfig
from django.conf import settings
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete


class ResourcesConfig(AppConfig):
    name = "resources"
    verbose_name = "Resources"

    def ready(self) -> None:
        from taggit.models import Tag, TaggedItem

        from resources.models import Resource, ResourceLink
        from resources.selectors import catalog_changed, pages_changed
        from resources.services import (
            note_votes_of_leaving_member,
            recount_votes_of_leaving_member,
        )

        # What anonymous pages show: resources and their tags (a renamed tag too). Votes do
        # not empty the page cache: a cached page shows scores at most PAGE_CACHE_SECONDS old,
        # the voter's own pages are drawn afresh, and a busy site would otherwise have none.
        for model, handler in (
            (Resource, catalog_changed),
            (Tag, catalog_changed),
            (TaggedItem, catalog_changed),
            (ResourceLink, pages_changed),  # "Also at:" on the resource page
        ):
            for signal in (post_save, post_delete):
                signal.connect(handler, sender=model, dispatch_uid=f"pages-{model.__name__}")
        m2m_changed.connect(
            catalog_changed, sender=Resource.tags.through, dispatch_uid="pages-tags"
        )
        # A deleted account takes its votes with it (CASCADE), which must leave the tallies.
        pre_delete.connect(
            note_votes_of_leaving_member,
            sender=settings.AUTH_USER_MODEL,
            dispatch_uid="votes-of-leaving-member",
        )
        post_delete.connect(
            recount_votes_of_leaving_member,
            sender=settings.AUTH_USER_MODEL,
            dispatch_uid="recount-votes-of-leaving-member",
        )
