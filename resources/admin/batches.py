"""Import batches: what each run of manage.py import_markdown did, line by line, and the way
to take back one that was a mistake."""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from core.admin_guards import RefuseNulInChangelistFilters
from resources.models import ImportBatch, Status
from resources.moderation import ModerationError, withdraw_import_batch


@admin.register(ImportBatch)
class ImportBatchAdmin(RefuseNulInChangelistFilters, admin.ModelAdmin):
    list_display = (
        "__str__",
        "status",
        "run_by",
        "started_at",
        "link_lines",
        "created",
        "duplicates",
        "skipped",
        "reported",
        "queue",
    )
    list_filter = ("status",)
    list_select_related = ("run_by",)
    search_fields = ("source", "revision")
    actions = ("withdraw_selected",)
    fields = (
        "source",
        "revision",
        "status",
        "run_by",
        "started_at",
        "finished_at",
        "counts",
        "queue",
        "withdrawn_at",
        "withdrawn_by",
        "lines",
    )
    readonly_fields = fields

    @admin.display(description="counts")
    def counts(self, obj: ImportBatch) -> str:
        return (
            f"{obj.link_lines} lines with links = {obj.created} created + {obj.duplicates} "
            f"duplicate + {obj.skipped} skipped + {obj.reported} reported; "
            f"{obj.resources_created} resources and {obj.sections_created} sections created"
        )

    @admin.display(description="resources")
    def queue(self, obj: ImportBatch) -> str:
        url = reverse("admin:resources_resource_changelist")
        query = urlencode({"import_batch__id__exact": obj.pk, "status__exact": Status.PENDING})
        return format_html('<a href="{}?{}">pending resources of this batch</a>', url, query)

    @admin.display(description="lines that did not become resources")
    def lines(self, obj: ImportBatch) -> str:
        if not obj.report:
            return "None."

        def same_as(row):
            if not row.get("same_as"):
                return ""
            url = reverse("admin:resources_resource_change", args=[row["same_as"]])
            return format_html(' <a href="{}">#{}</a>', url, row["same_as"])

        return format_html(
            "<table><thead><tr><th scope='col'>line</th><th scope='col'>outcome</th>"
            "<th scope='col'>why</th></tr></thead><tbody>{}</tbody></table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}{}</td></tr>",
                ((row["line"], row["outcome"], row["reason"], same_as(row)) for row in obj.report),
            ),
        )

    @admin.action(
        description="Withdraw selected imports (their pending resources)", permissions=["change"]
    )
    def withdraw_selected(self, request, queryset):
        for batch in queryset:
            try:
                removed = withdraw_import_batch(batch=batch, moderator=request.user)
            except ModerationError as error:
                self.message_user(request, str(error), messages.ERROR)
                continue
            self.message_user(
                request,
                f"Withdrew import {batch}: {removed} pending resources removed; "
                "approved ones were kept.",
            )

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
