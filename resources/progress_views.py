"""A reader's own learning progress: marking resources, the learning page and its export."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from core.http import back_to_card, login_required_for_htmx, swap_with_status
from resources import selectors, services
from resources.models import Progress, ProgressState, Resource
from resources.sections import done_counts

CLEAR = "clear"
# What the page's live region says after a change in place.
PROGRESS_STATUS = {
    ProgressState.SAVED: "Saved for later",
    ProgressState.IN_PROGRESS: "Marked in progress",
    ProgressState.DONE: "Marked done",
    CLEAR: "No longer marked",
}
# The order the learning page lists the states in.
LEARNING_GROUPS = (ProgressState.IN_PROGRESS, ProgressState.SAVED, ProgressState.DONE)


@login_required_for_htmx
@require_POST
def set_progress(request, pk):
    resource = get_object_or_404(Resource, pk=pk)
    if not selectors.may_see(request.user, resource):
        # A refusal draws the card, title included: nothing of a resource the reader may
        # not see.
        raise Http404("No such resource")
    choice = request.POST.get("state", "")
    if choice != CLEAR and choice not in ProgressState.values:
        return HttpResponseBadRequest("Choose done, in progress or saved.")
    state = None if choice == CLEAR else choice
    next_url = back_to_card(request, resource.get_absolute_url(), resource.pk)
    context = {"resource": resource}
    try:
        services.set_progress(user=request.user, resource=resource, state=state)
    except services.NotAllowed as error:
        if request.htmx:
            resource.my_progress = _current_state(request.user, resource)
            return render(
                request,
                "partials/progress_control.html",
                {**context, "progress_error": str(error)},
            )
        messages.error(request, str(error))
        return redirect(next_url)
    if request.htmx:
        resource.my_progress = state or ""
        response = swap_with_status(
            request, "partials/progress_control.html", context, PROGRESS_STATUS[choice]
        )
        # The page's counters ("2 of 5 done") follow: static/js/progress.js.
        return trigger_client_event(response, "progress-changed", done_counts(request.user))
    return redirect(next_url)


@never_cache
@login_required
@require_GET
def learning(request):
    tracked = list(Progress.objects.for_learning_page(request.user))
    groups = [
        {
            "state": state,
            "label": state.label,
            "items": [item for item in tracked if item.state == state],
        }
        for state in LEARNING_GROUPS
    ]
    for item in tracked:
        # The cards' progress control reads the state from the resource, as on section pages.
        item.resource.my_progress = item.state
    return render(
        request,
        "resources/learning.html",
        {"groups": groups, "total": len(tracked)},
    )


@never_cache
@login_required
@require_GET
def export(request):
    rows = [
        {
            "resource_id": item.resource_id,
            "title": item.resource.title,
            "url": item.resource.url,
            "section": item.resource.section.title,
            "state": item.state,
            "updated_at": item.updated_at.isoformat(),
        }
        for item in Progress.objects.for_learning_page(request.user)
    ]
    response = JsonResponse(rows, safe=False, json_dumps_params={"indent": 2})
    response["Content-Disposition"] = 'attachment; filename="mlops-roadmap-progress.json"'
    return response


def _current_state(user, resource: Resource) -> str:
    return (
        Progress.objects.filter(user=user, resource=resource)
        .values_list("state", flat=True)
        .first()
        or ""
    )
