"""Stored XSS: classic payloads in every field people write, every page that shows them.

The Content-Security-Policy would stop inline scripts anyway; it is switched off here so that
what is tested is the escaping and sanitising itself, and a payload that got through would run.
"""

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest
from django.test import Client
from playwright.sync_api import Page, expect

from accounts.models import User
from resources.models import FlagReason, Resource
from resources.moderation import approve_resource, archive_resource, reject_resource
from tests.factories import ResourceFactory, SectionFactory, VerifiedUserFactory
from tests.resources.moderation_factories import (
    FlagFactory,
    SuggestionFactory,
    make_moderator,
    make_superuser,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAYLOADS = [
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=1">',
    '"><svg onload=window.__xss=1>',
    "javascript:window.__xss=1",
    "[x](javascript:window.__xss=1)",
    '<iframe src="javascript:window.__xss=1"></iframe>',
    '<p style="background:url(javascript:window.__xss=1)">styled</p>',
    "<img src=x onerror=alert(1)>",
    "{{ 7*7 }}",
]
MARKDOWN = "\n\n".join([*PAYLOADS, '<a href="javascript:window.__xss=1">click</a>'])
HOSTILE_NAME = '"><svg onload=window.__xss=1>'
HOSTILE_MODERATOR = "<img src=x onerror=window.__xss=1>"
# Attributes that may legitimately carry the payload as escaped text.
TEXT_ATTRIBUTES = [
    *("value", "title", "content", "alt", "aria-label", "placeholder"),
    *("href", "src", "action", "formaction"),  # checked for javascript: on their own
]

FIND_INJECTIONS = """(textAttributes) => {
  const found = [];
  const urlAttributes = ['href', 'src', 'action', 'formaction', 'xlink:href', 'data',
                         'hx-get', 'hx-post', 'hx-put', 'hx-delete', 'hx-patch',
                         'data-hx-get', 'data-hx-post', 'data-hx-put', 'data-hx-delete',
                         'data-hx-patch'];
  for (const el of document.querySelectorAll('*')) {
    const tag = el.tagName.toLowerCase();
    if (['iframe', 'object', 'embed'].includes(tag)) found.push(`<${tag}>`);
    if (tag === 'script' && el.textContent.includes('__xss')) found.push('inline <script>');
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      const value = attr.value.replace(/[\\s\\u0000-\\u001f]/g, '').toLowerCase();
      if (name.startsWith('on')) found.push(`<${tag} ${name}>`);
      else if (urlAttributes.includes(name) && value.startsWith('javascript:'))
        found.push(`<${tag} ${name}="${attr.value}">`);
      else if (name === 'style' && /xss|javascript|url\\(/.test(value))
        found.push(`<${tag} style="${attr.value}">`);
      else if (!textAttributes.includes(name) && !urlAttributes.includes(name)
               && !name.startsWith('data-') && value.includes('__xss'))
        found.push(`<${tag} ${name}="${attr.value}">`);
    }
  }
  return found;
}"""


@pytest.fixture(autouse=True)
def _no_content_security_policy(settings):
    settings.CONTENT_SECURITY_POLICY = None


@pytest.fixture
def hostile(live_server):
    """Payloads in every field a reader or moderator writes."""
    moderator = make_moderator("moderator")
    User.objects.filter(pk=moderator.pk).update(username=HOSTILE_MODERATOR)
    moderator.refresh_from_db()
    # The sign-up form refuses such a name (see below); an account made another way must
    # still be harmless.
    author = VerifiedUserFactory(username=HOSTILE_NAME)
    section = SectionFactory(slug="hostile", title=PAYLOADS[2], body=MARKDOWN, summary=PAYLOADS[0])
    resources = [
        ResourceFactory(
            title=payload,
            url=f"https://example.com/xss/{number}",
            description=MARKDOWN,
            provider=PAYLOADS[(number + 1) % len(PAYLOADS)],
            section=section,
            submitted_by=author,
        )
        for number, payload in enumerate(PAYLOADS)
    ]
    # Tags are checked by the suggestion form, but moderators may name them freely in the admin.
    resources[0].tags.add(PAYLOADS[0], PAYLOADS[2])
    FlagFactory(resource=resources[0], reason=FlagReason.OTHER, note=MARKDOWN)
    rejected = SuggestionFactory(
        title=PAYLOADS[1], url="https://example.com/xss/rejected", section=section,
        submitted_by=author,
    )  # fmt: skip
    reject_resource(resource=rejected, moderator=moderator, reason=MARKDOWN)
    archived = ResourceFactory(
        title=PAYLOADS[6], url="https://example.com/xss/archived", section=section
    )
    archive_resource(resource=archived, moderator=moderator, reason=PAYLOADS[2])
    approve_resource(
        resource=SuggestionFactory(
            title=PAYLOADS[3], url="https://example.com/xss/approved", section=section
        ),
        moderator=moderator,
    )
    return {
        "base": live_server.url,
        "section": section,
        "resources": resources,
        "author": author,
        "tag_slug": resources[0].tags.get(name=PAYLOADS[0]).slug,
        "superuser": make_superuser("root"),
        "moderator": moderator,
    }


@pytest.fixture
def watched(page: Page):
    """The page, with dialogs recorded and links to the outside world answered locally."""
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.route(
        "https://example.com/**",
        lambda route: route.fulfill(status=200, content_type="text/html", body="outside"),
    )
    page.dialogs = dialogs
    return page


def sign_in(page: Page, base: str, user) -> None:
    client = Client()
    client.force_login(user)
    page.context.clear_cookies()
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}]
    )


