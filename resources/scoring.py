"""Ranking arithmetic, kept apart from the ORM so it can be tested on its own."""

from math import log10, sqrt

WILSON_Z = 1.281551565545  # 80% confidence, as on Reddit's "best" sort


def wilson_lower_bound(upvotes: int, downvotes: int, z: float = WILSON_Z) -> float:
    """Lower bound of the Wilson score interval for the share of up votes."""
    total = upvotes + downvotes
    if total <= 0:
        return 0.0
    share = upvotes / total
    z2 = z * z
    centre = share + z2 / (2 * total)
    spread = z * sqrt((share * (1 - share) + z2 / (4 * total)) / total)
    return (centre - spread) / (1 + z2 / total)


HOT_EPOCH = 1_700_000_000  # 2023-11-14; any fixed instant works, it only shifts every score
HOT_HALF_LIFE_SECONDS = 45_000  # 12.5 hours of age weigh as much as a tenfold score


def hot_score(upvotes: int, downvotes: int, approved_at) -> float:
    """Reddit-style "hot": the order of magnitude of the net score plus a bonus for recency."""
    score = upvotes - downvotes
    sign = (score > 0) - (score < 0)
    order = log10(max(abs(score), 1))
    seconds = approved_at.timestamp() - HOT_EPOCH if approved_at else 0.0
    return round(sign * order + seconds / HOT_HALF_LIFE_SECONDS, 7)
