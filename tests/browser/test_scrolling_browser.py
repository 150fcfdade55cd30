import re

import pytest
from playwright.sync_api import Page, expect

from resources.models import Resource
from tests.browser.helpers import PASSWORD, sign_in
from tests.factories import VerifiedUserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def assert_below_the_header(page: Page, selector: str) -> None:
    header = page.locator(".site-header").bounding_box()
    target = page.locator(selector).bounding_box()
    assert page.evaluate("window.scrollY") > 0  # the page did scroll to it
    assert target["y"] >= header["y"] + header["height"]


@pytest.fixture
def short_window(page: Page) -> Page:
    page.set_viewport_size({"width": 1366, "height": 500})  # the header is sticky this wide
    return page


def test_a_card_linked_by_its_fragment_is_not_under_the_header(
    live_server, small_roadmap, short_window: Page
):
    page = short_window
    page.goto(live_server.url + "/sections/courses/")
    cards = page.locator("article.card")
    card_id = cards.nth(cards.count() - 2).get_attribute("id")
    page.goto(live_server.url + f"/sections/courses/#{card_id}")
    assert_below_the_header(page, f"#{card_id}")


def test_a_contents_link_brings_its_heading_below_the_header(
    live_server, small_roadmap, short_window: Page
):
    page = short_window
    page.goto(live_server.url + "/sections/learning-resources/")
    page.locator(".toc").get_by_role("link", name="Articles and guides").click()
    expect(page).to_have_url(re.compile("#articles$"))
    assert_below_the_header(page, "#heading-articles")


def test_a_vote_without_javascript_returns_to_the_card_below_the_header(
    live_server, small_roadmap, browser
):
    VerifiedUserFactory(username="grace", password=PASSWORD)
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1366, "height": 500}
    )
    page = context.new_page()
    sign_in(page, live_server.url, "grace")
    page.goto(live_server.url + "/sections/courses/")
    cards = page.locator("article.card")
    card = cards.nth(cards.count() - 2)
    card_id = card.get_attribute("id")
    card.get_by_role("button", name=re.compile("^Vote up")).click()
    expect(page).to_have_url(re.compile(f"#{card_id}$"))
    assert Resource.objects.get(pk=card_id.removeprefix("resource-")).upvotes == 1
    assert_below_the_header(page, f"#{card_id}")
    context.close()
