"""How long the checks of "Fix this" may run, so that code which hangs does not eat the budget.

Endless loops and recursion are among the bugs people most often ask to fix, and the code as
it is then hangs in its check. Three limits keep that cheap:

- no single check runs longer than a sixth of the loop's budget (`check_limit`);
- under pytest every test has a limit of its own (`pytest_watchdog`): a hanging test fails
  alone and the others still report, and every test's time is written down;
- a candidate may run a few times as long as the tests of the unmodified code that finish
  (`candidate_timeout`); when the unmodified code never finished at all, a few times as long as
  the slowest candidate's check that did finish, and before any did, a short default, doubled
  only when every candidate so far has timed out too. Most edits of an endless loop keep it
  endless, so what each of them costs decides how many fit in the budget.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
from dataclasses import dataclass
from pathlib import Path

MIN_TIMEOUT_S = 5.0  # a candidate's whole check: start-up and collection need a moment
TIMEOUT_FACTOR = 5.0  # times the unmodified code's finishing run
HUNG_DEFAULT_S = 5.0  # a candidate's limit when the unmodified code never finished
HUNG_DOUBLING = 4  # candidates in a row that all time out before that limit doubles
_BUDGET_SHARE = 6.0  # no check may take more than this share of the loop's budget
_PER_TEST_SHARE = 4.0  # a test of the unmodified code may take this share of a check
MIN_PER_TEST_S = 1.0  # a candidate's test: enough for tests that take milliseconds
WATCHDOG_MODULE = "pairline_watchdog"  # the plugin's module name in the check's interpreter
_WATCHDOG_SOURCE = Path(__file__).with_name("pytest_watchdog.py")


@dataclass(frozen=True)
class TestTime:
    """One test's call, as the watchdog wrote it down."""

    test: str
    seconds: float
    timed_out: bool
    failed: bool = False
    lines: tuple[int, ...] = ()  # 1-based lines of the traced file it ran (fault localisation)

    __test__ = False  # not a test class, whatever its name


@dataclass(frozen=True)
class CheckRun:
    returncode: int | None  # None: timed out or could not start
    output: str
    seconds: float = 0.0
    tests: tuple[TestTime, ...] = ()  # per test, where the watchdog ran (pytest)

    @property
    def hung_tests(self) -> int:
        return sum(1 for t in self.tests if t.timed_out)


def check_limit(check_timeout_s: float, budget_s: float | None) -> float:
    """The longest any one check of a loop may run: the setting, at most a sixth of the budget."""
    if not budget_s:
        return check_timeout_s
    return min(check_timeout_s, budget_s / _BUDGET_SHARE)


def baseline_test_limit(limit: float) -> float:
    """A test's limit in the unmodified code's run: a share of the check's, so that several
    hanging tests still leave the run time to finish and say which ones hang."""
    return max(MIN_PER_TEST_S, limit / _PER_TEST_SHARE)


def candidate_test_limit(limit: float, base: CheckRun) -> float:
    """A test's limit in a candidate's run: a few times the slowest test that finished in the
    unmodified code (a short default when none did), never more than the unmodified code had."""
    finished = [t.seconds for t in base.tests if not t.timed_out]
    slowest = max(finished, default=0.0)
    return min(baseline_test_limit(limit), max(MIN_PER_TEST_S, TIMEOUT_FACTOR * slowest))


def candidate_timeout(
    limit: float, base: CheckRun, doublings: int = 0, finished_s: float | None = None
) -> float:
    """How long a candidate's check may run: a few times the unmodified code's run without
    the time its hanging tests took (at least `MIN_TIMEOUT_S`), never more than `limit`.

    An edit that makes the check run much longer than the code as it is has most likely written
    an endless loop, and waiting out the whole limit on it would spend the loop's budget on one
    candidate. When the unmodified code never finished: a few times `finished_s`, the slowest
    check of a candidate that did finish (at least `MIN_PER_TEST_S`), else `HUNG_DEFAULT_S`,
    doubled `doublings` times (the caller counts the candidates that all timed out).
    """
    if base.returncode is None:
        if finished_s is not None:
            # How long the check takes on code that does not hang: start-up, build, the tests.
            return min(limit, max(MIN_PER_TEST_S, TIMEOUT_FACTOR * finished_s))
        return min(limit, HUNG_DEFAULT_S * float(2**doublings))
    hanging = sum(t.seconds for t in base.tests if t.timed_out)
    finished = max(0.0, base.seconds - hanging)
    return min(limit, max(MIN_TIMEOUT_S, TIMEOUT_FACTOR * finished))


def install_script(folder: Path, source: Path, module: str) -> Path:
    """Copy a standalone script of pairline's (the watchdog, the warm worker) into `folder`, as
    `module`, for the check's own interpreter to load; `folder` is beside a workspace copy,
    never inside it."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{module}.py"
    target.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    return target


def install_watchdog(folder: Path) -> None:
    """Put the pytest plugin in `folder`."""
    install_script(folder, _WATCHDOG_SOURCE, WATCHDOG_MODULE)


def kill_group(pid: int) -> None:
    """SIGKILL the process group `pid` leads (a check and whatever its tests started)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def watchdog_env(
    folder: Path, test_limit: float, times: Path, traced: Path | None = None
) -> dict[str, str]:
    """The environment of a pytest check run with the plugin in `folder` loaded (`traced`:
    the file whose lines each test runs are written down)."""
    env = dict(os.environ)
    path = env.get("PYTHONPATH")
    env["PYTHONPATH"] = f"{folder}{os.pathsep}{path}" if path else str(folder)
    plugins = env.get("PYTEST_PLUGINS")
    env["PYTEST_PLUGINS"] = f"{plugins},{WATCHDOG_MODULE}" if plugins else WATCHDOG_MODULE
    env["PAIRLINE_TEST_TIMEOUT_S"] = f"{test_limit:g}"
    env["PAIRLINE_TEST_TIMES"] = str(times)
    env["PAIRLINE_TRACE_FILE"] = str(traced) if traced is not None else ""
    return env


def read_times(path: Path) -> tuple[TestTime, ...]:
    """What the watchdog wrote down (nothing when the run never reached a test)."""
    try:
        records = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return ()
    out = []
    for record in records:
        try:
            item = json.loads(record)
            test, seconds, timed_out = str(item["test"]), float(item["seconds"]), item["timed_out"]
            failed, ran = bool(item.get("failed")), tuple(int(n) for n in item.get("lines", ()))
            out.append(TestTime(test, seconds, bool(timed_out), failed, ran))
        except (ValueError, KeyError, TypeError):
            continue  # a line cut short by a killed run
    return tuple(out)
