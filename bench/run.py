"""`make bench`: generate a large data set, serve the site with gunicorn, load it, report.

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
import json
import os
import platform
import random
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import loadgen  # noqa: E402
from bench.target import (  # noqa: E402
    DEFAULT_POSTGRES_URL,
    POSTGRES_DATABASE,
    NotABenchmarkDatabase,
    Target,
    dataset_params,
    postgres_target,
    prepare,
    sqlite_target,
)

HOST = "127.0.0.1"
SEARCH_PATH = "/resources/?q=monitoring&sort=top"
API_PATH = "/api/resources/?page_size=20"
FULL_SCALE = {"resources": 20_000, "users": 2_000, "votes": 200_000, "tags": 2_000}
# The order matters: votes change the content version, which empties the page cache. The
# minimal view comes first and last; the ratios use the faster of the two, as other work on
# the machine can only slow a measurement down.
ENDPOINTS = (
    "minimal",
    "home",
    "section",
    "section-uncached",
    "search",
    "search-uncached",
    "resource",
    "api",
    "vote",
    "minimal-again",
)
MINIMAL = ("minimal", "minimal-again")
# The endpoints with a latency target get a second, paced (open-loop) run after the saturated
# one; the targets are judged on it. Its request numbers start here, so that no signed-in URL
# of the saturated run comes back.
PACED = ("section-uncached", "search-uncached", "vote")
PACED_NUMBERS = 20_000_000


def log(message: str) -> None:
    print(f"[bench {datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


# The server.


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _die_with_parent() -> None:
    """Run in the child before exec: Linux sends it SIGTERM if this runner dies, even by -9."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class Server:
    """gunicorn serving the site with the benchmark settings; always stopped by stop()."""

    def __init__(self, env: dict, args, log_path: Path):
        self.env, self.args, self.log_path = env, args, log_path
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.config: dict = {}

    def command(self) -> list[str]:
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        command = [gunicorn]
        # The repository's gunicorn.conf.py is what `make serve` runs, so it is measured too.
        if (ROOT / "gunicorn.conf.py").exists():
            command += ["-c", str(ROOT / "gunicorn.conf.py")]
        else:
            command += ["--worker-class", "gthread", "--workers", "3", "--threads", "4"]
        command += [
            "config.wsgi:application",
            "--bind",
            f"{HOST}:{self.port}",
            "--chdir",
            str(ROOT),
            "--no-control-socket",
            "--error-logfile",
            "-",  # stderr, which start() sends to the log file with the workers' own output
        ]
        for flag, value in (
            ("--workers", self.args.workers),
            ("--threads", self.args.threads),
            ("--worker-class", self.args.worker_class),
            ("--timeout", self.args.timeout),
            ("--max-requests", self.args.max_requests),
        ):
            if value is not None:
                command += [flag, str(value)]
        return command

    def effective_config(self) -> dict:
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
        config = {}
        for line in printed.splitlines():
            name, _, value = line.partition("=")
            if name.strip() in wanted:
                value = value.strip()
                config[name.strip()] = int(value) if value.isdigit() else value
        return config

    def start(self) -> None:
        self.config = self.effective_config()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path.write_text("")
        output = open(self.log_path, "ab")  # noqa: SIM115 - held until gunicorn exits
        self.process = subprocess.Popen(  # noqa: S603 - our own gunicorn, fixed arguments
            self.command(),
            env=self.env,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=output,
            start_new_session=True,  # Ctrl-C reaches the runner, which stops gunicorn itself
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - no threads are running yet
        )
        output.close()  # the child has its own copy
        log(f"gunicorn pid {self.process.pid} on {HOST}:{self.port}: {self.config}")
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log_path}:\n{self.log_tail()}")
            probe = loadgen.Connection(HOST, self.port, timeout=5)
            try:
                if probe.request(loadgen.Request("GET", "/healthz")).status == 200:
                    return
            except (OSError, loadgen.ConnectionClosed):
                pass
            finally:
                probe.close()
            time.sleep(0.2)
        raise RuntimeError(f"/healthz did not answer within 90 s; see {self.log_path}")

    def count_in_log(self, text: str) -> int:
        with open(self.log_path, errors="replace") as handle:
            return sum(1 for line in handle if text in line)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text().splitlines()[-lines:])
        except OSError:
            return ""

    def cpu_seconds(self) -> float:
        """CPU used so far by the gunicorn master and its workers, living and exited."""
        if self.process is None:
            return 0.0
        ticks = os.sysconf("SC_CLK_TCK")

        def stat(pid: int) -> list[str]:
            with open(f"/proc/{pid}/stat") as handle:
                return handle.read().rsplit(")", 1)[1].split()

        try:
            master = stat(self.process.pid)
            # utime, stime, cutime, cstime: fields 14-17, here 11-14 after "pid (comm)".
            total = sum(int(value) for value in master[11:15])
            with open(f"/proc/{self.process.pid}/task/{self.process.pid}/children") as handle:
                children = [int(pid) for pid in handle.read().split()]
            for pid in children:
                try:
                    total += sum(int(value) for value in stat(pid)[11:13])
                except OSError:
                    pass
        except OSError:
            return 0.0
        return total / ticks

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


