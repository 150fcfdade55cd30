"""The site's own settings plus a URLconf that adds the minimal view the benchmark compares to."""

from config.settings import *  # noqa: F403
from config.settings import CACHES

ROOT_URLCONF = "bench.urls"
# A Redis shared with development must not mix the benchmark's cached pages (or anything
# else cached) with its own: every cache alias gets a prefix of its own.
for alias, cache in CACHES.items():
    cache["KEY_PREFIX"] = f"mlops-bench-{alias}"
