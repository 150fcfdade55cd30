import re

import pytest
from playwright.sync_api import Browser, expect

from resources.models import Progress, Resource
from tests.factories import VerifiedUserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long and unusual passphrase 42"


def test_a_reader_without_javascript_votes_and_marks_progress_back_on_the_card(
    live_server, small_roadmap, browser: Browser
):
    """The buttons submit the page's one form (its CSRF token and return address)."""
    VerifiedUserFactory(username="grace", password=PASSWORD)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    base = live_server.url
    page.goto(base + "/accounts/login/")
    page.get_by_label(re.compile("Username or e-?mail", re.I)).fill("grace")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name=re.compile("^(Sign in|Log in)$", re.I)).click()

    page.goto(base + "/sections/courses/?sort=new")
    card = page.locator("article.card").first
    pk = int(card.get_attribute("id").removeprefix("resource-"))
    card.get_by_role("button", name=re.compile("^Vote up")).click()
    assert page.url == f"{base}/sections/courses/?sort=new#resource-{pk}"
    card = page.locator(f"#resource-{pk}")
    expect(card.locator(".score-value")).to_have_text("Score 1")
    expect(card.get_by_role("button", name=re.compile("^Vote up"))).to_have_attribute(
        "aria-pressed", "true"
    )
    card.get_by_role("button", name=re.compile("^Done")).click()
    done = page.locator(f"#resource-{pk}").get_by_role("button", name=re.compile("^Done"))
    expect(done).to_have_attribute("aria-pressed", "true")
    assert Resource.objects.get(pk=pk).upvotes == 1
    assert Progress.objects.get(resource_id=pk).state == "done"
    context.close()
