"""Issue 14, phone and density: results first, a header menu, 44 px targets, tables that fit."""

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from resources.models import Resource
from resources.moderation import approve_resource, reject_resource
from tests.browser.helpers import PASSWORD, sign_in
from tests.factories import ResourceFactory, VerifiedUserFactory
from tests.resources.moderation_factories import SuggestionFactory, make_moderator

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def phone(browser: Browser, *, javascript: bool = True) -> Page:
    context = browser.new_context(viewport=PHONE, java_script_enabled=javascript, has_touch=True)
    return context.new_page()


def top_of(page: Page, selector: str) -> float:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    return box["y"] + page.evaluate("window.scrollY")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
@pytest.mark.parametrize("path", ["/resources/", "/resources/?q=monitoring", "/tags/mlflow/"])
def test_the_first_result_is_on_the_first_phone_screen(
    live_server, small_roadmap, browser, path, javascript
):
    page = phone(browser, javascript=javascript)
    page.goto(live_server.url + path)
    title = page.locator("#results .card .card-title").first
    expect(title).to_be_visible()
    box = title.bounding_box()
    assert box["y"] + box["height"] <= PHONE["height"], box
    # The filters wait behind their disclosure, the popular tags come after the results.
    expect(page.get_by_label("Sort by")).to_be_hidden()
    assert top_of(page, ".popular-tags") > top_of(page, "#results .card")
    page.context.close()


def test_filters_open_from_their_disclosure_and_chips_remove_them_without_javascript(
    live_server, small_roadmap, browser
):
    page = phone(browser, javascript=False)
    page.goto(live_server.url + "/resources/")
    summary = page.locator("#filter-panel > summary")
    expect(summary).to_have_text(re.compile(r"^\s*Filters\s*$"))
    summary.click()
    page.get_by_label("Tool", exact=True).check()
    page.get_by_label("Free", exact=True).check()
    page.get_by_role("button", name="Apply").click()
    tools = [item for item in small_roadmap.resources if item.meta["type"] == "tool"]
    free_tools = [item for item in tools if item.meta["cost"] == "free"]
    expect(page.locator("#results .card")).to_have_count(len(free_tools))
    expect(page.locator("#filter-panel > summary")).to_contain_text("Filters (2)")

    page.get_by_role("link", name="Remove filter: Free").click()
    expect(page).not_to_have_url(re.compile("cost="))
    expect(page).to_have_url(re.compile("type=tool"))
    expect(page.locator("#results .card")).to_have_count(len(tools))
    expect(page.locator("#filter-panel > summary")).to_contain_text("Filters (1)")
    page.context.close()


def test_the_header_is_one_row_at_1024_and_a_menu_on_a_phone(live_server, small_roadmap, page):
    moderator = make_moderator("a-rather-long-moderator-name")
    moderator.set_password(PASSWORD)
    moderator.save()
    sign_in(page, live_server.url, moderator.username)
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto(live_server.url + "/resources/")
    items = page.locator(".site-nav li")
    expect(items.last).to_be_visible()
    tops = {round(box["y"]) for box in (item.bounding_box() for item in items.all())}
    assert len(tops) == 1, tops  # one row
    assert page.locator(".site-header").bounding_box()["height"] < 80

    page.set_viewport_size(PHONE)
    expect(page.locator(".site-nav")).to_be_hidden()
    header = page.locator(".site-header").bounding_box()
    assert header["height"] < 80
    sign_out = page.get_by_role("button", name="Sign out")
    expect(sign_out).to_be_hidden()
    page.get_by_text("Menu", exact=True).click()
    expect(sign_out).to_be_visible()
    expect(page.get_by_role("link", name="My learning")).to_be_visible()


def test_the_phone_menu_works_without_javascript(live_server, small_roadmap, browser):
    page = phone(browser, javascript=False)
    page.goto(live_server.url + "/")
    join = page.get_by_role("link", name="Join")
    expect(join).to_be_hidden()
    page.get_by_text("Menu", exact=True).click()
    expect(join).to_be_visible()
    join.click()
    expect(page).to_have_url(re.compile("/accounts/signup/"))
    page.context.close()


