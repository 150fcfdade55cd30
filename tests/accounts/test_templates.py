from pathlib import Path

import pytest
from django.template import Context, RequestContext, Template
from django.template.base import Origin
from django.template.loader import get_template
from django.test import RequestFactory

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
OURS = sorted(
    str(path.relative_to(TEMPLATES))
    for folder in ("account", "allauth", "socialaccount", "accounts")
    for path in (TEMPLATES / folder).rglob("*")
    if path.suffix in {".html", ".txt"}
)


def element(source: str) -> Template:
    """A template string using allauth's {% element %} tag, which needs a template name."""
    return Template(
        "{% load allauth %}" + source, origin=Origin("inline", template_name="inline.html")
    )


@pytest.mark.parametrize("name", OURS)
def test_every_account_template_compiles(name):
    get_template(name)


def test_field_element_ties_its_errors_and_hint_to_the_input():
    template = element(
        '{% element field id="id_code" name="code" type="text" errors=errors %}'
        "{% slot label %}Code{% endslot %}{% slot help_text %}From the mail{% endslot %}"
        "{% endelement %}"
    )
    html = template.render(Context({"errors": ["Wrong code"]}))
    assert '<label for="id_code">Code</label>' in html
    assert 'aria-describedby="id_code_helptext id_code_error"' in html
    assert 'aria-invalid="true"' in html
    assert '<ul class="field-errors" id="id_code_error">' in html


def test_button_element_maps_allauth_tags_onto_the_site_button_styles():
    template = element(
        '{% element button type="submit" tags="danger,delete" %}Remove{% endelement %}'
    )
    assert 'class="button button-danger"' in template.render(Context())


def test_provider_element_is_a_post_form_with_a_csrf_token():
    request = RequestFactory().get("/accounts/login/")
    template = element(
        '{% element provider name="GitHub" provider_id="github" '
        'href="/accounts/github/login/?process=login" %}{% endelement %}'
    )
    html = template.render(RequestContext(request, {"process": "login"}))
    assert '<form method="post" action="/accounts/github/login/?process=login"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert "Sign in with GitHub" in html
