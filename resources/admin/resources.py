"""The resource queues: columns, filters, corrections and the decisions on resources."""

from django.contrib import admin
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.db.models import Count, Exists, F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.timezone import localtime
from taggit.models import Tag

from core.admin_guards import RefuseNulInChangelistFilters
from resources.admin.decisions import (
    ARCHIVE,
    PRESERVED_FILTERS,
    REJECT,
    apply_decision,
    changelist_url,
    decide_with_reason,
    decision_page,
)
from resources.admin.forms import MergeForm, ResourceAdminForm
from resources.models import (
    VOTE_MOVED_FIELDS,
    Flag,
    FlagStatus,
    Resource,
    ResourceLink,
    Status,
)
from resources.moderation import (
    approve_resource,
    find_possible_duplicates,
    merge_resources,
    submitter_record,
)
from resources.services import DuplicateResource, create_resource

# Each has a page at <id>/<name>/, a button on the change page, and an action.
DECISION_PAGES = ("reject", "archive", "merge")


class OpenFlagsFilter(admin.SimpleListFilter):
    title = "open flags"
    parameter_name = "open_flags"

    def lookups(self, request, model_admin):
        return [("yes", "Has open flags"), ("no", "No open flags")]

    def queryset(self, request, queryset):
        open_flags = Exists(Flag.objects.filter(resource=OuterRef("pk"), status=FlagStatus.OPEN))
        if self.value() == "yes":
            return queryset.filter(open_flags)
        if self.value() == "no":
            return queryset.filter(~open_flags)
        return queryset


class TagFilter(admin.SimpleListFilter):
    """The most used tags only: the full list has hundreds and would bury the other filters.
    Any tag can still be filtered by its slug in the address (?tag=kubernetes)."""

    title = "tag"
    parameter_name = "tag"
    shown = 25

    def lookups(self, request, model_admin):
        tags = (
            Tag.objects.filter(resource__isnull=False)
            .annotate(uses=Count("resource"))
            .order_by("-uses", "name")
            .values_list("slug", "name")[: self.shown]
        )
        return sorted(tags, key=lambda tag: tag[1].casefold())

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(tags__slug=self.value())
        return queryset


class ResourceLinkInline(admin.TabularInline):
    """The resource's alternate links: listed, and removed by ticking "Delete". They are
    added from an import batch's "same as #N" lines."""

    model = ResourceLink
    fk_name = "resource"
    extra = 0
    fields = ("url", "label", "added_by_name", "import_batch", "source_line", "created_at")
    readonly_fields = fields
    verbose_name_plural = "alternate links (also at)"

    @admin.display(description="added by")
    def added_by_name(self, obj: ResourceLink) -> str:
        return obj.added_by.username if obj.added_by else "—"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("added_by", "import_batch")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("resources.change_resource")

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("resources.change_resource")


class FlagInline(admin.TabularInline):
    model = Flag
    fk_name = "resource"
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("status", "reason", "note", "reporter", "created_at", "moderator", "resolved_at")
    readonly_fields = fields
    verbose_name_plural = "flags from readers"

    # Plain names: a linked user would lead moderators to the user admin, which they may not see.
    @admin.display(description="reported by")
    def reporter(self, obj: Flag) -> str:
        return obj.user.username if obj.user else "—"

    @admin.display(description="resolved by")
    def moderator(self, obj: Flag) -> str:
        return obj.resolved_by.username if obj.resolved_by else "—"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "resolved_by")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Resource)
