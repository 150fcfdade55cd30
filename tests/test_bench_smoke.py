"""Smoke tests of the benchmark (bench/): a tiny data set, wrk and its Lua script, a whole run.

They start nothing that outlives them: the data set is built by a child process that exits,
wrk runs against a small HTTP server in a thread of the test, and the whole run stops its
gunicorn. The wrk tests skip where wrk is not installed, but fail in CI, which installs it.
"""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit, urlunsplit

import pytest

from bench import run
from bench.target import (
    POSTGRES_DATABASE,
    NotABenchmarkDatabase,
    Target,
    dataset_params,
    postgres_target,
    prepare,
    sqlite_target,
)
from resources.normalize import normalize_url
from resources.scoring import wilson_lower_bound

ROOT = Path(__file__).resolve().parent.parent
DEVELOPMENT_DATABASE = ROOT / "var" / "db.sqlite3"
TINY = {"resources": 40, "users": 12, "votes": 150, "tags": 15, "seed": 7}
TINY_FLAGS = [f"--{name}={value}" for name, value in TINY.items()]
# Resources whose tallies differ from their Vote rows (SQLite and PostgreSQL alike).
WRONG_TALLIES = """
    SELECT COUNT(*) FROM resources_resource r
    WHERE r.upvotes != (SELECT COUNT(*) FROM resources_vote v
                        WHERE v.resource_id = r.id AND v.value = 1)
       OR r.downvotes != (SELECT COUNT(*) FROM resources_vote v
                          WHERE v.resource_id = r.id AND v.value = -1)
"""


@pytest.fixture
def wrk():
    if shutil.which("wrk") is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set but wrk was not found: install Debian's wrk")
        pytest.skip(
            "wrk is not installed on this machine (make bench installs it: apt-get install wrk)"
        )


@pytest.fixture(scope="module")
def tiny_data_set(tmp_path_factory) -> tuple[Path, dict]:
    """A tiny data set in a SQLite file of its own, and what bench/dataset.py wrote about it."""
    folder = tmp_path_factory.mktemp("bench")
    target = sqlite_target(folder / "bench.sqlite3", DEVELOPMENT_DATABASE)
    assert (
        prepare(target, dataset_params(SimpleNamespace(**TINY)), regenerate=False, log=print)
        == "fresh"
    )
    env = run.child_env(target, SimpleNamespace(var_dir=folder, redis_url=""), "k" * 50)
    out = folder / "fixtures.json"
    command = [sys.executable, "-m", "bench.dataset", "--out", str(out), "--clients", "3"]
    subprocess.run([*command, *TINY_FLAGS], env=env, cwd=ROOT, check=True, timeout=120)  # noqa: S603
    return target.sqlite_path, json.loads(out.read_text())


@pytest.mark.database_independent
def test_generator_builds_a_consistent_data_set_and_reuses_it(tiny_data_set):
    path, fixtures = tiny_data_set

    assert fixtures["reused"] is False
    assert fixtures["counts"]["votes"] == TINY["votes"]
    assert fixtures["counts"]["users"] == TINY["users"]
    assert fixtures["counts"]["tags"] >= TINY["tags"]  # plus the roadmap's own
    assert fixtures["counts"]["resources"] >= TINY["resources"]
    assert len(fixtures["sessions"]) == 3
    assert fixtures["vote_ids"] and fixtures["detail_ids"]
    with sqlite3.connect(path) as db:
        wrong_tallies = db.execute(WRONG_TALLIES).fetchone()[0]
        scored = db.execute(
            "SELECT upvotes, downvotes, wilson_score FROM resources_resource "
            "WHERE upvotes + downvotes > 0"
        ).fetchall()
        unverified = db.execute(
            "SELECT COUNT(*) FROM accounts_user u WHERE NOT EXISTS (SELECT 1 FROM "
            "account_emailaddress e WHERE e.user_id = u.id AND e.verified)"
        ).fetchone()[0]
    assert wrong_tallies == 0
    assert scored
    assert all(score == pytest.approx(wilson_lower_bound(up, down)) for up, down, score in scored)
    assert unverified == 0
    target = sqlite_target(path, DEVELOPMENT_DATABASE)
    assert (
        prepare(target, dataset_params(SimpleNamespace(**TINY)), regenerate=False, log=print)
        == "reuse"
    )


