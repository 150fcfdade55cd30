"""Resource cards drawn from memory are exactly the cards drawn afresh.

The card templates read nothing but the values cards.py hands them, and the memory is keyed
by those values: these tests draw one card, then another that differs in any way, and check
that the second is never the first one's HTML.
"""

import datetime

from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory, override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from taggit.models import Tag

from accounts.models import User
from resources.models import Cost, Level, ProgressState, Resource, ResourceType, Status
from resources.templatetags import cards

MEMBER = User(id=7, username="member")
SUBMITTER = User(id=8, username="submitter")

texts = st.text(alphabet=st.sampled_from("ab <>&\"'é#"), max_size=6)
tags = st.lists(st.tuples(st.sampled_from(["mlops", "drift", "feature-stores"]), texts), max_size=3)
card_inputs = st.fixed_dictionaries(
    {
        "pk": st.integers(1, 3),
        "title": texts,
        "url": st.sampled_from(["https://a.example/", "https://b.example/x?y=1&z=2"]),
        "resource_type": st.sampled_from(ResourceType.values),
        "cost": st.sampled_from(Cost.values),
        "level": st.sampled_from(["", *Level.values]),
        "provider": texts,
        "description_html": st.sampled_from(["", "<p>One</p>", "<p>Two &amp; more</p>"]),
        "status": st.sampled_from([Status.APPROVED, Status.PENDING, Status.ARCHIVED]),
        "upvotes": st.integers(0, 3),
        "downvotes": st.integers(0, 3),
        "is_affiliated": st.booleans(),
        "link_broken": st.booleans(),
        "link_failures": st.integers(0, 4),
        "link_checked_at": st.sampled_from(
            [None, datetime.datetime(2026, 1, 2, 23, 30, tzinfo=datetime.UTC)]
        ),
        "submitted_by_id": st.sampled_from([None, MEMBER.id, SUBMITTER.id]),
        "tags": tags,
        "my_vote": st.sampled_from([None, 0, 1, -1]),
        "my_progress": st.sampled_from([None, "", *ProgressState.values]),
        "reader": st.sampled_from(["anonymous", "member"]),
        "can_vote": st.booleans(),
        "card_level": st.sampled_from([None, 2, 3]),
        "path": st.sampled_from(["/sections/tools/", "/resources/?q=a&sort=new"]),
        "next_url": st.sampled_from([None, "/resources/1/"]),
        "progress_next": st.sampled_from([None, "/me/learning/"]),
        "vote_error": st.sampled_from([None, "No."]),
        "progress_error": st.sampled_from([None, "Not that."]),
        "template": st.sampled_from(sorted(cards.VALUES)),
    }
)


def context_for(drawn: dict):
    fields = {
        key: drawn[key]
        for key in (
            "pk",
            "title",
            "url",
            "resource_type",
            "cost",
            "level",
            "provider",
            "description_html",
            "status",
            "upvotes",
            "downvotes",
            "is_affiliated",
            "link_broken",
            "link_failures",
            "link_checked_at",
            "submitted_by_id",
        )
    }
    resource = Resource(**fields)
    resource.tag_list = [Tag(name=name or slug, slug=slug) for slug, name in drawn["tags"]]
    if drawn["my_vote"] is not None:
        resource.my_vote = drawn["my_vote"]
    if drawn["my_progress"] is not None:
        resource.my_progress = drawn["my_progress"]
    request = RequestFactory().get(drawn["path"])
    context = {
        "resource": resource,
        "user": MEMBER if drawn["reader"] == "member" else AnonymousUser(),
        "can_vote": drawn["can_vote"],
        "card_level": drawn["card_level"],
        "next_url": drawn["next_url"],
        "progress_next": drawn["progress_next"],
        "vote_error": drawn["vote_error"],
        "progress_error": drawn["progress_error"],
    }
    return context, request


def draw_card(name, context, request) -> str:
    return cards.draw(name, cards.VALUES[name](context))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=card_inputs, second=card_inputs)
def test_a_card_from_memory_is_the_card_drawn_afresh(first, second):
    cards.drawn.clear()
    with override_settings(CARD_CACHE_BYTES=1024 * 1024):
        draw_card(first["template"], *context_for(first))
        remembered = draw_card(second["template"], *context_for(second))
    with override_settings(CARD_CACHE_BYTES=0):
        assert remembered == draw_card(second["template"], *context_for(second))


