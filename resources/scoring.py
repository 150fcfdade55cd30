"""Ranking arithmetic, kept apart from the ORM so it can be tested on its own."""

from math import sqrt

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
