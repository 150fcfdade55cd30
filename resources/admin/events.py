"""The moderation log, read-only."""

from django.contrib import admin

from core.admin_guards import RefuseNulInChangelistFilters
from resources.models import ModerationEvent


@admin.register(ModerationEvent)
class ModerationEventAdmin(RefuseNulInChangelistFilters, admin.ModelAdmin):
    """Read-only for everyone, superusers included: the log is append-only."""

    list_display = ("created_at", "action", "resource_title", "moderator", "reason")
    list_filter = ("action",)
    search_fields = ("resource_title", "reason", "moderator__username")
    list_select_related = ("moderator",)
    date_hierarchy = "created_at"
    fields = (
        "created_at",
        "action",
        "resource",
        "resource_title",
        "target",
        "flag",
        "proposal",
        "moderator_name",
        "reason",
    )
    readonly_fields = ("moderator_name",)

    @admin.display(description="moderator")
    def moderator_name(self, obj: ModerationEvent) -> str:
        return obj.moderator.username if obj.moderator else "—"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
