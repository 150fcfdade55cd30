"""A database cache for pages, whose failures are misses: a page can always be drawn afresh,
so a missing or broken cache table must not turn it into an error.

Requests run outside transactions here (no ATOMIC_REQUESTS), where a failed query leaves the
connection usable; no savepoint is taken, which would cost two queries on every page."""

import logging
from functools import wraps

from django.core.cache.backends.db import DatabaseCache
from django.db import DatabaseError

logger = logging.getLogger(__name__)


def _miss_on_failure(default=None):
    def decorate(method):
        @wraps(method)
        def wrapper(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except DatabaseError:
                logger.warning("page cache unavailable (%s)", method.__name__, exc_info=True)
                return default() if callable(default) else default

        return wrapper

    return decorate


class TolerantDatabaseCache(DatabaseCache):
    get = _miss_on_failure()(DatabaseCache.get)
    get_many = _miss_on_failure(dict)(DatabaseCache.get_many)
    has_key = _miss_on_failure(False)(DatabaseCache.has_key)
    set = _miss_on_failure()(DatabaseCache.set)
    add = _miss_on_failure(False)(DatabaseCache.add)
    touch = _miss_on_failure(False)(DatabaseCache.touch)
    delete = _miss_on_failure(False)(DatabaseCache.delete)
    delete_many = _miss_on_failure()(DatabaseCache.delete_many)
    clear = _miss_on_failure()(DatabaseCache.clear)
