"""The moderators' workplace in Django's admin: queues, decisions and the read-only log.

Every decision here calls a function of resources.moderation; this module only collects
input and reports the outcome.
"""

from collections.abc import Callable, Iterable

from allauth.account.decorators import secure_admin_login
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.db.models import Count, Exists, F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.timezone import localtime
from taggit.models import Tag

from resources.models import (
    Flag,
    FlagStatus,
    ModerationEvent,
    Resource,
    Status,
)
from resources.moderation import (
    FLAG_DECISIONS,
    REJECTION_REASONS,
    ModerationError,
    accept_flag,
    approve_resource,
    archive_resource,
    dismiss_flag,
    find_possible_duplicates,
    merge_resources,
    reject_resource,
    submitter_record,
)
from resources.normalize import InvalidURL, normalize_url

# Django's own admin login has no rate limit; allauth's login page has. Anonymous visitors
# are sent there, and signed-in users who are not staff get a 403 instead of a login form.
admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = "MLOps Roadmap moderation"
admin.site.site_title = "MLOps Roadmap admin"
admin.site.index_title = "Moderation"
admin.site.enable_nav_sidebar = False  # the queues need the width more than a menu

PRESERVED_FILTERS = "_changelist_filters"


# Forms


class ResourceAdminForm(forms.ModelForm):
    """Moderators may correct any field; a changed link is normalised and checked for clashes."""

    url = forms.URLField(
        label="URL",
        max_length=2000,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"class": "vURLField"}),
    )

    class Meta:
        model = Resource
        fields = (
            "title",
            "url",
            "description",
            "resource_type",
            "cost",
            "level",
            "provider",
            "section",
            "tags",
            "is_affiliated",
            "link_broken",
        )

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        try:
            normalized = normalize_url(url)
        except InvalidURL as error:
            raise forms.ValidationError(str(error)) from None
        clash = (
            Resource.objects.exclude(pk=self.instance.pk)
            .filter(normalized_url=normalized)
            .only("pk", "title")
            .first()
        )
        if clash is not None:
            raise forms.ValidationError(
                "Another resource already has this link: “%(title)s” (#%(pk)s). "
                "Merge the two instead.",
                code="duplicate",
                params={"title": clash.title, "pk": clash.pk},
            )
        self.instance.normalized_url = normalized
        return url


class RejectForm(forms.Form):
    preset = forms.ChoiceField(
        label="Reason",
        choices=[(reason, reason) for reason in REJECTION_REASONS]
        + [("", "Another reason (write it below)")],
        required=False,
        widget=forms.RadioSelect,
    )
    details = forms.CharField(
        label="Details for the submitter",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Sent to the submitter and shown in the public moderation log.",
    )

    def clean(self) -> dict:
        data = super().clean()
        preset, details = data.get("preset", ""), data.get("details", "").strip()
        if preset and details:
            data["reason"] = f"{preset}: {details}"
        else:
            data["reason"] = preset or details
        if not data["reason"]:
            raise forms.ValidationError("Choose a reason or write one.")
        return data


class ArchiveForm(forms.Form):
    reason = forms.CharField(
        label="Reason (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Shown in the public moderation log.",
    )


class MergeTargetField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Resource) -> str:
        return f"#{obj.pk} {obj.title} ({obj.get_status_display().lower()}) {obj.url}"


