"""The content version that keys cached pages; bumped whenever what readers see changes."""

import time

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

VERSION_KEY = "content-version"


def content_version() -> int:
    version = cache.get(VERSION_KEY)
    if version is None:
        # A new cache (or an evicted key) starts from the clock, never from an old number.
        version = time.time_ns()
        cache.add(VERSION_KEY, version, timeout=None)
        version = cache.get(VERSION_KEY, version)
    return version


def bump_content_version() -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.set(VERSION_KEY, time.time_ns(), timeout=None)


def _bump_after_commit(sender, **kwargs) -> None:
    # After the commit, so that no reader caches the old rows under the new version.
    transaction.on_commit(bump_content_version)


def connect_invalidation() -> None:
    """Bump the content version whenever a row that public pages show changes."""
    from taggit.models import TaggedItem

    from resources.models import Resource, Vote
    from roadmap.models import Roadmap, Section

    for model in (Resource, Vote, Section, Roadmap, TaggedItem):
        for signal in (post_save, post_delete):
            signal.connect(_bump_after_commit, sender=model, dispatch_uid=f"page-cache-{model}")


def cached_for_content(name: str, compute):
    """`compute()`'s value, shared through the cache until the content version changes."""
    seconds = settings.CONTENT_CACHE_SECONDS
    if seconds <= 0:
        return compute()
    key = f"{name}:{content_version()}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, seconds)
    return value
