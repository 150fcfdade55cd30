from django import template
from django.urls import reverse
from django.utils.http import urlencode

from resources.models import FlagStatus, ProposalStatus, Status
from resources.moderation import queue_counts

register = template.Library()


@register.simple_tag(takes_context=True)
def moderation_queue(context) -> dict | None:
    """Counts and links for the admin index, for users who may see the queues."""
    user = context["request"].user
    if not (user.has_perm("resources.view_resource") and user.has_perm("resources.view_flag")):
        return None
    resources = reverse("admin:resources_resource_changelist")
    flags = reverse("admin:resources_flag_changelist")
    return {
        **queue_counts(),
        "pending_url": f"{resources}?{urlencode({'status__exact': Status.PENDING})}",
        "flags_url": f"{flags}?{urlencode({'status__exact': FlagStatus.OPEN})}",
        "edits_url": reverse("admin:resources_editproposal_changelist")
        + "?"
        + urlencode({"status__exact": ProposalStatus.OPEN}),
    }
