"""Odd input to every form and parameter: never a 500, a clean refusal, nothing half-written.

Each example runs in a transaction that is rolled back, so examples do not see each other's
rows; a client is made inside the test body because hypothesis reruns it many times.
"""

import itertools
import json
import re
from contextlib import contextmanager
from urllib.parse import quote

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import SESSION_KEY
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from taggit.models import Tag, TaggedItem

from accounts.models import User
from resources.models import (
    Cost,
    Flag,
    FlagReason,
    Level,
    ModerationEvent,
    Resource,
    ResourceType,
    Status,
    Vote,
)
from tests.factories import ResourceFactory, SectionFactory, VerifiedUserFactory
from tests.resources.moderation_factories import SuggestionFactory

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=40,
    deadline=None,
    database=None,  # nothing written into the work tree; a failure prints its example
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# What a form may store: no control or direction-override characters (resources/forms.py).
STORED_CONTROL_CHARACTERS = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]"
)

NASTY = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\t\r\n",
    "\u202eevil.exe\u202c",  # right-to-left override
    "\u2066isolate\u2069",
    "\u200b\u200d\ufeff",
    "🚀" * 60,
    "👩🏽‍💻🏳️‍🌈",
    "\ue000\U000f0000",  # private use
    "\U000e0001\uffff\U0010ffff",  # unassigned and noncharacters
    "Ǆ̶̡͓̈́",
    "-1",
    "0",
    "1.5",
    "1e309",
    "NaN",
    "Infinity",
    "0x10",
    "99999999999999999999999999999",
    "-99999999999999999999999999999",
    str(2**63),
    str(-(2**63) - 1),
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    '"; DROP TABLE resources_resource; --',
    "%00%ff%",
    "%s%n%x",
    "{{ 7*7 }}{% debug %}",
    "../../etc/passwd",
    "javascript:alert(1)",
    "https://",
    "http://[::1",
    "https://exa mple.com/",
    "https://example.com/" + "a" * 3000,
    "a" * 10_000,
    "x" * 100_000,
    # bare words: redirect() reads them as view names
    "foo",
    "resources",
    "account_logout",
    "admin:index",
    # percent-escapes that are no UTF-8 (a lone surrogate, Latin-1, a stray byte)
    "%ED%A0%80",
    "%E9t%E9",
    "%FF",
    "\ufffd",
    # text in other charsets read as UTF-8
    "caf\u00c3\u00a9",
    "\u82a5\u96e3",
    # braces for str.format()
    "{x}",
    "{}",
    "{0}",
    "{{}}",
    "{__class__}",
    "Title {x} and {}",
]

odd_text = st.one_of(
    st.sampled_from(NASTY),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=300),
    st.text(st.characters(categories=("Cc", "Co", "Cn", "Cf", "So", "Mn")), max_size=60),
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
# A lone surrogate cannot be sent as text; its UTF-8 bytes, escaped, can.
lone_surrogate = st.integers(min_value=0xD800, max_value=0xDFFF).map(
    lambda code: quote(chr(code).encode("utf-8", "surrogatepass"))
)
odd_text = st.one_of(odd_text, lone_surrogate)
slugish = st.from_regex(r"[-a-zA-Z0-9_]{1,120}", fullmatch=True)


def maybe(valid) -> st.SearchStrategy:
    """Either a valid value or odd text, so that some examples get past validation."""
    return st.one_of(valid, odd_text)


_addresses = itertools.count(1)


def fresh_ip() -> str:
    """A new client address per example, so that allauth's per-IP limits do not kick in."""
    n = next(_addresses)
    return f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"


@contextmanager
def rolled_back():
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def signed_in(user) -> Client:
    client = Client(REMOTE_ADDR=fresh_ip())
    client.force_login(user)
    return client


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Resource, Tag, TaggedItem, Vote, Flag, ModerationEvent, User, EmailAddress)
    }