@pytest.mark.database_independent
def test_generated_resources_are_stored_as_a_new_approved_resource_would_be(tiny_data_set):
    path, _ = tiny_data_set
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "SELECT url, normalized_url, created_at, approved_at, status, merged_into_id "
            "FROM resources_resource ORDER BY id DESC LIMIT ?",  # the generated ones come last
            [TINY["resources"]],
        ).fetchall()
        next_id = db.execute(
            "SELECT seq FROM sqlite_sequence WHERE name = 'resources_resource'"
        ).fetchone()[0]
        biggest = db.execute("SELECT MAX(id) FROM resources_resource").fetchone()[0]

    assert all(normalized == normalize_url(url) for url, normalized, *_ in rows)
    assert all(created == approved for _, _, created, approved, *_ in rows)
    assert {(status, merged) for *_, status, merged in rows} == {("approved", None)}
    assert next_id == biggest


@pytest.mark.database_independent
def test_the_same_seed_gives_the_same_data_set(tiny_data_set, tmp_path):
    path, _ = tiny_data_set
    again = sqlite_target(tmp_path / "again.sqlite3", DEVELOPMENT_DATABASE)
    prepare(again, dataset_params(SimpleNamespace(**TINY)), regenerate=False, log=print)
    env = run.child_env(again, SimpleNamespace(var_dir=tmp_path, redis_url=""), "k" * 50)
    command = [sys.executable, "-m", "bench.dataset", "--out", str(tmp_path / "f.json")]
    subprocess.run(  # noqa: S603
        [*command, "--clients", "1", *TINY_FLAGS], env=env, cwd=ROOT, check=True, timeout=120
    )

    def content(database: Path) -> list:
        with sqlite3.connect(database) as db:
            return db.execute(
                "SELECT title, url, description, provider, section_id, cost, level FROM "
                "resources_resource ORDER BY id"
            ).fetchall()

    assert content(path) == content(again.sqlite_path)


FOREIGN_KEYS = """SELECT conrelid::regclass::text, pg_get_constraintdef(oid) FROM pg_constraint
    WHERE contype = 'f' AND conrelid::regclass::text IN
    ('resources_resource', 'resources_vote', 'taggit_taggeditem')"""


@pytest.mark.django_db
@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="PostgreSQL only: COPY, and the foreign keys dropped for the load",
)
def test_on_postgresql_the_data_set_gets_its_foreign_keys_back_and_exact_tallies(tmp_path):
    import psycopg
    from django.db import connection

    parts = urlsplit(os.environ["DATABASE_URL"])
    name = f"{parts.path.lstrip('/') or 'postgres'}_dataset"  # next to the suite's own
    url = urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))
    target = Target("postgresql", url=url, database=name)
    prepare(target, dataset_params(SimpleNamespace(**TINY)), regenerate=True, log=print)
    try:
        env = run.child_env(target, SimpleNamespace(var_dir=tmp_path, redis_url=""), "k" * 50)
        command = [sys.executable, "-m", "bench.dataset", "--out", str(tmp_path / "f.json")]
        subprocess.run(  # noqa: S603
            [*command, "--clients", "1", *TINY_FLAGS], env=env, cwd=ROOT, check=True, timeout=120
        )
        with psycopg.connect(url) as generated:
            keys = set(generated.execute(FOREIGN_KEYS).fetchall())
            wrong_tallies = generated.execute(WRONG_TALLIES).fetchone()[0]
            votes = generated.execute("SELECT COUNT(*) FROM resources_vote").fetchone()[0]
    finally:
        with psycopg.connect(
            urlunsplit((*parts[:2], "/postgres", "", "")), autocommit=True
        ) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    with connection.cursor() as cursor:  # the suite's database, as the migrations made it
        cursor.execute(FOREIGN_KEYS)
        migrated = set(cursor.fetchall())

    assert keys and keys == migrated
    assert wrong_tallies == 0
    assert votes == TINY["votes"]


