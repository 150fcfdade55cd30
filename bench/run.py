"""`make bench`: generate a large data set, serve the site with gunicorn, load it with wrk, report.

    .venv/bin/python bench/run.py                      # SQLite, var/bench/bench.sqlite3
    .venv/bin/python bench/run.py --database-url postgres://postgres@127.0.0.1:5432/x
    .venv/bin/python bench/run.py --both --redis-url redis://127.0.0.1:6379/2

The data set lives in a dedicated database (a SQLite file under var/bench/, or the
`mlops_bench` database on the PostgreSQL server the URL names) and is reused while its
parameters are unchanged. Results: a Markdown table on stdout, JSON in bench/results/.
See bench/README.md.
"""

import argparse
import ctypes
import http.client
import json
import os
import platform
import re
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.target import (  # noqa: E402
    DEFAULT_POSTGRES_URL,
    POSTGRES_DATABASE,
    NotABenchmarkDatabase,
    Target,
    database_for_scale,
    dataset_params,
    postgres_target,
    prepare,
    sqlite_target,
)

HOST = "127.0.0.1"
WRK_SCRIPT = ROOT / "bench" / "wrk.lua"
SEARCH_PATH = "/resources/?q=monitoring&sort=top"
API_PATH = "/api/resources/?page_size=20"
FULL_SCALE = {"resources": 20_000, "users": 2_000, "votes": 200_000, "tags": 2_000}
# Votes come last: they change content, which may empty the page cache. The minimal view comes
# first and last; the ratios use the faster of the two, as other work can only slow one down.
ENDPOINTS = (
    "minimal",
    "home",
    "section",
    "section-uncached",
    "search",
    "search-uncached",
    "resource",
    "api",
    "api-uncached",
    "vote",
    "minimal-again",
)
MINIMAL = ("minimal", "minimal-again")
# The endpoints with a latency target get a second, paced run; the targets are judged on it.
PACED = ("section-uncached", "search-uncached", "vote")
PACED_GRACE_SECONDS = 2  # after the window, for the answers still on their way
CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


def log(message: str) -> None:
    print(f"[bench {datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def fetch(port: int, path: str, *, method="GET", cookie="", body="", headers=None):
    """One plain request: (status, cookies set, body)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=60)
    try:
        connection.request(
            method, path, body=body or None, headers={"Cookie": cookie, **(headers or {})}
        )
        response = connection.getresponse()
        cookies = dict(
            line.split(";", 1)[0].strip().split("=", 1)
            for line in response.headers.get_all("Set-Cookie") or []
        )
        return response.status, cookies, response.read()
    finally:
        connection.close()


# The server.


def _die_with_parent() -> None:
    """Run in the child before exec: Linux sends it SIGTERM if this runner dies, even by -9."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class Server:
    """gunicorn serving the site with the benchmark settings; always stopped by stop()."""

    def __init__(self, env: dict, args, log_path: Path, database: str = POSTGRES_DATABASE):
        self.env, self.args, self.log_path, self.database = env, args, log_path, database
        with socket.socket() as probe:
            probe.bind((HOST, 0))
            self.port = probe.getsockname()[1]
        self.process: subprocess.Popen | None = None
        self.config: dict = {}

    def command(self) -> list[str]:
        # The repository's gunicorn.conf.py is what `make serve` runs, so it is measured too.
        command = [str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py"]
        command += ["config.wsgi:application", "--bind", f"{HOST}:{self.port}"]
        command += ["--chdir", str(ROOT), "--no-control-socket", "--error-logfile", "-"]
        for flag in ("workers", "threads", "worker_class", "timeout", "max_requests"):
            value = getattr(self.args, flag)
            if value is not None:
                command += [f"--{flag.replace('_', '-')}", str(value)]
        return command

    def start(self) -> None:
        printed = subprocess.run(  # noqa: S603 - our own gunicorn, fixed arguments
            [*self.command(), "--print-config"],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        ).stdout
        wanted = {"workers", "worker_class", "threads", "timeout", "keepalive", "max_requests"}
        for line in printed.splitlines():
            name, _, value = (part.strip() for part in line.partition("="))
            if name in wanted:
                self.config[name] = int(value) if value.isdigit() else value
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "wb") as output:  # the child keeps its own copy
            self.process = subprocess.Popen(  # noqa: S603 - our own gunicorn, fixed arguments
                self.command(),
                env=self.env,
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                start_new_session=True,  # Ctrl-C reaches the runner, which stops gunicorn
                preexec_fn=_die_with_parent,  # noqa: PLW1509 - no threads are running yet
            )
        log(f"gunicorn pid {self.process.pid} on {HOST}:{self.port}: {self.config}")
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = "\n".join(self.log_path.read_text().splitlines()[-30:])
                raise RuntimeError(f"gunicorn exited; see {self.log_path}:\n{tail}")
            try:
                if fetch(self.port, "/healthz")[0] == 200:
                    return
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"/healthz did not answer within 90 s; see {self.log_path}")

    def cpu_seconds(self) -> float:
        """CPU used so far by the gunicorn master and its workers, living and exited."""
        if self.process is None:
            return 0.0
        pid = self.process.pid
        try:
            total = sum(process_cpu(pid))  # the master's, and its exited workers'
            with open(f"/proc/{pid}/task/{pid}/children") as handle:
                for child in handle.read().split():
                    try:
                        total += process_cpu(child)[0]
                    except OSError:
                        pass
        except OSError:
            return 0.0
        return total

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        log(f"stopping gunicorn pid {self.process.pid}")
        self.process.terminate()
        try:
            self.process.wait(timeout=25)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)  # its own session: only its workers
            self.process.wait(timeout=10)