# The endpoints.


@dataclass
class Endpoint:
    key: str
    name: str
    path: str
    session: str  # "anonymous" or "signed in"
    make_request: loadgen.RequestMaker


def build_endpoints(keys: list[str], fixtures: dict, args, csrf: list[dict]) -> list[Endpoint]:
    sessions = fixtures["sessions"]
    cookie = fixtures["cookies"]["session"]
    section = f"/sections/{args.section}/"
    detail_ids = fixtures["detail_ids"]
    vote_ids = fixtures["vote_ids"]

    def anonymous(path: str) -> loadgen.RequestMaker:
        request = loadgen.Request("GET", path)
        return lambda client, number: request

    def signed_in(path: str) -> loadgen.RequestMaker:
        # Signed-in readers skip the anonymous page cache; the parameter defeats any other.
        glue = "&" if "?" in path else "?"

        def make(client: int, number: int) -> loadgen.Request:
            session = sessions[client % len(sessions)]["session_key"]
            return loadgen.Request(
                "GET",
                f"{path}{glue}nocache={client}-{number}",
                {"Cookie": f"{cookie}={session}"},
            )

        return make

    def resource_page(client: int, number: int) -> loadgen.Request:
        return loadgen.Request(
            "GET", f"/resources/{detail_ids[(client * 31 + number) % len(detail_ids)]}/"
        )

    pickers = [random.Random(args.seed * 1000 + n) for n in range(len(csrf))]  # noqa: S311

    def vote(client: int, number: int) -> loadgen.Request:
        # Each client is its own user and votes up or down on varied resources: every request
        # creates, switches or takes back a real vote.
        picker = pickers[client]
        jar = csrf[client]
        body = f"csrfmiddlewaretoken={jar['token']}&value={picker.choice(('up', 'down'))}"
        return loadgen.Request(
            "POST",
            f"/resources/{picker.choice(vote_ids)}/vote/",
            {
                "Cookie": jar["cookie"],
                "Content-Type": "application/x-www-form-urlencoded",
                "HX-Request": "true",
            },
            body.encode(),
        )

    catalogue = {
        "minimal": ("minimal Django view", "/bench/minimal/", "anonymous", None),
        "minimal-again": ("minimal Django view, again", "/bench/minimal/", "anonymous", None),
        "home": ("home /", "/", "anonymous", None),
        "section": (f"section {section}", section, "anonymous", None),
        "section-uncached": (f"section {section} uncached", section, "signed in", None),
        "search": ("explorer search", SEARCH_PATH, "anonymous", None),
        "search-uncached": ("explorer search uncached", SEARCH_PATH, "signed in", None),
        "resource": ("resource page", "/resources/<id>/", "anonymous", resource_page),
        "api": ("API resources", API_PATH, "anonymous", None),
        "vote": ("vote (POST)", "/resources/<id>/vote/", "signed in", vote),
    }
    endpoints = []
    for key in keys:
        name, path, session, maker = catalogue[key]
        if maker is None:
            maker = signed_in(path) if session == "signed in" else anonymous(path)
        endpoints.append(Endpoint(key, name, path, session, maker))
    return endpoints


