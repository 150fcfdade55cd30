"""The flag queue: readers' reports, read together and decided in bulk."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from core.admin_guards import RefuseNulInChangelistFilters
from resources.admin.decisions import apply_decision, flag_count
from resources.models import Flag
from resources.moderation import FLAG_DECISIONS, accept_flag, dismiss_flag


@admin.register(Flag)
class FlagAdmin(RefuseNulInChangelistFilters, admin.ModelAdmin):
    list_display = (
        "resource_link",
        "resource_status",
        "reason",
        "short_note",
        "reporter",
        "status",
        "created_at",
    )
    list_filter = ("status", "reason", "resource__link_broken")
    search_fields = ("resource__title", "resource__url", "note", "user__username")
    list_select_related = ("resource", "user")
    # Grouped by resource, so several reports about one link are read together.
    ordering = ("resource__title", "resource_id", "created_at", "id")
    readonly_fields = (
        "resource",
        "reason",
        "note",
        "reporter",
        "status",
        "created_at",
        "resolved_at",
        "moderator",
    )
    fields = readonly_fields
    actions = ("dismiss_selected", "accept_and_archive", "accept_and_mark_broken")

    def has_add_permission(self, request) -> bool:
        return False  # readers flag from the site

    @admin.display(description="resource", ordering="resource__title")
    def resource_link(self, obj: Flag) -> str:
        url = reverse("admin:resources_resource_change", args=[obj.resource_id])
        return format_html('<a href="{}">{}</a>', url, obj.resource.title)

    @admin.display(description="resource status", ordering="resource__status")
    def resource_status(self, obj: Flag) -> str:
        broken = " (link broken)" if obj.resource.link_broken else ""
        return obj.resource.get_status_display() + broken

    @admin.display(description="note")
    def short_note(self, obj: Flag) -> str:
        return obj.note if len(obj.note) <= 80 else obj.note[:79] + "…"

    @admin.display(description="reported by", ordering="user__username")
    def reporter(self, obj: Flag) -> str:
        return obj.user.username if obj.user else "—"

    @admin.display(description="resolved by")
    def moderator(self, obj: Flag) -> str:
        return obj.resolved_by.username if obj.resolved_by else "—"

    @admin.action(description="Dismiss selected flags", permissions=["change"])
    def dismiss_selected(self, request, queryset):
        apply_decision(
            self,
            request,
            queryset,
            lambda flag: dismiss_flag(flag=flag, moderator=request.user),
            "Dismissed {}.",
            describe=flag_count,
        )

    @admin.action(
        description="Accept selected flags and archive their resources", permissions=["change"]
    )
    def accept_and_archive(self, request, queryset):
        self._accept(request, queryset, "archive")

    @admin.action(
        description="Accept selected flags and mark their links broken", permissions=["change"]
    )
    def accept_and_mark_broken(self, request, queryset):
        self._accept(request, queryset, "mark_broken")

    def _accept(self, request, queryset, decision: str) -> None:
        apply_decision(
            self,
            request,
            queryset,
            lambda flag: accept_flag(flag=flag, moderator=request.user, action=decision),
            f"Accepted {{}}: {FLAG_DECISIONS[decision].lower()}.",
            describe=flag_count,
        )
