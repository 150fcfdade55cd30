"""What one request of each hot endpoint costs, in this process: queries, Python CPU time and
database time, the mean of N requests (steadier than wrk ratios on a busy machine).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mlops_bench \
    REDIS_URL=redis://127.0.0.1:6379/10 .venv/bin/python bench/cost.py \
        [--fixtures var/bench/fixtures-postgresql-10x.json] [-n 20]
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
for name, value in {
    "DJANGO_SETTINGS_MODULE": "bench.settings",
    "DJANGO_DEBUG": "false",
    "DJANGO_ALLOWED_HOSTS": "testserver",
    "DJANGO_SECRET_KEY": "cost-" + "x" * 50,
    "DJANGO_SSL_REDIRECT": "false",
    "DJANGO_VAR_DIR": str(ROOT / "var" / "bench"),
}.items():
    os.environ.setdefault(name, value)

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--fixtures", type=Path, default=ROOT / "var/bench/fixtures-postgresql.json"
    )
    parser.add_argument("-n", type=int, default=20)
    args = parser.parse_args(argv)
    fixtures = json.loads(args.fixtures.read_text())
    votes = fixtures["vote_ids"]
    signed_in, anonymous = Client(), Client()
    signed_in.force_login(get_user_model().objects.get(pk=fixtures["sessions"][0]["user_id"]))

    def fresh(path: str, number: int) -> str:  # a parameter no page cache knows
        return f"{path}{'&' if '?' in path else '?'}nocache={time.time_ns()}-{number}"

    cases = {
        "section signed in": lambda n: signed_in.get(fresh("/sections/tools/", n)),
        "explorer signed in": lambda n: signed_in.get(
            fresh("/resources/?q=monitoring&sort=top", n)
        ),
        "API page of 20 uncached": lambda n: anonymous.get(
            fresh("/api/resources/?page_size=20", n)
        ),
        "vote": lambda n: signed_in.post(
            f"/resources/{votes[n % len(votes)]}/vote/",
            "value=up",
            content_type="application/x-www-form-urlencoded",
            HTTP_HX_REQUEST="true",
        ),
    }
    for name, request in cases.items():
        request(0), request(1)  # warm: the caches, the connection's plans
        with CaptureQueriesContext(connection) as queries:
            status = request(2).status_code
        cpu, database = time.process_time(), 0.0
        for number in range(args.n):
            with CaptureQueriesContext(connection) as timed:
                request(number + 3)
            database += sum(float(query["time"]) for query in timed.captured_queries)
        print(
            f"{name}: HTTP {status}, {len(queries)} queries, "
            f"{(time.process_time() - cpu) / args.n * 1000:.1f} ms Python CPU, "
            f"{database / args.n * 1000:.1f} ms in the database",
            flush=True,
        )


if __name__ == "__main__":
    main()