def client_csrf(server: Server, fixtures: dict, count: int) -> list[dict]:
    """For each vote client: its session cookie and the CSRF token a resource page gives it."""
    names = fixtures["cookies"]
    jars = []
    for client in range(count):
        session = fixtures["sessions"][client % len(fixtures["sessions"])]["session_key"]
        cookies = {names["session"]: session}
        connection = loadgen.Connection(HOST, server.port)
        try:
            page = connection.request(
                loadgen.Request(
                    "GET",
                    f"/resources/{fixtures['vote_ids'][client % len(fixtures['vote_ids'])]}/",
                    {"Cookie": f"{names['session']}={session}"},
                )
            )
        finally:
            connection.close()
        cookies.update(page.cookies)
        token = loadgen.csrf_token_in(page.body)
        if page.status != 200 or token is None or names["csrf"] not in cookies:
            raise RuntimeError(
                f"client {client} got no CSRF token from a resource page (HTTP {page.status}); "
                "is the session signed in with a verified address?"
            )
        jars.append(
            {
                "token": token,
                "cookie": "; ".join(f"{name}={value}" for name, value in cookies.items()),
            }
        )
    return jars


def succeeded(response: loadgen.Response) -> bool:
    return response.status == 200


def machine_cpu_seconds() -> float:
    """CPU time every process on the machine has used since boot, from /proc/stat."""
    with open("/proc/stat") as handle:
        fields = [int(value) for value in handle.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: str) -> float:
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def database_cpu() -> dict[str, float]:
    """CPU time of the PostgreSQL backends serving mlops_bench and of Redis, per process."""
    found = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                command = handle.read().replace(b"\0", b" ")
            if (
                command.startswith(b"postgres:") and f" {POSTGRES_DATABASE} ".encode() in command
            ) or (command.startswith(b"redis-server")):
                found[pid] = process_cpu_seconds(pid)
        except OSError:
            continue
    return found


def cpu_used_since(before: dict[str, float]) -> float:
    after = database_cpu()
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def machine_busy_percent(seconds: float = 3.0) -> float:
    """How busy the cores are before the run starts: other work skews every number."""
    before, started = machine_cpu_seconds(), time.monotonic()
    time.sleep(seconds)
    used = machine_cpu_seconds() - before
    return round(100 * used / ((time.monotonic() - started) * (os.cpu_count() or 1)), 1)


def single_requests(server: Server, endpoint: Endpoint, count: int = 3, budget: float = 20):
    """A few requests one after another on an idle server: the latency without queueing.

    The first also fills the page cache for the cached endpoints.
    """
    connection = loadgen.Connection(HOST, server.port)
    timings, responses = [], []
    deadline = time.monotonic() + budget
    try:
        for number in range(count):
            begin = time.perf_counter_ns()
            responses.append(connection.request(endpoint.make_request(0, 10_000_000 + number)))
            timings.append(round((time.perf_counter_ns() - begin) / 1e6, 2))
            if time.monotonic() > deadline:
                break
    finally:
        connection.close()
    return timings, responses


def wait_until_idle(server: Server, limit: float = 300) -> float:
    """Wait while gunicorn still works on requests whose clients gave up or left."""
    started = time.monotonic()
    before = server.cpu_seconds()
    while time.monotonic() - started < limit:
        time.sleep(1)
        now = server.cpu_seconds()
        if now - before < 0.05:
            break
        before = now
    return round(time.monotonic() - started, 1)