@pytest.fixture
def site():
    section = SectionFactory(slug="tools", title="Tools")
    author = VerifiedUserFactory(username="author", is_staff=False)
    reader = VerifiedUserFactory(username="reader")
    return {
        "section": section,
        "author": author,
        "reader": reader,
        "approved": ResourceFactory(section=section, tags=["mlops"], submitted_by=author),
        "pending": SuggestionFactory(section=section, submitted_by=author, tags=["drift"]),
    }


def suggestion_data(section_pk: int) -> st.SearchStrategy:
    """A valid suggestion with up to three fields swapped for odd text; free-text fields are
    odd in any case."""
    valid = st.fixed_dictionaries(
        {
            "title": st.text(min_size=3, max_size=200),
            "url": st.builds(
                lambda text: f"https://example.org/{quote(text)}",
                st.text(st.characters(exclude_categories=("Cs",)), max_size=80),
            ),
            "resource_type": st.sampled_from(ResourceType.values),
            "section": st.just(str(section_pk)),
            "tags": st.sampled_from(["mlops", "mlops, drift", "a,b,c,d,e,f", "", "Ünïcode"]),
            "cost": st.sampled_from(Cost.values),
            "level": st.sampled_from(["", *Level.values]),
            "provider": odd_text,
            "description": odd_text,
            "is_affiliated": st.sampled_from(["on", "", "false"]),
        }
    )
    return st.builds(
        lambda form, odd: {**form, **odd},
        valid,
        st.dictionaries(st.sampled_from(SUGGESTION_FIELDS), odd_text, max_size=3),
    )


SUGGESTION_FIELDS = ("title", "url", "resource_type", "section", "tags", "cost", "level")


def assert_stored_cleanly(resource: Resource) -> None:
    for value in (resource.title, resource.provider, resource.description, resource.url):
        assert not STORED_CONTROL_CHARACTERS.search(value), repr(value)
    assert resource.url.lower().startswith(("http://", "https://"))
    assert resource.status == Status.PENDING


# Forms


@FUZZ
@given(data=st.data())
def test_suggesting_odd_input_is_refused_or_stored_whole(site, data):
    form = data.draw(suggestion_data(site["section"].pk))
    with rolled_back():
        # Staff skip the limits on suggestions a day, so that every example is judged on input.
        client = signed_in(VerifiedUserFactory(username="staffer", is_staff=True))
        before = counts()
        response = client.post("/resources/suggest/", form)
        assert response.status_code in (200, 302)
        after = counts()
        event(f"answered {response.status_code}")
        if response.status_code == 302:
            assert after["Resource"] == before["Resource"] + 1
            assert_stored_cleanly(Resource.objects.order_by("-pk").first())
        else:
            assert after == before


@FUZZ
@given(data=st.data())
def test_editing_a_suggestion_with_odd_input_changes_all_or_nothing(site, data):
    form = data.draw(suggestion_data(site["section"].pk))
    pending = site["pending"]
    with rolled_back():
        before_row = Resource.objects.filter(pk=pending.pk).values().get()
        before_tags = sorted(pending.tags.names())
        before = counts()
        response = signed_in(site["author"]).post(f"/resources/{pending.pk}/edit/", form)
        assert response.status_code in (200, 302)
        event(f"answered {response.status_code}")
        if response.status_code == 302:
            assert_stored_cleanly(Resource.objects.get(pk=pending.pk))
        else:
            assert Resource.objects.filter(pk=pending.pk).values().get() == before_row
            assert sorted(Resource.objects.get(pk=pending.pk).tags.names()) == before_tags
            assert counts() == before


@FUZZ
@given(reason=maybe(st.sampled_from(FlagReason.values)), note=odd_text)
def test_flagging_with_odd_input_adds_one_flag_or_none(site, reason, note):
    approved = site["approved"]
    with rolled_back():
        before = counts()
        response = signed_in(site["reader"]).post(
            f"/resources/{approved.pk}/flag/", {"reason": reason, "note": note}
        )
        assert response.status_code in (200, 302)
        expected = before["Flag"] + (1 if response.status_code == 302 else 0)
        assert counts() == {**before, "Flag": expected}
        if response.status_code == 302:
            flag = Flag.objects.get(resource=approved, user=site["reader"])
            assert not STORED_CONTROL_CHARACTERS.search(flag.note)


