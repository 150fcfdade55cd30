"""The suggested-edit queue: each proposal read as a field-by-field diff, then accepted in
full, in part, or declined with a reason (resources.moderation decides)."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode

from core.admin_guards import RefuseNulInChangelistFilters
from resources.edits import FIELD_LABELS, history_changes, proposal_diff, section_titles_for
from resources.models import EDITABLE_FIELDS, EditProposal, ProposalStatus
from resources.moderation import (
    REJECTION_REASONS,
    ModerationError,
    accept_proposal,
    decline_proposal,
)
from resources.normalize import InvalidURL, normalize_url
from resources.services import find_duplicates


class ProposalDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("accept_all", "Accept all"), ("accept_some", "Accept"), ("decline", "Decline")]
    )
    accept_fields = forms.MultipleChoiceField(
        label="Fields to accept",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    reason = forms.CharField(
        label="Reason for declining",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Sent to the proposer. For example: " + "; ".join(REJECTION_REASONS[:3]) + ".",
    )

    def __init__(self, *args, proposal: EditProposal, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["accept_fields"].choices = [
            (name, FIELD_LABELS[name]) for name in EDITABLE_FIELDS if name in proposal.changes
        ]

    def clean(self):
        cleaned = super().clean()
        decision = cleaned.get("decision")
        if decision == "accept_some" and not cleaned.get("accept_fields"):
            self.add_error("accept_fields", "Tick the fields to accept.")
        if decision == "decline" and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", "Say why, for the proposer.")
        return cleaned


@admin.register(EditProposal)
class EditProposalAdmin(RefuseNulInChangelistFilters, admin.ModelAdmin):
    list_display = ("resource_title", "fields_changed", "proposer_name", "status", "created_at")
    list_filter = ("status",)
    search_fields = ("resource__title", "resource__url", "reason", "proposer__username")
    list_select_related = ("resource", "proposer")
    ordering = ("created_at", "id")

    def has_add_permission(self, request) -> bool:
        return False  # readers propose from the site

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # decided proposals are the resource's history

    @admin.display(description="resource", ordering="resource__title")
    def resource_title(self, obj: EditProposal) -> str:
        return obj.resource.title  # the admin links the first column to the review page

    @admin.display(description="changes")
    def fields_changed(self, obj: EditProposal) -> str:
        return ", ".join(
            FIELD_LABELS[name].lower() for name in EDITABLE_FIELDS if name in obj.changes
        )

    @admin.display(description="proposed by", ordering="proposer__username")
    def proposer_name(self, obj: EditProposal) -> str:
        return obj.proposer.username if obj.proposer else "—"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The review page: the diff and the decision, instead of a form of raw JSON."""
        proposal = (
            EditProposal.objects.select_related(
                "resource__section", "proposer", "decided_by", "flag"
            )
            .filter(pk=unquote(object_id))
            .first()
            if str(object_id).isdigit()
            else None
        )
        if proposal is None:
            raise Http404("No such suggested edit")
        if not self.has_view_permission(request, proposal):
            raise PermissionDenied
        form = ProposalDecisionForm(
            request.POST if request.method == "POST" else None, proposal=proposal
        )
        if request.method == "POST":
            if not self.has_change_permission(request, proposal):
                raise PermissionDenied
            if form.is_valid() and self._decide(request, proposal, form.cleaned_data):
                return HttpResponseRedirect(self._queue_url())
        return TemplateResponse(
            request,
            "resources/admin/edit_review.html",
            {
                **self.admin_site.each_context(request),
                **self._review_context(proposal),
                "title": f"Suggested edit of “{proposal.resource.title}”",
                "opts": self.opts,
                "form": form,
                "can_decide": proposal.is_open and self.has_change_permission(request, proposal),
                "queue_url": self._queue_url(),
            },
        )

    def _decide(self, request, proposal: EditProposal, data: dict) -> bool:
        title = proposal.resource.title
        try:
            if data["decision"] == "decline":
                decline_proposal(proposal=proposal, moderator=request.user, reason=data["reason"])
                done = f"Declined the edit of “{title}”; the proposer was told why."
            else:
                fields = data["accept_fields"] if data["decision"] == "accept_some" else None
                accept_proposal(proposal=proposal, moderator=request.user, fields=fields)
                done = (
                    f"Accepted the edit of “{title}”: changed "
                    + ", ".join(FIELD_LABELS[name].lower() for name in proposal.applied)
                    + "."
                )
        except ModerationError as error:
            self.message_user(request, str(error), messages.WARNING)
            return False
        self.message_user(request, done, messages.SUCCESS)
        return True

    def _review_context(self, proposal: EditProposal) -> dict:
        resource = proposal.resource
        accepted_since = list(
            EditProposal.objects.accepted()
            .filter(resource=resource, decided_at__gt=proposal.created_at)
            .exclude(pk=proposal.pk)
            .select_related("proposer", "decided_by")
            .order_by("decided_at", "id")
        )
        titles = section_titles_for([proposal, *accepted_since], extra=[resource.section_id])
        duplicate = None
        if "url" in proposal.changes:
            try:
                normalized = normalize_url(proposal.changes["url"])
            except InvalidURL:
                normalized = ""
            duplicate = find_duplicates([normalized], exclude_pk=resource.pk).get(normalized)
        record = (
            EditProposal.objects.filter(proposer_id=proposal.proposer_id)
            .exclude(pk=proposal.pk)
            .aggregate(
                accepted=Count(
                    "pk",
                    filter=Q(status__in=[ProposalStatus.ACCEPTED, ProposalStatus.PARTLY_ACCEPTED]),
                ),
                declined=Count("pk", filter=Q(status=ProposalStatus.DECLINED)),
            )
            if proposal.proposer_id
            else {}
        )
        diff = proposal_diff(proposal, resource, titles)
        return {
            "proposal": proposal,
            "resource": resource,
            "diff": diff,
            "any_stale": any(row.stale for row in diff),
            "accepted_since": [(edit, history_changes(edit, titles)) for edit in accepted_since],
            "duplicate": duplicate,
            "record": record,
        }

    def _queue_url(self) -> str:
        url = reverse("admin:resources_editproposal_changelist")
        return f"{url}?{urlencode({'status__exact': ProposalStatus.OPEN})}"
