import re

import pytest
from playwright.sync_api import Page, expect

from roadmap.selectors import SUBSECTION_LIMIT
from tests.browser.helpers import PASSWORD, sign_in
from tests.factories import VerifiedUserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def tab_to(page: Page, target, limit: int = 200) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError("Tab never reached the control")


def settled(page: Page) -> None:
    """Wait until htmx has finished a swap (and bound the new buttons): a key pressed sooner
    reaches a button htmx has not taken over yet, and the browser submits its form itself."""
    expect(
        page.locator(".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added")
    ).to_have_count(0)


def done_of(done: int, total: int) -> re.Pattern:
    """A progress bar's text: "Your progress in <section>: 1 of 5 done"."""
    return re.compile(f": {done} of {total} done$")


def is_focused(target) -> bool:
    return target.evaluate("element => element === document.activeElement")


@pytest.fixture
def signed_in(live_server, small_roadmap, page: Page) -> Page:
    VerifiedUserFactory(username="grace", password=PASSWORD)
    sign_in(page, live_server.url, "grace")
    return page


def test_a_keyboard_vote_keeps_the_focus_and_is_announced(live_server, signed_in: Page):
    page = signed_in
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.goto(live_server.url + "/sections/courses/")
    card = page.locator("article.card").first
    up = card.get_by_role("button", name=re.compile("^Vote up"))
    status = page.get_by_role("status")
    expect(status).to_have_text("")

    tab_to(page, up)
    page.keyboard.press("Enter")
    expect(up).to_have_attribute("aria-pressed", "true")  # swapped in place by htmx
    expect(status).to_have_text("Voted up, score 1")
    assert is_focused(up)
    settled(page)

    page.keyboard.press("Enter")  # pressing it again takes the vote back
    expect(up).to_have_attribute("aria-pressed", "false")
    expect(status).to_have_text("Vote withdrawn, score 0")
    assert is_focused(up)
    settled(page)

    down = card.get_by_role("button", name=re.compile("^Vote down"))
    page.keyboard.press("Shift+Tab")  # nothing else of the card got in the way
    assert not is_focused(down)
    tab_to(page, down)
    page.keyboard.press("Enter")
    expect(status).to_have_text("Voted down, score -1")
    assert is_focused(down)
    assert errors == []


def test_a_keyboard_progress_change_keeps_the_focus_and_updates_the_counters(
    live_server, small_roadmap, signed_in: Page
):
    """On a topic with sub-topics: its own cards carry the buttons, its sub-topics' best few
    are lines; marking one of its own done moves its bar and leaves the sub-topics' alone."""
    sections = {item.slug: item for item in small_roadmap.sections}
    tools = sections["tools"]
    children = [item for item in small_roadmap.sections if item.parent is tools]
    child = children[0]
    everything = len(tools.resources) + sum(len(item.resources) for item in children)
    page = signed_in
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(live_server.url + "/sections/tools/")
    header = page.locator(".section-header .progress-text")
    child_bar = page.locator(f"#{child.slug} .progress-text")
    contents = page.locator(".toc li", has_text=child.title).locator(".count")
    expect(header).to_have_text(done_of(0, everything))
    expect(child_bar).to_have_text(done_of(0, len(child.resources)))
    expect(contents).to_have_text(f"0/{len(child.resources)} done")
    expect(page.locator(f"#{child.slug} .pick")).to_have_count(
        min(len(child.resources), SUBSECTION_LIMIT)
    )
    expect(page.locator(f"#{child.slug} button")).to_have_count(0)

    done = page.locator("article.card").first.get_by_role("button", name=re.compile("^Done"))
    tab_to(page, done)
    page.keyboard.press("Enter")
    expect(done).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_role("status")).to_have_text("Marked done")
    assert is_focused(done)
    expect(header).to_have_text(done_of(1, everything))
    assert page.locator(".section-header progress").evaluate("bar => bar.value") == 1
    expect(child_bar).to_have_text(done_of(0, len(child.resources)))
    expect(contents).to_have_text(f"0/{len(child.resources)} done")

    page.keyboard.press("Enter")  # pressed again: no longer done
    expect(page.get_by_role("status")).to_have_text("No longer marked")
    expect(header).to_have_text(done_of(0, everything))
    assert is_focused(done)

    page.keyboard.press("Enter")
    expect(header).to_have_text(done_of(1, everything))
    page.reload()  # the page agrees with what was shown in place
    expect(header).to_have_text(done_of(1, everything))
    assert errors == []
