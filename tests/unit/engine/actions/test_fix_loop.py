"""The best-of-N "Fix this" loop with fakes: duplicates, ranking, parallel checks, budget."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pairline.engine.actions import fix, session
from pairline.engine.actions.verify import Verdict, WorkspaceVerifier
from pairline.engine.backends.edit import GREEDY, EditPrompt, Sampling
from pairline.engine.core.config import ActionsConfig, Settings
from pairline.engine.core.types import EngineError
from tests.unit.engine.actions.test_session import LocalOnlyRouter

BUGGY = "def add(a, b):\n    return a - b\n"


def answer(body: str) -> str:
    return f"```python\ndef add(a, b):\n    return {body}\n```"


class Sampler:
    """Answers by the candidate's index in its round (its seed), as a sampling model would."""

    def __init__(self, pick: Callable[[Sampling, EditPrompt], str], *, where: str = "local"):
        self.pick = pick
        self.where = where
        self.name = "sampler"
        self.asked: list[Sampling] = []
        self.prompts: list[EditPrompt] = []
        self.delay_s = 0.0

    async def answer(
        self, prompt: EditPrompt, cancel: threading.Event, sampling: Sampling = GREEDY
    ) -> str:
        self.asked.append(sampling)
        self.prompts.append(prompt)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        return self.pick(sampling, prompt)

    async def aclose(self) -> None:
        return None


def request() -> fix.FixRequest:
    return fix.FixRequest(
        kind=fix.FIX,
        language="python",
        text=BUGGY,
        region=fix.Region(0, 2, "add"),
        file_name="calc.py",
        rel_path="calc.py",
    )


# Fails with one line per wrong result: a candidate's failing lines say how close it is.
CHECK_SCRIPT = """
import sys
sys.path.insert(0, ".")
from calc import add
wrong = [(a, b) for a, b in [(1, 2), (2, 3), (0, 0), (5, -1)] if add(a, b) != a + b]
for a, b in wrong:
    print(f"FAILED add({a}, {b})")
sys.exit(1 if wrong else 0)
"""


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    (tmp_path / "calc.py").write_text(BUGGY)
    (tmp_path / "check.py").write_text(CHECK_SCRIPT)
    return tmp_path


def checking(candidates: int = 8) -> ActionsConfig:
    command = f"{sys.executable} check.py"
    return ActionsConfig(trusted=True, check_commands={"python": command}, candidates=candidates)


def by_index(answers: list[str]) -> Callable[[Sampling, EditPrompt], str]:
    return lambda sampling, _prompt: answers[sampling.seed % 1000 % len(answers)]


def test_whitespace_only_differences_are_the_same_candidate() -> None:
    a = "def f(x):\n    return x  +  1   \n\n"
    b = "def f(x):\n    return x + 1\n"
    assert fix.normalised(a) == fix.normalised(b)
    assert fix.normalised(a) != fix.normalised("def f(x):\n  return x + 1\n")  # indentation


async def test_duplicates_are_checked_once(workspace: Path) -> None:
    wrong = [answer("a * b"), answer("a  *  b"), answer("a * b   "), answer("b - a")]
    model = Sampler(by_index(wrong))
    verifier = WorkspaceVerifier(checking(), workspace)
    try:
        result = await fix.fix(request(), model, verifier, 1, loop=fix.Loop(candidates=4))
    finally:
        verifier.close()
    assert not result.verified
    assert result.generated == 4 and result.duplicates == 2 and result.checked == 2
    assert verifier.commands_run == 3  # the baseline, then the two distinct candidates


async def test_the_first_passing_candidate_wins_and_the_rest_stop(workspace: Path) -> None:
    model = Sampler(by_index([answer("a * b"), answer("b + a"), answer("a - b - 0")]))
    verifier = WorkspaceVerifier(checking(), workspace)
    try:
        result = await fix.fix(request(), model, verifier, 3, loop=fix.Loop(candidates=3))
    finally:
        verifier.close()
    assert result.verified and result.text is not None and "b + a" in result.text
    assert result.rounds == 1
    assert {s.temperature for s in model.asked[1:]} == {0.8}
    assert model.asked[0].temperature == 0.0  # each round's first is the greedy one


async def test_the_next_round_revises_the_failure_with_fewest_failing_lines(
    workspace: Path,
) -> None:
    # a * b fails 3 of 4 cases (add(0, 0) is right), a + b - 1 fails all 4.
    model = Sampler(by_index([answer("a + b - 1"), answer("a * b")]))
    verifier = WorkspaceVerifier(checking(), workspace)
    try:
        result = await fix.fix(request(), model, verifier, 2, loop=fix.Loop(candidates=2))
    finally:
        verifier.close()
    failing = {a.index: a.verdict.failing for a in result.attempts if a.round == 1}
    assert failing[1] < failing[0]
    second = model.prompts[2:]  # round 2: index 0 revises, index 1 starts afresh
    assert "a * b" in second[0].completion and "FAILED add(1, 2)" in second[0].completion
    assert "Rejected attempt" not in second[1].completion
    assert result.best_unverified is not None and "a * b" in result.best_unverified


