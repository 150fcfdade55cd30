import re
import runpy
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db

GITHUB = {
    "github": {
        "APPS": [{"client_id": "test-client-id", "secret": "test-secret", "key": ""}],
        "SCOPE": ["user:email"],
    }
}
GITHUB_FORM = re.compile(
    r'<form method="post" action="/accounts/github/login/\?process=login"[^>]*>\s*'
    r'<input type="hidden" name="csrfmiddlewaretoken"'
)
SETTINGS_FILE = Path(__file__).resolve().parents[2] / "config" / "settings.py"


@pytest.mark.parametrize("path", ["/accounts/login/", "/accounts/signup/"])
def test_github_button_is_a_post_form_when_github_is_configured(client, path):
    with override_settings(SOCIALACCOUNT_PROVIDERS=GITHUB):
        html = client.get(path).content.decode()
    assert "Sign in with GitHub" in html
    assert GITHUB_FORM.search(html)
    assert 'href="/accounts/github/login/' not in html


@pytest.mark.parametrize("path", ["/accounts/login/", "/accounts/signup/"])
def test_github_button_is_absent_when_github_is_not_configured(client, path):
    with override_settings(SOCIALACCOUNT_PROVIDERS={}):
        html = client.get(path).content.decode()
    assert "GitHub" not in html
    assert "/accounts/github/" not in html


def test_posting_the_github_form_sends_the_browser_to_github(client):
    with override_settings(SOCIALACCOUNT_PROVIDERS=GITHUB):
        response = client.post("/accounts/github/login/?process=login")
    assert response.status_code == 302
    target = urlsplit(response.url)
    assert (target.scheme, target.netloc, target.path) == (
        "https",
        "github.com",
        "/login/oauth/authorize",
    )
    assert parse_qs(target.query)["client_id"] == ["test-client-id"]


def test_opening_the_github_login_url_only_asks_to_confirm(client):
    with override_settings(SOCIALACCOUNT_PROVIDERS=GITHUB):
        response = client.get("/accounts/github/login/?process=login")
    assert response.status_code == 200
    assert "Continue to GitHub" in response.content.decode()


@pytest.mark.parametrize(
    "client_id,secret,configured",
    [("id", "secret", True), ("id", "", False), ("", "secret", False), ("", "", False)],
)
def test_settings_configure_github_only_when_both_id_and_secret_are_set(
    monkeypatch, client_id, secret, configured
):
    monkeypatch.setenv("GITHUB_CLIENT_ID", client_id)
    monkeypatch.setenv("GITHUB_CLIENT_SECRET", secret)
    providers = runpy.run_path(str(SETTINGS_FILE))["SOCIALACCOUNT_PROVIDERS"]
    assert ("github" in providers) is configured
