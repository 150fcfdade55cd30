"""`make faults`: a vote storm through a killed worker, a stopped Redis and a restarted
PostgreSQL; no vote lost or doubled, none answered 500, /healthz 503 only during an outage.

    .venv/bin/python bench/faults.py            # about a minute and a half, then a report

The storm runs against servers of its own, so that nothing else on the machine is disturbed:
a PostgreSQL cluster made with initdb and a Redis server, both on spare ports under a
temporary folder, and one gunicorn with two workers (the settings `make serve` uses). A small
data set (bench/dataset.py) is generated into it. Then:

- voters, each a signed-in reader of their own, vote up or down on the same few resources as
  fast as answers come (so a vote often takes one back or switches it), and each keeps what
  the site told it: after an answer of 2xx or 3xx its vote is what it asked for; after any
  other answer nothing was saved, as the 503 page says; after a broken connection (a killed
  worker) it does not know, and reads its vote back from the database before voting on;
- a poller asks /healthz ten times a second;
- meanwhile, one at a time with the storm going on around them: a worker is killed (SIGKILL),
  Redis is stopped for a few seconds and started again, PostgreSQL is stopped for a few seconds
  and started again, all as an outage would.

At the end: every voter's votes are compared with the Vote rows (0 lost or doubled, 0 saved
after an answer that said nothing was), every resource's tallies with its rows, the answers
counted by status (0 of 500), /healthz's 503s placed against the outages, and the server's
request log against the answers (every request answered is logged, failures included).
Results: a Markdown report on stdout, JSON in bench/results/faults.json; exit 1 on a failure.
"""

import argparse
import http.client
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import run  # noqa: E402
from bench.soak import tallies, worker_pids  # noqa: E402
from bench.target import _pg_connect, dataset_params, postgres_target, prepare  # noqa: E402

HOST = run.HOST
# How long after an outage ends /healthz may still say 503: its poll interval plus the time a
# worker takes to notice the server is back (a connection refused, then a new one).
GRACE_SECONDS = 1.5
log = run.log


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL's tools refuse to run as root: as root, run them as the postgres user."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def postgres_bin(name: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if found:
        return str(found[-1])
    if shutil.which(name):
        return name
    raise RuntimeError(f"{name} not found: install PostgreSQL's server package")


