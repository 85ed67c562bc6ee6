"""Fault localisation: Ochiai on a small coverage matrix, the tiers that order small edits, and
the real trace of a project's pytest file pointing at the buggy function."""

from __future__ import annotations

import sys
from pathlib import Path

from pairline.engine.actions.fault_localisation import ochiai, tier
from pairline.engine.actions.mutants import mutants
from pairline.engine.actions.verify import WorkspaceVerifier
from pairline.engine.checks.timeouts import TestTime
from pairline.engine.core.config import ActionsConfig


def test_ochiai_on_a_small_coverage_matrix() -> None:
    tests = [
        TestTime("t1", 0.1, False, failed=True, lines=(1, 2, 3)),
        TestTime("t2", 0.1, False, failed=True, lines=(1, 3)),
        TestTime("t3", 0.1, False, failed=False, lines=(1, 2)),
        TestTime("t4", 0.1, False, failed=False, lines=(1, 4)),
    ]
    scores = ochiai(tests)
    # line 3 (0-based 2): both failing tests, no passing one → 2 / sqrt(2 * 2) = 1
    assert scores[2] == 1.0
    # line 1: all four → 2 / sqrt(2 * 4); line 2: one failing, one passing → 1 / sqrt(2 * 2)
    assert round(scores[0], 3) == 0.707 and scores[1] == 0.5
    assert 3 not in scores  # run by passing tests alone
    of = tier(scores)
    assert of is not None
    assert [of(line) for line in range(5)] == [1, 1, 0, 2, 2]


def test_no_failing_test_with_lines_means_no_ranking() -> None:
    assert ochiai([TestTime("t", 0.1, False, failed=False, lines=(1,))]) == {}
    assert ochiai([TestTime("t", 0.1, True, failed=True)]) == {}
    assert tier({}) is None


TWO = '''def double(x):
    """Twice x."""
    return x * 2


def clamp(x, lo, hi):
    """x within [lo, hi]."""
    if x < lo:
        return lo
    if x > hi:
        return lo
    return x
'''
TESTS = """from two import clamp, double


def test_double():
    assert double(3) == 6


def test_clamp_low():
    assert clamp(-1, 0, 5) == 0


def test_clamp_high():
    assert clamp(9, 0, 5) == 5


def test_clamp_inside():
    assert clamp(3, 0, 5) == 3
"""


async def test_the_trace_of_the_projects_tests_points_at_the_buggy_line(tmp_path: Path) -> None:
    (tmp_path / ".venv").symlink_to(Path(sys.prefix))
    (tmp_path / "two.py").write_text(TWO)
    (tmp_path / "test_two.py").write_text(TESTS)
    verifier = WorkspaceVerifier(ActionsConfig(trusted=True, fault_localisation=True), tmp_path)
    try:
        base = await verifier.baseline("python", "two.py", TWO)
    finally:
        await verifier.aclose()
    assert base is not None and not base.passes
    scores = base.suspicion
    buggy = TWO.split("\n").index("        return lo", 9)  # the second `return lo`
    assert scores[buggy] == max(scores.values()) == 1.0
    assert 2 not in scores  # `double`: no failing test ran it
    # Over the whole file, the edits of the buggy line come before every edit of `double`.
    ordered = mutants("python", TWO, 0, 12, tier=tier(scores))
    first_fix = next(i for i, m in enumerate(ordered) if "return hi" in m.text.split("\n")[10])
    first_double = next(i for i, m in enumerate(ordered) if m.line <= 2)
    assert first_fix < first_double
    plain = mutants("python", TWO, 0, 12)
    assert next(i for i, m in enumerate(plain) if m.line <= 2) < first_double


async def test_without_the_setting_nothing_is_traced(tmp_path: Path) -> None:
    (tmp_path / ".venv").symlink_to(Path(sys.prefix))
    (tmp_path / "two.py").write_text(TWO)
    (tmp_path / "test_two.py").write_text(TESTS)
    verifier = WorkspaceVerifier(ActionsConfig(trusted=True), tmp_path)
    try:
        base = await verifier.baseline("python", "two.py", TWO)
    finally:
        await verifier.aclose()
    assert base is not None and not base.passes and base.suspicion == {}