# CPU accounting: the server's, wrk's, the database's and everything else on the machine.


def process_cpu(pid) -> tuple[float, float]:
    """CPU seconds of a process, and of its children that have exited, from /proc."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()  # from the state on: utime is 11th
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks, (int(fields[13]) + int(fields[14])) / ticks


def machine_cpu_seconds() -> float:
    with open("/proc/stat") as handle:
        fields = [int(value) for value in handle.readline().split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")  # less idle


def database_cpu(database: str = POSTGRES_DATABASE) -> dict[str, float]:
    """CPU time of the PostgreSQL backends serving the bench database and of Redis, each."""
    found = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                command = handle.read().replace(b"\0", b" ")
            if command.startswith(b"redis-server") or (
                command.startswith(b"postgres:") and f" {database} ".encode() in command
            ):
                found[pid] = process_cpu(pid)[0]
        except OSError:
            continue
    return found


def cpu_snapshot(server: "Server") -> dict:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk's, once it has exited
    return {
        "server": server.cpu_seconds(),
        "client": usage.ru_utime + usage.ru_stime,
        "database": database_cpu(getattr(server, "database", POSTGRES_DATABASE)),
        "machine": machine_cpu_seconds(),
        "load": os.getloadavg()[0],
    }


def cpu_used(before: dict, after: dict) -> dict:
    """CPU seconds of the server, wrk, the database and the rest of the machine in between."""
    used = {f"{name}_cpu_seconds": after[name] - before[name] for name in ("server", "client")}
    used["database_cpu_seconds"] = sum(
        seconds - before["database"].get(pid, 0.0) for pid, seconds in after["database"].items()
    )
    # What is left was used by other work on the machine, which the numbers then include.
    used["other_cpu_seconds"] = after["machine"] - before["machine"] - sum(used.values())
    used = {name: round(seconds, 2) for name, seconds in used.items()}
    return {
        **used,
        "load_average_before": round(before["load"], 2),
        "load_average_after": round(after["load"], 2),
    }


def machine_busy_percent(seconds: float = 3.0) -> float:
    before, started = machine_cpu_seconds(), time.monotonic()
    time.sleep(seconds)
    used = machine_cpu_seconds() - before
    return round(100 * used / ((time.monotonic() - started) * (os.cpu_count() or 1)), 1)


def wait_until_idle(server: Server, limit: float = 300) -> float:
    """Wait while gunicorn still works on requests whose clients gave up or left."""
    started, before = time.monotonic(), server.cpu_seconds()
    while time.monotonic() - started < limit:
        time.sleep(1)
        now = server.cpu_seconds()
        if now - before < 0.05:
            break
        before = now
    return round(time.monotonic() - started, 1)


# The endpoints.


@dataclass
class Endpoint:
    key: str
    name: str
    path: str
    session: str  # "anonymous" or "signed in"
    paths: list[str]
    vote: bool = False
    uncached: bool = False  # an anonymous request that the page cache never answers

    def wrk_config(self, users: list[dict], connections: int) -> dict:
        """What bench/wrk.lua needs: one user per connection; signed-in requests skip caches."""
        signed_in = self.session == "signed in"
        return {
            "connections": connections,
            "paths": self.paths,
            "users": [users[n % len(users)] if signed_in else {} for n in range(connections)],
            "method": "POST" if self.vote else "GET",
            "headers": (
                {"Content-Type": "application/x-www-form-urlencoded", "HX-Request": "true"}
                if self.vote
                else {}
            ),
            # A parameter the page cache does not know, unique to each request.
            "nocache": (signed_in and not self.vote) or self.uncached,
            "vote": self.vote,
            # For signed-in requests an answer other than 200 (a redirect to sign in) failed.
            "check": signed_in,
        }


def build_endpoints(keys: list[str], fixtures: dict, section: str) -> list[Endpoint]:
    section_path = f"/sections/{section}/"
    details = [f"/resources/{pk}/" for pk in fixtures["detail_ids"]]
    votes = [f"/resources/{pk}/vote/" for pk in fixtures["vote_ids"]]
    catalogue = {
        "minimal": ("minimal Django view", "/bench/minimal/", "anonymous"),
        "minimal-again": ("minimal Django view, again", "/bench/minimal/", "anonymous"),
        "home": ("home /", "/", "anonymous"),
        "section": (f"section {section_path}", section_path, "anonymous"),
        "section-uncached": (f"section {section_path} signed in", section_path, "signed in"),
        "search": ("explorer search", SEARCH_PATH, "anonymous"),
        "search-uncached": ("explorer search signed in", SEARCH_PATH, "signed in"),
        "resource": ("resource page", "/resources/<id>/", "anonymous", details),
        "api": ("API resources", API_PATH, "anonymous"),
        "api-uncached": ("API resources, uncached", API_PATH, "anonymous"),
        "vote": ("vote (POST)", "/resources/<id>/vote/", "signed in", votes),
    }
    endpoints = []
    for key in keys:
        name, path, session, *paths = catalogue[key]
        paths = paths[0] if paths else [path]
        endpoints.append(
            Endpoint(
                key, name, path, session, paths, vote=key == "vote", uncached=key == "api-uncached"
            )
        )
    return endpoints


def client_users(server: Server, fixtures: dict, count: int) -> list[dict]:
    """Per client: its session cookie and the CSRF cookie and token a resource page gives it."""
    names = fixtures["cookies"]
    users = []
    for client in range(count):
        session = fixtures["sessions"][client % len(fixtures["sessions"])]["session_key"]
        page = f"/resources/{fixtures['vote_ids'][client % len(fixtures['vote_ids'])]}/"
        status, cookies, body = fetch(server.port, page, cookie=f"{names['session']}={session}")
        token = CSRF_INPUT.search(body)
        if status != 200 or not token or names["csrf"] not in cookies:
            raise RuntimeError(
                f"client {client} got no CSRF token from {page} (HTTP {status}); "
                "is the session signed in with a verified address?"
            )
        cookie = f"{names['session']}={session}; {names['csrf']}={cookies[names['csrf']]}"
        users.append({"cookie": cookie, "token": token.group(1).decode()})
    return users


def single_requests(server: Server, config: dict, count: int = 3) -> tuple[list, list]:
    """A few requests one after another on an idle server (the first fills the page cache)."""
    timings, statuses = [], []
    user = config["users"][0]
    for number in range(count):
        path = config["paths"][0]
        if config["nocache"]:
            path += ("&" if "?" in path else "?") + f"nocache=single-{number}"
        body = f"csrfmiddlewaretoken={user['token']}&value=up" if config["vote"] else ""
        begin = time.perf_counter_ns()
        status, _, _ = fetch(
            server.port,
            path,
            method=config["method"],
            cookie=user.get("cookie", ""),
            body=body,
            headers=config["headers"],
        )
        timings.append(round((time.perf_counter_ns() - begin) / 1e6, 2))
        statuses.append(status)
    return timings, statuses


# Running wrk.


def lua(value) -> str:
    """A Python value as a Lua literal, for the configuration bench/wrk.lua reads."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # ASCII paths, cookies and tokens: the escapes agree
    if isinstance(value, dict):
        return "{" + ", ".join(f"[{lua(k)}] = {lua(v)}" for k, v in value.items()) + "}"
    return "{" + ", ".join(lua(item) for item in value) + "}"