class PrivatePostgres:
    """A throwaway PostgreSQL cluster on a spare port, trust authentication, no fsync."""

    def __init__(self, folder: Path):
        self.folder, self.port = folder / "pg", free_port()
        self.log_path = folder / "postgres.log"

    def _ctl(self, *action: str) -> None:
        options = f"-p {self.port} -k {self.folder.parent} -c listen_addresses={HOST} -c fsync=off"
        command = [postgres_bin("pg_ctl"), "-D", str(self.folder), "-l", str(self.log_path)]
        subprocess.run(  # noqa: S603 - PostgreSQL's own tool, fixed arguments
            as_postgres([*command, "-o", options, "-w", "-t", "60", *action]),
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def create(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.folder.parent, "postgres")
        subprocess.run(  # noqa: S603 - PostgreSQL's own tool, fixed arguments
            as_postgres(
                [postgres_bin("initdb"), "-D", str(self.folder), "-A", "trust", "-U", "postgres"]
                + ["--no-sync", "-E", "UTF8"]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        self.start()

    def start(self) -> None:
        self._ctl("start")

    def stop(self) -> None:
        self._ctl("-m", "fast", "stop")

    @property
    def url(self) -> str:
        return f"postgres://postgres@{HOST}:{self.port}/postgres"


class PrivateRedis:
    def __init__(self, folder: Path):
        self.folder, self.port = folder, free_port()

    def start(self) -> None:
        subprocess.run(  # noqa: S603 - Redis' own server, fixed arguments
            ["redis-server", "--port", str(self.port), "--bind", HOST, "--save", "", "--daemonize"]
            + ["yes", "--appendonly", "no", "--dir", str(self.folder)]
            + ["--logfile", str(self.folder / "redis.log")],
            check=True,
        )
        deadline = time.monotonic() + 10
        while not self.answers():
            if time.monotonic() > deadline:
                raise RuntimeError("Redis did not start")
            time.sleep(0.05)

    def answers(self) -> bool:
        try:
            with socket.create_connection((HOST, self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        subprocess.run(  # noqa: S603 - Redis' own client, fixed arguments
            ["redis-cli", "-h", HOST, "-p", str(self.port), "shutdown", "nosave"],  # noqa: S607
            check=False,
            capture_output=True,
        )
        while self.answers():
            time.sleep(0.05)

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"


class Voter(threading.Thread):
    """One signed-in reader voting on `resources` until `stop` is set; `votes` is what the site
    told it its votes are, {resource id: -1, 0 or 1}."""

    def __init__(self, number, user, resources, known, port, stop, database):
        super().__init__(name=f"voter-{number}")
        self.user, self.resources, self.port, self.stop = user, resources, port, stop
        self.votes: dict[int, int] = dict(known)
        self.answers: Counter = Counter()
        self.resynced = 0
        self.database = database
        self.rng = random.Random(number)  # noqa: S311 - a load pattern, not a secret

    def run(self) -> None:
        while not self.stop.is_set():
            pk = self.rng.choice(self.resources)
            value = self.rng.choice((1, -1))
            body = f"csrfmiddlewaretoken={self.user['token']}&value={'up' if value > 0 else 'down'}"
            try:
                status, _, _ = run.fetch(
                    self.port,
                    f"/resources/{pk}/vote/",
                    method="POST",
                    cookie=self.user["cookie"],
                    body=body,
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                )
            except (OSError, http.client.HTTPException):
                self.answers["no answer"] += 1
                self.resync(pk)
                continue
            self.answers[status] += 1
            if status < 400:
                old = self.votes[pk]
                self.votes[pk] = 0 if old == value else value
            elif status == 500:
                self.resync(pk)
            # Any other answer (503 above all) says nothing was saved: the vote stands.

    def resync(self, pk: int) -> None:
        """The vote is unknown (the answer never came): read it back once the database is."""
        while True:
            try:
                self.votes[pk] = self.database.vote_of(self.user["user_id"], pk)
                self.resynced += 1
                return
            except Exception:  # noqa: BLE001 - PostgreSQL is down: wait for it
                time.sleep(0.2)


class Database:
    def __init__(self, target):
        self.target = target

    def rows(self, sql: str, params=()):
        with _pg_connect(self.target.url, self.target.database) as db:
            return db.execute(sql, params).fetchall()

    def vote_of(self, user_id: int, pk: int) -> int:
        found = self.rows(
            "SELECT value FROM resources_vote WHERE user_id = %s AND resource_id = %s",
            (user_id, pk),
        )
        return found[0][0] if found else 0

    def votes_of(self, user_id: int, resources: list[int]) -> dict[int, int]:
        found = dict(
            self.rows(
                "SELECT resource_id, value FROM resources_vote "
                "WHERE user_id = %s AND resource_id = ANY(%s)",
                (user_id, resources),
            )
        )
        return {pk: found.get(pk, 0) for pk in resources}


def poll_health(port: int, stop: threading.Event, samples: list, started: float) -> None:
    while not stop.is_set():
        try:
            status = run.fetch(port, "/healthz")[0]
        except (OSError, http.client.HTTPException):
            status = "no answer"
        samples.append((round(time.monotonic() - started, 2), status))
        time.sleep(0.1)


def storm(args) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="mlops-faults-"))
    postgres, redis = PrivatePostgres(folder), PrivateRedis(folder)
    server = None
    try:
        log(f"PostgreSQL on port {postgres.port} and Redis on port {redis.port} in {folder}")
        postgres.create()
        redis.start()
        target = postgres_target(postgres.url)
        params = dataset_params(args)
        prepare(target, params, regenerate=True, log=log)
        args.redis_url = redis.url
        env = run.child_env(target, args, secrets.token_urlsafe(50))
        # Off by default, as in production: a connection left from before a restart is then
        # found dead by the request that uses it (a 503), not by a check before every request.
        env["DJANGO_DB_HEALTH_CHECKS"] = "true" if args.health_checks else "false"
        fixtures_path = args.var_dir / "faults-fixtures.json"
        sizes = [f"--{name}={params[name]}" for name in ("resources", "users", "votes", "tags")]
        for command in (
            ["-m", "bench.dataset", "--out", str(fixtures_path), "--clients", str(args.voters)],
            ["manage.py", "collectstatic", "--no-input", "-v0"],
        ):
            extra = sizes + [f"--seed={params['seed']}"] if command[1] == "bench.dataset" else []
            subprocess.run([sys.executable, *command, *extra], env=env, cwd=ROOT, check=True)  # noqa: S603
        fixtures = json.loads(fixtures_path.read_text())
        server = run.Server(env, args, args.var_dir / "faults-gunicorn.log", target.database)
        server.start()
        users = run.client_users(server, fixtures, args.voters)
        for user, session in zip(users, fixtures["sessions"], strict=False):
            user["user_id"] = session["user_id"]
        database = Database(target)
        resources = fixtures["vote_ids"][: args.targets]
        stop, health_stop = threading.Event(), threading.Event()
        voters = [
            Voter(
                n,
                user,
                resources,
                database.votes_of(user["user_id"], resources),
                server.port,
                stop,
                database,
            )
            for n, user in enumerate(users)
        ]
        samples: list = []
        started = time.monotonic()
        poller = threading.Thread(
            target=poll_health, args=(server.port, health_stop, samples, started)
        )
        poller.start()
        for voter in voters:
            voter.start()
        outages: list[dict] = []

        def clock() -> float:
            return round(time.monotonic() - started, 2)

        def outage(name: str, down, up, seconds: float) -> None:
            time.sleep(args.between)
            begin = clock()
            log(f"{begin:6.1f} s: {name} down")
            down()
            time.sleep(seconds)
            up()
            end = clock()
            log(f"{end:6.1f} s: {name} back")
            outages.append({"what": name, "from_s": begin, "to_s": end})

        time.sleep(args.between)
        victim = worker_pids(server)[0]
        kill_at = clock()
        os.kill(victim, signal.SIGKILL)
        log(f"{kill_at:6.1f} s: worker {victim} killed")
        outage("Redis", redis.stop, redis.start, args.outage)
        outage("PostgreSQL", postgres.stop, postgres.start, args.outage)
        time.sleep(args.between)
        stop.set()
        for voter in voters:
            voter.join()
        time.sleep(1)
        health_stop.set()
        poller.join()
        elapsed = clock()
        run.wait_until_idle(server, limit=30)
        report = judge(voters, database, target, resources, samples, outages, server)
        report.update(
            {
                "kill_at_s": kill_at,
                "elapsed_s": elapsed,
                "dataset": fixtures["counts"],
                "voters": len(voters),
                "resources": len(resources),
                "health_checks": args.health_checks,
            }
        )
        return report
    finally:
        if server is not None:
            server.stop()
        redis.stop()
        try:
            postgres.stop()
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(folder, ignore_errors=True)


def request_log(server) -> Counter:
    """The vote lines of the server's request log, by status."""
    logged: Counter = Counter()
    for line in server.log_path.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("logger") == "mlops.request" and entry.get("path", "").endswith("/vote/"):
            logged[entry["status"]] += 1
    return logged


def judge(voters, database, target, resources, samples, outages, server) -> dict:
    mismatched = []
    for voter in voters:
        rows = database.votes_of(voter.user["user_id"], resources)
        mismatched += [
            {"user": voter.user["user_id"], "resource": pk, "site_said": said, "rows": rows[pk]}
            for pk, said in voter.votes.items()
            if rows[pk] != said
        ]
    answers = sum((voter.answers for voter in voters), Counter())
    unhealthy = [(at, status) for at, status in samples if status != 200]

    def during_outage(at: float) -> bool:
        return any(o["from_s"] <= at <= o["to_s"] + GRACE_SECONDS for o in outages)

    for outage in outages:
        outage["healthz_503"] = sum(
            1
            for at, status in unhealthy
            if status == 503 and outage["from_s"] <= at <= outage["to_s"] + GRACE_SECONDS
        )
    logged = request_log(server)
    answered = {status: count for status, count in answers.items() if status != "no answer"}
    return {
        "schema": 1,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "votes_sent": sum(answers.values()),
        "answers": {str(status): count for status, count in sorted(answers.items(), key=str)},
        "answered_500": answers.get(500, 0),
        "resynced_after_no_answer": sum(voter.resynced for voter in voters),
        "votes_wrong": len(mismatched),
        "votes_wrong_examples": mismatched[:10],
        "tallies": tallies(target),
        "healthz_samples": len(samples),
        "healthz_503_outside_outages": [
            (at, status) for at, status in unhealthy if status == 503 and not during_outage(at)
        ],
        "healthz_no_answer": sum(1 for _, status in unhealthy if status == "no answer"),
        "outages": outages,
        "request_log": {str(status): count for status, count in sorted(logged.items())},
        "answered_but_not_logged": {
            str(status): count - logged.get(status, 0)
            for status, count in answered.items()
            if count > logged.get(status, 0)
        },
        "server_log_tracebacks": server.log_path.read_text(errors="replace").count("Traceback"),
    }


def failures(report: dict) -> list[str]:
    tally = report["tallies"]
    found = []
    if report["answered_500"]:
        found.append(f"{report['answered_500']} votes answered 500")
    if report["votes_wrong"]:
        found.append(f"{report['votes_wrong']} votes differ from what the site answered")
    if tally["wrong_tally_count"] or tally["wrong_score_count"]:
        found.append("tallies differ from the vote rows")
    if report["healthz_503_outside_outages"]:
        found.append("/healthz answered 503 with every dependency up")
    if any(not outage["healthz_503"] for outage in report["outages"]):
        found.append("/healthz missed an outage")
    if report["answered_but_not_logged"]:
        found.append("answered requests missing from the request log")
    return found


def markdown(report: dict) -> str:
    tally = report["tallies"]
    exact = not tally["wrong_tally_count"] and not tally["wrong_score_count"]
    outages = ", ".join(
        f"{o['what']} {o['from_s']}–{o['to_s']} s ({o['healthz_503']} × 503)"
        for o in report["outages"]
    )
    answers = ", ".join(f"{count:,} × {status}" for status, count in report["answers"].items())
    lines = [
        f"**faults**: {report['voters']} voters on {report['resources']} resources for "
        f"{report['elapsed_s']} s; worker killed at {report['kill_at_s']} s; {outages}",
        "",
        "| votes sent | answers | 500s | votes lost or doubled | tallies exact "
        "| /healthz 503 with all up | answered, not logged |",
        "|---:|---|---:|---:|---|---:|---:|",
        f"| {report['votes_sent']:,} | {answers} | {report['answered_500']} | "
        f"{report['votes_wrong']} | "
        f"{'yes' if exact else '**no**'}"
        f" ({tally['upvotes']:,} up, {tally['downvotes']:,} down) | "
        f"{len(report['healthz_503_outside_outages'])} | "
        f"{sum(report['answered_but_not_logged'].values())} |",
    ]
    found = failures(report)
    lines += ["", "Failures: " + "; ".join(found) if found else "No failures."]
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--var-dir", type=Path, default=ROOT / "var" / "bench")
    parser.add_argument("--results-dir", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--voters", type=int, default=16)
    parser.add_argument(
        "--targets", type=int, default=12, help="resources that every voter votes on"
    )
    parser.add_argument("--between", type=float, default=6, help="seconds between faults")
    parser.add_argument(
        "--outage", type=float, default=5, help="seconds Redis, PostgreSQL are down"
    )
    parser.add_argument(
        "--db-health-checks",
        dest="health_checks",
        action="store_true",
        help="set DJANGO_DB_HEALTH_CHECKS (off by default, as in production)",
    )
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    # A small data set: the storm is about answers, not speed.
    args.resources, args.users, args.votes, args.tags = 2_000, 200, 10_000, 200
    args.var_dir = args.var_dir.resolve()
    args.var_dir.mkdir(parents=True, exist_ok=True)
    # What run.Server reads: two workers, the rest from gunicorn.conf.py.
    args.workers, args.worker_class, args.threads, args.timeout = 2, None, None, None
    args.max_requests = 0
    args.both = False
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    report = storm(args)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    path = args.results_dir / "faults.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(markdown(report) + "\n", flush=True)
    log(f"wrote {path}")
    return 1 if failures(report) else 0


if __name__ == "__main__":
    sys.exit(main())
