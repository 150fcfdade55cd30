import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_reader_follows_a_section_node_and_toggles_dark_mode(
    live_server, small_roadmap, page: Page
):
    sections = {item.slug: item for item in small_roadmap.sections}
    learning, books = sections["learning-resources"], sections["books"]
    assert books.parent is learning
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(live_server.url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text(small_roadmap.title)
    total = len(small_roadmap.resources)
    expect(page.locator(".hero .lead")).to_contain_text(f" {total} resources, ranked")
    page.locator(".map-node", has_text=learning.title).click()

    # A section's page shows the resources of its sub-sections too.
    expect(page).to_have_url(live_server.url + "/sections/learning-resources/")
    expect(page.get_by_role("heading", level=1)).to_have_text(learning.title)
    book = books.resources[0].title
    expect(page.get_by_role("link", name=book, exact=True)).to_be_visible()

    toggle = page.get_by_role("button", name="Dark mode")
    expect(toggle).to_be_visible()
    before = page.evaluate("getComputedStyle(document.body).backgroundColor")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    box = toggle.bounding_box()
    assert box["width"] >= 44 and box["height"] >= 44  # a real control, not a glyph
    toggle.click()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    expect(page.get_by_role("button", name="Dark mode")).to_have_attribute("aria-pressed", "true")
    after = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert before != after

    page.reload()  # the choice is remembered
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    assert errors == []
