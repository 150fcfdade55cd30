import re

import pytest
from playwright.sync_api import Page, expect

from resources.models import Progress
from tests.browser.helpers import PASSWORD, sign_in
from tests.factories import VerifiedUserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_reader_marks_resources_in_place_and_finds_them_on_my_learning(
    live_server, small_roadmap, page: Page
):
    [courses] = [item for item in small_roadmap.sections if item.slug == "courses"]
    base = live_server.url
    VerifiedUserFactory(username="grace", password=PASSWORD)
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, base, "grace")

    page.goto(base + "/sections/courses/")
    card = page.locator("article.card").first
    title = card.locator(".card-title").inner_text()
    done = card.get_by_role("button", name=re.compile("^Done"))
    expect(done).to_have_attribute("aria-pressed", "false")
    done.click()
    expect(done).to_have_attribute("aria-pressed", "true")  # swapped in place by htmx
    assert page.url == base + "/sections/courses/"
    card.get_by_role("button", name=re.compile("^Save")).click()
    expect(card.get_by_role("button", name=re.compile("^Save"))).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(card.get_by_role("button", name=re.compile("^Done"))).to_have_attribute(
        "aria-pressed", "false"
    )
    assert Progress.objects.get().state == "saved"

    page.reload()
    # Saved is not done.
    expect(page.get_by_text(f"0 of {len(courses.resources)} done").first).to_be_visible()
    page.goto(base + "/me/learning/")
    saved = page.locator("section", has=page.get_by_role("heading", name=re.compile("^Saved")))
    expect(saved.get_by_role("link", name=title, exact=True)).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download my progress as JSON").click()
    assert download.value.suggested_filename.endswith(".json")
    assert errors == []
