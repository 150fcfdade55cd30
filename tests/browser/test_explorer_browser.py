import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def resources_heading(count: int, query: str = "") -> str:
    noun = "resource" if count == 1 else "resources"
    return f"{count} {noun} matching “{query}”" if query else f"{count} {noun}"


def mentions(resource, word: str) -> bool:
    return word in f"{resource.title} {resource.description}".lower()


def test_a_reader_searches_and_filters_the_explorer_in_place(
    live_server, small_roadmap, page: Page
):
    everything = small_roadmap.resources
    monitoring = [item for item in everything if mentions(item, "monitoring")]
    monitoring_tools = [item for item in monitoring if item.meta["type"] == "tool"]
    # The fixture gives each step something to narrow: a search that finds some resources
    # but not all, of which some but not all are tools.
    assert 0 < len(monitoring_tools) < len(monitoring) < len(everything)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))

    page.goto(live_server.url + "/resources/")
    heading = page.locator("#results-heading")
    expect(heading).to_have_text(resources_heading(len(everything)))
    page.evaluate("window.__sameDocument = true")

    page.get_by_label("Search").fill("monitoring")
    expect(heading).to_have_text(resources_heading(len(monitoring), "monitoring"))
    expect(page).to_have_url(re.compile(r"q=monitoring"))
    cards = page.locator("#results .card")
    expect(cards).to_have_count(len(monitoring))

    expect(page.locator("#filter-panel")).to_have_attribute("open", "")  # room beside results
    page.get_by_label("Tool", exact=True).check()
    expect(heading).to_have_text(resources_heading(len(monitoring_tools), "monitoring"))
    expect(page).to_have_url(re.compile(r"type=tool"))
    expect(cards).to_have_count(len(monitoring_tools))
    expect(page.locator("#results .card .badge-tool")).to_have_count(len(monitoring_tools))
    expect(page.get_by_role("link", name="Remove filter: Tool")).to_be_visible()
    expect(page.locator("#filter-count")).to_have_text("(1) in use")
    for tool in monitoring_tools:
        expect(cards.get_by_role("link", name=tool.title, exact=True)).to_be_visible()
    assert page.evaluate("window.__sameDocument") is True  # updated without a page load

    page.get_by_label("Sort by").select_option("new")
    expect(page).to_have_url(re.compile(r"sort=new"))

    # The state is in the URL: opening it afresh gives the same results.
    filtered = heading.inner_text()
    page.goto(page.url)
    expect(page.locator("#results-heading")).to_have_text(filtered)
    assert errors == []


def test_the_explorer_works_without_javascript(live_server, small_roadmap, browser):
    [kubeflow] = [item for item in small_roadmap.resources if mentions(item, "kubeflow")]
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + "/resources/")
    page.get_by_label("Search").fill("kubeflow")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page).to_have_url(re.compile(r"q=kubeflow"))
    expect(page.locator("#results-heading")).to_have_text(resources_heading(1, "kubeflow"))
    expect(page.locator("#results .card").first).to_contain_text(kubeflow.title)
    context.close()
