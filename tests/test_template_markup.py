"""Rules every template keeps, so that the HTML stays valid and readable by screen readers."""

import re
from pathlib import Path

import pytest

TEMPLATES = sorted((Path(__file__).resolve().parent.parent / "templates").rglob("*.html"))
# htmx reads data-hx-* as well; bare hx-* attributes are not valid HTML.
BARE_HTMX = re.compile(r"(?<![-\w])hx-[a-z-]+=")
# aria-label is prohibited on generic elements: a span or div needs a role that takes a name.
LABELLED_GENERIC = re.compile(r"<(span|div|p)\b(?![^>]*\brole=)[^>]*\baria-label=")
# date:'c' prints microseconds, which a datetime attribute does not allow (three digits at most).
ISO_DATETIME_WITH_MICROSECONDS = re.compile(r"""datetime="[^"]*\|date:['"]c['"]""")


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: path.name)
def test_templates_use_data_hx_attributes(template):
    assert not BARE_HTMX.findall(template.read_text())


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: path.name)
def test_no_aria_label_on_elements_without_a_role(template):
    assert not LABELLED_GENERIC.findall(template.read_text())


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: path.name)
def test_time_elements_have_valid_datetime_values(template):
    assert not ISO_DATETIME_WITH_MICROSECONDS.findall(template.read_text())
