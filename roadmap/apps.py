from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class RoadmapConfig(AppConfig):
    name = "roadmap"
    verbose_name = "Roadmap"

    def ready(self) -> None:
        from resources.selectors import catalog_changed
        from roadmap.learning_path import prerequisites_changed
        from roadmap.models import Prerequisite, Roadmap, Section

        for signal in (post_save, post_delete):
            signal.connect(
                prerequisites_changed, sender=Prerequisite, dispatch_uid="pages-Prerequisite"
            )
        for model in (Roadmap, Section):
            for signal in (post_save, post_delete):
                signal.connect(
                    catalog_changed, sender=model, dispatch_uid=f"pages-{model.__name__}"
                )
