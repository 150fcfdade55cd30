from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.sessions import SessionStore
from tests.factories import VerifiedUserFactory

pytestmark = pytest.mark.django_db


def saved_session(data: dict) -> SessionStore:
    store = SessionStore()
    store.update(data)
    store.save()
    return store


def test_the_site_uses_the_database_store_with_the_written_out_read():
    assert settings.SESSION_ENGINE == "core.sessions"


def test_a_saved_session_loads_its_data_in_one_query():
    key = saved_session({"reader": 7, "theme": "dark"}).session_key
    with CaptureQueriesContext(connection) as queries:
        loaded = SessionStore(key)
        assert dict(loaded.items()) == {"reader": 7, "theme": "dark"}
    assert len(queries) == 1
    assert loaded.session_key == key


def test_an_expired_session_loads_nothing_and_loses_its_key():
    key = saved_session({"reader": 7}).session_key
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    loaded = SessionStore(key)
    assert dict(loaded.items()) == {}
    assert loaded.session_key is None


def test_an_unknown_key_loads_nothing_and_loses_its_key():
    loaded = SessionStore("x" * 32)
    assert dict(loaded.items()) == {}
    assert loaded.session_key is None


def test_a_session_read_before_it_expires_is_still_there():
    key = saved_session({"reader": 7}).session_key
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() + timedelta(minutes=1)
    )
    assert SessionStore(key)["reader"] == 7


def test_a_signed_out_session_no_longer_signs_anyone_in(client):
    client.force_login(VerifiedUserFactory(username="reader"))
    copied = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert client.get("/me/learning/").status_code == 200
    assert client.post("/accounts/logout/").status_code == 302
    client.cookies[settings.SESSION_COOKIE_NAME] = copied
    assert client.get("/me/learning/").status_code == 302  # to the sign-in page