def test_ranking_prefers_later_stages_then_fewer_failing_lines() -> None:
    def attempt(stage: str, failing: int, round_: int = 1) -> fix.Attempt:
        return fix.Attempt(round_, "", "x", Verdict(False, stage, stage, failing=failing), 0.0)

    parse = attempt("parse", 0)
    many = attempt("check", 9)
    few = attempt("check", 2)
    assert fix.best_rejected([parse, many, few]) is few
    assert fix.best_rejected([parse]) is parse
    assert fix.best_rejected([attempt("unchanged", 0)]) is None


async def test_checks_run_in_parallel_bounded_by_the_copies(workspace: Path) -> None:
    (workspace / "check.py").write_text("import time\ntime.sleep(0.3)\nraise SystemExit(1)\n")
    bodies = [answer(f"a - b + {i}") for i in range(6)]
    model = Sampler(by_index(bodies))
    verifier = WorkspaceVerifier(checking(), workspace, parallel=2)
    try:
        result = await fix.fix(request(), model, verifier, 1, loop=fix.Loop(candidates=6))
        assert len(verifier._tmps) == 2  # never more copies than allowed
    finally:
        verifier.close()
    assert result.checked == 6
    assert verifier.peak_running == 2
    assert not verifier._tmps


async def test_the_budget_ends_the_loop_and_says_so(workspace: Path) -> None:
    model = Sampler(by_index([answer("a * b")]))
    model.delay_s = 0.4
    verifier = WorkspaceVerifier(checking(), workspace)
    started = time.perf_counter()
    try:
        result = await fix.fix(
            request(), model, verifier, 10, loop=fix.Loop(candidates=4, budget_s=1.0)
        )
    finally:
        verifier.close()
    assert result.out_of_time and not result.verified
    assert "actions.budget_s" in result.message
    assert result.rounds < 10
    assert time.perf_counter() - started < 10  # not the ten rounds it was given


async def test_progress_counts_candidates_checks_and_passes(workspace: Path) -> None:
    model = Sampler(by_index([answer("a * b"), answer("a + b")]))
    verifier = WorkspaceVerifier(checking(), workspace, parallel=1)  # checked in order
    seen: list[str] = []
    try:
        await fix.fix(
            request(),
            model,
            verifier,
            1,
            loop=fix.Loop(candidates=2),
            progress=lambda message, _p: seen.append(message),
        )
    finally:
        verifier.close()
    assert seen[0] == "round 1/1: 0 candidates, 0 checked, 0 passed"
    assert seen[-1] == "round 1/1: 2 candidates, 2 checked, 1 passed", seen


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for good; only its parent's wait is missing.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(") ")[-1][0] != "Z"