def run_wrk(
    port: int, config: dict, seconds: int, args, *, script: Path = WRK_SCRIPT, folder=None
) -> dict:
    """One wrk run of `seconds` with `script` (bench/wrk.lua); returns what its done() printed.
    Runs at the same moment need a `folder` each, for their config files."""
    config_path = (folder or args.var_dir) / "wrk-config.lua"
    config_path.write_text(f"return {lua(config)}\n")
    connections = str(config["connections"])
    command = ["wrk", "-t", connections, "-c", connections, "-d", f"{seconds}s"]
    command += ["--timeout", f"{args.client_timeout}s", "-s", str(script)]
    finished = subprocess.run(  # noqa: S603 - wrk from PATH, our own arguments
        [*command, f"http://{HOST}:{port}/"],
        env={**os.environ, "BENCH_WRK_CONFIG": str(config_path)},
        capture_output=True,
        text=True,
        timeout=seconds + args.client_timeout + 60,
        check=False,
    )
    lines = [line for line in finished.stdout.splitlines() if line.startswith("BENCH_JSON ")]
    if finished.returncode or not lines:
        raise RuntimeError(f"wrk failed ({finished.returncode}): {finished.stderr.strip()}")
    return json.loads(lines[-1].removeprefix("BENCH_JSON "))


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 2)


