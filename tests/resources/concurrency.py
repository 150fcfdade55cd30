"""Jobs started at the same moment in threads, each with its own database connection."""

import threading
from concurrent.futures import ThreadPoolExecutor

from django.db import connections

from resources.moderation import ModerationError


def run_concurrently(jobs) -> list:
    """Start every job at once; return each one's result or the ModerationError it raised."""
    barrier = threading.Barrier(len(jobs))

    def run(job):
        try:
            barrier.wait(timeout=10)
            return job()
        except ModerationError as error:
            return error
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return list(pool.map(run, jobs))