def wait_for_quiet_machine(limit: float, threshold: float = 15.0) -> float:
    """Wait up to `limit` seconds until other work leaves the cores mostly idle."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if machine_busy_percent(2.0) < threshold:
            break
    return round(time.monotonic() - started, 1)


def measure(server: Server, endpoint: Endpoint, args) -> dict:
    """Time single requests, then load the endpoint; a 404 API is reported as missing.

    An endpoint with a latency target is then loaded once more, paced at `--paced-fraction` of
    the throughput it just reached; that run goes into the row as "paced".
    """
    row = {
        "key": endpoint.key,
        "name": endpoint.name,
        "path": endpoint.path,
        "session": endpoint.session,
        "method": "POST" if endpoint.key == "vote" else "GET",
    }
    timings, responses = single_requests(server, endpoint)
    row["probe_status"] = responses[0].status
    row["page_cache"] = [r.headers.get("x-page-cache", "") for r in responses]
    row["single_request_ms"] = timings
    if endpoint.key == "api" and responses[0].status == 404:
        log(f"{endpoint.name}: 404, reported as missing")
        return {**row, "missing": True}
    summary = load(server, endpoint.make_request, args)
    log(
        f"{endpoint.name}: {summary['rps']} req/s, p95 {summary['p95_ms']} ms, "
        f"{summary['errors']} errors, single request {timings} ms"
    )
    row = {**row, "missing": False, **summary}
    capacity = summary["rps"] or 0.0
    if endpoint.key in PACED and args.paced_fraction > 0 and capacity > 0:
        rate = args.paced_fraction * capacity

        def paced_request(client: int, number: int) -> loadgen.Request:
            return endpoint.make_request(client, PACED_NUMBERS + number)

        paced = load(server, paced_request, args, rate=rate)
        mean = paced["mean_ms"] or 0.0
        row["paced"] = {
            "fraction": args.paced_fraction,
            "capacity_rps": capacity,
            "connections": args.connections,
            # Little's law: the requests in flight on average, out of the connections open.
            "mean_in_flight": round(paced["rps"] * mean / 1000, 2),
            **paced,
        }
        log(
            f"{endpoint.name} paced: {paced['offered_rps']} req/s offered, {paced['rps']} "
            f"achieved, p95 {paced['p95_ms']} ms, {paced['errors']} errors"
        )
    return row


def load(server: Server, make_request: loadgen.RequestMaker, args, rate=None) -> dict:
    """One load run (closed loop, or paced at `rate`), its CPU accounting, then the drain."""
    waited = wait_for_quiet_machine(args.quiet_wait) if args.quiet_wait else 0.0
    load_before = os.getloadavg()[0]
    server_before, machine_before = server.cpu_seconds(), machine_cpu_seconds()
    database_before = database_cpu()
    result = loadgen.run_load(
        HOST,
        server.port,
        make_request,
        connections=args.connections,
        duration=args.duration,
        warmup=args.warmup,
        expect=succeeded,
        timeout=args.client_timeout,
        rate=rate,
    )
    summary = loadgen.summarise(result)
    summary["server_cpu_seconds"] = round(server.cpu_seconds() - server_before, 2)
    summary["database_cpu_seconds"] = round(cpu_used_since(database_before), 2)
    summary["machine_cpu_seconds"] = round(machine_cpu_seconds() - machine_before, 2)
    # What is left was used by other work on the machine, which the numbers then include.
    summary["other_cpu_seconds"] = round(
        summary["machine_cpu_seconds"]
        - summary["server_cpu_seconds"]
        - summary["client_cpu_seconds"]
        - summary["database_cpu_seconds"],
        2,
    )
    summary["load_average_before"] = round(load_before, 2)
    summary["load_average_after"] = round(os.getloadavg()[0], 2)
    summary["drain_seconds"] = wait_until_idle(server)
    summary["quiet_wait_seconds"] = waited
    return summary


# Targets and the report.


def baseline_rps(rows: dict) -> float | None:
    """The minimal view's throughput: the faster of its measurements in this run."""
    measured = [rows[key]["rps"] for key in MINIMAL if rows.get(key, {}).get("rps")]
    return max(measured) if measured else None