async def test_a_cancelled_loop_leaves_no_copies_and_no_processes(
    workspace: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path_factory.mktemp("scratch")
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    pids = workspace / "pids"
    pids.mkdir()
    # The check starts a child of its own, then both sleep: the whole group must go.
    (workspace / "check.py").write_text(
        "import os, subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open(os.path.join({str(pids)!r}, str(os.getpid())), 'w').write(str(child.pid))\n"
        "time.sleep(60)\n"
    )
    settings = Settings(actions=checking(candidates=4))
    model = Sampler(by_index([answer(f"a + b + {i}") for i in range(4)]))

    async def ready() -> None:
        return None

    task = asyncio.ensure_future(
        session.run_action(
            request(), LocalOnlyRouter(model), settings, workspace, ready_local=ready
        )
    )
    for _ in range(200):
        if len(list(pids.iterdir())) >= 1:
            break
        await asyncio.sleep(0.05)
    started = [int(p.name) for p in pids.iterdir()] + [int(p.read_text()) for p in pids.iterdir()]
    assert started
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not [p for p in started if alive(p)]
    assert not list(scratch.iterdir())  # every workspace copy removed


async def test_remote_faults_in_every_request_of_a_round_are_raised() -> None:
    def failing(_s: Sampling, _p: EditPrompt) -> str:
        raise EngineError("http://127.0.0.1:1 had a server error (HTTP 500, boom)")

    model = Sampler(failing, where="remote")
    verifier = WorkspaceVerifier(ActionsConfig(), None)
    with pytest.raises(EngineError, match="HTTP 500"):
        await fix.fix(request(), model, verifier, 2, loop=fix.Loop(candidates=3))


def test_nothing_verified_is_never_silent() -> None:
    result = fix.FixResult(
        text=None,
        verified=False,
        message="no verified edit after 1 round(s)",
        model="m",
        where="local",
        best_unverified="x",
    )
    assert result.offered(False) == (None, result.offered(False)[1])
    assert "actions.offer_unverified" in result.offered(False)[1]
    text, message = result.offered(True)
    assert text == "x" and message.startswith("UNVERIFIED")
    bare = fix.FixResult(None, False, "no verified edit", "m", "local")
    assert bare.offered(True) == (None, "no verified edit; nothing applied")


async def test_without_a_check_one_candidate_per_round_is_asked(workspace: Path) -> None:
    # Nothing would tell several candidates apart: the first that parses would win by chance.
    settings = Settings(
        actions=ActionsConfig(candidates=4, check_commands=checking().check_commands)
    )
    model = Sampler(by_index([answer("a + b")]))

    async def ready() -> None:
        return None

    router = LocalOnlyRouter(model)
    result = await session.run_action(request(), router, settings, workspace, ready_local=ready)
    assert result.verified and result.attempts[0].verdict.stage == "parse"
    assert len(model.asked) == 1


async def test_the_first_round_sees_how_the_check_fails_on_the_code(workspace: Path) -> None:
    # The check script imports calc.py from the sandbox: its traceback names sandbox paths.
    (workspace / "check.py").write_text("from calc import add\nassert add(1, 2) == 3, add(1, 2)\n")
    model = Sampler(by_index([answer("a * b"), answer("a + b")]))
    verifier = WorkspaceVerifier(checking(), workspace, parallel=1)
    try:
        loop = fix.Loop(candidates=2, baseline_feedback=True)
        result = await fix.fix(request(), model, verifier, 1, loop=loop)
    finally:
        verifier.close()
    assert result.verified
    for prompt in model.prompts:  # both candidates of the first round, greedy and sampled
        for text in (prompt.user, prompt.completion):
            assert "assert add(1, 2) == 3, add(1, 2)" in text
            assert "AssertionError: -1" in text
            assert 'File "check.py"' in text  # relative to the workspace, not the sandbox
            assert "pairline-check-" not in text
    assert verifier.commands_run == 3  # the baseline ran once, for the prompt and the checks


async def test_without_baseline_feedback_the_prompt_has_no_check_output(workspace: Path) -> None:
    model = Sampler(by_index([answer("a + b")]))
    verifier = WorkspaceVerifier(checking(), workspace)
    try:
        await fix.fix(request(), model, verifier, 1, loop=fix.Loop(candidates=1))
    finally:
        verifier.close()
    assert "FAILED" not in model.prompts[0].user and "FAILED" not in model.prompts[0].completion


async def test_a_fix_when_the_check_passes_already_asks_nothing_and_says_so(
    workspace: Path,
) -> None:
    # Every edit that keeps the check passing would "verify", the one that damages the file
    # (a docstring turned into comments) included: there is nothing to verify a fix against.
    (workspace / "check.py").write_text("print('all good')\n")
    model = Sampler(by_index([answer("a * b")]))
    verifier = WorkspaceVerifier(checking(), workspace)
    try:
        loop = fix.Loop(candidates=1, baseline_feedback=True, small_edits=True)
        result = await fix.fix(request(), model, verifier, 1, loop=loop)
    finally:
        verifier.close()
    assert not result.verified and result.text is None and result.best_unverified is None
    assert "passes on the code as it is" in result.message and "check.py" in result.message
    assert model.prompts == [] and verifier.commands_run == 1  # the baseline alone
    assert result.offered(True)[0] is None


async def test_other_actions_still_run_when_the_check_passes(workspace: Path) -> None:
    (workspace / "check.py").write_text("print('all good')\n")
    model = Sampler(by_index(['```python\ndef add(a, b):\n    """Add."""\n    return a - b\n```']))
    verifier = WorkspaceVerifier(checking(), workspace)
    docstring = fix.FixRequest(**{**request().__dict__, "kind": fix.DOCSTRING})
    try:
        loop = fix.Loop(candidates=1, baseline_feedback=True)
        result = await fix.fix(docstring, model, verifier, 1, loop=loop)
    finally:
        verifier.close()
    assert model.prompts and "all good" not in model.prompts[0].user
    assert result.verified and '"""Add."""' in (result.text or "")


async def test_the_code_copied_back_is_a_known_failure_never_checked(workspace: Path) -> None:
    # The buggy code again, differing only in whitespace: nothing a check run could tell apart.
    copies = [answer("a - b"), answer("a  -  b"), answer("a - b   ")]
    model = Sampler(by_index(copies))
    verifier = WorkspaceVerifier(checking(), workspace)
    try:
        result = await fix.fix(request(), model, verifier, 1, loop=fix.Loop(candidates=3))
    finally:
        verifier.close()
    assert not result.verified and result.best_unverified is None
    assert result.generated == 3 and result.unchanged == 3 and result.checked == 0
    assert {a.verdict.stage for a in result.attempts} == {"unchanged"}
    assert verifier.commands_run == 1  # the code as it is, never a copy of it
    assert "3 unchanged" in result.message


async def test_a_small_edit_fixes_what_the_model_only_copies_back(workspace: Path) -> None:
    model = Sampler(by_index([answer("a - b")]))  # the bug, unchanged
    verifier = WorkspaceVerifier(checking(), workspace)
    loop = fix.Loop(candidates=2, small_edits=True)
    try:
        result = await fix.fix(request(), model, verifier, 2, loop=loop)
    finally:
        verifier.close()
    assert result.verified and result.text == "def add(a, b):\n    return a + b\n"
    assert "a small edit, line 2: `-` → `+`" in result.message
    assert result.edits_checked >= 1 and result.attempts[-1].source == "edit"


async def test_a_small_edit_that_only_fails_less_is_not_offered(workspace: Path) -> None:
    # `a + b` fixes every case but (7, 7): the check fails less, yet an edit nobody wrote
    # must make it pass outright.
    (workspace / "check.py").write_text(CHECK_SCRIPT.replace("(5, -1)", "(5, -1), (7, 7)"))
    buggy = "def add(a, b):\n    return a - b if a != 7 else 0\n"
    model = Sampler(by_index([answer("a - b if a != 7 else 0")]))
    verifier = WorkspaceVerifier(checking(), workspace)
    partial = fix.FixRequest(**{**request().__dict__, "text": buggy})
    try:
        result = await fix.fix(partial, model, verifier, 1, loop=fix.Loop(small_edits=True))
    finally:
        verifier.close()
    assert not result.verified and result.edits_checked > 3
    fails_less = [a for a in result.attempts if "fails less" in a.verdict.message]
    assert fails_less and all(not a.verdict.ok for a in fails_less)


def test_a_candidate_may_run_a_few_times_as_long_as_the_code_as_it_is() -> None:
    from pairline.engine.actions.verify import CheckRun, candidate_timeout

    assert candidate_timeout(60.0, CheckRun(1, "", 0.2)) == 5.0  # never under 5 s
    assert candidate_timeout(60.0, CheckRun(1, "", 4.0)) == 20.0
    assert candidate_timeout(10.0, CheckRun(0, "", 4.0)) == 10.0  # never over the setting
    # The code as it is never finished: a short limit, doubled as candidates all time out too.
    assert candidate_timeout(60.0, CheckRun(None, "timed out", 60.0)) == 5.0
    assert candidate_timeout(60.0, CheckRun(None, "timed out", 60.0), 1) == 10.0
    assert candidate_timeout(8.0, CheckRun(None, "timed out", 60.0), 3) == 8.0


async def test_a_small_edit_fixes_a_bug_the_projects_own_pytest_file_catches(
    tmp_path: Path,
) -> None:
    # The user's default path: a trusted workspace, no check command configured, the tests
    # found in the project (they import the module), pytest from the workspace's venv.
    (tmp_path / ".venv").symlink_to(Path(sys.prefix))
    (tmp_path / "calc.py").write_text(BUGGY)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_calc.py").write_text(
        "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"
    )
    model = Sampler(by_index([answer("a - b")]))  # the bug, unchanged
    verifier = WorkspaceVerifier(ActionsConfig(trusted=True, candidates=2), tmp_path)
    assert verifier.command_for("python", "calc.py")  # detected, not configured
    try:
        result = await fix.fix(request(), model, verifier, 1, loop=fix.Loop(small_edits=True))
    finally:
        verifier.close()
    assert result.verified and result.text == "def add(a, b):\n    return a + b\n"
    assert "pytest" in result.message and "a small edit" in result.message


async def test_the_settings_choose_the_families_of_small_edits(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[frozenset[str]] = []
    listing = fix.mutants

    def recording(*args: Any, families: frozenset[str], **kwargs: Any) -> list[Any]:
        asked.append(families)
        return listing(*args, families=families, **kwargs)

    monkeypatch.setattr(fix, "mutants", recording)
    actions = checking(candidates=1)
    chosen = dataclasses.replace(
        actions, small_edit_swaps=False, small_edit_offsets=True, small_edit_steps=False
    )
    settings = Settings(actions=chosen)

    async def ready() -> None:
        return None

    router = LocalOnlyRouter(Sampler(by_index([answer("a - b")])))
    result = await session.run_action(request(), router, settings, workspace, ready_local=ready)
    assert result.verified and asked == [frozenset({"offset"})]
    assert fix.Loop().edit_families == {"offset", "swap", "step"}  # the engine's default: all
