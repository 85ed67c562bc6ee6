"""Which lines most likely hold the bug, from the lines each test ran (spectrum-based fault
localisation, Ochiai's formula).

The check of the unmodified code writes down, per test, whether it failed and which lines of
the file it ran (`pytest_watchdog`). A line run by every failing test and by few passing ones
is suspect; one no failing test ran hardly is. "Fix this" tries the small edits of the most
suspect lines first (`tier`), so on a whole file the right edit is reached before the budget
is spent on lines the failure never touched.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from pairline.engine.checks.timeouts import TestTime

_TOP_SHARE = 0.8  # within this share of the best score a line counts among the most suspect


def ochiai(tests: Sequence[TestTime]) -> dict[int, float]:
    """0-based line → suspicion in [0, 1]: failing(l) / sqrt(all failing * ran(l)). Empty
    when no failing test has lines written down (nothing to go by)."""
    failing = [t for t in tests if t.failed and t.lines]
    if not failing:
        return {}
    ran_failing: dict[int, int] = {}
    ran_passing: dict[int, int] = {}
    for test in tests:
        counts = ran_failing if test.failed else ran_passing
        for line in test.lines:
            counts[line - 1] = counts.get(line - 1, 0) + 1
    return {
        line: ef / math.sqrt(len(failing) * (ef + ran_passing.get(line, 0)))
        for line, ef in ran_failing.items()
    }


def tier(scores: dict[int, float]) -> Callable[[int], int] | None:
    """A line's tier for ordering edits: 0 among the most suspect, 1 run by a failing test,
    2 run by none (None: no scores, keep the usual order)."""
    if not scores:
        return None
    best = max(scores.values())

    def of(line: int) -> int:
        score = scores.get(line, 0.0)
        if score <= 0.0:
            return 2
        return 0 if score >= _TOP_SHARE * best else 1

    return of