def evaluate_targets(rows: dict, facts: dict) -> list[dict]:
    minimal = baseline_rps(rows)
    full_scale = all(facts["dataset"]["params"][k] >= v for k, v in FULL_SCALE.items())
    on_postgres = facts["database"]["vendor"] == "postgresql"
    connections = facts["load"]["connections"]

    def clean(row) -> bool:
        return row.get("requests", 0) > 0 and row.get("errors", 1) == 0 and not row.get("unsent")

    def ratio_target(key, description):
        row = rows.get(key)
        value = row.get("ratio_to_minimal") if row else None
        met = None if value is None else bool(value >= 0.5 and clean(row))
        return {
            "target": description,
            "endpoint": key,
            "metric": "throughput / minimal view",
            "threshold": ">= 0.5",
            "value": value,
            "met": met,
            "applies": minimal is not None,
            "basis": "saturated",
            "measured_as": f"throughput, saturated ({connections} connections, closed loop)",
        }

    def p95_target(key, description, limit, applies, condition):
        # Judged on the paced run; without one (--paced-fraction 0) on the saturated run,
        # and the target says so.
        row = rows.get(key) or {}
        measured = bool(row) and not row.get("missing")
        paced = row.get("paced") if measured else None
        judged = paced or row
        value = judged.get("p95_ms") if measured else None
        met = None if value is None else bool(value < limit and clean(judged))
        if paced:
            measured_as = (
                f"p95 at {percent(paced['fraction'])} of measured capacity "
                f"({paced['offered_rps']:,.1f} req/s offered by {paced['connections']} "
                "connections, open loop)"
            )
        else:
            measured_as = f"p95 saturated ({connections} connections, closed loop; no paced run)"
        return {
            "target": description,
            "endpoint": key,
            "metric": "p95 ms",
            "threshold": f"< {limit}",
            "value": value,
            "met": met,
            "applies": applies,
            "condition": condition,
            "basis": "paced" if paced else "saturated",
            "measured_as": measured_as,
            "offered_rps": paced["offered_rps"] if paced else None,
            "saturated_p95_ms": row.get("p95_ms") if measured else None,
            "saturated_errors": row.get("errors") if measured else None,
        }

    pg_full = "PostgreSQL with the full data set"
    return [
        ratio_target("home", "cached anonymous / reaches half the minimal view's throughput"),
        ratio_target(
            "section", "cached anonymous section page reaches half the minimal view's throughput"
        ),
        p95_target(
            "section-uncached",
            "uncached section page p95 under 100 ms",
            100,
            on_postgres and full_scale,
            pg_full,
        ),
        p95_target(
            "search-uncached",
            "explorer search p95 under 100 ms",
            100,
            on_postgres and full_scale,
            pg_full,
        ),
        p95_target(
            "vote",
            "vote p95 under 50 ms with 16 concurrent clients",
            50,
            connections >= 16,
            "16 concurrent clients",
        ),
    ]


def fmt(value, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}"


def percent(fraction: float) -> str:
    return f"{fraction * 100:g} %"


