import pytest
from playwright.sync_api import Locator, Page, expect

from resources.models import Resource
from tests.browser.helpers import PASSWORD, sign_in
from tests.factories import VerifiedUserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def assert_each_box_shares_a_line_with_its_label(rows: Locator) -> None:
    assert rows.count() > 1
    for index in range(rows.count()):
        row = rows.nth(index)
        box = row.locator("input").bounding_box()
        label = row.locator("label").bounding_box()
        assert box and label
        # The two overlap vertically, and the label follows the box rather than sitting below.
        assert box["y"] < label["y"] + label["height"] and label["y"] < box["y"] + box["height"]
        assert label["x"] >= box["x"] + box["width"]
        weight = row.locator("label").evaluate("label => getComputedStyle(label).fontWeight")
        assert int(weight) < 600


def test_the_explorer_filter_boxes_sit_beside_their_labels(live_server, small_roadmap, page: Page):
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(live_server.url + "/resources/")
    rows = page.locator(".checkbox-group .radio")
    expect(rows.first).to_be_visible()
    assert_each_box_shares_a_line_with_its_label(rows)

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + "/resources/")
    page.get_by_text("Filters", exact=True).click()  # closed on a phone
    expect(rows.first).to_be_visible()
    assert_each_box_shares_a_line_with_its_label(rows)


def test_the_flag_form_radios_sit_beside_their_labels(live_server, small_roadmap, page: Page):
    VerifiedUserFactory(username="grace", password=PASSWORD)
    resource = Resource.objects.approved().first()
    sign_in(page, live_server.url, "grace")
    page.goto(live_server.url + f"/resources/{resource.pk}/flag/")
    rows = page.locator("form .radio")
    expect(rows.first).to_be_visible()
    assert_each_box_shares_a_line_with_its_label(rows)

    page.goto(live_server.url + f"/resources/{resource.pk}/")
    page.get_by_text("Report a broken link").click()
    rows = page.locator(".flag-box .radio")
    expect(rows.first).to_be_visible()
    assert_each_box_shares_a_line_with_its_label(rows)
