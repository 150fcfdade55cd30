from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_save


class ResourcesConfig(AppConfig):
    name = "resources"
    verbose_name = "Resources"

    def ready(self) -> None:
        from taggit.models import Tag, TaggedItem

        from resources.models import Resource, ResourceLink
        from resources.selectors import catalog_changed, pages_changed

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