class ResourceAdmin(RefuseNulInChangelistFilters, admin.ModelAdmin):
    form = ResourceAdminForm
    list_display = (
        "title",
        "status",
        "resource_type",
        "section",
        "submitter",
        "submitted",
        "score",
        "open_flags",
        "broken",
        "origin",
    )
    list_filter = (
        "status",
        "resource_type",
        "section",
        "cost",
        TagFilter,
        OpenFlagsFilter,
        "link_broken",
        ("import_batch", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("title", "url", "description", "submitted_by__username")
    list_select_related = ("section", "submitted_by", "import_batch")
    list_per_page = 50
    readonly_fields = (
        "status",
        "origin",
        "review_note",
        "link",
        "rejection_reason",
        "merged_into_link",
        "approved_at",
        "submitter_record",
        "possible_duplicates",
        "upvotes",
        "downvotes",
        "wilson_score",
        "created_at",
        "updated_at",
        "link_checked_at",
        "link_status_code",
        "link_error",
        "link_final_url",
        "link_failures",
    )
    fieldsets = (
        (
            "Review",
            {
                "fields": (
                    "status",
                    "link",
                    "origin",
                    "review_note",
                    "submitter_record",
                    "possible_duplicates",
                )
            },
        ),
        (
            "Resource (correct anything before deciding)",
            {"fields": ResourceAdminForm.Meta.fields},
        ),
        (
            "Earlier decisions",
            {"fields": ("rejection_reason", "merged_into_link", "approved_at")},
        ),
        (
            "Link health (manage.py check_links)",
            {
                "fields": (
                    "link_checked_at",
                    "link_status_code",
                    "link_error",
                    "link_final_url",
                    "link_failures",
                ),
                "classes": ("collapse",),
            },
        ),
        (
            "Votes and dates",
            {
                "fields": ("upvotes", "downvotes", "wilson_score", "created_at", "updated_at"),
                "classes": ("collapse",),
            },
        ),
    )
    inlines = (ResourceLinkInline, FlagInline)
    actions = ("approve_selected", "reject_selected", "archive_selected", "merge_selected")

    def get_queryset(self, request):
        open_flags = (
            Flag.objects.filter(resource=OuterRef("pk"), status=FlagStatus.OPEN)
            .order_by()
            .values("resource")
            .annotate(count=Count("pk"))
            .values("count")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(
                open_flag_count=Coalesce(Subquery(open_flags), 0),
                score_value=F("upvotes") - F("downvotes"),
            )
        )

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (IntegrityError, DuplicateResource):
            # Another moderator saved the same link between this form's check and its save.
            # Everything was rolled back; validating again reports the clash on the form.
            return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        if change:
            # Every field but those that votes move: a vote cast while the form was being
            # saved stays counted (the tallies read with the form would overwrite it).
            obj.save(
                update_fields=[
                    field.name
                    for field in obj._meta.concrete_fields
                    if not field.primary_key and field.name not in VOTE_MOVED_FIELDS
                ]
            )
            return
        # Added here, a resource is born like any other, and waits in the pending queue.
        created = create_resource(data=form.cleaned_data, status=Status.PENDING)
        obj.pk = created.pk
        obj._state.adding = False
        obj.refresh_from_db()

    def get_ordering(self, request):
        # The pending queue is worked through oldest first, so nobody waits forever.
        if request.GET.get("status__exact") == Status.PENDING:
            return ("created_at", "id")
        return ("-created_at", "-id")

    def get_fieldsets(self, request, obj=None):
        if obj is None:  # adding: nothing is decided or submitted yet
            return ((None, {"fields": ResourceAdminForm.Meta.fields}),)
        return super().get_fieldsets(request, obj)

    # Columns and read-only fields

    @admin.display(description="submitter", ordering="submitted_by__username")
    def submitter(self, obj: Resource) -> str:
        return obj.submitted_by.username if obj.submitted_by else "—"

    @admin.display(description="submitted", ordering="created_at")
    def submitted(self, obj: Resource) -> str:
        return date_format(localtime(obj.created_at), "j M Y")

    @admin.display(description="score", ordering="score_value")
    def score(self, obj: Resource) -> int:
        return obj.score_value

    @admin.display(description="open flags", ordering="open_flag_count")
    def open_flags(self, obj: Resource) -> int:
        return obj.open_flag_count

    @admin.display(description="link", ordering="link_broken")
    def broken(self, obj: Resource) -> str:
        return "broken" if obj.link_broken else ""

    @admin.display(description="source", ordering="source_line")
    def origin(self, obj: Resource) -> str:
        """Where an import found it: the batch and the line, and what to check."""
        if obj.import_batch_id is None:
            return "—"
        url = reverse("admin:resources_importbatch_change", args=[obj.import_batch_id])
        note = f" · {obj.review_note}" if obj.review_note else ""
        return format_html(
            '<a href="{}">import #{}</a>, line {}{}',
            url,
            obj.import_batch_id,
            obj.source_line,
            note,
        )

    @admin.display(description="link")
    def link(self, obj: Resource) -> str:
        return format_html(
            '<a href="{}" rel="noopener noreferrer" target="_blank">{}</a>', obj.url, obj.url
        )

    @admin.display(description="merged into")
    def merged_into_link(self, obj: Resource) -> str:
        if obj.merged_into_id is None:
            return "—"
        url = reverse("admin:resources_resource_change", args=[obj.merged_into_id])
        return format_html('<a href="{}">{}</a>', url, obj.merged_into)

    @admin.display(description="submitter's record")
    def submitter_record(self, obj: Resource) -> str:
        user = obj.submitted_by
        if user is None:
            return "Added by the maintainers (no submitter)."
        record = submitter_record(user)
        disclosure = (
            "says they are the author or affiliated with it"
            if obj.is_affiliated
            else "no affiliation disclosed"
        )
        return format_html(
            '<a href="{}">{}</a>: {} approved, {} rejected, {} pending, {} archived. '
            "<strong>Affiliation:</strong> {}.",
            user.get_absolute_url(),
            user.username,
            record["approved"],
            record["rejected"],
            record["pending"],
            record["archived"],
            disclosure,
        )

    @admin.display(description="possible duplicates")
    def possible_duplicates(self, obj: Resource) -> str:
        duplicates = find_possible_duplicates(obj)
        if not duplicates:
            return "None found."
        return format_html(
            "<ul class='possible-duplicates'>{}</ul>",
            format_html_join(
                "",
                '<li><a href="{}">#{} {}</a> ({}, {}) <a href="{}" rel="noopener noreferrer" '
                'target="_blank">{}</a></li>',
                (
                    (
                        reverse("admin:resources_resource_change", args=[dup.resource.pk]),
                        dup.resource.pk,
                        dup.resource.title,
                        dup.resource.get_status_display().lower(),
                        dup.why,
                        dup.resource.url,
                        dup.resource.url,
                    )
                    for dup in duplicates
                ),
            ),
        )

    # Decisions from the change page: the moderator's corrections are saved first, then
    # approval happens at once and the others lead to their intermediate page.

    def response_change(self, request, obj):
        if "_approve" in request.POST:
            self._approve(request, [obj])
            return self._back(request)
        for name in DECISION_PAGES:
            if f"_{name}" in request.POST:
                url = reverse(f"admin:resources_resource_{name}", args=[quote(obj.pk)])
                filters = request.GET.get(PRESERVED_FILTERS)
                query = f"?{urlencode({PRESERVED_FILTERS: filters})}" if filters else ""
                return HttpResponseRedirect(url + query)
        return super().response_change(request, obj)

    def get_urls(self):
        def page(name, decide):
            def view(request, object_id):
                return decide(request, self._one(request, object_id)) or self._back(request)

            return path(
                f"<path:object_id>/{name}/",
                self.admin_site.admin_view(view),
                name=f"resources_resource_{name}",
            )

        pages = [page(name, getattr(self, f"_{name}")) for name in DECISION_PAGES]
        return [*pages, *super().get_urls()]

    # Actions on one or many selected resources

    @admin.action(description="Approve selected resources", permissions=["change"])
    def approve_selected(self, request, queryset):
        self._approve(request, queryset)

    @admin.action(description="Reject selected suggestions…", permissions=["change"])
    def reject_selected(self, request, queryset):
        return self._reject(request, queryset, action="reject_selected")

    @admin.action(description="Archive selected resources…", permissions=["change"])
    def archive_selected(self, request, queryset):
        return self._archive(request, queryset, action="archive_selected")

    @admin.action(description="Merge selected duplicates…", permissions=["change"])
    def merge_selected(self, request, queryset):
        return self._merge(request, queryset, action="merge_selected")

    def _approve(self, request, resources) -> None:
        apply_decision(
            self,
            request,
            resources,
            lambda resource: approve_resource(resource=resource, moderator=request.user),
            "Approved {}.",
        )

    # The decisions with a page of their own, shared by the actions and the change page

    def _reject(self, request, resources, action: str | None = None):
        return decide_with_reason(self, request, resources, REJECT, action)

    def _archive(self, request, resources, action: str | None = None):
        return decide_with_reason(self, request, resources, ARCHIVE, action)

    def _merge(self, request, queryset, action: str | None = None):
        """Merging asks which resource stays: one of the selected, a possible duplicate of a
        single selected resource, or any resource by its ID."""
        selected = list(queryset.order_by("pk"))
        if len(selected) > 1:
            candidates = [resource.pk for resource in selected]
        else:
            candidates = [dup.resource.pk for dup in find_possible_duplicates(selected[0])]
        form = MergeForm(request.POST if "apply" in request.POST else None, candidates=candidates)
        if form.is_valid():
            target = form.cleaned_data["target"]
            sources = [resource for resource in selected if resource.pk != target.pk]
            if not sources:
                form.add_error(
                    None, "Choose another resource to keep: one cannot merge into itself."
                )
        if form.is_valid():
            apply_decision(
                self,
                request,
                sources,
                lambda source: merge_resources(
                    source=source, target=target, moderator=request.user
                ),
                f"Merged {{}} into “{target.title}”.",
            )
            return None
        return decision_page(
            self,
            request,
            template="resources/admin/merge.html",
            title="Merge duplicates",
            resources=selected,
            form=form,
            action=action,
        )

    def _one(self, request, object_id):
        """The resource of a decision page, as a queryset, if the moderator may change it."""
        resource = self.get_object(request, unquote(object_id))
        if resource is None:
            raise Http404("No such resource")
        if not self.has_change_permission(request, resource):
            raise PermissionDenied
        return Resource.objects.filter(pk=resource.pk)

    def _back(self, request):
        return HttpResponseRedirect(changelist_url(request))
