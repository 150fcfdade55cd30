"""Resource cards and their vote and progress controls, as readers get them."""

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template.defaultfilters import urlencode
from django.template.loader import render_to_string
from django.utils.html import escape
from taggit.models import Tag

from accounts.models import User
from resources import services
from resources.models import Resource, Status, Vote
from resources.selectors import cards_for, reader_state_of
from tests.factories import ResourceFactory, VerifiedUserFactory, VoteFactory

MEMBER = User(id=7, username="member")
CARD = "partials/resource_card.html"


def public_resource(**fields) -> Resource:
    resource = Resource(
        pk=fields.pop("pk", 5),
        title=fields.pop("title", "Shared"),
        url="https://a.example/",
        status=Status.APPROVED,
        resource_type="article",
        cost="free",
        **fields,
    )
    resource.tag_list = []
    resource.my_vote = 0
    resource.my_progress = ""
    return resource


def draw(rf, path="/sections/tools/", user=MEMBER, can_vote=True, **context) -> tuple[str, object]:
    request = rf.get(path)
    request.user = user
    context.setdefault("resource", public_resource())
    html = render_to_string(CARD, {"user": user, "can_vote": can_vote, **context}, request=request)
    return html, request


def test_a_card_holds_no_secret_and_its_buttons_submit_the_pages_form(rf):
    first, _ = draw(rf)
    second, _ = draw(rf)
    assert "csrfmiddlewaretoken" not in first
    assert first == second  # the same for every reader in the same state: it can be cached
    assert first.count('form="card-actions"') == 5  # two vote and three progress buttons


def test_the_pages_form_carries_a_csrf_token_and_the_return_address(rf):
    request = rf.get("/resources/?q=a%26b")
    request.user = MEMBER
    html = render_to_string("partials/card_actions.html", {"user": MEMBER}, request=request)
    assert html.count('name="csrfmiddlewaretoken"') == 1
    assert f'name="next" value="{escape(request.get_full_path())}"' in html
    anonymous = render_to_string(
        "partials/card_actions.html", {"user": AnonymousUser()}, request=request
    )
    assert anonymous.strip() == ""


def test_an_anonymous_card_has_no_form_and_sets_no_csrf_cookie(rf):
    html, request = draw(rf, user=AnonymousUser(), can_vote=False)
    assert "csrfmiddlewaretoken" not in html
    assert "<form" not in html
    assert "CSRF_COOKIE_NEEDS_UPDATE" not in request.META
    assert "Sign in" not in html  # the page says it once, not every card


def test_user_text_is_escaped(rf):
    resource = public_resource(title="<script>x</script>", provider="<b>me</b>")
    resource.tag_list = [Tag(name="<i>t</i>", slug="t")]
    html, _ = draw(rf, resource=resource)
    assert "<script>" not in html and "<b>me</b>" not in html and "<i>t</i>" not in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html


@pytest.mark.django_db
def test_the_pages_sign_in_hint_returns_to_the_page_escaped_and_quoted(client):
    ResourceFactory(title="a&b <b>")
    for path in ["/resources/?q=a%26b&sort=new", "/resources/?q=%3Cb%3E"]:
        html = client.get(path).content.decode()
        assert f'href="/accounts/login/?next={urlencode(path)}">Sign in</a> to vote' in html


def test_the_pressed_vote_and_progress_are_shown(rf):
    resource = public_resource()
    resource.my_vote = -1
    resource.my_progress = "done"
    html, _ = draw(rf, resource=resource)
    assert 'value="down" class="vote-button vote-down" aria-pressed="true"' in html
    assert 'value="up" class="vote-button vote-up" aria-pressed="false"' in html
    assert 'name="state" value="clear" class="progress-button progress-done"' in html


def test_a_submitter_sees_their_own_score_without_buttons(rf):
    html, _ = draw(rf, resource=public_resource(submitted_by_id=MEMBER.id, upvotes=3))
    assert "your suggestion" in html
    assert 'name="value"' not in html


def test_the_heading_level_follows_the_page(rf):
    assert '<h2 class="card-title">' in draw(rf, card_level=2)[0]
    assert '<h3 class="card-title">' in draw(rf)[0]


def test_the_check_date_is_shown_in_the_site_time_zone(rf, settings):
    settings.TIME_ZONE = "Europe/London"
    checked = datetime.datetime(2026, 7, 1, 23, 30, tzinfo=datetime.UTC)
    html, _ = draw(rf, resource=public_resource(link_checked_at=checked))
    assert 'title="Link checked on 2 Jul 2026"' in html


@pytest.mark.django_db
def test_the_reader_state_of_cards_is_what_the_cards_show_that_votes_change():
    """Cached card lists are keyed by reader_state_of, a narrow query of the cards' ids: it
    must name each card's tallies (which, with a page's fixed columns, decide its order), the
    reader's vote and progress and their own suggestions, in the order of the ids, as the
    cards themselves show them."""
    reader, other = VerifiedUserFactory(), VerifiedUserFactory()
    cards = [ResourceFactory() for _ in range(4)] + [ResourceFactory(submitted_by=reader)]
    hidden = ResourceFactory(status=Status.PENDING)
    services.cast_vote(user=reader, resource=cards[0], value=Vote.UP)
    services.cast_vote(user=reader, resource=cards[1], value=Vote.DOWN)
    services.cast_vote(user=other, resource=cards[2], value=Vote.UP)
    VoteFactory(user=other, resource=cards[3], value=Vote.UP)
    services.set_progress(user=reader, resource=cards[2], state="done")
    services.set_progress(user=other, resource=cards[3], state="saved")
    ids = [card.pk for card in [cards[2], hidden, cards[0], cards[4], cards[1], cards[3]]]

    def shown(user) -> str:
        drawn = {card.pk: card for card in cards_for(user).filter(pk__in=ids)}
        return ",".join(
            f"{card.pk}:{card.upvotes}:{card.downvotes}:{card.my_vote}:{card.my_progress}:"
            f"{int(card.submitted_by_id == user.pk)}"
            for card in (drawn[pk] for pk in ids if pk in drawn)
        )

    for user in (reader, other):
        # The pending one is no card; the others in the order of the ids.
        assert reader_state_of(ids, user) == shown(user)
    assert reader_state_of(ids, reader).startswith(f"{cards[2].pk}:1:0:0:done:0,{cards[0].pk}:")
    assert f"{cards[0].pk}:1:0:1::0" in reader_state_of(ids, reader)
    assert f"{cards[1].pk}:0:1:-1::0" in reader_state_of(ids, reader)
    assert f"{cards[4].pk}:0:0:0::1" in reader_state_of(ids, reader)
    assert f"{cards[3].pk}:0:0:1:saved:0" in reader_state_of(ids, other)
    assert reader_state_of(ids, AnonymousUser()) == ""
    assert reader_state_of([], reader) == ""  # an empty topic: no query either