def test_a_database_without_the_marker_is_refused(tmp_path):
    foreign = tmp_path / "someone-elses.sqlite3"
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE precious (id INTEGER)")

    with pytest.raises(NotABenchmarkDatabase):
        prepare(sqlite_target(foreign, DEVELOPMENT_DATABASE), {}, regenerate=True, log=print)
    with pytest.raises(NotABenchmarkDatabase):
        sqlite_target(DEVELOPMENT_DATABASE, DEVELOPMENT_DATABASE)
    assert foreign.exists()


def test_postgres_target_always_uses_the_benchmark_database():
    target = postgres_target("postgres://postgres@127.0.0.1:5432/mlops_roadmap")

    assert target.url == f"postgres://postgres@127.0.0.1:5432/{POSTGRES_DATABASE}"


def test_scale_multiplies_the_default_sizes_and_a_flag_overrides_one():
    args = run.parse_args(["--scale", "10", "--tags", "50"])

    assert (args.resources, args.users, args.votes, args.tags) == (200_000, 20_000, 2_000_000, 50)


class RecordingHandler(BaseHTTPRequestHandler):
    """Answers every request at once (or after 50 ms for /slow) and keeps what it was sent."""

    protocol_version = "HTTP/1.1"  # keep-alive
    disable_nagle_algorithm = True
    seen: list[tuple[str, str, str, str]] = []

    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        self.seen.append((self.command, self.path, self.headers.get("Cookie", ""), body))
        if self.path.startswith("/slow"):
            time.sleep(0.05)
        status = 403 if self.path.startswith("/forbidden") else 200
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    do_GET = do_POST = answer

    def log_message(self, *args):
        pass


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # wrk resets its connections at the end of a run


@pytest.fixture
def recording_server():
    RecordingHandler.seen = []
    server = QuietServer(("127.0.0.1", 0), RecordingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], RecordingHandler.seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def vote_config(paths: list[str]) -> dict:
    users = [{"cookie": f"sessionid=s{n}", "token": f"t{n}"} for n in range(2)]
    endpoint = run.Endpoint("vote", "vote", "/v/<id>/", "signed in", paths, vote=True)
    return {**endpoint.wrk_config(users, 2), "run": "m"}


@pytest.mark.database_independent
def test_wrk_gives_each_connection_its_own_user_and_walks_the_paths(
    wrk, recording_server, tmp_path
):
    port, seen = recording_server
    args = SimpleNamespace(var_dir=tmp_path, client_timeout=5)

    result = run.run_wrk(port, vote_config(["/v/1/", "/v/2/", "/v/3/"]), 1, args)

    assert result["requests"] >= 10 and result["bad"] == 0
    assert {method for method, *_ in seen} == {"POST"}
    assert {path for _, path, *_ in seen} == {"/v/1/", "/v/2/", "/v/3/"}
    for cookie in ("sessionid=s0", "sessionid=s1"):
        bodies = [body for _, _, sent, body in seen if sent == cookie]
        token = cookie.replace("sessionid=s", "t")
        # Up and down in turn (wrk checks the first thread's request() once before the run).
        assert len(bodies) >= 4 and all(a != b for a, b in zip(bodies, bodies[1:], strict=False))
        assert set(bodies) == {f"csrfmiddlewaretoken={token}&value={v}" for v in ("up", "down")}


@pytest.mark.database_independent
def test_wrk_counts_answers_other_than_200_as_errors(wrk, recording_server, tmp_path):
    port, _ = recording_server
    args = SimpleNamespace(var_dir=tmp_path, client_timeout=5)

    result = run.run_wrk(port, vote_config(["/forbidden/"]), 1, args)

    assert result["requests"] > 0
    assert result["errors"]["status"] == result["requests"]  # wrk's own count, 4xx and 5xx
    assert result["bad"] == result["requests"]


