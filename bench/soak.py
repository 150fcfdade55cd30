"""`make soak`: a crowd on two app processes for minutes; no errors, exact vote totals, flat memory.

    .venv/bin/python bench/soak.py --database-url postgres://postgres@127.0.0.1:5432/x \
        --redis-url redis://127.0.0.1:6379/8            # 32 connections, 5 minutes

Two gunicorn servers (one worker each, on two ports) share the benchmark's database and Redis;
wrk drives half of the connections at each, every connection a signed-in reader who reads pages
(signed in or anonymous), votes and changes their progress (bench/soak.lua). At the end: the
errors (any answer but 200, and socket errors), whether every resource's tallies equal the
count of its Vote rows and its scores those the tallies give, and each worker's memory (RSS)
after the warm-up and at the end. The data set is the one `make bench` builds (--scale too).
Results: a Markdown table on stdout, JSON in bench/results/soak-<database>.json.
"""

import argparse
import json
import os
import secrets
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import run  # noqa: E402
from bench.target import _pg_connect, dataset_params, prepare  # noqa: E402
from resources.scoring import hot_score, wilson_lower_bound  # noqa: E402 - plain arithmetic

SOAK_SCRIPT = ROOT / "bench" / "soak.lua"
READS = (
    "/",
    "/sections/tools/",
    "/resources/?q=monitoring&sort=top",
    "/api/resources/?page_size=20",
)
log = run.log


def worker_pids(server: run.Server) -> list[int]:
    with open(f"/proc/{server.process.pid}/task/{server.process.pid}/children") as handle:
        return [int(pid) for pid in handle.read().split()]


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def memory(servers: list[run.Server]) -> dict[str, float]:
    return {
        f"{server.port}/{pid}": rss_mib(pid) for server in servers for pid in worker_pids(server)
    }


def drive(server: run.Server, config: dict, seconds: int, args, out: dict, key: str) -> None:
    """One wrk process of soak.lua against one server; its BENCH_JSON line lands in out[key]."""
    folder = args.var_dir / f"soak-{server.port}"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        out[key] = run.run_wrk(
            server.port, config, seconds, args, script=SOAK_SCRIPT, folder=folder
        )
    except RuntimeError as error:
        out[key] = {"failed": str(error)}


def tallies(target) -> dict:
    """Resources whose tallies differ from their Vote rows, or whose scores from their tallies."""
    sql = """
        SELECT r.id, r.upvotes, r.downvotes, r.wilson_score, r.hot_score, r.approved_at,
               COALESCE(SUM(CASE WHEN v.value = 1 THEN 1 ELSE 0 END), 0),
               COALESCE(SUM(CASE WHEN v.value = -1 THEN 1 ELSE 0 END), 0)
        FROM resources_resource r LEFT JOIN resources_vote v ON v.resource_id = r.id
        WHERE r.status = 'approved'
        GROUP BY r.id, r.upvotes, r.downvotes, r.wilson_score, r.hot_score, r.approved_at
    """
    if target.vendor == "postgresql":
        with _pg_connect(target.url, target.database) as db:
            rows = db.execute(sql).fetchall()
    else:
        import sqlite3

        with sqlite3.connect(target.sqlite_path) as db:
            rows = db.execute(sql).fetchall()
    wrong_tallies = [row[0] for row in rows if (row[1], row[2]) != (row[6], row[7])]
    wrong_scores = [
        row[0]
        for row in rows
        if target.vendor == "postgresql"  # SQLite hands back dates as text; its tallies suffice
        and (row[3], row[4]) != (wilson_lower_bound(row[1], row[2]), hot_score(*row[1:3], row[5]))
    ]
    return {
        "resources": len(rows),
        "upvotes": sum(row[1] for row in rows),
        "downvotes": sum(row[2] for row in rows),
        "up_vote_rows": sum(row[6] for row in rows),
        "down_vote_rows": sum(row[7] for row in rows),
        "wrong_tallies": wrong_tallies[:20],
        "wrong_tally_count": len(wrong_tallies),
        "wrong_score_count": len(wrong_scores),
    }