def load(server: Server, config: dict, args, rate: float = 0.0) -> dict:
    """One load run (saturated, or paced at `rate`), its CPU accounting, then the drain."""
    warmup_errors = 0
    if args.warmup and not rate:  # a paced run warms up inside its own wrk run
        warmup = run_wrk(server.port, {**config, "run": "w"}, args.warmup, args)
        warmup_errors = sum(warmup["errors"].values()) + warmup["bad"]
    before = cpu_snapshot(server)
    if rate:
        paced = {"rate": rate, "warmup": args.warmup * 1000, "duration": args.duration * 1000}
        seconds = args.warmup + args.duration + PACED_GRACE_SECONDS
        result = run_wrk(server.port, {**config, **paced, "run": "p"}, seconds, args)
        samples = result["samples_ms"]
        summary = {
            "requests": len(samples),
            "rps": round(len(samples) / args.duration, 1),
            "offered_rps": round(rate, 1),
            "unsent": max(0, result["expected"] - len(samples)),
            "p50_ms": percentile(samples, 0.50),
            "p95_ms": percentile(samples, 0.95),
            "p99_ms": percentile(samples, 0.99),
            "max_ms": round(max(samples), 2) if samples else None,
            "mean_ms": round(sum(samples) / len(samples), 2) if samples else None,
        }
    else:
        result = run_wrk(server.port, {**config, "run": "m"}, args.duration, args)
        latency = result["latency_us"]
        summary = {
            "requests": result["requests"],
            "rps": round(result["requests"] / (result["duration_us"] / 1e6), 1),
            **{f"{name}_ms": round(latency[name] / 1000, 2) for name in ("p50", "p95", "p99")},
            "max_ms": round(latency["max"] / 1000, 2),
            "mean_ms": round(latency["mean"] / 1000, 2),
        }
    summary["errors"] = sum(result["errors"].values()) + result["bad"] + warmup_errors
    summary["error_kinds"] = {**result["errors"], "not_200": result["bad"]}
    summary["mean_response_bytes"] = round(result["bytes"] / max(1, result["requests"]))
    summary.update(cpu_used(before, cpu_snapshot(server)))
    summary["drain_seconds"] = wait_until_idle(server)
    return summary


def measure(server: Server, endpoint: Endpoint, users: list[dict], args) -> dict:
    """Single requests, the saturated run and, for a latency target, the paced run."""
    row = {
        "key": endpoint.key,
        "name": endpoint.name,
        "path": endpoint.path,
        "session": endpoint.session,
        "method": "POST" if endpoint.vote else "GET",
    }
    config = endpoint.wrk_config(users or [{}], args.connections)
    timings, statuses = single_requests(server, config)
    row["probe_status"], row["single_request_ms"] = statuses[0], timings
    if endpoint.key.startswith("api") and statuses[0] == 404:
        log(f"{endpoint.name}: 404, reported as missing")
        return {**row, "missing": True}
    if statuses[0] != 200:
        log(f"{endpoint.name}: HTTP {statuses[0]} to a single request, not 200")
    summary = load(server, config, args)
    log(
        f"{endpoint.name}: {summary['rps']} req/s, p95 {summary['p95_ms']} ms, "
        f"{summary['errors']} errors, single request {timings} ms"
    )
    row = {**row, "missing": False, **summary}
    capacity = summary["rps"] or 0.0
    if endpoint.key in PACED and args.paced_fraction > 0 and capacity > 0:
        paced = load(server, config, args, rate=args.paced_fraction * capacity)
        row["paced"] = {
            "fraction": args.paced_fraction,
            "capacity_rps": capacity,
            "connections": args.connections,
            # Little's law: the requests in flight on average, out of the connections open.
            "mean_in_flight": round(paced["rps"] * (paced["mean_ms"] or 0) / 1000, 2),
            **paced,
        }
        log(
            f"{endpoint.name} paced: {paced['offered_rps']} req/s offered, {paced['rps']} "
            f"achieved, p95 {paced['p95_ms']} ms, {paced['errors']} errors"
        )
    return row