@pytest.mark.database_independent
def test_a_paced_run_sends_at_the_rate_and_counts_latency_from_the_due_time(
    wrk, recording_server, tmp_path
):
    port, _ = recording_server
    fake_server = SimpleNamespace(port=port, cpu_seconds=lambda: 0.0)
    args = SimpleNamespace(var_dir=tmp_path, client_timeout=5, warmup=0, duration=1)
    fast = run.Endpoint("fast", "fast", "/", "anonymous", ["/"]).wrk_config([{}], 2)
    slow = run.Endpoint("slow", "slow", "/slow", "anonymous", ["/slow"]).wrk_config([{}], 1)

    paced = run.load(fake_server, fast, args, rate=40)
    # One connection, 50 ms a request, one due every 40 ms: the backlog grows by 10 ms each.
    behind = run.load(fake_server, slow, args, rate=25)

    assert paced["offered_rps"] == 40
    assert paced["requests"] + paced["unsent"] == 40  # due in the 1 s window
    assert paced["unsent"] <= 1 and paced["errors"] == 0
    assert paced["p95_ms"] < 100
    assert behind["p95_ms"] > 3 * 50  # the backlog, which a closed loop would not show
    assert behind["max_ms"] > 200


@pytest.mark.database_independent
def test_a_whole_run_on_a_tiny_data_set_writes_results_and_a_table(
    wrk, tiny_data_set, tmp_path, capsys, monkeypatch
):
    # The SQLite file named below, whatever database the suite itself runs on.
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    path, _ = tiny_data_set
    flags = ["--sqlite-path", str(path), "--var-dir", str(tmp_path), "--results-dir", str(tmp_path)]
    flags += ["--duration", "1", "--warmup", "0", "--connections", "2", "--workers", "1"]
    flags += ["--endpoints", "minimal,section-uncached,resource,vote", *TINY_FLAGS]

    assert run.main(flags) == 0

    report = json.loads((tmp_path / "latest-sqlite.json").read_text())
    rows = {row["key"]: row for row in report["endpoints"]}
    assert list(rows) == ["minimal", "section-uncached", "resource", "vote"]
    assert all(row["requests"] > 0 and row["errors"] == 0 for row in rows.values())
    assert rows["minimal"]["ratio_to_minimal"] == 1.0
    assert rows["vote"]["paced"]["requests"] > 0 and rows["vote"]["paced"]["errors"] == 0
    assert report["dataset"]["reused"] is True
    assert report["server_log_tracebacks"] == 0
    table = capsys.readouterr().out
    assert "| minimal Django view | anonymous |" in table and "Latency at half load" in table


def fake_rows(**changes):
    """What run_database hands to assemble_report: rows with made-up numbers, and fixtures."""
    row = {
        "requests": 10,
        "rps": 100.0,
        "p50_ms": 5.0,
        "p95_ms": 40.0,
        "p99_ms": 45.0,
        "errors": 0,
        "mean_response_bytes": 2048,
        "single_request_ms": [3.0],
        "missing": False,
    }
    rows = {key: {"key": key, "name": key, "session": "anonymous", **row} for key in run.ENDPOINTS}
    rows["api-uncached"] = {
        "key": "api-uncached", "name": "api-uncached", "session": "anonymous", "missing": True
    }  # fmt: skip
    for key, change in changes.items():
        rows[key].update(change)
    fixtures = {
        "database": {"vendor": "postgresql", "version": "15"},
        "params": {"generator": 2, **run.FULL_SCALE, "seed": 42},
        "counts": {"resources": 20_000, "users": 2_000, "votes": 200_000, "tags": 2_000},
        "reused": True,
        "generation": {"seconds": 60.0},
    }
    return rows, fixtures, {"workers": 3, "worker_class": "gthread", "threads": 4}


