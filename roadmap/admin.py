from django.contrib import admin

from core.admin_guards import RefuseNulInChangelistFilters
from roadmap.models import Roadmap, Section


@admin.register(Section)
class SectionAdmin(RefuseNulInChangelistFilters, admin.ModelAdmin):
    list_display = [
        "title",
        "slug",
        "parent",
        "position",
        "kind",
        "stage",
        "published",
        "import_batch",
        "updated_at",
    ]
    list_filter = [
        "kind",
        "stage",
        "published",
        ("parent", admin.RelatedOnlyFieldListFilter),
        "import_batch",
    ]
    list_select_related = ["parent", "import_batch"]
    actions = ["publish_selected"]
    search_fields = ["title", "slug", "summary", "body"]
    prepopulated_fields = {"slug": ["title"]}
    ordering = ["parent__position", "position"]

    @admin.action(description="Publish selected sections", permissions=["change"])
    def publish_selected(self, request, queryset):
        # One by one, so that each save clears the cached pages as any edit does.
        count = 0
        for section in queryset.filter(published=False):
            section.published = True
            section.save(update_fields=["published", "updated_at"])
            count += 1
        self.message_user(request, f"Published {count} section{'s' if count != 1 else ''}.")


@admin.register(Roadmap)
class RoadmapAdmin(admin.ModelAdmin):
    list_display = ["title", "updated_at"]

    def has_add_permission(self, request) -> bool:
        return not Roadmap.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