# Targets and the report.


def baseline_rps(rows: dict) -> float | None:
    """The minimal view's throughput: the faster of its measurements in this run."""
    measured = [rows[key]["rps"] for key in MINIMAL if rows.get(key, {}).get("rps")]
    return max(measured) if measured else None


PG_FULL = "PostgreSQL with the full data set"
# (endpoint, target, metric, threshold, where it applies): "ratio" is throughput / minimal view
# on the saturated run, "p95" is judged on the paced run (or the saturated one without it).
# The renovation (issue 10) keeps anonymous pages from the cache at 0.8 of the minimal view;
# issue 15 sets the signed-in pages', the uncached API page's and the vote's.
TARGETS = (
    ("home", "cached anonymous / reaches 0.8 of the minimal view", "ratio", 0.8, ""),
    ("section", "cached anonymous section page reaches 0.8 of the minimal view", "ratio", 0.8, ""),
    ("search", "cached anonymous explorer search reaches 0.8 of the minimal view", "ratio", 0.8,
     ""),
    ("resource", "cached anonymous resource pages reach 0.8 of the minimal view", "ratio", 0.8,
     ""),
    ("section-uncached", "signed-in section page reaches 0.1 of the minimal view", "ratio", 0.1,
     ""),
    ("search-uncached", "signed-in explorer search reaches 0.15 of the minimal view", "ratio",
     0.15, ""),
    ("api-uncached", "uncached API page of 20 reaches 0.4 of the minimal view", "ratio", 0.4, ""),
    ("vote", "vote reaches 0.3 of the minimal view", "ratio", 0.3, ""),
    ("section-uncached", "signed-in section page p95 under 100 ms", "p95", 100, PG_FULL),
    ("search-uncached", "signed-in explorer search p95 under 100 ms", "p95", 100, PG_FULL),
    ("vote", "vote p95 under 50 ms with 16 concurrent clients", "p95", 50, "16 connections"),
)  # fmt: skip


def evaluate_targets(rows: dict, facts: dict) -> list[dict]:
    full_scale = all(facts["dataset"]["params"][k] >= v for k, v in FULL_SCALE.items())
    connections = facts["load"]["connections"]
    applies = {
        "": baseline_rps(rows) is not None,
        PG_FULL: facts["database"]["vendor"] == "postgresql" and full_scale,
        "16 connections": connections >= 16,
    }
    targets = []
    for key, description, metric, threshold, condition in TARGETS:
        row = {} if rows.get(key, {}).get("missing") else rows.get(key, {})
        paced = row.get("paced") if metric == "p95" else None
        judged = paced or row
        value = judged.get("ratio_to_minimal" if metric == "ratio" else "p95_ms")
        clean = judged.get("requests", 0) > 0 and judged.get("errors", 1) == 0
        good = value is not None and (
            value >= threshold if metric == "ratio" else value < threshold
        )
        if metric == "ratio":
            measured_as = f"throughput, saturated ({connections} connections)"
        elif paced:
            measured_as = (
                f"p95 at {percent(paced['fraction'])} of measured capacity "
                f"({paced['offered_rps']:,.1f} req/s offered by {connections} connections, paced)"
            )
        else:
            measured_as = f"p95 saturated ({connections} connections; no paced run)"
        targets.append(
            {
                "target": description,
                "endpoint": key,
                "metric": "throughput / minimal view" if metric == "ratio" else "p95 ms",
                "threshold": f">= {threshold}" if metric == "ratio" else f"< {threshold}",
                "value": value,
                "met": None if value is None else good and clean and not judged.get("unsent"),
                "applies": applies[condition],
                "condition": condition,
                "basis": "paced" if paced else "saturated",
                "measured_as": measured_as,
                "saturated_p95_ms": row.get("p95_ms") if paced else None,
                "saturated_errors": row.get("errors") if paced else None,
            }
        )
    return targets


