import re

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from accounts.models import User
from resources.models import Resource, Status
from resources.moderation import approve_resource
from tests.browser.helpers import PASSWORD, sign_in
from tests.factories import VerifiedUserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_newcomer_signs_up_suggests_and_sees_it_voted_on(
    live_server, small_roadmap, page: Page, browser
):
    [articles] = [item for item in small_roadmap.sections if item.slug == "articles"]
    assert articles.parent is not None  # a sub-section: the menu indents it
    base = live_server.url

    # Sign up, then follow the link in the verification mail.
    page.goto(base + "/accounts/signup/")
    page.get_by_label(re.compile("^E-?mail", re.I)).fill("ada@example.com")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label(re.compile("Password.*again|Confirm password", re.I)).fill(PASSWORD)
    page.get_by_role("button", name=re.compile("Sign up|Create account", re.I)).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(re.compile("verify", re.I))
    [message] = mail.outbox
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", message.body).group(0)
    page.goto(base + link[link.index("/accounts/") :])
    page.get_by_role("button", name=re.compile("Confirm", re.I)).click()

    # Suggest a resource; it waits for review in "My suggestions".
    if "/accounts/login/" in page.url:
        sign_in(page, base, "ada", PASSWORD)
    page.goto(base + "/resources/suggest/")
    page.get_by_label("Title").fill("Monitoring ML models in production")
    page.get_by_label("Link").fill("https://example.org/monitoring-ml?utm_source=newsletter")
    page.get_by_label("Type").select_option("article")
    page.get_by_label("Cost").select_option("free")
    page.get_by_label("Section").select_option(label=f"— {articles.title}")
    page.get_by_label("Tags").fill("monitoring, drift")
    page.get_by_role("button", name="Submit for review").click()
    expect(page).to_have_url(base + "/resources/mine/")
    suggestion = page.locator(".suggestion", has_text="Monitoring ML models in production")
    expect(suggestion).to_contain_text("Pending review")

    # A moderator approves it through the service.
    resource = Resource.objects.get(title="Monitoring ML models in production")
    approve_resource(resource=resource, moderator=VerifiedUserFactory(is_staff=True))
    assert Resource.objects.get(pk=resource.pk).status == Status.APPROVED

    # Another member votes on it and the score changes without a page load.
    VerifiedUserFactory(username="grace", password=PASSWORD)
    other = browser.new_context()
    reader = other.new_page()
    sign_in(reader, base, "grace", PASSWORD)
    reader.goto(base + "/sections/articles/")
    card = reader.locator(f"#resource-{resource.pk}")
    expect(card.locator(".score-value")).to_have_text("Score 0")
    reader.evaluate("window.__sameDocument = true")
    card.get_by_role("button", name=re.compile("Vote up")).click()
    expect(card.locator(".score-value")).to_have_text("Score 1")
    expect(card.get_by_role("button", name=re.compile("Vote up"))).to_have_attribute(
        "aria-pressed", "true"
    )
    assert reader.evaluate("window.__sameDocument") is True  # no reload happened
    assert Resource.objects.get(pk=resource.pk).upvotes == 1
    assert User.objects.filter(username="ada").exists()
    other.close()
