"""Failures read from real check output, where they point, and the background run itself."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import sys
import tempfile
from pathlib import Path

from pairline.engine.checks import failures, runs
from pairline.engine.checks.detect import Check, detect
from pairline.engine.checks.failures import Failure, Frame, parse, spots

STATS = """def mean(values):
    total = sum(values)
    return total / (len(values) - 1)


def spread(values):
    return max(values) - min(values) + helper(values)


def helper(values):
    return 1 / (len(values) - len(values))
"""
TESTS = """from stats import mean, spread


def test_mean():
    assert mean([1, 2, 3]) == 2.0


def test_spread():
    assert spread([1, 3]) == 2


def test_ok():
    assert True
"""
# `node --test` (Node 20, TAP when not on a terminal), trimmed.
NODE = """TAP version 13
# Subtest: mean
not ok 1 - mean
  ---
  duration_ms: 2.138978
  location: '{root}/test/stats.test.js:5:1'
  failureType: 'testCodeFailure'
  error: |-
    Expected values to be strictly equal:

    3 !== 2

  code: 'ERR_ASSERTION'
  name: 'AssertionError'
  stack: |-
    TestContext.<anonymous> ({root}/test/stats.test.js:6:10)
    Test.runInAsyncScope (node:async_hooks:206:9)
  ...
# Subtest: boom
not ok 2 - boom
  ---
  duration_ms: 0.132336
  location: '{root}/test/stats.test.js:8:1'
  failureType: 'testCodeFailure'
  error: "Cannot read properties of null (reading 'x')"
  code: 'ERR_TEST_FAILURE'
  name: 'TypeError'
  stack: |-
    boom ({root}/stats.js:5:31)
    TestContext.<anonymous> ({root}/test/stats.test.js:9:3)
    Test.runInAsyncScope (node:async_hooks:206:9)
  ...
# Subtest: ok
ok 3 - ok
  ---
  duration_ms: 0.133678
  ...
1..3
"""
# `cargo test` (Rust 1.95), trimmed.
CARGO = """running 1 test
tests::mean_works --- FAILED

failures:

---- tests::mean_works stdout ----

thread 'tests::mean_works' (32456) panicked at src/lib.rs:10:9:
assertion `left == right` failed
  left: 3.0
 right: 2.0
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace
"""
GO = """--- FAIL: TestMean (0.00s)
    stats_test.go:8: Mean([1 2 3]) = 3, want 2
FAIL
FAIL\texample.com/m/stats\t0.002s
"""
DOCTEST = """**********************************************************************
File "{root}/dt.py", line 4, in dt.mean
Failed example:
    mean([1, 2, 3])
Expected:
    2.0
Got:
    3.0
