import re

import pytest
from playwright.sync_api import Page, expect

from roadmap.services import load_roadmap

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_reader_searches_and_filters_the_explorer_in_place(live_server, page: Page):
    load_roadmap()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))

    page.goto(live_server.url + "/resources/")
    heading = page.locator("#results-heading")
    expect(heading).to_contain_text("119 resources")
    page.evaluate("window.__sameDocument = true")

    page.get_by_label("Search").fill("monitoring")
    expect(heading).to_contain_text(re.compile(r"\d+ resources? matching “monitoring”"))
    expect(page).to_have_url(re.compile(r"q=monitoring"))
    searched = int(heading.inner_text().split()[0])
    assert 0 < searched < 119

    page.get_by_text("Type, level and cost").click()
    page.get_by_label("Tool", exact=True).check()
    expect(heading).not_to_contain_text(f"{searched} resource")
    expect(page).to_have_url(re.compile(r"type=tool"))
    badges = page.locator("#results .card .badge-tool")
    cards = page.locator("#results .card")
    expect(cards.first).to_be_visible()
    assert badges.count() == cards.count()
    assert page.evaluate("window.__sameDocument") is True  # updated without a page load

    page.get_by_label("Sort by").select_option("new")
    expect(page).to_have_url(re.compile(r"sort=new"))

    # The state is in the URL: opening it afresh gives the same results.
    filtered = heading.inner_text()
    page.goto(page.url)
    expect(page.locator("#results-heading")).to_have_text(filtered)
    assert errors == []


def test_the_explorer_works_without_javascript(live_server, browser):
    load_roadmap()
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + "/resources/")
    page.get_by_label("Search").fill("kubeflow")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"q=kubeflow"))
    expect(page.locator("#results .card").first).to_contain_text(re.compile("Kubeflow", re.I))
    context.close()
