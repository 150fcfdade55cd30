"""The site's own settings plus a URLconf that adds the minimal view the benchmark compares to."""

from config.settings import *  # noqa: F403
from config.settings import CACHES

ROOT_URLCONF = "bench.urls"
# A Redis shared with development must not mix the benchmark's cached pages with its own.
CACHES["default"]["KEY_PREFIX"] = "mlops-bench"
