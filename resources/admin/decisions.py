"""What every moderation decision in the admin shares: it is applied to each selected object
by one helper, and asks for what it needs on one kind of intermediate page."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse

from resources.admin.forms import ArchiveForm, RejectForm
from resources.moderation import ModerationError, archive_resource, reject_resource

PRESERVED_FILTERS = "_changelist_filters"


def quoted_titles(items: list) -> str:
    return ", ".join(f"“{item}”" for item in items)


def flag_count(items: list) -> str:
    return f"{len(items)} flag{'s' if len(items) != 1 else ''}"


def apply_decision(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    items: Iterable,
    decide: Callable[[Any], object],
    done_message: str,
    *,
    describe: Callable[[list], str] = quoted_titles,
) -> list:
    """Apply one moderation service to each item; warn about each it does not apply to, and
    report the rest in one message. The service locks each row and records the decision."""
    done = []
    for item in items:
        try:
            decide(item)
        except ModerationError as error:
            model_admin.message_user(request, str(error), messages.WARNING)
        else:
            done.append(item)
    if done:
        # Not str.format(): the message may hold a title, and a title may hold "{x}".
        summary = done_message.replace("{}", describe(done), 1)
        model_admin.message_user(request, summary, messages.SUCCESS)
    return done


def changelist_url(request: HttpRequest) -> str:
    """The resource list, with the filters the moderator came from."""
    url = reverse("admin:resources_resource_changelist")
    filters = request.GET.get(PRESERVED_FILTERS)
    return f"{url}?{filters}" if filters else url


def decision_page(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    *,
    template: str,
    title: str,
    resources: Iterable,
    form: forms.Form,
    action: str | None,
) -> TemplateResponse:
    """The page that asks for a decision's reason or target before it is applied.

    With `action` it posts back to the change list as that admin action; without, to itself.
    """
    return TemplateResponse(
        request,
        template,
        {
            **model_admin.admin_site.each_context(request),
            "title": title,
            "opts": model_admin.opts,
            "resources": list(resources),
            "form": form,
            "action": action,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "changelist_url": changelist_url(request),
            "media": model_admin.media + form.media,
        },
    )


@dataclass(frozen=True)
class ReasonDecision:
    """A decision on resources that needs a reason first: rejecting and archiving."""

    form: type[forms.Form]
    template: str
    title: str
    service: Callable[..., object]  # service(*, resource, moderator, reason)
    done_message: str


REJECT = ReasonDecision(
    form=RejectForm,
    template="resources/admin/reject.html",
    title="Reject suggestions",
    service=reject_resource,
    done_message="Rejected {}.",
)
ARCHIVE = ReasonDecision(
    form=ArchiveForm,
    template="resources/admin/archive.html",
    title="Archive resources",
    service=archive_resource,
    done_message="Archived {}.",
)


def decide_with_reason(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    resources: Iterable,
    decision: ReasonDecision,
    action: str | None = None,
) -> TemplateResponse | None:
    """Ask for the reason; once given, apply the decision and return None."""
    form = decision.form(request.POST if "apply" in request.POST else None)
    if form.is_valid():
        reason = form.cleaned_data["reason"]
        apply_decision(
            model_admin,
            request,
            resources,
            lambda resource: decision.service(
                resource=resource, moderator=request.user, reason=reason
            ),
            decision.done_message,
        )
        return None
    return decision_page(
        model_admin,
        request,
        template=decision.template,
        title=decision.title,
        resources=resources,
        form=form,
        action=action,
    )