@FUZZ
@given(value=maybe(st.sampled_from(["up", "down"])), htmx=st.booleans())
def test_voting_with_an_odd_value_is_a_400_and_counts_nothing(site, value, htmx):
    approved = site["approved"]
    headers = {"HX-Request": "true"} if htmx else {}
    with rolled_back():
        before = counts()
        response = signed_in(site["reader"]).post(
            f"/resources/{approved.pk}/vote/", {"value": value}, headers=headers
        )
        if value in ("up", "down"):
            assert response.status_code in (200, 302)
            assert counts() == {**before, "Vote": before["Vote"] + 1}
        else:
            assert response.status_code == 400
            assert counts() == before


@FUZZ
@given(
    email=maybe(st.emails()),
    username=maybe(st.from_regex(r"[a-z][a-z0-9_]{2,20}", fullmatch=True)),
    password1=maybe(st.just("a long and unusual passphrase 42")),
    password2=maybe(st.just("a long and unusual passphrase 42")),
)
def test_signing_up_with_odd_input_creates_a_whole_account_or_nothing(
    email, username, password1, password2
):
    with rolled_back():
        before = counts()
        response = Client(REMOTE_ADDR=fresh_ip()).post(
            "/accounts/signup/",
            {"email": email, "username": username, "password1": password1, "password2": password2},
        )
        assert response.status_code in (200, 302)
        after = counts()
        if after["User"] == before["User"]:
            assert after == before
        else:
            assert response.status_code == 302
            assert after == {
                **before,
                "User": before["User"] + 1,
                "EmailAddress": before["EmailAddress"] + 1,
            }


@FUZZ
@given(login=odd_text, password=odd_text, remember=maybe(st.just("on")))
def test_signing_in_with_odd_input_never_signs_anyone_in(site, login, password, remember):
    client = Client(REMOTE_ADDR=fresh_ip())
    response = client.post(
        "/accounts/login/", {"login": login, "password": password, "remember": remember}
    )
    assert response.status_code in (200, 429)
    assert SESSION_KEY not in client.session


next_values = st.one_of(
    odd_text,
    st.sampled_from(["/", "/sections/tools/", "//evil.example/", "/\\evil.example", "/%0d%0a"]),
    st.from_regex(r"[a-z_:]{1,30}", fullmatch=True),
)


@FUZZ
@given(next_value=next_values, progress=st.booleans())
def test_a_vote_or_progress_mark_with_any_next_returns_to_a_local_page(site, next_value, progress):
    approved = site["approved"]
    address, form = (
        (f"/me/progress/{approved.pk}/", {"state": "done"})
        if progress
        else (f"/resources/{approved.pk}/vote/", {"value": "up"})
    )
    with rolled_back():
        response = signed_in(site["reader"]).post(address, {**form, "next": next_value})
        assert response.status_code == 302
        location = response["Location"]
        assert location.startswith("/") and not location.startswith(("//", "/\\")), location


@FUZZ
@given(
    raw=st.binary(max_size=200),
    charset=st.sampled_from(["utf-8", "utf-16", "utf-32", "latin-1", "cp037", "shift_jis", "x"]),
    multipart=st.booleans(),
)
def test_a_form_post_of_any_bytes_in_any_charset_is_never_a_500(site, raw, charset, multipart):
    kind = "multipart/form-data; boundary=xyz" if multipart else "application/x-www-form-urlencoded"
    with rolled_back():
        client = signed_in(site["reader"])
        client.raise_request_exception = False
        response = client.generic(
            "POST",
            f"/resources/{site['approved'].pk}/vote/",
            b"value=up&next=" + raw,
            content_type=f"{kind}; charset={charset}",
        )
        assert response.status_code < 500


