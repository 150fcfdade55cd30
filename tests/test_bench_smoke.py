"""Smoke tests of the benchmark (bench/): a tiny data set, the load generator, the report.

They start nothing that outlives them: the data set is built by a child process that exits,
and the load generator is pointed at a small HTTP server in a thread of the test.
"""

import json
import sqlite3
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest

from bench import loadgen, run
from bench.target import (
    GENERATOR_VERSION,
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
    params = {"generator": GENERATOR_VERSION, **TINY}
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
    params = {"generator": GENERATOR_VERSION, **TINY}
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


SLOW_SECONDS = 0.05


class TinyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    disable_nagle_algorithm = True  # or the body, written apart from the head, waits ~40 ms

    def do_GET(self):
        if self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
            return
        if self.path == "/slow":
            time.sleep(SLOW_SECONDS)
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


def test_open_loop_sends_at_the_rate_asked_for(tiny_server):
    result = loadgen.run_load(
        "127.0.0.1",
        tiny_server,
        lambda client, number: loadgen.Request("GET", "/"),
        connections=4,
        duration=1.0,
        warmup=0.2,
        expect=lambda response: response.status == 200,
        timeout=5,
        rate=50,
    )
    summary = loadgen.summarise(result)

    assert summary["offered_rps"] == 50
    assert 48 <= summary["requests"] <= 52  # due in the 1 s window: 50
    assert 40 <= summary["rps"] <= 55
    assert summary["errors"] == 0 and summary["unsent"] == 0
    assert summary["p95_ms"] < 100
    due = sorted(sample.started_ns for sample in result.samples)
    gaps = {round((later - earlier) / 1e6) for earlier, later in zip(due, due[1:], strict=False)}
    assert gaps <= {19, 20, 21}  # due every 20 ms, whenever they were actually sent
    assert all(sample.sent_ns >= sample.started_ns for sample in result.samples)


def test_open_loop_latency_counts_from_the_due_time(tiny_server):
    def slow(client, number):
        return loadgen.Request("GET", "/slow")

    common = {
        "connections": 1,
        "duration": 0.5,
        "warmup": 0.0,
        "expect": lambda response: response.status == 200,
        "timeout": 5,
    }
    # 40 requests per second, one connection, 50 ms each: every request is due 25 ms after
    # the one before but can only start when it is done, so the backlog grows by 25 ms each.
    paced = loadgen.run_load("127.0.0.1", tiny_server, slow, rate=40, **common)
    closed = loadgen.run_load("127.0.0.1", tiny_server, slow, **common)

    latencies = [
        (sample.finished_ns - sample.started_ns) / 1e6
        for sample in sorted(paced.samples, key=lambda sample: sample.started_ns)
    ]
    # 20 due in the window; on a very busy machine the last may be dropped as too late.
    assert len(latencies) + paced.unsent == 20 and len(latencies) >= 16
    assert latencies[0] < 150
    assert latencies[-1] > latencies[0] + 300  # about 25 ms × 19 of backlog
    half = len(latencies) // 2
    assert sum(latencies[half:]) / half > sum(latencies[:half]) / half + 150  # 25 ms × 10 apart
    summary = loadgen.summarise(paced)
    assert summary["p95_ms"] > 3 * SLOW_SECONDS * 1000
    assert summary["send_delay_max_ms"] > 300  # the requests went out late: the backlog
    # The closed loop sends each request when the last is done and sees only the service time.
    closed_summary = loadgen.summarise(closed)
    assert closed_summary["p95_ms"] < 150
    assert "offered_rps" not in closed_summary and "unsent" not in closed_summary


def test_open_loop_rejects_a_rate_that_is_not_positive(tiny_server):
    with pytest.raises(ValueError):
        loadgen.run_load(
            "127.0.0.1",
            tiny_server,
            lambda client, number: loadgen.Request("GET", "/"),
            connections=1,
            duration=0.1,
            warmup=0.0,
            expect=lambda response: True,
            rate=0,
        )


def fake_run(**paced_rows):
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
    rows["api"] = {"key": "api", "name": "api", "session": "anonymous", "missing": True}
    for key, changes in paced_rows.items():
        rows[key].update(changes)
    fixtures = {
        "database": {"vendor": "postgresql", "version": "15"},
        "params": {"generator": 1, **run.FULL_SCALE, "seed": 42},
        "counts": {"resources": 20_000, "users": 2_000, "votes": 200_000, "tags": 2_000},
        "reused": True,
        "generation": {"seconds": 60.0},
    }
    server = {"workers": 3, "worker_class": "gthread", "threads": 4}
    return rows, fixtures, server


def test_report_has_rows_targets_and_a_table():
    args = run.parse_args(["--duration", "1"])
    rows, fixtures, server = fake_run()

    report = run.assemble_report(rows, fixtures, args, server, {"total": 1.0})
    table = run.markdown(report)

    json.dumps(report)
    assert {"date", "machine", "dataset", "load", "endpoints", "targets"} <= set(report)
    assert [r["key"] for r in report["endpoints"]] == list(run.ENDPOINTS)
    assert report["endpoints"][1]["ratio_to_minimal"] == 1.0
    assert [t["met"] for t in report["targets"]] == [True, True, True, True, True]
    assert "| api | anonymous | missing (404) |" in table
    assert "| minimal | anonymous | 100.0 | 5.0 | 40.0 | 45.0 | 10 | 0 | 1.00 | 3.0 | 2 |" in table


def test_latency_targets_are_judged_on_the_paced_run():
    args = run.parse_args(["--duration", "1"])

    def paced(p95, errors=0):
        return {
            "fraction": 0.5,
            "capacity_rps": 60.0,
            "connections": 16,
            "mean_in_flight": 0.3,
            "offered_rps": 30.0,
            "rps": 29.9,
            "requests": 300,
            "p50_ms": 5.0,
            "p95_ms": p95,
            "p99_ms": 45.0,
            "errors": errors,
            "unsent": 0,
        }

    saturated = {"p95_ms": 400.0, "rps": 60.0}
    rows, fixtures, server = fake_run(
        **{
            "section-uncached": {**saturated, "paced": paced(40.0)},
            "search-uncached": saturated,  # no paced run: judged on the saturated one
            "vote": {**saturated, "paced": paced(40.0, errors=2)},
        }
    )

    report = run.assemble_report(rows, fixtures, args, server, {"total": 1.0})
    table = run.markdown(report)

    json.dumps(report)
    assert report["load"]["paced_fraction"] == 0.5
    assert report["load"]["paced_endpoints"] == list(run.PACED)
    by_endpoint = {target["endpoint"]: target for target in report["targets"]}
    section = by_endpoint["section-uncached"]
    assert section["basis"] == "paced" and section["value"] == 40.0 and section["met"] is True
    assert section["saturated_p95_ms"] == 400.0 and section["offered_rps"] == 30.0
    search = by_endpoint["search-uncached"]
    assert search["basis"] == "saturated" and search["value"] == 400.0 and search["met"] is False
    assert by_endpoint["vote"]["met"] is False  # fast enough, but with errors
    assert by_endpoint["home"]["basis"] == "saturated" and by_endpoint["home"]["met"] is True
    section_row = next(row for row in report["endpoints"] if row["key"] == "section-uncached")
    assert section_row["paced"]["offered_rps"] == 30.0
    assert "Latency at half load" in table
    assert "| section-uncached | 30.0 | 29.9 | 5.0 | 40.0 | 45.0 | 0 |" in table
    assert "| vote | 30.0 | 29.9 | 5.0 | 40.0 | 45.0 | 2 |" in table
    assert (
        "| uncached section page p95 under 100 ms | p95 at 50 % of measured capacity "
        "(30.0 req/s offered by 16 connections, open loop) | 40.0 ms | yes | 400.0 ms |"
    ) in table
    assert "judged on the paced runs" in table
