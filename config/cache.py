"""Versions that key cached pages and reads; bumped whenever what readers see changes.

Two versions, so that a vote does not throw away what votes cannot change:
- the *catalog* version changes with sections, resources and their tags (what the section
  tree counts and the popular tags are made of);
- the *content* version changes with all of that and with every vote (whole pages show
  scores).

Each process remembers a version for CONTENT_VERSION_MEMO_SECONDS (default 1 s) rather than
asking the cache on every request: another process's change reaches its readers that much
later, its own change at once.
"""

import threading
import time
from collections import OrderedDict

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

VERSION_KEY = "content-version"
CATALOG_VERSION_KEY = "catalog-version"

_memo: dict[str, tuple[float, int]] = {}
_memo_lock = threading.Lock()
# Bumped by this process's own changes: a version read before one of them is not remembered.
_bumps = [0]


def _version(key: str) -> int:
    memo_seconds = settings.CONTENT_VERSION_MEMO_SECONDS
    now = time.monotonic()
    if memo_seconds > 0:
        remembered = _memo.get(key)
        if remembered is not None and remembered[0] > now:
            return remembered[1]
    bumps_before = _bumps[0]
    version = cache.get(key)
    if version is None:
        # A new cache (or an evicted key) starts from the clock, never from an old number.
        version = time.time_ns()
        cache.add(key, version, timeout=None)
        version = cache.get(key, version)
    if memo_seconds > 0:
        with _memo_lock:
            if _bumps[0] == bumps_before:
                _memo[key] = (now + memo_seconds, version)
    return version


def _bump(key: str) -> None:
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, time.time_ns(), timeout=None)
    with _memo_lock:
        _bumps[0] += 1
        _memo.pop(key, None)


def content_version() -> int:
    return _version(VERSION_KEY)


def catalog_version() -> int:
    return _version(CATALOG_VERSION_KEY)


def bump_content_version() -> None:
    _bump(VERSION_KEY)


def bump_catalog_version() -> None:
    _bump(CATALOG_VERSION_KEY)
    _bump(VERSION_KEY)


def _bump_content_after_commit(sender, **kwargs) -> None:
    # After the commit, so that no reader caches the old rows under the new version.
    transaction.on_commit(bump_content_version)


def _bump_catalog_after_commit(sender, **kwargs) -> None:
    transaction.on_commit(bump_catalog_version)


def connect_invalidation() -> None:
    """Bump the versions whenever a row that public pages show changes."""
    from taggit.models import TaggedItem

    from resources.models import Resource, Vote
    from roadmap.models import Roadmap, Section

    for model in (Resource, Vote, Section, Roadmap, TaggedItem):
        handler = _bump_content_after_commit if model is Vote else _bump_catalog_after_commit
        for signal in (post_save, post_delete):
            signal.connect(handler, sender=model, dispatch_uid=f"page-cache-{model}")


class LocalMemory:
    """A process's own least-recently-used store, shared by its threads, bounded by bytes
    (the setting named `budget_setting`) and by age. An item larger than a quarter of the
    budget is not kept. Used for cached pages, whose keys carry the content version (a new
    version is a new key, so nothing goes stale beyond what the version memo allows), and
    for drawn resource cards (resources/templatetags/cards.py)."""

    def __init__(self, budget_setting: str):
        self._budget_setting = budget_setting
        self._items: OrderedDict = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            if item[0] <= time.monotonic():
                self._drop(key)
                return None
            self._items.move_to_end(key)
            return item[2]

    def set(self, key, value, size: int, seconds: float) -> None:
        budget = getattr(settings, self._budget_setting)
        if budget <= 0 or size > budget // 4:
            return
        with self._lock:
            if key in self._items:
                self._drop(key)
            self._items[key] = (time.monotonic() + seconds, size, value)
            self._bytes += size
            while self._bytes > budget:
                self._drop(next(iter(self._items)))

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0

    def _drop(self, key) -> None:
        self._bytes -= self._items.pop(key)[1]


local_memory = LocalMemory("LOCAL_CACHE_BYTES")


def get_versioned(key: str, seconds: int):
    """A page kept under a versioned key for at most `seconds`: from this process's memory,
    or the shared cache."""
    value = local_memory.get(key)
    if value is None:
        value = cache.get(key)
        if value is not None:
            local_memory.set(key, value, _size(value), min(seconds, settings.LOCAL_CACHE_SECONDS))
    return value


def set_versioned(key: str, value, seconds: int) -> None:
    cache.set(key, value, seconds)
    local_memory.set(key, value, _size(value), min(seconds, settings.LOCAL_CACHE_SECONDS))


def _size(page) -> int:
    """A page is (status, headers, body): its body and a kilobyte for the rest."""
    return len(page[2]) + 1024


def cached_for_catalog(name: str, compute):
    """`compute()`'s value, shared until sections, resources or tags change (not votes).

    From the shared cache only: these are model instances, which a process's threads
    should not share.
    """
    seconds = settings.CONTENT_CACHE_SECONDS
    if seconds <= 0:
        return compute()
    key = f"{name}:{catalog_version()}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, seconds)
    return value
