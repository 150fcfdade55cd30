"""A request naming a host outside ALLOWED_HOSTS gets a plain 400, never a 500."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/", "/healthz", "/resources/", "/accounts/login/", "/nowhere/"])
def test_a_foreign_host_gets_a_400_page(client, url):
    client.raise_request_exception = False
    response = client.get(url, HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert "evil.example" not in response.content.decode()
