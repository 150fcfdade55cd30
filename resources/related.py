"""Related resources from the community's own signals, precomputed by manage.py
compute_related.

A reader "read" a resource when they voted it up or marked it done. Two resources are
neighbours by the cosine of their readers, |A ∩ B| / √(|A|·|B|), counted only with at least
MIN_SHARED_READERS readers in common: a popular resource shares readers with everything, and
the cosine divides that away. Each reader counts with their latest SIGNALS_PER_READER
signals. A resource with fewer neighbours than NEIGHBOURS is filled up
from its own section, those sharing most tags first, then the best scored. Only approved
resources take part, on either side.
"""

import heapq
import math
from collections import defaultdict
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from taggit.models import TaggedItem

from core.cache import clear_pages
from resources.models import (
    Progress,
    ProgressState,
    RelatedBasis,
    RelatedResource,
    Resource,
    Status,
    Vote,
)

NEIGHBOURS = 6
MIN_SHARED_READERS = 3
# A reader who voted up a thousand resources says little about any two of them, and costs a
# million pairs: only each reader's latest signals count.
SIGNALS_PER_READER = 150
BATCH_SIZE = 5000
SIGNALS_TABLE = "related_reader_signals"  # a temporary table, this connection's only


@dataclass(frozen=True)
class RecomputeResult:
    resources: int
    by_readers: int  # neighbour rows from shared readers
    by_topic: int  # neighbour rows from the section-and-tags fallback
    pairs: int  # resource pairs with enough shared readers


def _readers_sql(per_reader: int) -> tuple[str, list]:
    """Distinct (reader, resource) pairs: up-votes and finished resources, approved only,
    each reader's latest `per_reader` of them."""
    vote, progress, resource = (
        Vote._meta.db_table,
        Progress._meta.db_table,
        Resource._meta.db_table,
    )
    signals = (
        f"SELECT v.user_id, v.resource_id, v.updated_at AS at FROM {vote} v "  # noqa: S608
        f"JOIN {resource} r ON r.id = v.resource_id WHERE v.value = %s AND r.status = %s "
        f"UNION SELECT p.user_id, p.resource_id, p.updated_at FROM {progress} p "
        f"JOIN {resource} r2 ON r2.id = p.resource_id WHERE p.state = %s AND r2.status = %s"
    )
    # A resource both voted up and done is one signal: the latest of the two counts.
    sql = (
        "SELECT user_id, resource_id FROM (SELECT user_id, resource_id, ROW_NUMBER() OVER "  # noqa: S608
        "(PARTITION BY user_id ORDER BY MAX(at) DESC, resource_id DESC) AS nth "
        f"FROM ({signals}) u GROUP BY user_id, resource_id) ranked WHERE nth <= %s"
    )
    return sql, [Vote.UP, Status.APPROVED, ProgressState.DONE, Status.APPROVED, per_reader]


def co_reader_counts(
    min_shared: int, per_reader: int = SIGNALS_PER_READER
) -> tuple[dict[int, int], list[tuple[int, int, int]]]:
    """Readers per resource, and (a, b, shared readers) for a < b with at least `min_shared`.

    The database counts the pairs (a self-join grouped by pair), so Python only sees pairs
    worth keeping."""
    readers, params = _readers_sql(per_reader)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Room to count the pairs in memory rather than in temporary files.
            cursor.execute("SET LOCAL work_mem = '128MB'")
        cursor.execute(f"DROP TABLE IF EXISTS {SIGNALS_TABLE}")
        cursor.execute(f"CREATE TEMPORARY TABLE {SIGNALS_TABLE} AS {readers}", params)
        cursor.execute(
            f"SELECT resource_id, COUNT(*) FROM {SIGNALS_TABLE} GROUP BY resource_id"  # noqa: S608
        )
        per_resource = dict(cursor.fetchall())
        # A resource read by fewer than min_shared readers pairs with none: out of the join.
        cursor.execute(
            f"DELETE FROM {SIGNALS_TABLE} WHERE resource_id IN (SELECT resource_id "  # noqa: S608
            f"FROM {SIGNALS_TABLE} GROUP BY resource_id HAVING COUNT(*) < %s)",
            [min_shared],
        )
        cursor.execute(
            f"SELECT a.resource_id, b.resource_id, COUNT(*) FROM {SIGNALS_TABLE} a "  # noqa: S608
            f"JOIN {SIGNALS_TABLE} b ON a.user_id = b.user_id AND a.resource_id < b.resource_id "
            "GROUP BY a.resource_id, b.resource_id HAVING COUNT(*) >= %s",
            [min_shared],
        )
        pairs = cursor.fetchall()
        cursor.execute(f"DROP TABLE {SIGNALS_TABLE}")
    return per_resource, pairs


