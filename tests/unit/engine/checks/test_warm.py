"""The warm pytest: the same verdicts as a cold run, each candidate read fresh from disk, a
hanging test still fails alone, a cancelled check leaves no process, a worker that cannot
start means cold runs."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from pairline.engine.actions.verify import WorkspaceVerifier
from pairline.engine.checks import warm
from pairline.engine.core.config import ActionsConfig
from tests.unit.engine.actions.test_fix_loop import alive

SOURCE = "def add(a, b):\n    return a - b\n"
TESTS = "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / ".venv").symlink_to(Path(sys.prefix))
    (tmp_path / "calc.py").write_text(SOURCE)
    (tmp_path / "test_calc.py").write_text(TESTS)
    return tmp_path


def verifier(root: Path, warm: bool = True) -> WorkspaceVerifier:
    return WorkspaceVerifier(ActionsConfig(trusted=True, warm_checks=warm), root, parallel=1)


@pytest.mark.parametrize("warm", [True, False])
async def test_every_candidate_is_checked_as_it_is_on_disk(project: Path, warm: bool) -> None:
    # One-token edits of the same size, checked one after another in the same copy: each
    # check must run its own candidate, not a module an earlier check imported.
    checks = verifier(project, warm)
    try:
        verdicts = [
            await checks.verify("python", "calc.py", SOURCE, SOURCE.replace("a - b", body))
            for body in ("a * b", "a + b", "a / b", "b + a", "a % b")
        ]
        workers = len(checks._workers)
    finally:
        await checks.aclose()
    assert [v.ok for v in verdicts] == [False, True, False, True, False]
    assert "1 test passes (1 failed before)" in verdicts[1].message
    assert workers == (1 if warm else 0)


async def test_a_hanging_test_fails_alone_in_the_warm_pytest(project: Path) -> None:
    (project / "test_calc.py").write_text(
        TESTS + "\n\ndef test_quick():\n    assert add(1, 1) == 2\n"
    )
    hangs = "def add(a, b):\n    while a != b:\n        pass\n    return a + b\n"
    checks = WorkspaceVerifier(ActionsConfig(trusted=True, budget_s=24.0), project, parallel=1)
    try:
        base = await checks.baseline("python", "calc.py", hangs)
        run = next(iter(checks._baselines.values()))
        assert checks._workers  # it ran warm
    finally:
        await checks.aclose()
    assert base is not None and not base.passes
    assert run.returncode == 1 and run.hung_tests == 1
    assert {t.test.split("::")[1] for t in run.tests} == {"test_add", "test_quick"}


async def test_a_cancelled_warm_check_leaves_no_process(project: Path, tmp_path: Path) -> None:
    marks = tmp_path / "pids"
    marks.mkdir()
    sleeper = (
        "import os, time\n"
        f"open(os.path.join({str(marks)!r}, str(os.getpid())), 'w').close()\n"
        "time.sleep(120)\n"
        "def add(a, b):\n    return a + b\n"
    )
    checks = verifier(project)
    await checks.baseline("python", "calc.py", SOURCE)
    task = asyncio.ensure_future(checks.verify("python", "calc.py", SOURCE, sleeper))
    for _ in range(600):
        if any(marks.iterdir()):
            break
        await asyncio.sleep(0.05)
    (child,) = [int(p.name) for p in marks.iterdir()]
    worker_pid = next(iter(checks._workers.values()))._proc.pid
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await checks.aclose()
    for _ in range(200):
        if not alive(child) and not alive(worker_pid):
            break
        await asyncio.sleep(0.05)
    assert not alive(child) and not alive(worker_pid)


async def test_a_worker_that_cannot_start_means_cold_runs(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[str] = []

    async def refuse(python: str, folder: Path, env: dict[str, str]) -> None:
        started.append(python)
        return None

    monkeypatch.setattr(warm.WarmPytest, "start", refuse)
    checks = verifier(project)
    try:
        first = await checks.verify("python", "calc.py", SOURCE, SOURCE.replace("-", "+"))
        second = await checks.verify("python", "calc.py", SOURCE, SOURCE.replace("-", "*"))
    finally:
        await checks.aclose()
    assert first.ok and not second.ok  # judged by cold runs
    assert len(started) == 1  # tried once per interpreter, not per check


def test_only_python_m_pytest_runs_warm() -> None:
    assert warm.warm_args(["/v/bin/python", "-m", "pytest", "-q", "t.py"]) == ["-q", "t.py"]
    assert warm.warm_args(["pytest", "-q"]) is None
    assert warm.warm_args(["/v/bin/python", "check.py"]) is None


def test_the_worker_script_needs_nothing_of_pairline() -> None:
    source = Path(warm._WORKER_SOURCE).read_text()
    assert "pairline" not in "".join(
        line for line in source.splitlines() if line.startswith(("import", "from"))
    )
    assert os.access(warm._WORKER_SOURCE, os.R_OK)