class MergeForm(forms.Form):
    target = MergeTargetField(
        label="Keep this resource",
        queryset=Resource.objects.none(),
        required=False,
        empty_label=None,
        widget=forms.RadioSelect,
    )
    target_id = forms.IntegerField(
        label="…or the ID of another resource to keep", required=False, min_value=1
    )

    def __init__(self, *args, candidates: Iterable[int], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = Resource.objects.filter(pk__in=list(candidates))

    def clean(self) -> dict:
        data = super().clean()
        target = data.get("target")
        if data.get("target_id"):
            target = Resource.objects.filter(pk=data["target_id"]).first()
            if target is None:
                raise forms.ValidationError("There is no resource with this ID.")
        if target is None:
            raise forms.ValidationError("Choose the resource to keep.")
        data["target"] = target
        return data


# Resources


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
class ResourceAdmin(admin.ModelAdmin):
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
    )
    list_filter = (
        "status",
        "resource_type",
        "section",
        "cost",
        TagFilter,
        OpenFlagsFilter,
        "link_broken",
    )
    search_fields = ("title", "url", "description", "submitted_by__username")
    list_select_related = ("section", "submitted_by")
    list_per_page = 50
    readonly_fields = (
        "status",
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
            {"fields": ("status", "link", "submitter_record", "possible_duplicates")},
        ),
        (
            "Resource (correct anything before deciding)",
            {
                "fields": (
                    "title",
                    "url",
                    "description",
                    "resource_type",
                    "cost",
                    "level",
                    "provider",
                    "section",
                    "tags",
                    "is_affiliated",
                    "link_broken",
                )
            },
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
    inlines = (FlagInline,)
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
        except IntegrityError:
            # Another moderator saved the same link between this form's check and its save.
            # Everything was rolled back; validating again reports the clash on the form.
            return super().changeform_view(request, object_id, form_url, extra_context)

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

    # Decisions from the change page: the moderator's corrections are saved first.

    def response_change(self, request, obj):
        if "_approve" in request.POST:
            self._decide(
                request,
                [obj],
                lambda resource: approve_resource(resource=resource, moderator=request.user),
                "Approved {}.",
            )
            return HttpResponseRedirect(self._changelist_url(request))
        for button, view in (("_reject", "reject"), ("_archive", "archive"), ("_merge", "merge")):
            if button in request.POST:
                url = reverse(f"admin:resources_resource_{view}", args=[quote(obj.pk)])
                filters = request.GET.get(PRESERVED_FILTERS)
                query = f"?{urlencode({PRESERVED_FILTERS: filters})}" if filters else ""
                return HttpResponseRedirect(url + query)
        return super().response_change(request, obj)

    def get_urls(self):
        def view(method, name):
            return path(
                f"<path:object_id>/{name}/",
                self.admin_site.admin_view(method),
                name=f"resources_resource_{name}",
            )

        return [
            view(self.reject_view, "reject"),
            view(self.archive_view, "archive"),
            view(self.merge_view, "merge"),
            *super().get_urls(),
        ]

    def reject_view(self, request, object_id):
        return self._reject(request, self._one(request, object_id)) or self._back(request)

    def archive_view(self, request, object_id):
        return self._archive(request, self._one(request, object_id)) or self._back(request)

    def merge_view(self, request, object_id):
        return self._merge(request, self._one(request, object_id)) or self._back(request)

    # Actions on one or many selected resources

    @admin.action(description="Approve selected resources", permissions=["change"])
    def approve_selected(self, request, queryset):
        self._decide(
            request,
            queryset,
            lambda resource: approve_resource(resource=resource, moderator=request.user),
            "Approved {}.",
        )

    @admin.action(description="Reject selected suggestions…", permissions=["change"])
    def reject_selected(self, request, queryset):
        return self._reject(request, queryset, action="reject_selected")

    @admin.action(description="Archive selected resources…", permissions=["change"])
    def archive_selected(self, request, queryset):
        return self._archive(request, queryset, action="archive_selected")

    @admin.action(description="Merge selected duplicates…", permissions=["change"])
    def merge_selected(self, request, queryset):
        return self._merge(request, queryset, action="merge_selected")

    # The intermediate pages, shared by actions and the change page's buttons

    def _reject(self, request, queryset, action: str | None = None):
        form = RejectForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            reason = form.cleaned_data["reason"]
            self._decide(
                request,
                queryset,
                lambda resource: reject_resource(
                    resource=resource, moderator=request.user, reason=reason
                ),
                "Rejected {}.",
            )
            return None
        return self._page(
            request, "resources/admin/reject.html", "Reject suggestions", queryset, form, action
        )

    def _archive(self, request, queryset, action: str | None = None):
        form = ArchiveForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            reason = form.cleaned_data["reason"]
            self._decide(
                request,
                queryset,
                lambda resource: archive_resource(
                    resource=resource, moderator=request.user, reason=reason
                ),
                "Archived {}.",
            )
            return None
        return self._page(
            request, "resources/admin/archive.html", "Archive resources", queryset, form, action
        )

    def _merge(self, request, queryset, action: str | None = None):
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
            self._decide(
                request,
                sources,
                lambda source: merge_resources(
                    source=source, target=target, moderator=request.user
                ),
                f"Merged {{}} into “{target.title}”.",
            )
            return None
        return self._page(
            request, "resources/admin/merge.html", "Merge duplicates", selected, form, action
        )

    def _page(self, request, template, title, resources, form, action):
        return TemplateResponse(
            request,
            template,
            {
                **self.admin_site.each_context(request),
                "title": title,
                "opts": self.opts,
                "resources": list(resources),
                "form": form,
                "action": action,
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
                "changelist_url": self._changelist_url(request),
                "media": self.media + form.media,
            },
        )

    def _decide(
        self,
        request,
        items: Iterable,
        decide: Callable,
        done_message: str,
    ) -> None:
        """Apply one decision to each item; report what was done and what was skipped."""
        done = []
        for item in items:
            try:
                decide(item)
            except ModerationError as error:
                self.message_user(request, str(error), messages.WARNING)
            else:
                done.append(item)
        if done:
            names = ", ".join(f"“{item}”" for item in done)
            self.message_user(request, done_message.format(names), messages.SUCCESS)

    def _one(self, request, object_id) -> list[Resource]:
        resource = self.get_object(request, unquote(object_id))
        if resource is None:
            raise Http404("No such resource")
        if not self.has_change_permission(request, resource):
            raise PermissionDenied
        return Resource.objects.filter(pk=resource.pk)

    def _changelist_url(self, request) -> str:
        url = reverse("admin:resources_resource_changelist")
        filters = request.GET.get(PRESERVED_FILTERS)
        return f"{url}?{filters}" if filters else url

    def _back(self, request):
        return HttpResponseRedirect(self._changelist_url(request))


# Flags


@admin.register(Flag)
class FlagAdmin(admin.ModelAdmin):
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
        self._decide(
            request, queryset, lambda flag: dismiss_flag(flag=flag, moderator=request.user)
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
        self._decide(
            request,
            queryset,
            lambda flag: accept_flag(flag=flag, moderator=request.user, action=decision),
            f"Accepted {{}}: {FLAG_DECISIONS[decision].lower()}.",
        )

    def _decide(self, request, queryset, decide: Callable, done_message: str = "") -> None:
        done = 0
        for flag in queryset:
            try:
                decide(flag)
            except ModerationError as error:
                self.message_user(request, str(error), messages.WARNING)
            else:
                done += 1
        if done:
            flags = f"{done} flag{'s' if done != 1 else ''}"
            message = done_message or "Dismissed {}."
            self.message_user(request, message.format(flags), messages.SUCCESS)


# The log


@admin.register(ModerationEvent)
class ModerationEventAdmin(admin.ModelAdmin):
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