def assert_inert(page: Page, where: str) -> None:
    assert page.evaluate("typeof window.__xss") == "undefined", where
    assert page.dialogs == [], where
    assert page.evaluate(FIND_INJECTIONS, TEXT_ATTRIBUTES) == [], where


def visit(page: Page, url: str) -> None:
    response = page.goto(url)
    assert response.status == 200, url
    assert "content-security-policy" not in response.headers  # the policy is off here
    assert_inert(page, url)


def public_pages(hostile) -> list[str]:
    base, first = hostile["base"], hostile["resources"][0]
    return [
        f"{base}/",
        f"{base}/sections/hostile/",
        f"{base}/sections/hostile/?all=1",  # every card, not only the best few
        f"{base}/resources/",
        f"{base}/resources/?q=script",
        f"{base}/tags/",
        f"{base}/tags/{hostile['tag_slug']}/",
        f"{base}/moderation/log/",
        f"{base}/u/{first.submitted_by.get_absolute_url().split('/u/')[1]}",
        *(f"{base}{resource.get_absolute_url()}" for resource in hostile["resources"]),
    ]


def test_payloads_stay_text_on_every_public_page(hostile, watched: Page):
    for url in public_pages(hostile):
        visit(watched, url)
    # Escaped, not dropped: the template string is shown as it was written, not evaluated.
    watched.goto(hostile["base"] + hostile["resources"][-1].get_absolute_url())
    expect(watched.get_by_role("heading", level=1)).to_have_text("{{ 7*7 }}")


def test_the_submitters_own_pages_show_the_payloads_as_text(hostile, watched: Page):
    sign_in(watched, hostile["base"], hostile["author"])
    visit(watched, hostile["base"] + "/resources/mine/")
    expect(watched.locator(".rejection-reason")).to_contain_text("<script>window.__xss=1</script>")
    visit(watched, hostile["base"] + hostile["author"].get_absolute_url())
    expect(watched.get_by_role("heading", level=1)).to_have_text(HOSTILE_NAME)


def test_links_made_from_user_input_are_safe_to_click(hostile, watched: Page):
    base = hostile["base"]
    first = hostile["resources"][0]
    visit(watched, base + "/sections/hostile/?all=1")
    card = watched.locator(f"#resource-{first.pk}")

    # The title links to the resource's own http(s) address, nothing else.
    card.get_by_role("link", name=first.title, exact=True).click()
    expect(watched).to_have_url("https://example.com/xss/0")
    assert_inert(watched, "the title link")

    # The Markdown links whose target was javascript: lost their target.
    visit(watched, base + first.get_absolute_url())
    for text in ("x", "click"):
        link = watched.locator(".prose a", has_text=re.compile(f"^{text}$")).first
        assert link.get_attribute("href") is None
        link.click()
        expect(watched).to_have_url(base + first.get_absolute_url())
        assert_inert(watched, f"the Markdown link {text!r}")

    # The tag and the submitter's name lead to their pages on this site.
    watched.get_by_role("link", name=f"#{PAYLOADS[0]}", exact=True).first.click()
    expect(watched).to_have_url(f"{base}/tags/{hostile['tag_slug']}/")
    assert_inert(watched, "the tag link")
    visit(watched, base + first.get_absolute_url())
    watched.locator(f'a[href="{hostile["author"].get_absolute_url()}"]').first.click()
    expect(watched.get_by_role("heading", level=1)).to_have_text(HOSTILE_NAME)
    assert_inert(watched, "the submitter link")

    # The moderation log links each decision to its resource.
    visit(watched, base + "/moderation/log/")
    watched.locator(".log-resource a").first.click()
    assert_inert(watched, "a moderation log link")


def test_the_admin_shows_the_payloads_as_text(hostile, watched: Page):
    base, first = hostile["base"], hostile["resources"][0]
    sign_in(watched, base, hostile["superuser"])
    flag = first.flags.get()
    event = hostile["moderator"].moderation_events.first()
    for path in (
        "/admin/",
        "/admin/resources/resource/",
        f"/admin/resources/resource/{first.pk}/change/",
        f"/admin/resources/resource/{first.pk}/merge/",
        "/admin/resources/flag/",
        f"/admin/resources/flag/{flag.pk}/change/",
        "/admin/resources/moderationevent/",
        f"/admin/resources/moderationevent/{event.pk}/change/",
        f"/admin/roadmap/section/{hostile['section'].pk}/change/",
        f"/admin/accounts/user/{hostile['author'].pk}/change/",
        "/admin/taggit/tag/",
    ):
        visit(watched, base + path)
    expect(watched.locator("#result_list")).to_contain_text(PAYLOADS[0])


