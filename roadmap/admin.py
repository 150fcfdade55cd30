from django.contrib import admin

from core.admin_guards import RefuseNulInChangelistFilters
from roadmap.models import Roadmap, Section


@admin.register(Section)
class SectionAdmin(RefuseNulInChangelistFilters, admin.ModelAdmin):
    list_display = ["title", "slug", "parent", "position", "kind", "stage", "updated_at"]
    list_filter = ["kind", "stage", ("parent", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["parent"]
    search_fields = ["title", "slug", "summary", "body"]
    prepopulated_fields = {"slug": ["title"]}
    ordering = ["parent__position", "position"]


@admin.register(Roadmap)
class RoadmapAdmin(admin.ModelAdmin):
    list_display = ["title", "updated_at"]

    def has_add_permission(self, request) -> bool:
        return not Roadmap.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
