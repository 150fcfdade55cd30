"""The project's URL patterns, the people who visit them and the rows the patterns need."""

from dataclasses import dataclass

from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from allauth.account.utils import user_pk_to_url_str
from django.apps import apps
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from resources.models import ImportBatch, ModerationEvent
from resources.moderation import approve_resource
from resources.services import propose_edit
from roadmap.models import Roadmap
from tests.factories import (
    ResourceFactory,
    SectionFactory,
    UnverifiedUserFactory,
    UserFactory,
    VerifiedUserFactory,
)
from tests.resources.moderation_factories import (
    FlagFactory,
    SuggestionFactory,
    make_moderator,
    make_superuser,
)

ROLES = ("anonymous", "unverified", "verified", "moderator", "superuser")


@dataclass(frozen=True)
class Route:
    route: str  # the pattern as written, prefixes joined: "resources/<int:pk>/vote/"
    name: str | None
    callback: object


def walk(resolver: URLResolver | None = None, prefix: str = "") -> list[Route]:
    """Every URL pattern of the project, included URLconfs opened recursively."""
    resolver = resolver or get_resolver()
    routes = []
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            routes.extend(walk(pattern, route))
        elif isinstance(pattern, URLPattern):
            routes.append(Route(route, pattern.name, pattern.callback))
    return routes


def make_people() -> dict:
    return {
        "anonymous": None,
        "unverified": UnverifiedUserFactory(username="unverified"),
        "verified": VerifiedUserFactory(username="verified"),
        "moderator": make_moderator("moderator"),
        "superuser": make_superuser("superuser"),
    }


def make_objects(people: dict) -> dict:
    """The rows that fill the patterns' placeholders, as strings for str.format."""
    section = SectionFactory(slug="tools", title="Tools")
    approved = ResourceFactory(section=section, tags=["mlops"])
    pending = SuggestionFactory(section=section, submitted_by=people["verified"])
    flag = FlagFactory(resource=approved, user=UserFactory(username="reporter"))
    approve_resource(resource=SuggestionFactory(section=section), moderator=people["superuser"])
    unverified_address = EmailAddress.objects.get(user=people["unverified"])
    roadmap = Roadmap.objects.create(title="MLOps Roadmap", intro="Hello")
    proposal = propose_edit(
        user=UserFactory(username="proposer"),
        resource=approved,
        changes={"cost": "paid"},
        reason="It costs money now.",
    )
    return {
        "section": section.slug,
        "section_pk": section.pk,
        "approved": approved.pk,
        "pending": pending.pk,
        "missing": 999_999,
        "flag": flag.pk,
        "proposal": proposal.pk,
        "event": ModerationEvent.objects.get().pk,
        "batch": ImportBatch.objects.create(source="awesome.md", run_by=people["moderator"]).pk,
        "tag": "mlops",
        "member": people["verified"].username,
        "user": people["verified"].pk,
        "roadmap": roadmap.pk,
        "confirm_key": EmailConfirmationHMAC(unverified_address).key,
        "uidb36": user_pk_to_url_str(people["verified"]),
    }


def client_for(person, **kwargs) -> Client:
    client = Client(**kwargs)
    if person is not None:
        client.force_login(person)
    return client


def snapshot() -> dict[str, list]:
    """Every row the site keeps, sessions aside (signing in and messages live there)."""
    return {
        model._meta.label: list(model._base_manager.order_by("pk").values())
        for model in apps.get_models(include_auto_created=True)
        if model._meta.label_lower != "sessions.session"
    }