def markdown(report: dict) -> str:
    facts = report["dataset"]["counts"]
    server = report["server"]
    title = (
        f"**{report['database']['vendor']}** {report['database']['version']}, "
        f"cache: {report['cache']}, {report['machine']['cores']} cores, "
        f"gunicorn {server.get('workers')}×{server.get('worker_class')}"
        f"({server.get('threads')} threads), {report['load']['connections']} connections × "
        f"{report['load']['duration_s']} s; data: {facts['resources']:,} resources, "
        f"{facts['users']:,} users, {facts['votes']:,} votes, {facts['tags']:,} tags"
    )
    lines = [
        title,
        "",
        "| Endpoint | Session | req/s | p50 ms | p95 ms | p99 ms | n | Errors | × minimal "
        "| 1 request ms | KB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    footnote = False
    for row in report["endpoints"]:
        single = fmt(min(row["single_request_ms"])) if row.get("single_request_ms") else "–"
        if row.get("missing"):
            lines.append(
                f"| {row['name']} | {row['session']} | missing (404) | | | | | | | {single} | |"
            )
            continue
        mark = "†" if row.get("latency_includes_warmup") else ""
        footnote = footnote or bool(mark)
        lines.append(
            f"| {row['name']} | {row['session']} | {fmt(row['rps'])} | "
            f"{fmt(row['p50_ms'])}{mark} | {fmt(row['p95_ms'])}{mark} | "
            f"{fmt(row['p99_ms'])}{mark} | {row['requests']:,} | {row['errors']:,} | "
            f"{fmt(row.get('ratio_to_minimal'), 2)} | {single} | "
            f"{fmt(row['mean_response_bytes'] / 1024, 0)} |"
        )
    if footnote:
        lines += [
            "",
            "† no request that started after the warm-up finished in time; these latencies "
            "are the warm-up requests'.",
        ]
    paced_rows = [row for row in report["endpoints"] if row.get("paced")]
    if paced_rows:
        fraction = paced_rows[0]["paced"]["fraction"]
        heading = "half load" if fraction == 0.5 else f"{percent(fraction)} of capacity"
        lines += [
            "",
            f"Latency at {heading}: each endpoint paced (open loop) at {percent(fraction)} of "
            f"the throughput it reached above, by the same {report['load']['connections']} "
            "connections; latency counts from the time each request was due.",
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
        value = target["value"]
        unit = "×" if target["metric"].startswith("throughput") else "ms"
        shown = "–" if value is None else f"{fmt(value, 2 if unit == '×' else 1)} {unit}"
        saturated = "–"
        if target.get("basis") == "paced" and target.get("saturated_p95_ms") is not None:
            saturated = f"{fmt(target['saturated_p95_ms'])} ms"
            if target.get("saturated_errors"):
                saturated += f", {target['saturated_errors']:,} errors"
        lines.append(
            f"| {target['target']} | {target.get('measured_as', '')} | {shown} | {met} "
            f"| {saturated} |"
        )
    if any(target.get("basis") == "paced" for target in report["targets"]):
        lines += [
            "",
            "The latency targets are judged on the paced runs. The saturated p95 (every "
            "connection sending back to back) mostly measures the queue on this machine, about "
            "connections / throughput, and is shown for information only.",
        ]
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
    state = prepare(target, params, regenerate=args.regenerate, log=log)
    log(f"{target.describe()}: {state}")
    env = child_env(target, args, secrets.token_urlsafe(50))
    python = sys.executable
    args.var_dir.mkdir(parents=True, exist_ok=True)
    fixtures_path = args.var_dir / f"fixtures-{target.label}.json"

    step = time.perf_counter()
    subprocess.run(  # noqa: S603
        [python, "-m", "bench.dataset", "--out", str(fixtures_path), "--clients",
         str(args.connections)]
        + [f"--{name}={params[name]}" for name in ("resources", "users", "votes", "tags", "seed")],
        env=env,
        cwd=ROOT,
        check=True,
    )  # fmt: skip
    fixtures = json.loads(fixtures_path.read_text())
    dataset_seconds = round(time.perf_counter() - step, 1)

    step = time.perf_counter()
    subprocess.run(  # noqa: S603
        [python, "manage.py", "collectstatic", "--no-input", "-v0"],
        env=env,
        cwd=ROOT,
        check=True,
    )
    collectstatic_seconds = round(time.perf_counter() - step, 1)

    server = Server(env, args, args.var_dir / f"gunicorn-{target.label}.log")
    rows: dict[str, dict] = {}
    try:
        step = time.perf_counter()
        server.start()
        startup_seconds = round(time.perf_counter() - step, 1)
        csrf = client_csrf(server, fixtures, args.connections) if "vote" in args.endpoints else []
        step = time.perf_counter()
        wait_until_idle(server)  # the workers' start-up
        busy = machine_busy_percent()
        if busy > 20:
            log(f"the machine is {busy} % busy before the load starts: expect skewed numbers")
        for endpoint in build_endpoints(args.endpoints, fixtures, args, csrf):
            rows[endpoint.key] = measure(server, endpoint, args)
        load_seconds = round(time.perf_counter() - step, 1)
        server_config = server.config
    finally:
        server.stop()
    tracebacks = server.count_in_log("Traceback")

    timings = {
        "dataset_step": dataset_seconds,
        "collectstatic": collectstatic_seconds,
        "server_start": startup_seconds,
        "load": load_seconds,
        "total": round(time.perf_counter() - started, 1),
    }
    report = assemble_report(rows, fixtures, args, server_config, timings)
    report["machine"]["busy_before_percent"] = busy
    report["server_log_tracebacks"] = tracebacks
    return report


def assemble_report(rows: dict, fixtures: dict, args, server_config: dict, timings: dict):
    """The JSON document of one run: facts about the machine and data, rows, targets."""
    minimal = baseline_rps(rows)
    for row in rows.values():
        if minimal and not row.get("missing") and row.get("rps") is not None:
            row["ratio_to_minimal"] = round(row["rps"] / minimal, 3)
    report = {
        "schema": 2,
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
            "client": "bench/loadgen.py: one thread and keep-alive connection per client",
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
        "code": code_version(),
        "baseline_rps": minimal,
        "timings_s": timings,
        "endpoints": [rows[key] for key in ENDPOINTS if key in rows],
    }
    report["targets"] = evaluate_targets(rows, report)
    return report


def code_version() -> dict:
    """The commit measured, and which tracked files differed from it (read-only git)."""

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

    changed = git("status", "--porcelain", "--untracked-files=no").splitlines()
    return {"commit": git("rev-parse", "--short", "HEAD"), "changed_files": changed}


def package_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


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
    for name, value in FULL_SCALE.items():
        data.add_argument(f"--{name}", type=int, default=value, help=f"default {value:,}")
    data.add_argument("--seed", type=int, default=42)
    data.add_argument("--regenerate", action="store_true", help="rebuild the data set")

    load = parser.add_argument_group("load")
    load.add_argument("--duration", type=float, default=10.0, help="seconds per endpoint")
    load.add_argument("--warmup", type=float, default=2.0, help="uncounted seconds before")
    load.add_argument("--connections", type=int, default=16)
    load.add_argument(
        "--endpoints",
        default=",".join(ENDPOINTS),
        help=f"comma-separated subset of {','.join(ENDPOINTS)}",
    )
    load.add_argument("--section", default="tools", help="slug of the section page to load")
    load.add_argument(
        "--quiet-wait",
        type=float,
        default=0.0,
        help="on a shared machine: wait up to this many seconds before each endpoint "
        "until the cores are less than 15%% busy",
    )
    load.add_argument(
        "--client-timeout", type=float, default=120.0, help="seconds to wait for one response"
    )
    load.add_argument(
        "--paced-fraction",
        type=float,
        default=0.5,
        help=f"after the saturated run of {', '.join(PACED)}: a paced (open-loop) run at this "
        "fraction of the throughput just measured, on which the latency targets are judged; "
        "0 skips it (default 0.5)",
    )

    server = parser.add_argument_group("gunicorn (default: the repository's gunicorn.conf.py)")
    server.add_argument("--workers", type=int)
    server.add_argument("--threads", type=int)
    server.add_argument("--worker-class")
    server.add_argument("--timeout", type=int)
    server.add_argument(
        "--max-requests",
        type=int,
        default=0,
        help="worker recycling; default 0 (off) so that no restart lands in a window",
    )

    args = parser.parse_args(argv)
    if not args.paced_fraction >= 0:
        parser.error("--paced-fraction must be 0 (no paced run) or more")
    args.var_dir = args.var_dir.resolve()
    args.endpoints = [key.strip() for key in args.endpoints.split(",") if key.strip()]
    unknown = set(args.endpoints) - set(ENDPOINTS)
    if unknown:
        parser.error(f"unknown endpoints: {', '.join(sorted(unknown))}")
    # Keep the catalogue's order: the vote endpoint must come last.
    args.endpoints = [key for key in ENDPOINTS if key in args.endpoints]
    if "minimal" not in args.endpoints:
        args.endpoints.insert(0, "minimal")
    return args


def targets_for(args) -> list[Target]:
    sqlite = sqlite_target(
        args.sqlite_path or args.var_dir / "bench.sqlite3", ROOT / "var" / "db.sqlite3"
    )
    if args.both:
        return [sqlite, postgres_target(args.database_url or DEFAULT_POSTGRES_URL)]
    if args.database_url:
        return [postgres_target(args.database_url)]
    return [sqlite]


def main(argv=None) -> int:
    args = parse_args(argv)
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