def fmt(value, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}"


def percent(fraction: float) -> str:
    return f"{fraction * 100:g} %"


def markdown(report: dict) -> str:
    facts, server, load_facts = report["dataset"]["counts"], report["server"], report["load"]
    lines = [
        f"**{report['database']['vendor']}** {report['database']['version']}, "
        f"cache: {report['cache']}, {report['machine']['cores']} cores, "
        f"gunicorn {server.get('workers')}×{server.get('worker_class')}"
        f"({server.get('threads')} threads), wrk {load_facts['connections']} connections × "
        f"{load_facts['duration_s']} s; data: {facts['resources']:,} resources, "
        f"{facts['users']:,} users, {facts['votes']:,} votes, {facts['tags']:,} tags",
        "",
        "| Endpoint | Session | req/s | p50 ms | p95 ms | p99 ms | n | Errors | × minimal "
        "| 1 request ms | KB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in report["endpoints"]:
        single = fmt(min(row["single_request_ms"])) if row.get("single_request_ms") else "–"
        if row.get("missing"):
            lines.append(
                f"| {row['name']} | {row['session']} | missing (404) | | | | | | | {single} | |"
            )
            continue
        lines.append(
            f"| {row['name']} | {row['session']} | {fmt(row['rps'])} | {fmt(row['p50_ms'])} | "
            f"{fmt(row['p95_ms'])} | {fmt(row['p99_ms'])} | {row['requests']:,} | "
            f"{row['errors']:,} | {fmt(row.get('ratio_to_minimal'), 2)} | {single} | "
            f"{fmt(row['mean_response_bytes'] / 1024, 0)} |"
        )
    paced_rows = [row for row in report["endpoints"] if row.get("paced")]
    if paced_rows:
        fraction = paced_rows[0]["paced"]["fraction"]
        heading = "half load" if fraction == 0.5 else f"{percent(fraction)} of capacity"
        lines += [
            "",
            f"Latency at {heading}: each endpoint paced at {percent(fraction)} of the throughput "
            f"it reached above, by the same {load_facts['connections']} connections; latency "
            "counts from the time each request was due.",
            "",
            "| Endpoint | offered req/s | achieved req/s | p50 ms | p95 ms | p99 ms | Errors |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for row in paced_rows:
            paced = row["paced"]
            errors = f"{paced['errors']:,}"
            if paced.get("unsent"):
                errors += f" (+{paced['unsent']:,} unsent)"
            lines.append(
                f"| {row['name']} | {fmt(paced['offered_rps'])} | {fmt(paced['rps'])} | "
                f"{fmt(paced['p50_ms'])} | {fmt(paced['p95_ms'])} | {fmt(paced['p99_ms'])} | "
                f"{errors} |"
            )
    lines += [
        "",
        "| Target | Judged on | Value | Met | Saturated p95 (information) |",
        "|---|---|---:|---|---:|",
    ]
    for target in report["targets"]:
        met = {True: "yes", False: "**no**", None: "not measured"}[target["met"]]
        if not target["applies"]:
            met += f" (target is for {target.get('condition', 'another setting')})"
        unit = "×" if target["metric"].startswith("throughput") else "ms"
        value = target["value"]
        shown = "–" if value is None else f"{fmt(value, 2 if unit == '×' else 1)} {unit}"
        saturated = "–"
        if target["basis"] == "paced" and target.get("saturated_p95_ms") is not None:
            saturated = f"{fmt(target['saturated_p95_ms'])} ms"
            if target.get("saturated_errors"):
                saturated += f", {target['saturated_errors']:,} errors"
        lines.append(
            f"| {target['target']} | {target['measured_as']} | {shown} | {met} | {saturated} |"
        )
    return "\n".join(lines)


# One database from start to finish.


def child_env(target: Target, args, secret_key: str) -> dict:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DJANGO_", "GUNICORN_"))
        and name not in ("DATABASE_URL", "SQLITE_PATH", "REDIS_URL")
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": secret_key,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SITE_URL": "https://bench.example.org",  # production refuses a local address
            "DJANGO_SSL_REDIRECT": "false",
            "DJANGO_SECURE_COOKIES": "false",
            "DJANGO_VAR_DIR": str(args.var_dir),
            "PYTHONPATH": str(ROOT),
            **target.django_env(),
        }
    )
    if args.redis_url:
        env["REDIS_URL"] = args.redis_url
    return env


