"""Counting the queries a request makes, the same in both CI layouts: the database cache and
database sessions (the SQLite run) are SQL statements that Redis (the PostgreSQL run) is not."""

from contextlib import contextmanager

from django.db import connection
from django.test.utils import CaptureQueriesContext

INFRASTRUCTURE = ('"django_cache', '"django_session"')


def app_queries(captured) -> list[str]:
    """The statements of `captured` that are the page's own, not the cache's or sessions'."""
    return [
        query["sql"]
        for query in captured
        if not any(table in query["sql"] for table in INFRASTRUCTURE)
    ]


@contextmanager
def assert_app_queries(expected: int):
    with CaptureQueriesContext(connection) as captured:
        yield
    found = app_queries(captured)
    assert len(found) == expected, f"{len(found)} queries, not {expected}:\n" + "\n".join(found)
