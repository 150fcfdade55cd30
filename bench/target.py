"""The dedicated benchmark database: where it is, whether it holds our data set, wiping it.

Django-free (sqlite3 and psycopg only), so that bench/run.py can decide before any Django
process starts. A benchmark database carries a `bench_dataset` marker table; a database that
has tables but no marker is refused, so the developer's data can never be generated over.
"""

import json
import sqlite3
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

# Bump when the generator changes what it makes, so that old data sets are rebuilt.
GENERATOR_VERSION = 4


def dataset_params(args) -> dict:
    """What the data set is made from: the generator, Faker's version (its words change between
    releases) and the size flags. A change to any of them means a new data set."""
    return {
        "generator": GENERATOR_VERSION,
        "faker": version("Faker"),
        "resources": args.resources,
        "users": args.users,
        "votes": args.votes,
        "tags": args.tags,
        "seed": args.seed,
    }


MARKER_TABLE = "bench_dataset"
POSTGRES_DATABASE = "mlops_bench"
DEFAULT_POSTGRES_URL = f"postgres://postgres@127.0.0.1:5432/{POSTGRES_DATABASE}"


class NotABenchmarkDatabase(Exception):
    pass


@dataclass
class Target:
    """One database the benchmark may use: a SQLite file or the mlops_bench PostgreSQL one."""

    vendor: str  # "sqlite" or "postgresql"
    sqlite_path: Path | None = None
    url: str = ""  # PostgreSQL only, always naming `database`
    database: str = POSTGRES_DATABASE  # PostgreSQL only: mlops_bench, or mlops_bench10 at 10x
    suffix: str = ""  # of the results' file name: "" at 1x, "-10x" at ten times the data

    @property
    def label(self) -> str:
        return self.vendor + self.suffix

    def describe(self) -> str:
        if self.vendor == "sqlite":
            return f"SQLite file {self.sqlite_path}"
        parts = urlsplit(self.url)
        return f"PostgreSQL database {self.database} on {parts.hostname}:{parts.port or 5432}"

    def django_env(self) -> dict[str, str]:
        if self.vendor == "sqlite":
            return {"SQLITE_PATH": str(self.sqlite_path), "DATABASE_URL": ""}
        return {"DATABASE_URL": self.url}


def sqlite_target(path: Path, developer_database: Path) -> Target:
    path = path.resolve()
    if path == developer_database.resolve():
        raise NotABenchmarkDatabase(f"{path} is the development database; choose another file")
    return Target("sqlite", sqlite_path=path)


def database_for_scale(scale: float) -> tuple[str, str]:
    """(PostgreSQL database, results suffix) of a data set `scale` times the default size."""
    if scale == 1:
        return POSTGRES_DATABASE, ""
    return f"{POSTGRES_DATABASE}{scale:g}".replace(".", "_"), f"-{scale:g}x"


def postgres_target(url: str, scale: float = 1) -> Target:
    """The server named in `url`, but always its mlops_bench database (mlops_bench10 at ten
    times the data), never the one named."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        raise ValueError(f"not a PostgreSQL URL: {url}")
    database, suffix = database_for_scale(scale)
    return Target(
        "postgresql",
        url=urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, "")),
        database=database,
        suffix=suffix,
    )


# Reading the marker.


def _marker_rows(rows) -> dict:
    return {name: json.loads(value) for name, value in rows}


def _sqlite_state(path: Path) -> tuple[bool, dict]:
    """(has any table, marker) of a SQLite file."""
    if not path.exists():
        return False, {}
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = {
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        if MARKER_TABLE not in tables:
            return bool(tables), {}
        rows = connection.execute(f"SELECT name, value FROM {MARKER_TABLE}")  # noqa: S608
        return True, _marker_rows(rows)
    finally:
        connection.close()


def _pg_connect(url: str, database: str):
    import psycopg

    parts = urlsplit(url)
    return psycopg.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        dbname=database,
        autocommit=True,
        connect_timeout=10,
    )


def _pg_state(url: str, database: str) -> tuple[bool, bool, dict]:
    """(database exists, has any table, marker) of the benchmark database."""
    with _pg_connect(url, "postgres") as admin:
        exists = admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [database]
        ).fetchone()
    if not exists:
        return False, False, {}
    with _pg_connect(url, database) as bench:
        tables = {
            row[0]
            for row in bench.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            )
        }
        if MARKER_TABLE not in tables:
            return True, bool(tables), {}
        rows = bench.execute(f"SELECT name, value FROM {MARKER_TABLE}").fetchall()  # noqa: S608
        return True, True, _marker_rows(rows)


def marker_of(target: Target) -> dict:
    if target.vendor == "sqlite":
        return _sqlite_state(target.sqlite_path)[1]
    return _pg_state(target.url, target.database)[2]


def prepare(target: Target, params: dict, *, regenerate: bool, log) -> str:
    """Make the database ready for bench/dataset.py; returns "reuse", "fresh" or "wiped"."""
    if target.vendor == "sqlite":
        exists = target.sqlite_path.exists()
        has_tables, marker = _sqlite_state(target.sqlite_path)
    else:
        exists, has_tables, marker = _pg_state(target.url, target.database)
    if has_tables and not marker:
        raise NotABenchmarkDatabase(
            f"{target.describe()} has tables but no {MARKER_TABLE} marker; it is not a "
            "benchmark database, so it is left alone"
        )
    if marker and not regenerate and marker.get("state") == "complete":
        if marker.get("params") == params:
            return "reuse"
        log(f"the data set in {target.describe()} was made with {marker.get('params')}")
    if not exists:
        _create(target)
        return "fresh"
    if not marker and not has_tables:
        return "fresh"
    log(f"wiping {target.describe()}")
    _wipe(target)
    return "wiped"


def _create(target: Target) -> None:
    if target.vendor == "sqlite":
        target.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        return
    with _pg_connect(target.url, "postgres") as admin:
        admin.execute(f'CREATE DATABASE "{target.database}"')


def _wipe(target: Target) -> None:
    if target.vendor == "sqlite":
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{target.sqlite_path}{suffix}").unlink(missing_ok=True)
        return
    with _pg_connect(target.url, "postgres") as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{target.database}"')
