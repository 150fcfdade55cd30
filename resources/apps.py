from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_save


class ResourcesConfig(AppConfig):
    name = "resources"
    verbose_name = "Resources"

    def ready(self) -> None:
        from taggit.models import Tag, TaggedItem

        from resources.models import Resource, Vote
        from resources.selectors import catalog_changed, pages_changed

        # What anonymous pages show: resources, their tags (a renamed tag too) and votes.
        for model, handler in (
            (Resource, catalog_changed),
            (Tag, catalog_changed),
            (TaggedItem, catalog_changed),
            (Vote, pages_changed),
        ):
            for signal in (post_save, post_delete):
                signal.connect(handler, sender=model, dispatch_uid=f"pages-{model.__name__}")
        m2m_changed.connect(
            catalog_changed, sender=Resource.tags.through, dispatch_uid="pages-tags"
        )