# Query parameters and addresses

FILTER_NAMES = ("q", "section", "type", "tag", "level", "cost", "sort", "page")
filter_values = st.one_of(
    st.sampled_from(["tools", "mlops", "article", "free", "beginner", "top", "new", "trending"]),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    odd_text,
)


def query(names) -> st.SearchStrategy:
    return st.dictionaries(
        st.sampled_from(names),
        st.lists(filter_values, min_size=1, max_size=12),
        max_size=8,
    )


@FUZZ
@given(params=query(FILTER_NAMES), htmx=st.booleans())
def test_the_explorer_answers_any_query(site, params, htmx):
    headers = {"HX-Request": "true", "HX-Target": "results"} if htmx else {}
    response = Client().get("/resources/", params, headers=headers)
    assert response.status_code == 200


@FUZZ
@given(params=query(FILTER_NAMES), slug=st.one_of(st.just("mlops"), slugish))
def test_a_tag_page_answers_any_query(site, params, slug):
    response = Client().get(f"/tags/{slug}/", params)
    assert response.status_code in (200, 404)


@FUZZ
@given(params=query((*FILTER_NAMES, "page_size")))
def test_the_api_answers_any_query_with_json_200_or_400(site, params):
    response = Client().get("/api/resources/", params)
    if response.status_code == 404:
        pytest.skip("/api/resources/ does not exist yet")
    assert response.status_code in (200, 400)
    assert response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    assert ("results" in body) if response.status_code == 200 else ("errors" in body)


@FUZZ
@given(params=query(("page", "page_size")))
def test_the_api_section_list_answers_any_paging_with_json(site, params):
    response = Client().get("/api/sections/", params)
    assert response.status_code in (200, 400)
    json.loads(response.content)


@FUZZ
@given(page=st.lists(filter_values, max_size=3))
def test_the_moderation_log_answers_any_page(site, page):
    assert Client().get("/moderation/log/", {"page": page}).status_code == 200


@FUZZ
@given(username=st.one_of(odd_text, st.just("author")), page=odd_text)
def test_a_profile_address_with_any_username_is_a_page_or_a_404(site, username, page):
    response = Client().get(f"/u/{quote(username, safe='')}/", {"page": page})
    assert response.status_code in (200, 404)


@FUZZ
@given(slug=st.one_of(odd_text.map(lambda text: quote(text, safe="")), slugish))
def test_feeds_and_section_addresses_with_any_slug_are_a_page_or_a_404(site, slug):
    client = Client()
    for address in (
        f"/sections/{slug}/",
        f"/api/sections/{slug}/",
        f"/feeds/sections/{slug}/rss/",
        f"/feeds/sections/{slug}/atom/",
        f"/feeds/tags/{slug}/rss/",
        f"/feeds/tags/{slug}/atom/",
        f"/sitemap-{slug}.xml",
    ):
        assert client.get(address).status_code in (200, 404), address


# PostgreSQL cannot hold NUL in text: no NUL from an address may reach a query.


def test_a_profile_address_with_a_nul_is_a_404(site):
    response = Client(raise_request_exception=False).get("/u/%00/")
    assert response.status_code == 404


@pytest.mark.parametrize("path", ["/resources/", "/tags/mlops/"])
def test_a_nul_in_the_explorers_tag_parameter_is_not_an_error(site, path):
    response = Client(raise_request_exception=False).get(path, {"tag": "a\x00b"})
    assert response.status_code == 200


ADMIN_FILTER_NAMES = ("q", "status__exact", "tag", "section__id__exact", "cost__exact", "o", "p")


@FUZZ
@given(params=query(ADMIN_FILTER_NAMES))
def test_the_admin_resource_list_answers_any_filter(site, params):
    client = Client(raise_request_exception=False)
    client.force_login(VerifiedUserFactory(username="boss", is_staff=True, is_superuser=True))
    response = client.get("/admin/resources/resource/", params)
    assert response.status_code in (200, 302)
