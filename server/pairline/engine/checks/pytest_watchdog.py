"""A pytest plugin for the checks of "Fix this": a test that hangs fails alone, and every test's
time is written down.

It is never imported by pairline itself: the verifier copies this file next to each workspace
copy and loads it into the check's own interpreter (`PYTEST_PLUGINS`), whatever Python and
pytest the project has. So it imports nothing but the standard library and pytest.

- `PAIRLINE_TEST_TIMEOUT_S`: a test's call may run this long; then it fails with `TestTimedOut`
  and the run goes on with the next test. Where the project has pytest-timeout, that plugin is
  given the limit instead of a second alarm fighting over SIGALRM.
- `PAIRLINE_TEST_TIMES`: a file that gets one JSON line per test (its id, seconds, whether it
  failed or timed out), so the verifier knows how long the tests that finish take.
- `PAIRLINE_TRACE_FILE`: a source file whose lines each test runs are written down with it
  (`sys.settrace`, that file alone), for fault localisation; only the unmodified code's run
  asks for it.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections.abc import Iterator
from types import FrameType
from typing import Any

import pytest


def _limit_s() -> float:
    # Read when used, not at import: a warm pytest imports this once and forks per check.
    return float(os.environ.get("PAIRLINE_TEST_TIMEOUT_S", "0") or 0)


class TestTimedOut(BaseException):
    """Raised in a test that runs too long. A BaseException, so that code under test that
    catches `Exception` in its loop cannot swallow it and hang on."""

    __test__ = False  # not a test class, whatever its name


def _use_pytest_timeout(config: Any) -> bool:
    return bool(_limit_s()) and config.pluginmanager.hasplugin("timeout")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: Any) -> None:
    if _use_pytest_timeout(config):
        # pytest-timeout reads its limit in its own pytest_configure, which runs after this one.
        config.option.timeout = _limit_s()
        config.option.timeout_method = "signal"


def _record(nodeid: str, seconds: float, failed: bool, timed_out: bool, lines: set[int]) -> None:
    times = os.environ.get("PAIRLINE_TEST_TIMES", "")
    if not times:
        return
    entry = {"test": nodeid, "seconds": round(seconds, 4), "failed": failed}
    line = json.dumps({**entry, "timed_out": timed_out, "lines": sorted(lines)})
    with open(times, "a", encoding="utf-8") as out:
        out.write(line + "\n")


def _tracer(target: str, lines: set[int]) -> Any:
    """A `sys.settrace` function that notes the lines run in the file `target` alone."""
    known: dict[str, bool] = {}

    def local(frame: FrameType, event: str, _arg: Any) -> Any:
        if event == "line":
            lines.add(frame.f_lineno)
        return local

    def calls(frame: FrameType, _event: str, _arg: Any) -> Any:
        name = frame.f_code.co_filename
        if name not in known:
            known[name] = os.path.realpath(name) == target
        return local if known[name] else None

    return calls


def _expire(_signum: int, _frame: FrameType | None) -> None:
    raise TestTimedOut(f"the test ran longer than {_limit_s():g} s (an endless loop?)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: Any) -> Iterator[None]:
    limit = _limit_s()
    own_alarm = bool(limit) and hasattr(signal, "setitimer")
    own_alarm = own_alarm and not _use_pytest_timeout(item.config)
    previous: Any = None
    if own_alarm:
        previous = signal.signal(signal.SIGALRM, _expire)
        signal.setitimer(signal.ITIMER_REAL, limit)
    traced = os.environ.get("PAIRLINE_TRACE_FILE", "")
    lines: set[int] = set()
    if traced:
        sys.settrace(_tracer(os.path.realpath(traced), lines))
    started = time.perf_counter()
    outcome: Any = None
    try:
        outcome = yield
    finally:
        if traced:
            sys.settrace(None)
        if own_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        excinfo = getattr(outcome, "excinfo", None) if outcome is not None else None
        error = excinfo[1] if excinfo else None
        # pytest-timeout fails the test with a message that starts "Timeout".
        timed_out = isinstance(error, TestTimedOut) or str(error or "").startswith("Timeout")
        seconds = time.perf_counter() - started
        _record(item.nodeid, seconds, error is not None, timed_out, lines)
