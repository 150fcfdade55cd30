"""Sign-in, sign-up and password reset take as long for an account that exists as for one that
does not, compared by the medians of the two in one run, never against a fixed clock.

The hasher stands in for a real one (tens of milliseconds a hash) with a sleep, so that a path
that skips or doubles a hash shows clearly whatever else the machine does meanwhile; the
counted work is pinned in test_lockouts_and_equal_work.py."""

import itertools
import statistics
import time

import pytest
from django.test import Client

from tests.accounts.helpers import PASSWORD
from tests.factories import VerifiedUserFactory
from tests.security.hasher_count import SlowHasher

pytestmark = pytest.mark.django_db

ROUNDS = 7
# A path that skips one hash is (base + hash) / base apart, over 3 here: well outside this.
LIMIT = 1.5
addresses = (f"198.18.{n // 250}.{n % 250 + 1}" for n in itertools.count())


@pytest.fixture(autouse=True)
def slow_hasher(settings):
    settings.PASSWORD_HASHERS = ["tests.security.hasher_count.SlowHasher"]


def elapsed(request) -> float:
    started = time.perf_counter()
    response = request()
    took = time.perf_counter() - started
    assert response.status_code < 500
    return took


def assert_same_time(known, unknown, *, hashes: bool = True, rounds: int = ROUNDS) -> None:
    """Each a function of the round number; run in turns, each first in every other round."""
    times: dict[str, list[float]] = {"known": [], "unknown": []}
    for n in range(rounds):
        pair = [("known", known), ("unknown", unknown)]
        for name, request in pair if n % 2 else reversed(pair):
            times[name].append(elapsed(lambda request=request, n=n: request(n)))
    medians = {name: statistics.median(values) for name, values in times.items()}
    ratio = medians["known"] / medians["unknown"]
    assert 1 / LIMIT < ratio < LIMIT, medians
    if hashes:  # the comparison can tell: each side includes the hash it should
        assert min(medians.values()) > SlowHasher.seconds, medians


def client() -> Client:
    return Client(REMOTE_ADDR=next(addresses))


def test_a_wrong_password_takes_as_long_as_an_unknown_account():
    users = [VerifiedUserFactory(username=f"known{n}") for n in range(ROUNDS)]

    def known(n):
        return client().post("/accounts/login/", {"login": users[n].username, "password": "no"})

    def unknown(n):
        return client().post("/accounts/login/", {"login": f"nobody{n}", "password": "no"})

    assert_same_time(known, unknown)


def test_signing_up_with_a_taken_address_takes_as_long_as_with_a_new_one():
    VerifiedUserFactory(username="ada", email="ada@example.com")

    def sign_up(email: str, username: str):
        form = {"email": email, "username": username, "password1": PASSWORD, "password2": PASSWORD}
        return client().post("/accounts/signup/", form)

    assert_same_time(
        lambda n: sign_up("ada@example.com", f"again{n}"),
        lambda n: sign_up(f"new{n}@example.com", f"newcomer{n}"),
    )


def test_a_password_reset_takes_as_long_for_a_known_address_as_for_an_unknown_one(settings):
    settings.PASSWORD_HASHERS = ["tests.security.hasher_count.CountingHasher"]  # no hash here
    users = [VerifiedUserFactory(email=f"known{n}@example.com") for n in range(3 * ROUNDS)]

    def reset(email: str):
        return client().post("/accounts/password/reset/", {"email": email})

    assert_same_time(
        lambda n: reset(users[n].email),
        lambda n: reset(f"unknown{n}@example.com"),
        hashes=False,
        rounds=3 * ROUNDS,
    )