def run_database(target: Target, args) -> dict:
    started = time.perf_counter()
    params = dataset_params(args)
    log(f"{target.describe()}: {prepare(target, params, regenerate=args.regenerate, log=log)}")
    env = child_env(target, args, secrets.token_urlsafe(50))
    args.var_dir.mkdir(parents=True, exist_ok=True)
    fixtures_path = args.var_dir / f"fixtures-{target.label}.json"
    timings = {}

    step = time.perf_counter()
    sizes = [f"--{name}={params[name]}" for name in ("resources", "users", "votes", "tags", "seed")]
    subprocess.run(  # noqa: S603
        [sys.executable, "-m", "bench.dataset", "--out", str(fixtures_path)]
        + ["--clients", str(args.connections), *sizes],
        env=env,
        cwd=ROOT,
        check=True,
    )
    fixtures = json.loads(fixtures_path.read_text())
    timings["dataset_step"] = round(time.perf_counter() - step, 1)

    step = time.perf_counter()
    subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"],
        env=env,
        cwd=ROOT,
        check=True,
    )
    timings["collectstatic"] = round(time.perf_counter() - step, 1)

    server = Server(env, args, args.var_dir / f"gunicorn-{target.label}.log", target.database)
    rows: dict[str, dict] = {}
    try:
        step = time.perf_counter()
        server.start()
        timings["server_start"] = round(time.perf_counter() - step, 1)
        signed_in = {"section-uncached", "search-uncached", "vote"} & set(args.endpoints)
        users = client_users(server, fixtures, args.connections) if signed_in else []
        step = time.perf_counter()
        wait_until_idle(server)  # the workers' start-up
        busy = machine_busy_percent()
        if busy > 20:
            log(f"the machine is {busy} % busy before the load starts: expect skewed numbers")
        for endpoint in build_endpoints(args.endpoints, fixtures, args.section):
            rows[endpoint.key] = measure(server, endpoint, users, args)
        timings["load"] = round(time.perf_counter() - step, 1)
    finally:
        server.stop()
    timings["total"] = round(time.perf_counter() - started, 1)
    report = assemble_report(rows, fixtures, args, server.config, timings)
    report["machine"]["busy_before_percent"] = busy
    report["server_log_tracebacks"] = server.log_path.read_text(errors="replace").count("Traceback")
    return report


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


