"""Import batches: what each run of manage.py import_markdown did, line by line, and the way
to take back one that was a mistake."""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from core.admin_guards import RefuseNulInChangelistFilters
from resources.models import ImportBatch, Status
from resources.moderation import ModerationError, keep_alternate_link, withdraw_import_batch


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

        keep_url = reverse("admin:resources_importbatch_keep_link", args=[obj.pk])

        def same_as(row):
            if not row.get("same_as"):
                return ""
            url = reverse("admin:resources_resource_change", args=[row["same_as"]])
            link = format_html(' <a href="{}">#{}</a>', url, row["same_as"])
            if row.get("kept_link"):
                return format_html("{} (kept as an alternate link of #{})", link, row["same_as"])
            if not row.get("url"):
                return link
            # Inside the change page's own form (POST, with its CSRF token): a nested form
            # would not be valid HTML, so the button posts that form to the action's address.
            return format_html(
                '{} <button type="submit" class="button" formaction="{}" formmethod="post" '
                'name="line" value="{}">Keep as alternate link of #{}</button>',
                link,
                keep_url,
                row["line"],
                row["same_as"],
            )

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

    def get_urls(self):
        keep = path(
            "<path:object_id>/keep-link/",
            self.admin_site.admin_view(require_POST(self.keep_link_view)),
            name="resources_importbatch_keep_link",
        )
        return [keep, *super().get_urls()]

    def keep_link_view(self, request, object_id):
        """Keep one "same as #N" line as an alternate link of #N (POST only, CSRF-checked by
        the admin site; moderators with resources.change_resource)."""
        if not request.user.has_perm("resources.change_resource"):
            raise PermissionDenied
        batch = get_object_or_404(ImportBatch, pk=unquote(object_id))
        back = HttpResponseRedirect(reverse("admin:resources_importbatch_change", args=[batch.pk]))
        try:
            line = int(request.POST.get("line", ""))
        except ValueError:
            self.message_user(request, "Choose a line of the report to keep.", messages.ERROR)
            return back
        try:
            link, created = keep_alternate_link(batch=batch, line=line, moderator=request.user)
        except ModerationError as error:
            self.message_user(request, str(error), messages.ERROR)
            return back
        if created:
            self.message_user(
                request, f"Kept {link.url} as an alternate link of #{link.resource_id}."
            )
        else:
            self.message_user(
                request,
                f"Line {line} was already kept as an alternate link of #{link.resource_id}; "
                "nothing changed.",
                messages.WARNING,
            )
        return back

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
