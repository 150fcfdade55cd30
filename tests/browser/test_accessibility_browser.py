"""axe-core finds no accessibility violation on the main pages, light and dark.

axe-core is an npm package: `make test` installs it under var/tools/ (AXE_CORE_JS names another
copy). Without it the test is skipped locally and fails in CI.
"""

import os
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from resources.models import Progress, ProgressState, Resource
from tests.browser.helpers import PASSWORD, sign_in
from tests.factories import VerifiedUserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE_CANDIDATES = (
    os.environ.get("AXE_CORE_JS", ""),
    str(Path(__file__).resolve().parents[2] / "var/tools/node_modules/axe-core/axe.min.js"),
)


def find_axe() -> Path | None:
    for candidate in AXE_CANDIDATES:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def axe_violations(page: Page, axe: Path) -> list[str]:
    """Violations, and the ARIA checks axe could not decide ("needs review")."""
    # The site's CSP forbids injected scripts; the context bypasses it for axe alone.
    page.add_script_tag(path=str(axe))
    results = page.evaluate("async () => await axe.run(document)")
    violations = results["violations"] + [
        item for item in results["incomplete"] if item["id"].startswith("aria")
    ]
    return [
        f"{violation['id']} ({violation['impact']}): "
        + ", ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
        for violation in violations
    ]


DESKTOP, PHONE = {"width": 1366, "height": 900}, {"width": 390, "height": 844}


# Every pair of a colour scheme, a reader and a screen is checked (four runs, not all eight):
# what differs between them is colours, content and layout, which do not meet in a third way.
@pytest.mark.parametrize(
    ("color_scheme", "reader", "viewport"),
    [
        ("light", "anonymous", ("desktop", DESKTOP)),
        ("dark", "anonymous", ("phone", PHONE)),
        ("light", "signed_in", ("phone", PHONE)),
        ("dark", "signed_in", ("desktop", DESKTOP)),
    ],
    ids=[
        "light-anonymous-desktop",
        "dark-anonymous-phone",
        "light-signed_in-phone",
        "dark-signed_in-desktop",
    ],
)
def test_the_main_pages_have_no_axe_violations_or_aria_items_to_review(
    live_server, small_roadmap, browser: Browser, color_scheme, reader, viewport
):
    axe = find_axe()
    if axe is None:
        message = "axe-core is not installed: `make test` puts it in var/tools/"
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but {message}")
        pytest.skip(message)
    [tools] = [item for item in small_roadmap.sections if item.title == "MLOps Tools and Platforms"]
    base = live_server.url
    context = browser.new_context(color_scheme=color_scheme, bypass_csp=True, viewport=viewport[1])
    page = context.new_page()
    if reader == "signed_in":
        grace = VerifiedUserFactory(username="grace", password=PASSWORD)
        # Some progress, so that the map shows every status and a next step.
        done, started = Resource.objects.filter(section__slug="courses").order_by("id")[:2]
        Progress.objects.create(user=grace, resource=done, state=ProgressState.DONE)
        Progress.objects.create(user=grace, resource=started, state=ProgressState.IN_PROGRESS)
        sign_in(page, base, "grace")

    resource = Resource.objects.approved().first()
    paths = [
        "/",
        f"/sections/{tools.slug}/",
        "/sections/courses/",
        "/resources/?q=mlops",
        "/resources/?type=tool&cost=free&level=intermediate&tag=mlflow",
        resource.get_absolute_url(),
        "/resources/suggest/" if reader == "signed_in" else "/accounts/signup/",
    ]
    found = {}
    for path in paths:
        page.goto(base + path)
        page.wait_for_load_state("networkidle")
        if violations := axe_violations(page, axe):
            found[path] = violations
    context.close()
    assert found == {}
