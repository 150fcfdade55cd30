from django.http import Http404
from django.shortcuts import get_object_or_404, render

from resources.models import Resource


def resource_detail(request, pk):
    resource = get_object_or_404(Resource.objects.for_cards(), pk=pk)
    if not resource.is_public and not _may_see_unpublished(request.user, resource):
        raise Http404("No such resource")
    return render(request, "resources/detail.html", {"resource": resource})


def _may_see_unpublished(user, resource) -> bool:
    """Submitters see their own suggestions; moderators see everything."""
    if not user.is_authenticated:
        return False
    return user.is_staff or resource.submitted_by_id == user.id