def test_report_has_rows_targets_and_a_table():
    rows, fixtures, server = fake_rows()

    report = run.assemble_report(rows, fixtures, run.parse_args([]), server, {"total": 1.0})
    table = run.markdown(report)

    json.dumps(report)
    assert [r["key"] for r in report["endpoints"]] == list(run.ENDPOINTS)
    assert report["endpoints"][1]["ratio_to_minimal"] == 1.0
    met = {(t["endpoint"], t["metric"]): t["met"] for t in report["targets"]}
    assert len(met) == len(run.TARGETS)
    assert met.pop(("api-uncached", "throughput / minimal view")) is None  # the row is missing
    assert set(met.values()) == {True}
    assert "| api-uncached | anonymous | missing (404) |" in table
    assert "| minimal | anonymous | 100.0 | 5.0 | 40.0 | 45.0 | 10 | 0 | 1.00 | 3.0 | 2 |" in table


def test_latency_targets_are_judged_on_the_paced_run():
    def paced(p95, errors=0):
        return {"fraction": 0.5, "connections": 16, "offered_rps": 30.0, "rps": 29.9}, {
            "requests": 300, "p50_ms": 5.0, "p95_ms": p95, "p99_ms": 45.0, "errors": errors,
            "unsent": 0,
        }  # fmt: skip

    saturated = {"p95_ms": 400.0, "rps": 60.0}
    rows, fixtures, server = fake_rows(
        **{
            "section-uncached": {**saturated, "paced": {**paced(40.0)[0], **paced(40.0)[1]}},
            "search-uncached": saturated,  # no paced run: judged on the saturated one
            "vote": {**saturated, "paced": {**paced(40.0)[0], **paced(40.0, errors=2)[1]}},
        }
    )

    report = run.assemble_report(rows, fixtures, run.parse_args([]), server, {"total": 1.0})
    table = run.markdown(report)

    targets = {target["endpoint"]: target for target in report["targets"]}
    section = targets["section-uncached"]
    assert section["basis"] == "paced" and section["value"] == 40.0 and section["met"] is True
    assert section["saturated_p95_ms"] == 400.0
    search = targets["search-uncached"]
    assert search["basis"] == "saturated" and search["met"] is False
    assert targets["vote"]["met"] is False  # fast enough, but with errors
    assert "Latency at half load" in table
    assert "| vote | 30.0 | 29.9 | 5.0 | 40.0 | 45.0 | 2 |" in table


def test_ten_times_the_data_lives_in_a_database_of_its_own(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)  # run.parse_args' default
    target = postgres_target("postgres://postgres@127.0.0.1:5432/mlops_roadmap", scale=10)
    assert target.url == "postgres://postgres@127.0.0.1:5432/mlops_bench10"
    assert target.label == "postgresql-10x"
    assert run.targets_for(run.parse_args(["--scale", "10"]))[0].label == "sqlite-10x"


@pytest.mark.database_independent
def test_a_short_soak_on_two_servers_ends_without_errors_and_with_exact_tallies(
    wrk, tiny_data_set, tmp_path, capsys, monkeypatch
):
    from bench import soak

    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    path, _ = tiny_data_set
    flags = ["--sqlite-path", str(path), "--var-dir", str(tmp_path), "--results-dir", str(tmp_path)]
    flags += ["--duration", "3", "--warmup", "1", "--connections", "4", "--threads", "2"]
    flags += ["--sample", "1"]

    assert soak.main([*flags, *TINY_FLAGS]) == 0

    report = json.loads((tmp_path / "soak-sqlite.json").read_text())
    assert report["errors"] == 0 and report["server_log_tracebacks"] == 0
    assert report["votes_sent"] > 0 and report["progress_sent"] > 0 and report["reads_sent"] > 0
    assert report["tallies"]["wrong_tally_count"] == 0
    assert report["tallies"]["upvotes"] == report["tallies"]["up_vote_rows"]
    assert len(report["servers"]) == 2 and len(report["rss_mib_end"]) == 2
    assert report["rss_mib_series"] and len(report["rss_mib_series"][0]) == 3  # at_s, 2 workers
    printed = capsys.readouterr().out
    assert "| worker (port/pid) |" in printed and "| seconds into the soak |" in printed