def assemble_report(rows: dict, fixtures: dict, args, server_config: dict, timings: dict):
    """The JSON document of one run: facts about the machine and data, rows, targets."""
    minimal = baseline_rps(rows)
    for row in rows.values():
        if minimal and row.get("rps") is not None:
            row["ratio_to_minimal"] = round(row["rps"] / minimal, 3)

    def git(*arguments: str) -> str:
        try:
            return subprocess.run(  # noqa: S603
                ["git", *arguments],  # noqa: S607 - git from PATH, read-only commands
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=30,
                check=True,
            ).stdout.rstrip("\n")
        except (OSError, subprocess.SubprocessError):
            return ""

    wrk = shutil.which("wrk")
    command = [wrk, "-v"] if wrk else ["true"]
    printed = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    wrk_version = printed.stdout.split(" [")[0] or "wrk"
    report = {
        "schema": 3,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": fixtures["database"],
        "cache": "redis" if args.redis_url else "database",
        "machine": {
            "cores": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "django": package_version("Django"),
            "gunicorn": package_version("gunicorn"),
        },
        "server": server_config,
        "load": {
            "connections": args.connections,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "client": f"{wrk_version}, -t N -c N, bench/wrk.lua",
            "paced_fraction": args.paced_fraction,
            "paced_endpoints": [
                key for key in PACED if key in args.endpoints and args.paced_fraction > 0
            ],
        },
        "dataset": {
            "params": fixtures["params"],
            "counts": fixtures["counts"],
            "reused": fixtures["reused"],
            "generation": fixtures["generation"],
        },
        "code": {
            "commit": git("rev-parse", "--short", "HEAD"),
            "changed_files": git("status", "--porcelain", "--untracked-files=no").splitlines(),
        },
        "baseline_rps": minimal,
        "timings_s": timings,
        "endpoints": [rows[key] for key in ENDPOINTS if key in rows],
    }
    report["targets"] = evaluate_targets(rows, report)
    return report


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    where = parser.add_argument_group("database")
    where.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", ""),
        help="a PostgreSQL server (default: $DATABASE_URL); its mlops_bench database is used",
    )
    where.add_argument("--both", action="store_true", help="SQLite, then PostgreSQL")
    where.add_argument("--redis-url", default="", help="use Redis as the cache, e.g. redis://…/2")
    where.add_argument("--var-dir", type=Path, default=ROOT / "var" / "bench")
    where.add_argument("--sqlite-path", type=Path, help="default: VAR_DIR/bench.sqlite3")
    where.add_argument("--results-dir", type=Path, default=ROOT / "bench" / "results")

    data = parser.add_argument_group("data set")
    data.add_argument("--scale", type=float, default=1, help="times the sizes below (default 1)")
    for name, value in FULL_SCALE.items():
        data.add_argument(f"--{name}", type=int, help=f"default {value:,} × scale")
    data.add_argument("--seed", type=int, default=42)
    data.add_argument("--regenerate", action="store_true", help="rebuild the data set")

    load_group = parser.add_argument_group("load")
    load_group.add_argument("--duration", type=int, default=10, help="seconds per endpoint")
    load_group.add_argument("--warmup", type=int, default=2, help="uncounted seconds before")
    load_group.add_argument("--connections", type=int, default=16, help="wrk -t N -c N")
    load_group.add_argument(
        "--endpoints", default=",".join(ENDPOINTS), help=f"a subset of {','.join(ENDPOINTS)}"
    )
    load_group.add_argument("--section", default="tools", help="slug of the section page")
    load_group.add_argument("--client-timeout", type=int, default=30, help="wrk --timeout, s")
    load_group.add_argument(
        "--paced-fraction",
        type=float,
        default=0.5,
        help=f"after the saturated run of {', '.join(PACED)}: a paced run at this fraction of "
        "the throughput just measured, on which the latency targets are judged; 0 skips it",
    )

    server = parser.add_argument_group("gunicorn (default: the repository's gunicorn.conf.py)")
    server.add_argument("--workers", type=int)
    server.add_argument("--threads", type=int)
    server.add_argument("--worker-class")
    server.add_argument("--timeout", type=int)
    server.add_argument("--max-requests", type=int, default=0, help="default 0: no recycling")

    args = parser.parse_args(argv)
    if args.paced_fraction < 0 or args.duration < 1 or args.warmup < 0 or args.scale <= 0:
        parser.error("--duration must be 1 or more; --paced-fraction, --warmup, --scale >= 0")
    for name, value in FULL_SCALE.items():
        if getattr(args, name) is None:
            setattr(args, name, max(1, round(value * args.scale)))
    args.var_dir = args.var_dir.resolve()
    wanted = {key.strip() for key in args.endpoints.split(",") if key.strip()}
    if wanted - set(ENDPOINTS):
        parser.error(f"unknown endpoints: {', '.join(sorted(wanted - set(ENDPOINTS)))}")
    # The catalogue's order, the minimal view always: the ratios need it.
    args.endpoints = [key for key in ENDPOINTS if key in wanted | {"minimal"}]
    return args


def targets_for(args) -> list[Target]:
    suffix = database_for_scale(args.scale)[1]
    sqlite = sqlite_target(
        args.sqlite_path or args.var_dir / f"bench{suffix}.sqlite3", ROOT / "var" / "db.sqlite3"
    )
    sqlite.suffix = suffix
    if args.both:
        return [sqlite, postgres_target(args.database_url or DEFAULT_POSTGRES_URL, args.scale)]
    if args.database_url:
        return [postgres_target(args.database_url, args.scale)]
    return [sqlite]


def main(argv=None) -> int:
    args = parse_args(argv)
    if not shutil.which("wrk"):
        log("wrk is not installed: `make bench` installs it, or `apt-get install wrk`")
        return 2
    # Ctrl-C and SIGTERM unwind through the finally blocks that stop gunicorn; SIGINT is set
    # explicitly because a shell starts background jobs with it ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    failures = 0
    for target in targets_for(args):
        try:
            report = run_database(target, args)
        except KeyboardInterrupt:
            log("interrupted; gunicorn was stopped")
            return 130
        except (NotABenchmarkDatabase, RuntimeError, subprocess.CalledProcessError) as error:
            log(f"{target.describe()}: {error}")
            failures += 1
            continue
        args.results_dir.mkdir(parents=True, exist_ok=True)
        path = args.results_dir / f"latest-{target.label}.json"
        path.write_text(json.dumps(report, indent=2) + "\n")
        print(markdown(report) + "\n", flush=True)
        log(f"wrote {path} (total {report['timings_s']['total']} s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
