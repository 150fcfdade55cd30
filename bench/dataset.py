"""Build the benchmark's data set and the signed-in sessions its clients use.

Run by bench/run.py in a child process whose environment selects the dedicated database:
    python -m bench.dataset --resources 20000 --users 2000 --votes 200000 --tags 2000 --out F
It migrates, generates the data unless the database already holds the same data set, then
writes what the load generator needs (session keys, resource ids, sizes) as JSON to F.
"""

import argparse
import io
import json
import os
import random
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from importlib import import_module
from itertools import accumulate

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django  # noqa: E402

django.setup()

from allauth.account.models import EmailAddress  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.contrib.contenttypes.models import ContentType  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.management.color import no_style  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count, F, Max  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.utils.text import slugify  # noqa: E402
from faker import Faker  # noqa: E402
from taggit.models import Tag, TaggedItem  # noqa: E402

from accounts.models import User  # noqa: E402
from bench.target import MARKER_TABLE, dataset_params  # noqa: E402
from core.markdown import render_markdown  # noqa: E402
from resources.models import Cost, Level, Resource, ResourceType, Status, Vote  # noqa: E402
from resources.normalize import normalize_url  # noqa: E402
from resources.scoring import hot_score, wilson_lower_bound  # noqa: E402
from roadmap.models import Section  # noqa: E402

# The first users never submit anything, so that the vote clients can vote on every resource.
CLIENT_POOL = 64
BENCH_PASSWORD = "bench-password-not-a-secret"  # noqa: S105 - every bench user shares it

TYPE_WEIGHTS = {
    ResourceType.ARTICLE: 30,
    ResourceType.BLOG: 12,
    ResourceType.VIDEO: 12,
    ResourceType.COURSE: 8,
    ResourceType.TOOL: 12,
    ResourceType.PAPER: 6,
    ResourceType.BOOK: 5,
    ResourceType.PROJECT: 6,
    ResourceType.PODCAST: 4,
    ResourceType.COMMUNITY: 2,
    ResourceType.NEWSLETTER: 3,
}
COST_WEIGHTS = {Cost.FREE: 60, Cost.FREEMIUM: 25, Cost.PAID: 15}
LEVEL_WEIGHTS = {"": 20, Level.BEGINNER: 35, Level.INTERMEDIATE: 30, Level.ADVANCED: 15}
TAGS_PER_RESOURCE = {1: 30, 2: 35, 3: 25, 4: 10}


def log(message: str) -> None:
    print(f"[dataset] {message}", file=sys.stderr, flush=True)


class Phase:
    """Time one step of the generation and say how long it took."""

    def __init__(self, name: str, timings: dict):
        self.name, self.timings = name, timings

    def __enter__(self):
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.timings[self.name] = round(time.perf_counter() - self.started, 2)
        log(f"{self.name}: {self.timings[self.name]} s")


# The marker: a small table in the benchmark database that says which data set it holds.


def has_marker_table() -> bool:
    return MARKER_TABLE in connection.introspection.table_names()


def read_marker() -> dict:
    if not has_marker_table():
        return {}
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT name, value FROM {MARKER_TABLE}")  # noqa: S608 - a constant
        return {name: json.loads(value) for name, value in cursor.fetchall()}


def write_marker(**values) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {MARKER_TABLE} "
            "(name VARCHAR(40) PRIMARY KEY, value TEXT NOT NULL)"
        )
        for name, value in values.items():
            cursor.execute(f"DELETE FROM {MARKER_TABLE} WHERE name = %s", [name])  # noqa: S608
            cursor.execute(
                f"INSERT INTO {MARKER_TABLE} (name, value) VALUES (%s, %s)",  # noqa: S608
                [name, json.dumps(value)],
            )


# Generation: Faker, seeded, for the words; random.Random, seeded, for every other choice.

# A few MLOps topics in titles and tags, so that the benchmark's search finds something.
TOPICS = (
    "model monitoring", "feature stores", "data drift", "experiment tracking", "model serving",
    "ML pipelines", "data versioning", "LLMOps", "drift detection", "vector databases",
    "ML observability", "workflow orchestration", "monitoring dashboards", "model registries",
)  # fmt: skip
BATCH = 2000
DESCRIPTIONS = 3000


