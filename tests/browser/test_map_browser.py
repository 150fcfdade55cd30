"""A signed-in reader follows the map: opens a topic, marks resources done, and finds the
topic's status and their next step moved when they come back."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import PASSWORD, sign_in
from tests.factories import VerifiedUserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def node(page: Page, title: str):
    return page.locator(".map a.map-node", has=page.locator(".map-node-title", has_text=title))


def test_marking_resources_done_moves_a_topic_to_in_progress_then_done_and_the_next_step(
    live_server, small_roadmap, page: Page
):
    sections = {item.slug: item for item in small_roadmap.sections}
    courses, books, learning = (
        sections["courses"],
        sections["books"],
        sections["learning-resources"],
    )
    assert len(courses.resources) == 3  # done at min(3, its resources)
    base = live_server.url
    VerifiedUserFactory(username="grace", password=PASSWORD)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, base, "grace")

    page.goto(base + "/")
    next_step = page.locator(".map-next a")
    expect(next_step).to_have_text(courses.title)
    expect(node(page, courses.title).locator(".map-status")).to_have_text("Status: Not started")
    # The prose page is linked from the introduction, not drawn as a step.
    expect(page.locator(".map-pages").get_by_role("link", name="What is MLOps?")).to_be_visible()
    expect(page.locator(".map").get_by_text("What is MLOps?")).to_have_count(0)

    node(page, courses.title).click()
    expect(page).to_have_url(base + f"/sections/{courses.slug}/")
    cards = page.locator("article.card")
    first = cards.nth(0).get_by_role("button", name=re.compile("^Done"))
    first.click()
    expect(first).to_have_attribute("aria-pressed", "true")

    page.goto(base + "/")
    expect(node(page, courses.title).locator(".map-status")).to_have_text("Status: In progress")
    expect(node(page, learning.title).locator(".map-status")).to_have_text("Status: In progress")
    expect(next_step).to_have_text(courses.title)

    node(page, courses.title).click()
    for index in (1, 2):
        done = cards.nth(index).get_by_role("button", name=re.compile("^Done"))
        done.click()
        expect(done).to_have_attribute("aria-pressed", "true")
    page.reload()
    expect(page.locator(".topic-status")).to_contain_text("Status: Done")

    page.goto(base + "/")
    expect(node(page, courses.title).locator(".map-status")).to_have_text("Status: Done")
    expect(next_step).to_have_text(books.title)  # Books builds on Courses, done now
    expect(node(page, books.title)).to_contain_text("Next step")
    assert errors == []