def reader_neighbours(
    per_resource: dict[int, int], pairs, neighbours: int
) -> dict[int, list[tuple[float, int, int]]]:
    """Each resource's best `neighbours` as (cosine, other, shared), best first."""
    best: dict[int, list[tuple[float, int, int]]] = defaultdict(list)

    def offer(resource: int, item: tuple[float, int, int]) -> None:
        heap = best[resource]
        # Ties go to the lower id, so the same data always gives the same neighbours.
        keyed = (item[0], -item[1], item[2])
        if len(heap) < neighbours:
            heapq.heappush(heap, keyed)
        elif keyed > heap[0]:
            heapq.heapreplace(heap, keyed)

    for a, b, shared in pairs:
        cosine = shared / math.sqrt(per_resource[a] * per_resource[b])
        offer(a, (cosine, b, shared))
        offer(b, (cosine, a, shared))
    return {
        resource: [
            (score, -negative, shared) for score, negative, shared in sorted(heap, reverse=True)
        ]
        for resource, heap in best.items()
    }


def topic_fallback(
    resource: int,
    section: int,
    tags: set[int],
    *,
    by_section_tag: dict[tuple[int, int], list[int]],
    by_section: dict[int, list[int]],
    exclude: set[int],
    wanted: int,
) -> list[tuple[float, int]]:
    """Up to `wanted` others from the same section: most shared tags first, then by score
    (by_section lists each section's resources best scored first)."""
    rank_in_section = {}
    shared: dict[int, int] = defaultdict(int)
    for tag in tags:
        for other in by_section_tag.get((section, tag), ()):
            if other != resource and other not in exclude:
                shared[other] += 1
    order = by_section.get(section, [])
    if shared:
        rank_in_section = {other: position for position, other in enumerate(order)}
    picked = sorted(shared, key=lambda other: (-shared[other], rank_in_section[other]))[:wanted]
    found = [(float(shared[other]), other) for other in picked]
    if len(found) < wanted:
        taken = {other for _, other in found}
        for other in order:
            if other != resource and other not in exclude and other not in taken:
                found.append((0.0, other))
                if len(found) == wanted:
                    break
    return found


def recompute_related(
    *, neighbours: int = NEIGHBOURS, min_shared: int = MIN_SHARED_READERS
) -> RecomputeResult:
    """Replace every resource's precomputed neighbours, in one transaction."""
    approved = list(
        Resource.objects.approved()
        .order_by("-wilson_score", "-created_at", "-id")
        .values_list("pk", "section_id")
    )
    section_of = dict(approved)
    by_section: dict[int, list[int]] = defaultdict(list)
    for pk, section in approved:
        by_section[section].append(pk)
    tags_of: dict[int, set[int]] = defaultdict(set)
    by_section_tag: dict[tuple[int, int], list[int]] = defaultdict(list)
    content_type = ContentType.objects.get_for_model(Resource)
    for object_id, tag_id in TaggedItem.objects.filter(content_type=content_type).values_list(
        "object_id", "tag_id"
    ):
        if object_id in section_of:
            tags_of[object_id].add(tag_id)
            by_section_tag[(section_of[object_id], tag_id)].append(object_id)

    per_resource, pairs = co_reader_counts(min_shared)
    by_readers = reader_neighbours(per_resource, pairs, neighbours)

    rows = []
    counts = {RelatedBasis.READERS: 0, RelatedBasis.TOPIC: 0}
    for pk, section in approved:
        chosen = by_readers.get(pk, [])
        entries = [(score, other, shared, RelatedBasis.READERS) for score, other, shared in chosen]
        if len(entries) < neighbours:
            fill = topic_fallback(
                pk,
                section,
                tags_of.get(pk, set()),
                by_section_tag=by_section_tag,
                by_section=by_section,
                exclude={other for _, other, _ in chosen},
                wanted=neighbours - len(entries),
            )
            entries += [(score, other, 0, RelatedBasis.TOPIC) for score, other in fill]
        for rank, (score, other, shared, basis) in enumerate(entries, start=1):
            counts[basis] += 1
            rows.append(
                RelatedResource(
                    resource_id=pk,
                    related_id=other,
                    rank=rank,
                    score=score,
                    shared_readers=shared,
                    basis=basis,
                )
            )
    with transaction.atomic():
        RelatedResource.objects.all().delete()
        RelatedResource.objects.bulk_create(rows, batch_size=BATCH_SIZE)
    transaction.on_commit(clear_pages)
    return RecomputeResult(
        resources=len(approved),
        by_readers=counts[RelatedBasis.READERS],
        by_topic=counts[RelatedBasis.TOPIC],
        pairs=len(pairs),
    )