def batched(items, size: int = BATCH):
    """Lists of up to `size` items, so that a large data set never sits in memory whole."""
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def zipf_cumulative(count: int, exponent: float) -> list[float]:
    return list(accumulate(1 / (rank + 1) ** exponent for rank in range(count)))


def draws(rng: random.Random, weights: dict, count: int) -> list:
    return rng.choices(list(weights), weights=list(weights.values()), k=count)


def make_tags(fake: Faker, rng: random.Random, count: int) -> list[int]:
    words = [slugify(topic) for topic in TOPICS] + sorted(set(fake.get_words_list()))
    names = list(dict.fromkeys(words))[:count]
    seen = set(names)
    while len(names) < count:
        name = f"{rng.choice(words)}-{rng.choice(words)}"
        if name not in seen:
            seen.add(name)
            names.append(name)
    for batch in batched(names):
        Tag.objects.bulk_create(
            [Tag(name=name, slug=name) for name in batch], ignore_conflicts=True
        )
    by_name = dict(Tag.objects.values_list("name", "id"))
    return [by_name[name] for name in names]  # most popular first


def make_users(fake: Faker, rng: random.Random, count: int, now: datetime) -> list[int]:
    password = make_password(BENCH_PASSWORD)  # hashed once, shared by every bench user
    # Faker's names are slow to draw (about 0.1 ms each): draw a few hundred, then choose.
    people = [(fake.first_name(), fake.last_name()) for _ in range(min(count, 500))]
    for batch in batched(range(count)):
        users = []
        for n in batch:
            first, last = rng.choice(people)
            username = f"{first.lower()}.{last.lower()}.{n}"
            joined = now - timedelta(days=rng.uniform(8, 1000))
            users.append(
                User(
                    username=username,
                    email=f"{username}@example.com",
                    password=password,
                    first_name=first,
                    last_name=last,
                    date_joined=joined,
                )
            )
        User.objects.bulk_create(users)
    ours = User.objects.filter(email__endswith="@example.com").order_by("id")
    ids = list(ours.values_list("id", flat=True))
    for batch in batched(ours.values_list("id", "email").iterator()):
        EmailAddress.objects.bulk_create(
            [
                EmailAddress(user_id=pk, email=email, verified=True, primary=True)
                for pk, email in batch
            ]
        )
    return ids


def section_weights(sections: list[Section]) -> list[int]:
    """Sections that list resources get most of them; parents and prose sections a few."""
    parents = {s.parent_id for s in sections if s.parent_id}
    loaded = dict(
        Resource.objects.values("section_id").annotate(n=Count("id")).values_list("section_id", "n")
    )
    return [1 if s.id in parents or not loaded.get(s.id) else 4 for s in sections]


def title_of(rng: random.Random, topic: str, company: str, phrases: list, sentences: list) -> str:
    shape = rng.random()
    if shape < 0.4:
        return f"{rng.choice(phrases)} for {topic}"
    if shape < 0.7:
        return f"{topic[0].upper()}{topic[1:]} in production at {company}"
    return f"{rng.choice(sentences)}: {topic}"


def plan_resources(
    rng: random.Random, count: int, submitters: list[int], now: datetime
) -> list[tuple[int, int | None, datetime]]:
    """(id, submitter, approval time) of each new resource: what its votes depend on. They
    are drawn first, so that each resource row is written once, with its tallies: an UPDATE
    of a row rewrites its search vector and every one of its indexes, two of them GIN."""
    first = (Resource.objects.aggregate(last=Max("pk"))["last"] or 0) + 1
    plan = []
    for pk in range(first, first + count):
        submitter = rng.choice(submitters) if submitters and rng.random() < 0.4 else None
        approved = now - timedelta(seconds=rng.uniform(0, 3 * 365 * 86400))
        plan.append((pk, submitter, approved))
    return plan


# The columns the generator fills; every other column gets its field's default, as
# bulk_create would write it (project_key and name_key stay blank: bulk_create skips save()).
RESOURCE_COLUMNS = (
    "id", "title", "url", "normalized_url", "description", "description_html", "resource_type",
    "cost", "level", "provider", "section_id", "status", "submitted_by_id", "is_affiliated",
    "upvotes", "downvotes", "wilson_score", "hot_score", "created_at", "updated_at",
    "approved_at",
)  # fmt: skip


