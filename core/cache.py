"""Anonymous readers' whole pages from Django's cache framework, and small shared reads.

Django's CacheMiddleware stores the pages that `cache_page_for_anonymous` marks with max-age,
in their own cache alias, "pages", which is emptied after the commit of any change a reader
can see (`clear_pages`). A reader with a session (signed in, or with a message waiting) and
htmx requests are always served afresh, marked private.
"""

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from hashlib import md5

from django.conf import settings
from django.core.cache import cache, caches
from django.db import transaction
from django.utils.cache import patch_cache_control, patch_vary_headers, set_response_etag

PAGES = "pages"
logger = logging.getLogger(__name__)


def is_anonymous_request(request) -> bool:
    """No session cookie and not htmx: the page is the same for every such reader."""
    return settings.SESSION_COOKIE_NAME not in request.COOKIES and not request.htmx


def cache_page_for_anonymous(view: Callable | None = None, *, query: frozenset = frozenset()):
    """Let Django's cache middleware and the proxy keep the page for anonymous readers, for
    PAGE_CACHE_SECONDS (0: never): `Cache-Control: max-age` and an ETag. Anyone else's
    page, and an address whose query names a parameter outside `query` (`?utm_x=...`
    junk, which would fill the cache), is marked private, so that it is never stored."""
    if view is None:
        return lambda view: cache_page_for_anonymous(view, query=frozenset(query))

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        seconds = settings.PAGE_CACHE_SECONDS
        known = query.issuperset(request.GET.keys())
        if seconds > 0 and known and is_anonymous_request(request):
            if response.status_code == 200 and not response.streaming:
                set_response_etag(response)  # before it is stored, not on every hit
            patch_cache_control(response, max_age=seconds)
            # An htmx request for the same address gets a fragment: never the stored page.
            patch_vary_headers(response, ("HX-Request",))
        else:
            patch_cache_control(response, private=True)
        return response

    return wrapper


_batch = threading.local()


@contextmanager
def invalidate_once() -> Iterator[None]:
    """Inside, clear_pages() and forget() are collected and registered once each when the
    block ends: a bulk write (an import's chunk of hundreds of rows) then empties the caches
    once per commit, not once per row; each emptying is a write that readers would wait on."""
    outer = getattr(_batch, "pending", None)
    _batch.pending = pending = {} if outer is None else outer
    try:
        yield
    finally:
        if outer is None:
            _batch.pending = None
            for callback in pending.values():
                transaction.on_commit(callback, robust=True)


def _on_commit(key: tuple, callback: Callable) -> None:
    pending = getattr(_batch, "pending", None)
    if pending is None:
        transaction.on_commit(callback, robust=True)
    else:
        pending.setdefault(key, callback)


def clear_pages() -> None:
    """Empty the page cache once the current transaction commits (at once outside one).

    Robust: the change is saved by then, so a cache that fails is logged, never a 500.
    """
    _on_commit(("clear",), caches[PAGES].clear)


def cached(key: str, compute: Callable):
    """`compute()`'s value, kept in the default cache for PAGE_CACHE_SECONDS (0: not kept)
    until `forget(key)`. A cache that is down (Redis stopped, its table missing) is a miss:
    the value is computed, the page drawn, and the failure logged."""
    seconds = settings.PAGE_CACHE_SECONDS
    if seconds <= 0:
        return compute()
    try:
        value = cache.get(key)
    except Exception:  # noqa: BLE001 - any backend failure is a miss
        logger.warning("cache unavailable, %s computed afresh", key, exc_info=True)
        return compute()
    if value is None:
        value = compute()
        try:
            cache.set(key, value, seconds)
        except Exception:  # noqa: BLE001
            logger.warning("cache unavailable, %s not kept", key, exc_info=True)
    return value


def kept_with_pages(key: str, compute: Callable):
    """`compute()`'s value, kept in the page cache beside the pages, so that whatever empties
    them (a change to the catalogue) drops it too; for PAGE_CACHE_SECONDS at most (0: not
    kept). For reads that are the same for every reader, such as how many resources match."""
    seconds = settings.PAGE_CACHE_SECONDS
    if seconds <= 0:
        return compute()
    pages = caches[PAGES]
    key = f"kept:{md5(key.encode(), usedforsecurity=False).hexdigest()}"
    value = pages.get(key)
    if value is None:
        value = compute()
        pages.set(key, value, seconds)
    return value


def forget(*keys: str) -> None:
    """Drop cached reads once the current transaction commits."""
    _on_commit(("forget", *keys), lambda: cache.delete_many(keys))