def test_the_memory_is_bounded(settings):
    cards.drawn.clear()
    settings.CARD_CACHE_BYTES = 1024 * 1024
    contexts = [
        {"resource": Resource(pk=pk, title=f"R{pk}", url="https://a.example/")}
        for pk in range(1, 8)
    ]
    one_card = len(draw_card("cards/vote_widget.jinja", contexts[0], None))
    cards.drawn.clear()
    # Room for four cards (an item over a quarter of the budget is not kept at all).
    settings.CARD_CACHE_BYTES = 4 * one_card + one_card // 2
    for context in contexts:
        draw_card("cards/vote_widget.jinja", context, None)
    assert len(cards.drawn._items) == 4


def test_every_reader_gets_their_own_csrf_token_in_a_remembered_card(settings, rf):
    from django.middleware.csrf import get_token
    from django.template import Context, Template

    settings.CARD_CACHE_BYTES = 1024 * 1024
    cards.drawn.clear()
    template = Template('{% load cards %}{% card "cards/vote_widget.jinja" %}')
    resource = Resource(pk=1, title="Shared", url="https://a.example/", status=Status.APPROVED)
    pages = []
    for _ in range(2):
        request = rf.get("/sections/tools/")
        token = get_token(request)
        html = template.render(
            Context({"resource": resource, "user": MEMBER, "can_vote": True, "request": request})
        )
        pages.append((html, request))
        assert html.count('name="csrfmiddlewaretoken"') == 1
        assert cards.CSRF_MARKER not in html
        assert token  # the request has a secret the masked token is made from
    first, second = pages
    assert first[0] != second[0]  # masked tokens differ per request
    assert len(cards.drawn._items) == 1  # but the card was drawn once


def test_an_anonymous_card_sets_no_csrf_cookie(settings, rf):
    from django.template import Context, Template

    template = Template('{% load cards %}{% card "cards/resource_card.jinja" %}')
    request = rf.get("/")
    resource = Resource(pk=1, title="<!--csrf-input-->", url="https://a.example/")
    html = template.render(
        Context({"resource": resource, "user": AnonymousUser(), "request": request})
    )
    assert "&lt;!--csrf-input--&gt;" in html
    assert "csrfmiddlewaretoken" not in html
    assert "CSRF_COOKIE_NEEDS_UPDATE" not in request.META


def test_the_page_address_goes_into_every_card_escaped_and_quoted(settings, rf):
    from django.template import Context, Template
    from django.template.defaultfilters import urlencode
    from django.utils.html import escape

    settings.CARD_CACHE_BYTES = 1024 * 1024
    cards.drawn.clear()
    template = Template('{% load cards %}{% card "cards/resource_card.jinja" %}')
    resource = Resource(pk=5, title="Shared", url="https://a.example/", status=Status.APPROVED)
    resource.my_progress = ""
    for path, reader in [
        ("/resources/?q=a%26b&tag=x&sort=new", MEMBER),
        ("/sections/tools/?sort=%22new%22", MEMBER),
        ("/resources/?q=%3Cb%3E", AnonymousUser()),
    ]:
        request = rf.get(path)
        full = request.get_full_path()
        html = template.render(
            Context(
                {
                    "resource": resource,
                    "user": reader,
                    "can_vote": reader.is_authenticated,
                    "request": request,
                }
            )
        )
        assert cards.PATH_MARKER not in html and cards.PATH_QUERY_MARKER not in html
        if reader.is_authenticated:
            assert html.count(f'name="next" value="{escape(full)}#resource-5"') == 2
        else:
            assert f"?next={urlencode(full)}%23resource-5" in html


def test_the_check_date_is_shown_in_the_site_time_zone(settings):
    settings.TIME_ZONE = "Europe/London"
    resource = Resource(
        pk=1,
        title="Checked",
        url="https://a.example/",
        link_checked_at=datetime.datetime(2026, 7, 1, 23, 30, tzinfo=datetime.UTC),
    )
    values = cards.card_values({"resource": resource})
    assert values["link_checked"] == "2 Jul 2026"
