"""Resource cards, drawn by Jinja2 (config/jinja2.py) from Django templates.

`{% card "cards/resource_card.jinja" %}` renders a Jinja2 template with what the card needs
from the surrounding Django context, so pages and htmx partials share one template.
"""

from django import template
from django.template import engines
from django.template.backends.utils import csrf_input
from django.utils.functional import SimpleLazyObject
from django.utils.safestring import mark_safe

register = template.Library()

CARD_CONTEXT = (
    "resource",
    "card_level",
    "user",
    "can_vote",
    "next_url",
    "progress_next",
    "vote_error",
    "progress_error",
)


@register.simple_tag(takes_context=True)
def card(context, name: str) -> str:
    values = {key: context.get(key) for key in CARD_CONTEXT}
    request = values["request"] = context.get("request")
    if request is not None:
        # One masked token for every form of the page, as Django's templates do: masking
        # a fresh one for each of a hundred forms costs more than drawing the cards.
        # Lazy, so that a page without forms (an anonymous reader's) sets no CSRF cookie
        # and stays cacheable.
        if not hasattr(request, "_card_csrf_input"):
            request._card_csrf_input = SimpleLazyObject(lambda: csrf_input(request))
            request._card_page_path = request.get_full_path()
        values["csrf_input"] = request._card_csrf_input
        values["page_path"] = request._card_page_path
    # The Jinja2 template itself: Django's wrapper would mask a new token for every card.
    template = engines["jinja2"].get_template(name).template
    return mark_safe(template.render(values))  # noqa: S308
