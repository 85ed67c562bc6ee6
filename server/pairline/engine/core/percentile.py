"""The one percentile definition used by every figure pairline reports (stats, benchmarks).

Nearest rank: the q-th percentile is the smallest value with at least q% of the values at or
below it. It is always a value that was measured (a latency that really happened, never one
interpolated between two), and for p95 of 20 requests it is the 19th fastest.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float | None:
    """The nearest-rank q-th percentile (q in 0..100) of `values`; None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]
