import re

import pytest
from playwright.sync_api import Browser, expect

from resources.models import Progress, Resource
from tests.browser.helpers import PASSWORD, sign_in
from tests.factories import VerifiedUserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_reader_without_javascript_votes_and_marks_progress_back_on_the_card(
    live_server, small_roadmap, browser: Browser
):
    """The buttons submit the page's one form (its CSRF token and return address)."""
    VerifiedUserFactory(username="grace", password=PASSWORD)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    base = live_server.url
    sign_in(page, base, "grace")

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