**********************************************************************
1 items had failures:
"""


def workspace(tmp_path: Path) -> Path:
    (tmp_path / ".venv").symlink_to(Path(sys.prefix))
    (tmp_path / "tests").mkdir()
    (tmp_path / "stats.py").write_text(STATS)
    (tmp_path / "tests" / "test_stats.py").write_text(TESTS)
    return tmp_path


def test_pytest_failures_from_a_real_run(tmp_path: Path) -> None:
    root = workspace(tmp_path)
    check = detect(root, "stats.py", "python")
    assert check is not None and check.tool == "pytest"
    status, output = asyncio.run(runs.run_check(check, root, "stats.py", 60))
    assert status == 1
    failures = parse("pytest", output)
    assert [(f.test, f.reason) for f in failures] == [
        ("test_mean", "assert 3.0 == 2.0"),
        ("test_spread", "ZeroDivisionError: division by zero"),
    ]
    assert failures[1].frames == (
        Frame("tests/test_stats.py", 9),
        Frame("stats.py", 7),
        Frame("stats.py", 11),
    )
    assert failures[0].detail.splitlines()[0] == (
        "tests/test_stats.py:5: assert mean([1, 2, 3]) == 2.0"
    )
    # Nothing of the run is left in the workspace.
    assert sorted(p.name for p in root.rglob("*") if ".venv" not in p.parts) == [
        "stats.py",
        "test_stats.py",
        "tests",
    ]


def test_spots_point_at_the_deepest_frame_the_test_and_the_called_function(
    tmp_path: Path,
) -> None:
    root = workspace(tmp_path)
    check = detect(root, "stats.py", "python")
    assert check is not None
    outcome = asyncio.run(runs.failures_after_save(check, root, "stats.py", "python", STATS, 60))
    assert not outcome.passed and not outcome.message
    marked = sorted((s.rel_path, s.line, s.message) for s in outcome.spots)
    assert marked == [
        # An assertion in the test: the test's line, and the saved file's function it calls.
        ("stats.py", 0, "test_mean failed: assert 3.0 == 2.0"),
        # An exception: the deepest workspace frame, and the test's line.
        ("stats.py", 10, "test_spread failed: ZeroDivisionError: division by zero"),
        ("tests/test_stats.py", 4, "test_mean failed: assert 3.0 == 2.0"),
        ("tests/test_stats.py", 8, "test_spread failed: ZeroDivisionError: division by zero"),
    ]
    deepest = next(s for s in outcome.spots if s.line == 10)
    assert deepest.text[deepest.start : deepest.end] == "return 1 / (len(values) - len(values))"


def test_a_passing_check(tmp_path: Path) -> None:
    root = workspace(tmp_path)
    fixed = STATS.replace("(len(values) - 1)", "len(values)").replace("+ helper(values)", "")
    (root / "stats.py").write_text(fixed)
    check = detect(root, "stats.py", "python")
    assert check is not None
    outcome = asyncio.run(runs.failures_after_save(check, root, "stats.py", "python", fixed, 60))
    assert outcome.passed and outcome.spots == []


def test_frames_outside_the_workspace_are_not_marked(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("def f():\n    g()\n")
    failure = Failure(
        "test_f",
        "boom",
        "boom",
        (Frame("a.py", 2), Frame("/usr/lib/python3/json/__init__.py", 10), Frame("../x.py", 1)),
    )
    found = spots([failure], tmp_path, "a.py", "python", "def f():\n    g()\n")
    assert [(s.rel_path, s.line) for s in found] == [("a.py", 1)]


def test_node_tap(tmp_path: Path) -> None:
    failures = parse("node", NODE.format(root=tmp_path))
    assert [(f.test, f.reason) for f in failures] == [
        ("mean", "Expected values to be strictly equal:"),
        ("boom", "TypeError: Cannot read properties of null (reading 'x')"),
    ]
    assert "3 !== 2" in failures[0].detail
    assert failures[1].frames == (
        Frame(f"{tmp_path}/test/stats.test.js", 9),
        Frame(f"{tmp_path}/stats.js", 5),
    )
    (tmp_path / "test").mkdir()
    (tmp_path / "test" / "stats.test.js").write_text("\n" * 8 + "  boom();\n")
    source = "\n" * 4 + "function boom() { return null.x; }\n"
    (tmp_path / "stats.js").write_text(source)
    found = spots(failures[1:], tmp_path, "stats.js", "javascript", source)
    assert {(s.rel_path, s.line) for s in found} == {("stats.js", 4), ("test/stats.test.js", 8)}


def test_cargo_panics(tmp_path: Path) -> None:
    (failure,) = parse("cargo", CARGO)
    assert failure.test == "tests::mean_works"
    assert failure.reason == "assertion `left == right` failed"
    assert "left: 3.0" in failure.detail
    assert failure.frames == (Frame("src/lib.rs", 10),)
    # The path is relative to the crate, which may sit below the workspace root.
    crate = tmp_path / "crates" / "a"
    (crate / "src").mkdir(parents=True)
    source = "\n" * 9 + "        assert_eq!(x, 2.0);\n"
    (crate / "src" / "lib.rs").write_text(source)
    found = spots([failure], tmp_path, "crates/a/src/lib.rs", "rust", source)
    assert [(s.rel_path, s.line) for s in found] == [("crates/a/src/lib.rs", 9)]


def test_go_messages(tmp_path: Path) -> None:
    (failure,) = parse("go", GO)
    assert (failure.test, failure.reason) == ("TestMean", "Mean([1 2 3]) = 3, want 2")
    (tmp_path / "stats").mkdir()
    (tmp_path / "stats" / "stats_test.go").write_text("\n" * 7 + "\tt.Errorf(...)\n")
    found = spots([failure], tmp_path, "stats/stats.go", "go", "package stats\n")
    assert [(s.rel_path, s.line) for s in found] == [("stats/stats_test.go", 7)]


def test_doctest(tmp_path: Path) -> None:
    (failure,) = parse("doctest", DOCTEST.format(root=tmp_path))
    assert failure.reason == "mean([1, 2, 3]): expected 2.0, got 3.0"
    assert failure.frames == (Frame(f"{tmp_path}/dt.py", 4),)


def test_a_configured_command_is_read_by_every_parser() -> None:
    assert [f.test for f in parse("command", CARGO)] == ["tests::mean_works"]
    assert parse("command", "all good\n") == []


def test_a_cancelled_run_leaves_no_process_and_no_temp_folder(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    script = (
        "import os, sys, time, tempfile; "
        f"open({str(pid_file)!r}, 'w').write(str(os.getpid()) + ' ' + tempfile.gettempdir()); "
        "time.sleep(60)"
    )
    check = Check(" ".join([sys.executable, "-c", _quoted(script)]), "sleep", "command")

    async def run_and_cancel() -> None:
        task = asyncio.create_task(runs.run_check(check, tmp_path, "a.py", 60))
        while not pid_file.exists() or not pid_file.read_text():
            await asyncio.sleep(0.05)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(run_and_cancel())
    pid, scratch = pid_file.read_text().split(" ", 1)
    assert not _alive(int(pid))
    assert not Path(scratch).exists() and Path(scratch).parent == Path(tempfile.gettempdir())


def test_a_run_that_times_out(tmp_path: Path) -> None:
    check = Check(
        " ".join([sys.executable, "-c", _quoted("import time; time.sleep(30)")]), "s", "x"
    )
    status, output = asyncio.run(runs.run_check(check, tmp_path, "a.py", 0.5))
    assert status is None and "timed out" in output


def _quoted(text: str) -> str:
    return shlex.quote(text)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for every purpose but its table entry.
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "zombie" not in status.read_text()


def test_detail_is_kept_short() -> None:
    output = "_____ test_x _____\nt.py:1: in test_x\n    x()\n" + "".join(
        f"E   line {i}\n" for i in range(30)
    )
    (failure,) = failures.parse("pytest", output)
    assert len(failure.detail.splitlines()) == failures._DETAIL_LINES