def test_touch_targets_are_at_least_44_px(live_server, small_roadmap, browser):
    VerifiedUserFactory(username="grace", password=PASSWORD)
    page = phone(browser)
    sign_in(page, live_server.url, "grace")
    page.goto(live_server.url + "/resources/")
    card = page.locator("#results .card").first
    targets = [
        *card.locator(".progress-button").all(),
        *card.locator(".vote-button").all(),
        *card.locator("a.tag").all(),
        card.locator(".details-link"),
        page.locator("#theme-toggle"),
        page.locator(".site-menu > summary"),
        *page.locator(".popular-tags li a").all()[:3],
    ]
    assert len(targets) >= 10
    for target in targets:
        box = target.bounding_box()
        assert box["height"] >= 44, (target, box)
    toggle = page.locator("#theme-toggle").bounding_box()
    assert toggle["width"] >= 44
    page.context.close()


def test_anonymous_cards_show_no_zero_scores_and_one_sign_in_hint(live_server, small_roadmap, page):
    voted = Resource.objects.approved().first()
    voted.upvotes = 3
    voted.save(update_fields=["upvotes"])
    page.goto(live_server.url + "/resources/")
    expect(page.locator("#results .card")).to_have_count(len(small_roadmap.resources))
    expect(page.get_by_text("to vote on resources")).to_have_count(1)
    expect(page.get_by_text("Sign in to vote", exact=True)).to_have_count(0)
    expect(page.locator("#results .score-value")).to_have_count(1)
    expect(page.locator(f"#vote-{voted.pk} .score-value")).to_contain_text("3")


def test_the_keyboard_reaches_the_first_result_through_a_skip_link(
    live_server, small_roadmap, page
):
    page.goto(live_server.url + "/resources/?q=monitoring")
    first = page.locator("#results .card-title a").first
    for _ in range(2):
        page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Skip to results")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(first).to_be_focused()
    # Only the count is announced: the results themselves are no live region.
    assert (
        page.locator("#results [aria-live], #results[aria-live], #results [role=status]").count()
        == 0
    )
    page.get_by_label("Search").fill("kubeflow")
    expect(page.locator("#live-status")).to_have_text(re.compile(r"^1 resource matching"))


def test_card_titles_are_marked_as_leaving_the_site(live_server, small_roadmap, page):
    page.goto(live_server.url + "/resources/")
    link = page.locator("#results .card-title a").first
    expect(link).to_have_accessible_description("Opens another site")
    mark = link.evaluate("a => getComputedStyle(a, '::after').content")
    assert "↗" in mark
    title = small_roadmap.resources[0].title
    expect(page.get_by_role("link", name=title, exact=True)).to_have_count(1)  # name unchanged


def test_the_resource_page_keeps_its_description_wide_on_a_phone(
    live_server, small_roadmap, browser
):
    VerifiedUserFactory(username="grace", password=PASSWORD)
    resource = Resource.objects.approved().filter(section__parent__isnull=False).first()
    page = phone(browser)
    sign_in(page, live_server.url, "grace")
    page.goto(live_server.url + resource.get_absolute_url())
    main = page.locator("main").bounding_box()
    prose = page.locator(".resource-detail .prose").bounding_box()
    assert prose["width"] >= main["width"] - 40  # nothing floats beside it
    vote = page.locator(".detail-vote").bounding_box()
    assert vote["y"] + vote["height"] <= prose["y"]
    crumbs = page.get_by_role("navigation", name="Breadcrumb")
    expect(crumbs.get_by_role("link", name=resource.section.parent.title)).to_be_visible()
    expect(crumbs.get_by_role("link", name=resource.section.title)).to_be_visible()
    page.context.close()


def test_tables_fit_a_phone(live_server, small_roadmap, browser):
    moderator = make_moderator()
    for number in range(3):
        approve_resource(resource=SuggestionFactory(), moderator=moderator)
        reject_resource(
            resource=SuggestionFactory(),
            moderator=moderator,
            reason=f"Not about MLOps, and a rather long reason number {number} to wrap",
        )
    ResourceFactory()
    page = phone(browser)
    for path in ("/moderation/log/", "/api/"):
        page.goto(live_server.url + path)
        expect(page.locator("table").first).to_be_visible()
        widths = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert widths[0] <= widths[1], (path, widths)
        for wrap in page.locator(".log-table-wrap, .table-wrap:has(table)").all():
            assert wrap.evaluate("el => el.scrollWidth <= el.clientWidth"), path
    page.context.close()