def make_resources(
    fake: Faker,
    rng: random.Random,
    plan: list[tuple[int, int | None, datetime]],
    sections: list[Section],
    tallies: Counter,
    now: datetime,
) -> None:
    count = len(plan)
    sections_drawn = rng.choices(
        [s.id for s in sections], weights=section_weights(sections), k=count
    )
    types, costs, levels = (
        draws(rng, w, count) for w in (TYPE_WEIGHTS, COST_WEIGHTS, LEVEL_WEIGHTS)
    )
    # Faker is slow (15 to 90 us a call): pools of its words, drawn once, then combined.
    companies = [fake.company() for _ in range(300)]
    people = [fake.name() for _ in range(300)]
    domains = [fake.domain_name() for _ in range(200)]
    # A phrase for every 4 resources, and as many sentences: with the topics, titles stay about
    # as distinct as a phrase drawn for each row made them.
    titles = max(1000, count // 4)
    phrases = [fake.catch_phrase() for _ in range(titles)]
    sentences = [fake.sentence(nb_words=5)[:-1] for _ in range(titles)]
    # normalize_url leaves these addresses as they are (https, a lowercase domain, a slug and
    # a number for the path), so it is asked once a domain rather than once a row.
    for domain in domains:
        sample = f"https://{domain}/a-slug_0-1"
        if normalize_url(sample) != sample:
            raise RuntimeError(f"normalize_url changes {sample}: the generator needs it per row")
    # Descriptions from a pool, each rendered once: Faker and Markdown cost most of the time.
    pool = [
        (text, render_markdown(text))
        for text in (
            f"{fake.paragraph(nb_sentences=rng.randint(1, 3))} Covers {rng.choice(TOPICS)}."
            for _ in range(DESCRIPTIONS)
        )
    ]
    adapt = connection.ops.adapt_datetimefield_value
    updated = adapt(now)
    defaults = {
        field.column: field.get_db_prep_save(field.get_default(), connection)
        for field in Resource._meta.concrete_fields
        if field.column not in RESOURCE_COLUMNS
    }
    slugs: dict[str, str] = {}

    def rows():
        for n, (pk, submitter, approved) in enumerate(plan):
            topic, company = rng.choice(TOPICS), rng.choice(companies)
            title = title_of(rng, topic, company, phrases, sentences)[:200]
            if title not in slugs:
                slugs[title] = slugify(title)[:60]
            url = f"https://{rng.choice(domains)}/{slugs[title]}-{n}"
            description, description_html = rng.choice(pool)
            provider = rng.choice((rng.choice(people), company, ""))
            up, down = tallies[pk, Vote.UP], tallies[pk, Vote.DOWN]
            approved_value = adapt(approved)
            yield (
                pk, title, url, url, description, description_html, types[n], costs[n],
                levels[n], provider, sections_drawn[n], Status.APPROVED, submitter,
                submitter is not None and rng.random() < 0.1, up, down,
                wilson_lower_bound(up, down), hot_score(up, down, approved),
                approved_value, updated, approved_value,  # a resource appears when approved
                *defaults.values(),
            )  # fmt: skip

    insert_rows(Resource, (*RESOURCE_COLUMNS, *defaults), rows())
    # The ids were given, not drawn from the sequence: move it past them.
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [Resource]):
            cursor.execute(sql)


