"""Checks of code that hangs: a hanging test fails alone, candidates get limits from the tests
that finish, and "Fix this" on an endless loop finds its fix inside the budget.

The workspaces are a user's: a module, a pytest file that imports it, a `.venv` (the
interpreter running these tests, which has pytest and pytest-timeout); nothing configured.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pairline.engine.actions import fix
from pairline.engine.actions.verify import Verdict, WorkspaceVerifier
from pairline.engine.checks.timeouts import (
    CheckRun,
    TestTime,
    baseline_test_limit,
    candidate_test_limit,
    candidate_timeout,
    check_limit,
    read_times,
)
from pairline.engine.core.config import ActionsConfig
from tests.unit.engine.actions.test_fix_loop import Sampler, by_index

SOURCE = '''def total(n):
    """The sum 1 + 2 + ... + n."""
    s, i = 0, 1
    while i <= n:
        s += i
        i -= 1
    return s
'''
TESTS = """from total import total


def test_zero():
    assert total(0) == 0


def test_three():
    assert total(3) == 6


def test_one():
    assert total(1) == 1
"""


@pytest.fixture(params=["watchdog", "pytest-timeout"])
def project(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    if request.param == "watchdog":
        # A project without pytest-timeout: the plugin's own alarm stops the hanging test.
        monkeypatch.setenv("PYTEST_ADDOPTS", "-p no:timeout")
    (tmp_path / ".venv").symlink_to(Path(sys.prefix))
    (tmp_path / "total.py").write_text(SOURCE)
    (tmp_path / "test_total.py").write_text(TESTS)
    return tmp_path


def config(budget_s: float = 30.0) -> ActionsConfig:
    # A sixth of 30 s: no check runs longer than 5 s, a test of the code as it is 1.25 s.
    return ActionsConfig(trusted=True, budget_s=budget_s)


async def test_a_hanging_test_fails_alone_and_the_others_report(project: Path) -> None:
    verifier = WorkspaceVerifier(config(), project)
    try:
        base = await verifier.baseline("python", "total.py", SOURCE)
        run = next(iter(verifier._baselines.values()))
    finally:
        await verifier.aclose()
    assert base is not None and not base.passes and base.label == "pytest test_total.py"
    assert run.returncode == 1  # the run finished: the hanging test was stopped, not the run
    assert {t.test.split("::")[1]: t.timed_out for t in run.tests} == {
        "test_zero": False,
        "test_three": True,
        "test_one": True,
    }
    assert base.failure is not None and "test_one" in base.failure


async def test_hanging_code_is_fixed_by_a_small_edit_inside_the_budget(project: Path) -> None:
    copied = f"```python\n{SOURCE}```"  # a model that copies the code back, as a small one does
    model = Sampler(by_index([copied]))
    verifier = WorkspaceVerifier(config(60.0), project)
    request = fix.FixRequest(
        kind=fix.FIX,
        language="python",
        text=SOURCE,
        region=fix.Region(0, 7, "total"),
        file_name="total.py",
        rel_path="total.py",
    )
    loop = fix.Loop(candidates=1, budget_s=60.0, small_edits=True)
    try:
        result = await fix.fix(request, model, verifier, 3, loop=loop)
    finally:
        await verifier.aclose()
    assert result.verified and not result.out_of_time, result.message
    assert result.text == SOURCE.replace("i -= 1", "i += 1")
    assert "3 tests pass (2 failed before)" in result.message


def test_no_check_takes_more_than_a_sixth_of_the_budget() -> None:
    assert check_limit(60.0, 60.0) == 10.0
    assert check_limit(5.0, 60.0) == 5.0
    assert check_limit(60.0, None) == 60.0
    assert baseline_test_limit(10.0) == 2.5
    assert baseline_test_limit(2.0) == 1.0  # never under a second


def test_candidate_limits_follow_the_tests_that_finish() -> None:
    hung = TestTime("t::hangs", 2.5, True)
    quick = TestTime("t::quick", 0.01, False)
    slow = TestTime("t::slow", 0.4, False)
    base = CheckRun(1, "", 3.0, (hung, quick, slow))
    # The time the hanging test took does not count: 0.5 s of finishing run → 5 s at least.
    assert candidate_timeout(10.0, base) == 5.0
    assert candidate_timeout(10.0, CheckRun(1, "", 4.5, (hung, slow))) == 10.0
    assert candidate_test_limit(10.0, base) == 2.0  # five times the slowest that finished
    assert candidate_test_limit(10.0, CheckRun(1, "", 3.0, (hung,))) == 1.0  # none finished
    assert candidate_test_limit(10.0, CheckRun(1, "", 9.0, (TestTime("t", 3.0, False),))) == 2.5


def test_times_cut_short_by_a_killed_run_are_skipped(tmp_path: Path) -> None:
    times = tmp_path / "times.jsonl"
    times.write_text('{"test": "a", "seconds": 0.1, "timed_out": false}\n{"test": "b", "sec')
    assert read_times(times) == (TestTime("a", 0.1, False),)
    assert read_times(tmp_path / "missing.jsonl") == ()


def test_after_a_hung_baseline_a_finished_candidate_sets_the_limit() -> None:
    hung = CheckRun(None, "timed out after 10 s", 10.0)
    assert candidate_timeout(10.0, hung) == 5.0  # nothing finished yet: the short default
    assert candidate_timeout(10.0, hung, 1) == 10.0
    # A candidate's check finished in 0.3 s: one that still hangs is told in 1.5 s, doubled
    # or not.
    assert candidate_timeout(10.0, hung, 1, finished_s=0.3) == pytest.approx(1.5)
    assert candidate_timeout(10.0, hung, finished_s=0.05) == 1.0  # never under a second
    assert candidate_timeout(10.0, hung, finished_s=3.0) == 10.0  # never over the limit
    finishing = CheckRun(1, "", 0.2)
    assert candidate_timeout(10.0, finishing, finished_s=0.3) == 5.0  # the baseline finished


HANGS = "def f():\n    while True:\n        pass\n"
CHECK = "from mod import f\n\nassert f() == 2\n"


async def test_a_candidate_that_finishes_ends_the_doubling_even_while_others_run(
    tmp_path: Path,
) -> None:
    """Two checks at once after a baseline that hangs: the one that started first and times
    out after the other finished must not count as one more timeout in a row, and the next
    candidate that hangs is stopped after a few times the finished check's time."""
    import asyncio
    import time

    (tmp_path / "mod.py").write_text(HANGS)
    (tmp_path / "check.py").write_text(CHECK)
    actions = ActionsConfig(
        trusted=True, check_commands={"python": f"{sys.executable} check.py"}, check_timeout_s=2.0
    )
    verifier = WorkspaceVerifier(actions, tmp_path, parallel=2)
    still_hangs = HANGS.replace("pass", "x = 1")
    finishes = "def f():\n    return 1\n"

    async def soon(text: str) -> Verdict:
        await asyncio.sleep(0.3)  # starts after the first one
        return await verifier.verify("python", "mod.py", HANGS, text)

    try:
        await verifier.baseline("python", "mod.py", HANGS)  # hangs: 2 s
        first, second = await asyncio.gather(
            verifier.verify("python", "mod.py", HANGS, still_hangs), soon(finishes)
        )
        assert list(verifier._timeouts_in_a_row.values()) == [None]
        started = time.perf_counter()
        again = await verifier.verify("python", "mod.py", HANGS, still_hangs.replace("1", "2"))
        took = time.perf_counter() - started
    finally:
        await verifier.aclose()
    assert "did not finish" in first.message and "did not finish" in again.message
    assert "did not finish" not in second.message
    assert took < 1.9  # a few times the finished check's time, not the 2 s limit
