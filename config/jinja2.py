"""The Jinja2 environment for the few templates that are drawn many times per page.

A section page carries dozens of resource cards; drawn with Django's template language they
were most of its time (the benchmark's tools page: 78 cards, about 40 of its 90 ms). The
cards get their values, dates and addresses ready-made (resources/templatetags/cards.py);
this environment adds Django's URL names and escapes everything.
"""

from functools import lru_cache

from django.urls import get_script_prefix, reverse
from jinja2 import Environment

_PLACEHOLDER = "9087654321"


@lru_cache(maxsize=256)
def _url_pattern(name: str, prefix: str) -> str:
    return reverse(name, args=[_PLACEHOLDER])


def url(name: str, *args) -> str:
    """reverse(name, args); an id (which every path converter accepts as it is) is filled
    into a URL reversed once per process."""
    if len(args) == 1 and type(args[0]) is int and args[0] >= 0:
        return _url_pattern(name, get_script_prefix()).replace(_PLACEHOLDER, str(args[0]), 1)
    return reverse(name, args=args)


def environment(**options) -> Environment:
    options["autoescape"] = True  # whatever the settings say: cards show user-written text
    env = Environment(**options)  # noqa: S701 (autoescape is set on the line above)
    env.globals["url"] = url
    return env
