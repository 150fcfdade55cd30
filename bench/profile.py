"""Where a request's time goes: Django's test client in this process, against the benchmark's
data set, with the SQL it runs and a pyinstrument profile.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mlops_bench \
    REDIS_URL=redis://127.0.0.1:6379/10 .venv/bin/python bench/profile.py \
        /sections/tools/ "/resources/?q=monitoring&sort=top" --signed-in --repeat 20

Run `make bench` once first: it builds the data set and var/bench/fixtures-postgresql.json,
whose sessions sign the client in. A POST path (`--post value=up`) votes as that reader.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")
os.environ.setdefault("DJANGO_SECRET_KEY", "profile-" + "x" * 50)
os.environ.setdefault("DJANGO_SSL_REDIRECT", "false")
os.environ.setdefault("DJANGO_VAR_DIR", str(ROOT / "var" / "bench"))  # its collected static files

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from pyinstrument import Profiler  # noqa: E402


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--signed-in", action="store_true", help="as the first bench reader")
    parser.add_argument("--post", help="POST this urlencoded body (a vote: value=up)")
    parser.add_argument("--repeat", type=int, default=10, help="requests profiled per path")
    parser.add_argument(
        "--fixtures", type=Path, default=ROOT / "var/bench/fixtures-postgresql.json"
    )
    parser.add_argument("--sql", action="store_true", help="print each statement")
    args = parser.parse_args(argv)
    client = Client()
    if args.signed_in or args.post:
        user_id = json.loads(args.fixtures.read_text())["sessions"][0]["user_id"]
        client.force_login(get_user_model().objects.get(pk=user_id))
    for path in args.paths:

        def get(number: int, path=path):
            unique = ("&" if "?" in path else "?") + f"profile={time.time_ns()}-{number}"
            if args.post:
                return client.post(
                    path,
                    args.post,
                    content_type="application/x-www-form-urlencoded",
                    HTTP_HX_REQUEST="true",
                )
            return client.get(path + (unique if args.signed_in else ""))

        get(0)  # warm: imports, templates, the section tree
        with CaptureQueriesContext(connection) as queries:
            response = get(1)
        print(
            f"\n{path}: HTTP {response.status_code}, {len(response.content):,} bytes, "
            f"{len(queries)} queries"
        )
        for query in queries.captured_queries:
            print(f"  {query['time']} s  {query['sql'][: 160 if not args.sql else None]}")
        profiler = Profiler(interval=0.0005)
        started = time.perf_counter()
        with profiler:
            for number in range(args.repeat):
                get(number + 2)
        mean = (time.perf_counter() - started) / args.repeat * 1000
        print(f"  mean {mean:.1f} ms a request over {args.repeat}")
        print(profiler.output_text(unicode=False, color=False, show_all=False))


if __name__ == "__main__":
    main()