def insert_rows(model, columns: tuple[str, ...], rows) -> None:
    """Insert plain tuples: PostgreSQL's COPY, or executemany elsewhere (10x in minutes)."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join(["%s"] * len(columns))
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
        for batch in batched(rows, 10_000):
            cursor.executemany(sql, batch)


def drop_foreign_keys(*models) -> list[tuple[str, str, str]]:
    """Drop the foreign keys of these tables for the load, to add them back after it, as
    pg_restore does: PostgreSQL then checks each key in one join, not in one query per row
    (5 million at 10x, over two minutes). A failed load rolls the drop back too."""
    if connection.vendor != "postgresql":
        return []
    tables = [model._meta.db_table for model in models]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])",
            [tables],
        )
        keys = cursor.fetchall()
        for table, name, _ in keys:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {connection.ops.quote_name(name)}")
    return keys


def add_foreign_keys(keys: list[tuple[str, str, str]]) -> None:
    with connection.cursor() as cursor:
        for table, name, definition in keys:
            quoted = connection.ops.quote_name(name)
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {quoted} {definition}")


def tag_resources(rng: random.Random, resource_ids: list[int], tag_ids: list[int]) -> None:
    content_type = ContentType.objects.get_for_model(Resource).pk
    cumulative = zipf_cumulative(len(tag_ids), 0.9)
    counts = draws(rng, TAGS_PER_RESOURCE, len(resource_ids))

    def items():
        for resource_id, count in zip(resource_ids, counts, strict=True):
            wanted = min(count, len(tag_ids))
            chosen: set[int] = set()
            while len(chosen) < wanted:
                chosen.update(rng.choices(tag_ids, cum_weights=cumulative, k=wanted - len(chosen)))
            for tag_id in sorted(chosen):
                yield tag_id, content_type, resource_id

    insert_rows(TaggedItem, ("tag_id", "content_type_id", "object_id"), items())


def draw_votes(
    rng: random.Random,
    target: int,
    user_ids: list[int],
    plan: list[tuple[int, int | None, datetime]],
) -> tuple[list[tuple[int, int, int]], Counter]:
    """Unique (user, resource) votes: a few resources are popular, a few users vote a lot.
    Returns the votes (user, resource, +1 or -1), in that order, and their tallies:
    {(resource id, +1 or -1): votes}."""
    resources = list(
        Resource.objects.approved().order_by("pk").values_list("pk", "submitted_by_id")
    ) + [(pk, submitter) for pk, submitter, _ in plan]
    rng.shuffle(resources)
    resource_ids = [pk for pk, _ in resources]
    submitter = dict(resources)
    target = min(target, len(user_ids) * len(resource_ids) // 2)
    resource_cum = zipf_cumulative(len(resource_ids), 1.0)
    user_weights = [rng.paretovariate(1.5) for _ in user_ids]
    pairs: set[int] = set()  # user id << 32 | resource id: ints sort ten times faster than tuples
    for _ in range(200):
        missing = target - len(pairs)
        if missing <= 0:
            break
        batch = min(max(missing * 2, 1000), 100_000)
        users = rng.choices(user_ids, weights=user_weights, k=batch)
        picked = rng.choices(resource_ids, cum_weights=resource_cum, k=batch)
        for user_id, resource_id in zip(users, picked, strict=True):
            if submitter[resource_id] != user_id:
                pairs.add(user_id << 32 | resource_id)
                if len(pairs) >= target:
                    break
    quality = {pk: rng.betavariate(6, 2) for pk in resource_ids}
    votes = []
    for pair in sorted(pairs):
        user, resource = pair >> 32, pair & 0xFFFF_FFFF
        votes.append((user, resource, Vote.UP if rng.random() < quality[resource] else Vote.DOWN))
    return votes, Counter((resource, value) for _, resource, value in votes)


def write_votes(votes: list[tuple[int, int, int]]) -> None:
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    columns = ("user_id", "resource_id", "value", "created_at", "updated_at")
    insert_rows(Vote, columns, ((*vote, now, now) for vote in votes))


def write_tallies(tallies: Counter, *, before: int) -> None:
    """The tallies and scores of the resources that were there before (the roadmap's own); the
    new ones were written with theirs. The scores use resources.scoring, the arithmetic of
    every vote on the site."""
    voted = []
    for pk, approved_at in Resource.objects.filter(pk__lt=before).values_list("pk", "approved_at"):
        up, down = tallies[pk, Vote.UP], tallies[pk, Vote.DOWN]
        if up or down:
            voted.append(
                Resource(
                    pk=pk,
                    upvotes=up,
                    downvotes=down,
                    wilson_score=wilson_lower_bound(up, down),
                    hot_score=hot_score(up, down, approved_at),
                )
            )
    Resource.objects.bulk_update(
        voted, ["upvotes", "downvotes", "wilson_score", "hot_score"], batch_size=500
    )


def generate(params: dict) -> dict:
    rng = random.Random(params["seed"])  # noqa: S311 - reproducible data, not secrets
    fake = Faker("en_US")
    fake.seed_instance(params["seed"])
    now = timezone.now()
    timings: dict[str, float] = {}
    started = time.perf_counter()
    with Phase("load_roadmap", timings):
        call_command("load_roadmap", stdout=io.StringIO())
    sections = list(Section.objects.order_by("position", "id"))
    with transaction.atomic():
        with Phase("tags", timings):
            tag_ids = make_tags(fake, rng, params["tags"])
        with Phase("users", timings):
            user_ids = make_users(fake, rng, params["users"], now)
        pool = max(1, min(CLIENT_POOL, len(user_ids) // 2))
        keys = drop_foreign_keys(Resource, TaggedItem, Vote)
        with Phase("drawing_votes", timings):
            plan = plan_resources(rng, params["resources"], user_ids[pool:], now)
            votes, tallies = draw_votes(rng, params["votes"], user_ids, plan)
        with Phase("resources", timings):
            make_resources(fake, rng, plan, sections, tallies, now)
        with Phase("tagging", timings):
            tag_resources(rng, [pk for pk, _, _ in plan], tag_ids)
        with Phase("votes", timings):
            write_votes(votes)
        with Phase("tallies", timings):
            write_tallies(tallies, before=plan[0][0] if plan else sys.maxsize)
        with Phase("foreign_keys", timings):
            add_foreign_keys(keys)
    return {
        "seconds": round(time.perf_counter() - started, 1),
        "phases": timings,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


# What one run needs: sessions for the signed-in clients and resource ids to visit.


def client_sessions(count: int) -> list[dict]:
    """Sign in `count` users who submitted nothing, by creating their sessions directly."""
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    users = list(
        User.objects.filter(submissions__isnull=True, emailaddress__verified=True)
        .exclude(is_staff=True)
        .order_by("id")
        .distinct()[:count]
    )
    if not users:
        raise SystemExit("the data set has no verified users to sign in")
    sessions = []
    for n in range(count):
        user = users[n % len(users)]
        store = store_class()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        sessions.append(
            {"user_id": user.pk, "username": user.username, "session_key": store.session_key}
        )
    return sessions


def resource_samples(rng: random.Random) -> dict:
    approved = Resource.objects.approved()
    popular = list(
        approved.order_by(-(F("upvotes") + F("downvotes")), "pk").values_list("pk", flat=True)[:200]
    )
    every = list(approved.values_list("pk", flat=True))
    rest = rng.sample(every, k=min(800, len(every)))
    return {
        "vote_ids": sorted(set(popular + rest)),
        "detail_ids": sorted(set(popular[:100] + rest[:400])),
    }


def counts() -> dict:
    return {
        "sections": Section.objects.count(),
        "resources": Resource.objects.approved().count(),
        "users": User.objects.count(),
        "votes": Vote.objects.count(),
        "tags": Tag.objects.count(),
        "tagged_items": TaggedItem.objects.count(),
    }


def database_facts() -> dict:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
        else:
            cursor.execute("SELECT sqlite_version()")
            version = cursor.fetchone()[0]
    return {"vendor": connection.vendor, "version": version}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ("resources", "users", "votes", "tags", "seed", "clients"):
        parser.add_argument(f"--{name}", type=int, required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    params = dataset_params(args)

    if not has_marker_table() and connection.introspection.table_names():
        raise SystemExit(
            "refusing to use a database that has tables but no benchmark marker: "
            "it is not a benchmark database"
        )
    marker = read_marker()
    if marker and (marker.get("params") != params or marker.get("state") != "complete"):
        raise SystemExit("the database holds another data set; run with --regenerate")
    if not marker:
        write_marker(params=params, state="generating")
    with_stdout = {"stdout": io.StringIO()}
    call_command("migrate", interactive=False, verbosity=0, **with_stdout)
    call_command("createcachetable", **with_stdout)
    reused = marker.get("state") == "complete"
    if reused:
        log("reusing the data set already in the database")
        generation = marker["generation"]
    else:
        log(f"generating {params}")
        generation = generate(params)
        write_marker(params=params, state="complete", generation=generation)

    if connection.vendor == "postgresql":
        # What autovacuum does on a live site: statistics for the planner, a visibility map
        # for index-only scans, and no dead rows left by the previous run's votes.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    rng = random.Random(params["seed"] + 1)  # noqa: S311
    result = {
        "params": params,
        "reused": reused,
        "generation": generation,
        "counts": counts(),
        "database": database_facts(),
        "cookies": {"session": settings.SESSION_COOKIE_NAME, "csrf": settings.CSRF_COOKIE_NAME},
        "sessions": client_sessions(args.clients),
        **resource_samples(rng),
    }
    with open(args.out, "w", encoding="utf-8") as out:
        json.dump(result, out, indent=1)


if __name__ == "__main__":
    main()
