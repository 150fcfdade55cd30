"""Smoke tests of the benchmark (bench/): a tiny data set, the load generator, the report.

They start nothing that outlives them: the data set is built by a child process that exits,
and the load generator is pointed at a small HTTP server in a thread of the test.
"""

import json
import sqlite3
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest

from bench import loadgen, run
from bench.target import (
    POSTGRES_DATABASE,
    NotABenchmarkDatabase,
    postgres_target,
    prepare,
    sqlite_target,
)
from resources.scoring import wilson_lower_bound

ROOT = Path(__file__).resolve().parent.parent
TINY = {"resources": 40, "users": 12, "votes": 150, "tags": 15, "seed": 7}


def build_tiny_data_set(tmp_path: Path) -> tuple[Path, dict]:
    target = sqlite_target(tmp_path / "bench.sqlite3", ROOT / "var" / "db.sqlite3")
    params = {"generator": run.GENERATOR_VERSION, **TINY}
    assert prepare(target, params, regenerate=False, log=print) == "fresh"
    env = run.child_env(target, SimpleNamespace(var_dir=tmp_path, redis_url=""), "k" * 50)
    out = tmp_path / "fixtures.json"
    command = [sys.executable, "-m", "bench.dataset", "--out", str(out), "--clients", "3"]
    command += [f"--{name}={value}" for name, value in TINY.items()]
    subprocess.run(command, env=env, cwd=ROOT, check=True, timeout=60)  # noqa: S603
    return target.sqlite_path, json.loads(out.read_text())


def test_generator_builds_a_consistent_data_set_and_reuses_it(tmp_path):
    path, fixtures = build_tiny_data_set(tmp_path)

    assert fixtures["reused"] is False
    assert fixtures["counts"]["votes"] == TINY["votes"]
    assert fixtures["counts"]["users"] == TINY["users"]
    assert fixtures["counts"]["resources"] >= TINY["resources"]  # plus the roadmap's own
    assert len(fixtures["sessions"]) == 3
    assert fixtures["vote_ids"] and fixtures["detail_ids"]
    with sqlite3.connect(path) as db:
        wrong_tallies = db.execute(
            """SELECT COUNT(*) FROM resources_resource r WHERE
               r.upvotes != (SELECT COUNT(*) FROM resources_vote v
                             WHERE v.resource_id = r.id AND v.value = 1)
               OR r.downvotes != (SELECT COUNT(*) FROM resources_vote v
                                  WHERE v.resource_id = r.id AND v.value = -1)"""
        ).fetchone()[0]
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

    target = sqlite_target(path, ROOT / "var" / "db.sqlite3")
    params = {"generator": run.GENERATOR_VERSION, **TINY}
    assert prepare(target, params, regenerate=False, log=print) == "reuse"


def test_a_database_without_the_marker_is_refused(tmp_path):
    foreign = tmp_path / "someone-elses.sqlite3"
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE precious (id INTEGER)")

    with pytest.raises(NotABenchmarkDatabase):
        prepare(sqlite_target(foreign, ROOT / "var" / "db.sqlite3"), {}, regenerate=True, log=print)
    with pytest.raises(NotABenchmarkDatabase):
        sqlite_target(ROOT / "var" / "db.sqlite3", ROOT / "var" / "db.sqlite3")
    assert foreign.exists()


def test_postgres_target_always_uses_the_benchmark_database():
    target = postgres_target("postgres://postgres@127.0.0.1:5432/mlops_roadmap")

    assert target.url == f"postgres://postgres@127.0.0.1:5432/{POSTGRES_DATABASE}"


class TinyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive

    def do_GET(self):
        if self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
            return
        status = 404 if self.path == "/missing" else 200
        body = b"ok" if status == 200 else b"no"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def tiny_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), TinyHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_load_generator_measures_keep_alive_requests(tiny_server):
    def make(client, number):
        return loadgen.Request("GET", "/missing" if number == 5 else "/")

    result = loadgen.run_load(
        "127.0.0.1",
        tiny_server,
        make,
        connections=4,
        duration=0.4,
        warmup=0.1,
        expect=lambda response: response.status == 200,
        timeout=5,
    )
    summary = loadgen.summarise(result)

    assert summary["requests"] > 0 and summary["rps"] > 0
    assert summary["p50_ms"] <= summary["p95_ms"] <= summary["p99_ms"] <= summary["max_ms"]
    assert summary["errors"] == 4  # the sixth request of each client
    assert summary["reconnects"] == 4  # one connection per client, kept alive
    assert summary["latency_includes_warmup"] is False


def test_load_generator_reads_chunked_bodies(tiny_server):
    connection = loadgen.Connection("127.0.0.1", tiny_server, timeout=5)
    try:
        response = connection.request(loadgen.Request("GET", "/chunked"))
        again = connection.request(loadgen.Request("GET", "/"))
    finally:
        connection.close()

    assert response.body == b"abcde"
    assert again.body == b"ok"


def test_report_has_rows_targets_and_a_table():
    args = run.parse_args(["--duration", "1"])
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
    rows["api"] = {"key": "api", "name": "api", "session": "anonymous", "missing": True}
    fixtures = {
        "database": {"vendor": "postgresql", "version": "15"},
        "params": {"generator": 1, **run.FULL_SCALE, "seed": 42},
        "counts": {"resources": 20_000, "users": 2_000, "votes": 200_000, "tags": 2_000},
        "reused": True,
        "generation": {"seconds": 60.0},
    }
    server = {"workers": 3, "worker_class": "gthread", "threads": 4}

    report = run.assemble_report(rows, fixtures, args, server, {"total": 1.0})
    table = run.markdown(report)

    json.dumps(report)
    assert {"date", "machine", "dataset", "load", "endpoints", "targets"} <= set(report)
    assert [r["key"] for r in report["endpoints"]] == list(run.ENDPOINTS)
    assert report["endpoints"][1]["ratio_to_minimal"] == 1.0
    assert [t["met"] for t in report["targets"]] == [True, True, True, True, True]
    assert "| api | anonymous | missing (404) |" in table
    assert "| minimal | anonymous | 100.0 | 5.0 | 40.0 | 45.0 | 10 | 0 | 1.00 | 3.0 | 2 |" in table
