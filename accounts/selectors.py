"""Reads for the public profile: what a member contributed and how readers received it."""

from django.db.models import Count, IntegerField, QuerySet, Sum
from django.db.models.functions import Coalesce

from resources.models import Resource


def approved_submissions(user) -> QuerySet[Resource]:
    """The member's approved suggestions, newest first, with their sections."""
    return (
        Resource.objects.approved()
        .filter(submitted_by=user)
        .select_related("section")
        .order_by_new()
    )


def contribution_stats(user) -> dict[str, int]:
    """Approved suggestions, votes they received, and karma (net votes), in one query."""
    stats = (
        Resource.objects.approved()
        .filter(submitted_by=user)
        .aggregate(
            approved=Count("id"),
            upvotes=Coalesce(Sum("upvotes"), 0, output_field=IntegerField()),
            downvotes=Coalesce(Sum("downvotes"), 0, output_field=IntegerField()),
        )
    )
    stats["karma"] = stats["upvotes"] - stats["downvotes"]
    return stats
