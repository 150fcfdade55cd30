import pytest
from playwright.sync_api import Page, expect

from roadmap.services import load_roadmap

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def loaded_site(live_server):
    load_roadmap()
    return live_server


def test_reader_follows_a_section_node_and_toggles_dark_mode(loaded_site, page: Page):
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(loaded_site.url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("MLOps Roadmap")
    page.locator(".path-card", has_text="MLOps Learning Resources").click()

    expect(page).to_have_url(loaded_site.url + "/sections/learning-resources/")
    expect(page.get_by_role("heading", level=1)).to_have_text("MLOps Learning Resources")
    expect(page.get_by_role("link", name="Practical MLOps", exact=True)).to_be_visible()

    toggle = page.get_by_role("button", name="Dark mode")
    expect(toggle).to_be_visible()
    before = page.evaluate("getComputedStyle(document.body).backgroundColor")
    toggle.click()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    after = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert before != after

    page.reload()  # the choice is remembered
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    assert errors == []