class MarkupFinder(HTMLParser):
    """Elements and attributes in an HTML fragment that could run script."""

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "iframe", "svg", "img", "object", "embed", "style"):
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            squashed = re.sub(r"[\s\x00-\x1f]", "", value or "").lower()
            if name.startswith("on") or name == "style" or squashed.startswith("javascript:"):
                self.found.append(f"<{tag} {name}={value!r}>")


def dangerous_markup(html: str) -> list[str]:
    finder = MarkupFinder()
    finder.feed(html)
    return finder.found


def test_feeds_carry_the_payloads_only_as_escaped_text(hostile, watched: Page):
    base = hostile["base"]
    for path in (
        "/feeds/resources/rss/",
        "/feeds/resources/atom/",
        "/feeds/sections/hostile/rss/",
        "/feeds/sections/hostile/atom/",
        f"/feeds/tags/{hostile['tag_slug']}/rss/",
    ):
        response = watched.request.get(base + path)
        assert response.status == 200, path
        tree = ET.fromstring(response.body())  # noqa: S314 - our own feed, in a test
        # No element came from a payload: they are all text inside the feed's own elements.
        tags = {element.tag.rsplit("}", 1)[-1].lower() for element in tree.iter()}
        assert not tags & {"script", "svg", "img", "iframe", "p", "a"}, path
        for item in feed_items(tree):
            for element in item.iter():
                name = element.tag.rsplit("}", 1)[-1]
                if name in ("description", "summary", "content") and element.text:
                    # Readers render these as HTML: only the sanitised description may be here.
                    assert dangerous_markup(element.text) == [], (path, element.text)


def feed_items(tree) -> list:
    return [e for e in tree.iter() if e.tag.rsplit("}", 1)[-1] in ("item", "entry")]


@pytest.mark.parametrize("kind", ["sections/hostile", "tags/TAG"])
def test_the_rss_channel_description_carries_names_as_escaped_html(hostile, watched, kind):
    path = f"/feeds/{kind.replace('TAG', hostile['tag_slug'])}/rss/"
    tree = ET.fromstring(watched.request.get(hostile["base"] + path).body())  # noqa: S314
    description = tree.find("channel/description").text
    assert dangerous_markup(description) == []


def test_the_sign_up_form_refuses_a_username_made_of_markup(live_server, watched: Page):
    watched.goto(live_server.url + "/accounts/signup/")
    watched.get_by_label(re.compile("^E-?mail", re.I)).fill("mallory@example.com")
    watched.get_by_label("Username").fill(HOSTILE_NAME)
    watched.get_by_label("Password", exact=True).fill("a long and unusual passphrase 42")
    watched.get_by_label(re.compile("Password.*again", re.I)).fill(
        "a long and unusual passphrase 42"
    )
    watched.get_by_role("button", name=re.compile("Sign up|Create account", re.I)).click()
    expect(watched.locator(".errorlist, .field-error, [role=alert]").first).to_be_visible()
    assert_inert(watched, "the refused sign-up")
    assert not User.objects.filter(email="mallory@example.com").exists()


def test_the_suggestion_form_refuses_script_links_and_markup_tags(hostile, watched: Page):
    base = hostile["base"]
    # A new member: the author already made the most suggestions allowed in a day.
    sign_in(watched, base, VerifiedUserFactory(username="suggester"))
    before = Resource.objects.count()

    def suggest(url: str, tags: str) -> None:
        watched.goto(base + "/resources/suggest/")
        watched.get_by_label("Title").fill(PAYLOADS[0])
        watched.get_by_label("Link").fill(url)
        watched.get_by_label("Type").select_option("article")
        watched.get_by_label("Cost").select_option("free")
        watched.get_by_label("Section").select_option(str(hostile["section"].pk))
        watched.get_by_label("Tags").fill(tags)
        watched.get_by_label("Provider or author").fill(PAYLOADS[2])
        watched.get_by_label("Description").fill(MARKDOWN)
        watched.get_by_role("button", name="Submit for review").click()

    suggest("javascript:window.__xss=1", "mlops")
    assert_inert(watched, "the refused link")
    suggest("https://example.com/xss/new", "<script>window.__xss=1</script>")
    assert_inert(watched, "the refused tags")
    assert Resource.objects.count() == before

    suggest("https://example.com/xss/new", "mlops")
    # Its title is that of a resource on the roadmap: the warning names it, inert.
    expect(watched.get_by_text("This looks like #")).to_be_visible()
    assert_inert(watched, "the look-alike warning")
    watched.get_by_label("It is a different resource").check()
    watched.get_by_role("button", name="Submit for review").click()
    expect(watched).to_have_url(base + "/resources/mine/")
    assert_inert(watched, "my suggestions after suggesting")
    stored = Resource.objects.get(url="https://example.com/xss/new")
    assert stored.title == PAYLOADS[0]
    assert dangerous_markup(stored.description_html) == []
