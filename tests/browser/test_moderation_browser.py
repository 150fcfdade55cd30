import io
import re

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import Page, expect

from resources.models import Status
from tests.factories import SectionFactory, UserFactory, VerifiedUserFactory
from tests.resources.moderation_factories import SuggestionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"  # tests/factories.py UserFactory


@pytest.fixture
def queue(live_server):
    """A moderator (made the way the README says) and two suggestions waiting for review."""
    # Transactional tests empty the database between tests, data migrations included;
    # make_moderator recreates the Moderators group when it is missing.
    VerifiedUserFactory(username="maria")
    call_command("make_moderator", "maria", stdout=io.StringIO())
    section = SectionFactory(slug="monitoring", title="Monitoring")
    return {
        "section": section,
        "good": SuggestionFactory(
            title="Monitoring ML models in production",
            url="https://evidentlyai.com/blog/ml-monitoring",
            section=section,
            submitted_by=UserFactory(username="ada"),
        ),
        "bad": SuggestionFactory(
            title="Buy my bootcamp now",
            url="https://bootcamp.example/promo",
            section=section,
            submitted_by=VerifiedUserFactory(username="bob"),
        ),
    }


def test_a_moderator_rejects_one_suggestion_and_approves_another(
    live_server, queue, page: Page, browser
):
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    # The admin sends the moderator through the site's rate-limited login page.
    page.goto(live_server.url + reverse("admin:index"))
    expect(page).to_have_url(re.compile(re.escape(reverse("account_login")) + r"\?next="))
    page.locator("input[name=login]").fill("maria")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form:has(input[name=password]) [type=submit]").first.click()
    expect(page).to_have_url(live_server.url + reverse("admin:index"))

    queue_box = page.locator("#moderation-queue")
    expect(queue_box).to_contain_text("Pending suggestions")
    expect(queue_box.locator(".queue-count").first).to_have_text("2")
    queue_box.get_by_role("link", name="Pending suggestions").click()

    # Reject the bootcamp with a ready-made reason and a note.
    page.get_by_role("link", name="Buy my bootcamp now").click()
    page.locator("input[name=_reject]").click()
    expect(page.get_by_role("heading", name="Reject suggestions")).to_be_visible()
    page.get_by_label("Low quality or spam").check()
    page.get_by_label("Details for the submitter").fill("A sales page, not a tutorial.")
    page.locator("input[name=apply]").click()
    expect(page.locator(".messagelist")).to_contain_text("Rejected “Buy my bootcamp now”.")

    # Approve the other one from its change page.
    page.get_by_role("link", name="Monitoring ML models in production").click()
    page.locator("input[name=_approve]").click()
    expect(page.locator(".messagelist")).to_contain_text(
        "Approved “Monitoring ML models in production”."
    )
    expect(page.locator("#result_list")).to_have_count(0)  # the pending queue is empty

    # The approved resource is on its section page at once; the rejected one is not.
    page.goto(live_server.url + queue["section"].get_absolute_url())
    expect(
        page.get_by_role("link", name="Monitoring ML models in production", exact=True)
    ).to_be_visible()
    expect(page.get_by_text("Buy my bootcamp now")).to_have_count(0)

    # The public log shows the reason, but not who suggested the link.
    page.goto(live_server.url + reverse("moderation:log"))
    rejected_row = page.locator("tr", has_text="Buy my bootcamp now")
    expect(rejected_row).to_contain_text("Low quality or spam: A sales page, not a tutorial.")
    expect(rejected_row).to_contain_text("maria")
    expect(page.locator("main")).not_to_contain_text("bob")

    # Each submitter was told by email; the rejected one gets the reason.
    by_recipient = {message.to[0]: message for message in mail.outbox}
    assert set(by_recipient) == {"ada@example.com", "bob@example.com"}
    assert "Reason: Low quality or spam: A sales page, not a tutorial." in (
        by_recipient["bob@example.com"].body
    )
    queue["bad"].refresh_from_db()
    queue["good"].refresh_from_db()
    assert (queue["bad"].status, queue["good"].status) == (Status.REJECTED, Status.APPROVED)

    # The rejected suggestion's submitter sees the reason in "My suggestions".
    submitter = browser.new_context().new_page()
    submitter.goto(live_server.url + reverse("account_login") + "?next=/resources/mine/")
    submitter.locator("input[name=login]").fill("bob")
    submitter.locator("input[name=password]").fill(PASSWORD)
    submitter.locator("form:has(input[name=password]) [type=submit]").first.click()
    expect(submitter).to_have_url(live_server.url + "/resources/mine/")
    rejected = submitter.locator(".suggestion", has_text="Buy my bootcamp now")
    expect(rejected).to_contain_text("Rejected")
    expect(rejected.locator(".rejection-reason")).to_contain_text(
        "Low quality or spam: A sales page, not a tutorial."
    )
    submitter.context.close()
    assert errors == []