def soak(target, args) -> dict:
    params = dataset_params(args)
    log(f"{target.describe()}: {prepare(target, params, regenerate=False, log=log)}")
    env = run.child_env(target, args, secrets.token_urlsafe(50))
    args.var_dir.mkdir(parents=True, exist_ok=True)
    fixtures_path = args.var_dir / f"soak-fixtures-{target.label}.json"
    sizes = [f"--{name}={params[name]}" for name in ("resources", "users", "votes", "tags", "seed")]
    subprocess.run(  # noqa: S603
        [sys.executable, "-m", "bench.dataset", "--out", str(fixtures_path)]
        + ["--clients", str(args.connections), *sizes],
        env=env,
        cwd=ROOT,
        check=True,
    )
    fixtures = json.loads(fixtures_path.read_text())
    subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"],
        env=env,
        cwd=ROOT,
        check=True,
    )
    servers = [
        run.Server(env, args, args.var_dir / f"soak-gunicorn-{n}.log", target.database)
        for n in range(args.processes)
    ]
    results: dict[str, dict] = {}
    try:
        for server in servers:
            server.start()
        users = run.client_users(servers[0], fixtures, args.connections)
        resources = fixtures["vote_ids"]
        reads = [*READS, *(f"/resources/{pk}/" for pk in fixtures["detail_ids"][:50])]
        per_server = max(1, args.connections // len(servers))
        configs = [
            {
                "connections": per_server,
                "users": users[n * per_server : (n + 1) * per_server],
                "resources": resources,
                "reads": reads,
                "vote_share": args.vote_share,
                "progress_share": args.progress_share,
                "signed_in_share": 0.5,
                "seed": 1000 * n,
            }
            for n in range(len(servers))
        ]

        def everyone(seconds: int, label: str) -> None:
            threads = [
                threading.Thread(
                    target=drive, args=(server, config, seconds, args, results, f"{label}{n}")
                )
                for n, (server, config) in enumerate(zip(servers, configs, strict=True))
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()

        log(f"warm-up: {args.warmup} s")
        everyone(args.warmup, "warmup-")
        memory_start = memory(servers)
        log(f"soak: {args.connections} connections on {len(servers)} servers, {args.duration} s")
        started = time.monotonic()
        series: list[dict] = []
        done = threading.Event()

        def sample() -> None:  # RSS every --sample seconds: growth, or a level it settles at
            while not done.wait(args.sample):
                series.append({"at_s": round(time.monotonic() - started), **memory(servers)})

        sampler = threading.Thread(target=sample)
        sampler.start()
        everyone(args.duration, "soak-")
        done.set()
        sampler.join()
        elapsed = time.monotonic() - started
        memory_end = memory(servers)
        for server in servers:
            run.wait_until_idle(server, limit=60)
    finally:
        for server in servers:
            server.stop()
    soaked = [results.get(f"soak-{n}", {"failed": "no result"}) for n in range(len(servers))]
    warm = [results.get(f"warmup-{n}", {"failed": "no result"}) for n in range(len(servers))]
    failed = [part["failed"] for part in soaked + warm if "failed" in part]
    requests = sum(part.get("requests", 0) for part in soaked)
    return {
        "schema": 1,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": fixtures["database"],
        "cache": "redis" if args.redis_url else "database",
        "dataset": {"params": fixtures["params"], "counts": fixtures["counts"]},
        "servers": [{"port": s.port, **s.config} for s in servers],
        "connections": args.connections,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "requests": requests,
        "rps": round(requests / elapsed, 1) if elapsed else None,
        "votes_sent": sum(part.get("votes", 0) for part in soaked),
        "progress_sent": sum(part.get("progress", 0) for part in soaked),
        "reads_sent": sum(part.get("reads", 0) for part in soaked),
        "errors": sum(part.get("bad", 0) + part.get("socket_errors", 0) for part in soaked + warm)
        + len(failed),
        "failed": failed,
        "p95_ms": max((part.get("p95_us", 0) / 1000 for part in soaked), default=None),
        "p99_ms": max((part.get("p99_us", 0) / 1000 for part in soaked), default=None),
        "rss_mib_start": memory_start,
        "rss_mib_end": memory_end,
        "rss_mib_series": series,
        "tallies": tallies(target),
        "server_log_tracebacks": sum(
            s.log_path.read_text(errors="replace").count("Traceback") for s in servers
        ),
        "parts": soaked,
    }


def markdown(report: dict) -> str:
    tally = report["tallies"]
    exact = tally["wrong_tally_count"] == 0 and tally["wrong_score_count"] == 0
    lines = [
        f"**soak** on {report['database']['vendor']}, cache {report['cache']}: "
        f"{len(report['servers'])} servers, {report['connections']} connections, "
        f"{report['duration_s']} s after {report['warmup_s']} s of warm-up",
        "",
        "| requests | req/s | votes | progress | reads | errors | p95 ms | p99 ms "
        "| tallies exact | tracebacks |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|",
        f"| {report['requests']:,} | {report['rps']} | {report['votes_sent']:,} | "
        f"{report['progress_sent']:,} | {report['reads_sent']:,} | {report['errors']} | "
        f"{report['p95_ms']} | {report['p99_ms']} | "
        f"{'yes' if exact else '**no**'} ({tally['upvotes']:,} up = {tally['up_vote_rows']:,} "
        f"rows, {tally['downvotes']:,} down = {tally['down_vote_rows']:,} rows) | "
        f"{report['server_log_tracebacks']} |",
        "",
        "| worker (port/pid) | RSS after warm-up MiB | RSS at the end MiB |",
        "|---|---:|---:|",
    ]
    series = report.get("rss_mib_series", [])
    for name, start in report["rss_mib_start"].items():
        lines.append(f"| {name} | {start} | {report['rss_mib_end'].get(name, '–')} |")
    if series:
        names = list(report["rss_mib_start"])
        lines += [
            "",
            "| seconds into the soak | " + " | ".join(f"{name} MiB" for name in names) + " |",
            "|---:|" + "---:|" * len(names),
        ]
        lines += [
            f"| {point['at_s']} | " + " | ".join(str(point.get(n, "–")) for n in names) + " |"
            for point in series
        ]
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--redis-url", default="")
    parser.add_argument("--var-dir", type=Path, default=ROOT / "var" / "bench")
    parser.add_argument("--sqlite-path", type=Path)
    parser.add_argument("--results-dir", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--scale", type=float, default=1)
    for name, value in run.FULL_SCALE.items():
        parser.add_argument(f"--{name}", type=int, help=f"default {value:,} × scale")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--duration", type=int, default=300, help="seconds (default 5 minutes)")
    parser.add_argument("--warmup", type=int, default=20, help="seconds before the RSS baseline")
    parser.add_argument("--sample", type=int, default=30, help="seconds between RSS readings")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--processes", type=int, default=2, help="gunicorn servers, 1 worker each")
    parser.add_argument("--vote-share", type=float, default=0.2)
    parser.add_argument("--progress-share", type=float, default=0.1)
    parser.add_argument("--client-timeout", type=int, default=30)
    parser.add_argument("--threads", type=int)
    args = parser.parse_args(argv)
    for name, value in run.FULL_SCALE.items():
        if getattr(args, name) is None:
            setattr(args, name, max(1, round(value * args.scale)))
    args.var_dir = args.var_dir.resolve()
    # What run.Server reads: one worker per server; the rest from gunicorn.conf.py.
    args.workers, args.worker_class, args.timeout, args.max_requests = 1, None, None, 0
    args.both = False
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    target = run.targets_for(args)[0]
    report = soak(target, args)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    path = args.results_dir / f"soak-{target.label}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(markdown(report) + "\n", flush=True)
    log(f"wrote {path}")
    tally = report["tallies"]
    clean = report["errors"] == 0 and report["server_log_tracebacks"] == 0
    return 0 if clean and not tally["wrong_tally_count"] and not tally["wrong_score_count"] else 1


if __name__ == "__main__":
    sys.exit(main())
