"""Resource cards, drawn by Jinja2 (config/jinja2.py) from Django templates.

`{% card "cards/resource_card.jinja" %}` draws a card (or its vote or progress control) from
the surrounding Django context, so pages and htmx partials share one template.

The templates read nothing but `c`, the plain values `card_values()` takes from the resource,
the reader and the page. Those values are therefore a complete description of the HTML, and
each process keeps the HTML of recently drawn cards under them (CARD_CACHE_BYTES): most
readers see most cards in the same state, so a page is mostly drawn from memory. The CSRF
input (per reader) and the page's address (per page, for the forms' `next`) are drawn as
markers and put in last.
"""

from django import template
from django.conf import settings
from django.template import engines
from django.template.backends.utils import csrf_input
from django.template.defaultfilters import date, urlencode
from django.urls import get_script_prefix
from django.utils.functional import SimpleLazyObject
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.timezone import template_localtime
from markupsafe import Markup

from config.cache import LocalMemory
from resources.models import Cost, Level, ResourceType, Status

register = template.Library()

# Drawn into the HTML in place of what differs per reader or per page, and put in last: the
# CSRF input, and the page's own address (escaped for an attribute, and quoted for a query).
CSRF_MARKER = "<!--csrf-input-->"
PATH_MARKER = "<!--page-path-->"
PATH_QUERY_MARKER = "<!--page-path-query-->"
_MARKERS = {
    "csrf_input": Markup(CSRF_MARKER),  # noqa: S704 (a constant)
    "page_path": Markup(PATH_MARKER),  # noqa: S704
    "page_path_query": Markup(PATH_QUERY_MARKER),  # noqa: S704
}
_LABELS = {
    "type": dict(ResourceType.choices),
    "cost": dict(Cost.choices),
    "level": dict(Level.choices),
}


def _page_path(request) -> str:
    if request is None:
        return ""
    if not hasattr(request, "_card_page_path"):
        request._card_page_path = request.get_full_path()
    return request._card_page_path


def vote_values(context) -> dict:
    """What the vote control shows (it reads only these fields of the resource)."""
    resource = context.get("resource")
    user = context.get("user")
    return {
        "pk": resource.pk,
        "title": resource.title,
        "score": resource.upvotes - resource.downvotes,
        "my_vote": getattr(resource, "my_vote", 0),
        "own": bool(resource.submitted_by_id)
        and resource.submitted_by_id == getattr(user, "id", None),
        "authenticated": bool(getattr(user, "is_authenticated", False)),
        "can_vote": bool(context.get("can_vote")),
        "next_url": context.get("next_url") or "",
        "vote_error": context.get("vote_error") or "",
    }


def progress_values(context) -> dict:
    """What the progress control shows."""
    resource = context.get("resource")
    # my_progress is missing where the page did not ask for it (with_user_progress).
    state = getattr(resource, "my_progress", None)
    return {
        "pk": resource.pk,
        "title": resource.title,
        "state": state,
        "is_public": resource.status == Status.APPROVED,
        "progress_next": context.get("progress_next") or "",
        "progress_error": context.get("progress_error") or "",
    }


def card_values(context) -> dict:
    """What a whole card shows, its two controls included."""
    resource = context.get("resource")
    checked = resource.link_checked_at
    values = {
        **vote_values(context),
        **progress_values(context),
        "url": resource.url,
        "link_checked": date(template_localtime(checked), "j M Y") if checked else "",
        "type": resource.resource_type,
        "type_label": _LABELS["type"].get(resource.resource_type, resource.resource_type),
        "cost": resource.cost,
        "cost_label": _LABELS["cost"].get(resource.cost, resource.cost),
        "level": resource.level,
        "level_label": _LABELS["level"].get(resource.level, resource.level),
        "link_broken": resource.link_broken,
        "link_may_be_broken": resource.link_may_be_broken,
        "link_failures": resource.link_failures,
        "provider": resource.provider,
        "description_html": resource.description_html,
        "tags": tuple((tag.slug, tag.name) for tag in getattr(resource, "tag_list", ())),
        "is_affiliated": resource.is_affiliated,
        "heading_level": context.get("card_level") or 3,
    }
    values["show_progress"] = (
        values["authenticated"] and values["is_public"] and values["state"] is not None
    )
    return values


VALUES = {
    "cards/resource_card.jinja": card_values,
    "cards/vote_widget.jinja": vote_values,
    "cards/progress_control.jinja": progress_values,
}


drawn = LocalMemory("CARD_CACHE_BYTES")
# Card HTML depends on nothing but its key, so it never goes stale; age only frees memory.
DRAWN_SECONDS = 3600


def draw(name: str, values: dict) -> str:
    """The card template `name` drawn for `values`, with the CSRF input left as a marker."""
    if settings.CARD_CACHE_BYTES <= 0:
        return _render(name, values)
    # The script prefix is in every URL the templates make.
    key = (name, get_script_prefix(), *values.values())
    html = drawn.get(key)
    if html is None:
        html = _render(name, values)
        drawn.set(key, html, len(html), DRAWN_SECONDS)
    return html


def _render(name: str, values: dict) -> str:
    return engines["jinja2"].get_template(name).template.render(c=values, **_MARKERS)


@register.simple_tag(takes_context=True)
def card(context, name: str) -> str:
    request = context.get("request")
    html = draw(name, VALUES[name](context))
    path = _page_path(request)
    html = html.replace(PATH_MARKER, conditional_escape(path)).replace(
        PATH_QUERY_MARKER, urlencode(path)
    )
    if CSRF_MARKER in html:
        if request is None:
            html = html.replace(CSRF_MARKER, "")
        else:
            # One masked token for every form of the page, as Django's templates do. Made
            # only when a form is drawn, so that a page without forms (an anonymous
            # reader's) sets no CSRF cookie and stays cacheable.
            if not hasattr(request, "_card_csrf_input"):
                request._card_csrf_input = SimpleLazyObject(lambda: str(csrf_input(request)))
            html = html.replace(CSRF_MARKER, str(request._card_csrf_input))
    return mark_safe(html)  # noqa: S308
