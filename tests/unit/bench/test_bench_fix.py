"""`bench fix` arm p: the test split, the user's workspace it writes, scoring and task halves."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pairline.bench.quality import fix, fix_workspace
from pairline.engine.actions.outcome import Attempt, FixResult
from pairline.engine.actions.verdicts import Verdict
from pairline.engine.checks import detect
from pairline.engine.core.config import ActionsConfig, Settings
from tests.conftest import ROOT

HUMANEVALPACK = ROOT.parent / "shared/bench-data/humanevalfix/humanevalpack_python.jsonl"

# Shaped like a HumanEvalPack record: a module-level statement, setup inside `check` (an import,
# an assignment a later case reads) and a case that is a loop of asserts.
TASK: dict[str, Any] = {
    "task_id": "Python/900",
    "entry_point": "count_up",
    "prompt": (
        'def count_up(n):\n    """The numbers below n.\n\n    Ascending."""\n    # from zero\n'
    ),
    "declaration": "def count_up(n):\n",
    "buggy_solution": "    return list(range(n - 1))\n",
    "canonical_solution": "    return list(range(n))\n",
    "test": (
        "\n\nMETADATA = {'author': 'x'}\n\n\ndef check(candidate):\n    import math\n"
        "    assert candidate(0) == []\n    assert candidate(1) == [0]\n    xs = [2, 3]\n"
        "    assert candidate(xs[0]) == [0, 1]\n    for k in xs:\n"
        "        assert len(candidate(k)) == k\n\ncheck(count_up)\n"
    ),
}


def _file(task: dict[str, Any], body: str) -> str:
    return str(task["prompt"]) + body


def test_split_alternates_cases_and_keeps_setup_in_both_halves() -> None:
    split = fix_workspace.split_test(TASK)
    cases = [src for is_case, src in split.body if is_case]
    assert len(cases) == 4 and split.param == "candidate"
    assert [split.body[i][1] for i in split.visible] == [cases[0], cases[2]]
    assert [split.body[i][1] for i in split.hidden] == [cases[1], cases[3]]
    assert split.module == ("METADATA = {'author': 'x'}",)  # the `check(...)` call is dropped
    text = fix_workspace.pytest_file(split, _file(TASK, TASK["buggy_solution"]))
    compile(text, fix_workspace.TEST_FILE, "exec")  # valid Python
    assert text.startswith("from solution import count_up\n") and "METADATA" in text
    assert "def test_case_1():" in text and "def test_case_3():" in text
    assert "test_case_2" not in text and "test_case_4" not in text
    # Case 3 reads `xs`: the setup before it comes with it, each in its own test.
    case3 = text.split("def test_case_3():")[1]
    assert case3.index("candidate = count_up") < case3.index("xs = [2, 3]") < case3.index("xs[0]")
    hidden = fix_workspace.check_program(split, "hidden")
    assert hidden is not None and "xs = [2, 3]" in hidden and "candidate(1) == [0]" in hidden
    assert "candidate(0) == []" not in hidden


def _pytest(root: Path) -> int:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", fix_workspace.TEST_FILE],
        cwd=root,
        capture_output=True,
        timeout=120,
    ).returncode


def test_workspace_runs_under_pytest_and_the_engine_finds_the_check(tmp_path: Path) -> None:
    good, bad = tmp_path / "good", tmp_path / "bad"
    good.mkdir()
    bad.mkdir()
    fix_workspace.write_workspace(good, TASK, _file(TASK, TASK["canonical_solution"]))
    fix_workspace.write_workspace(bad, TASK, _file(TASK, TASK["buggy_solution"]))
    assert (good / ".venv").resolve() == Path(sys.prefix).resolve()
    assert _pytest(good) == 0
    assert _pytest(bad) == 1  # test_case_3 fails on the bug
    found = detect.check_for(ActionsConfig(trusted=True), bad, "solution.py", "python")
    assert found is not None and found.tool == "pytest" and "test_solution.py" in found.label


def test_single_case_is_visible_and_the_check_parameter_may_be_the_function() -> None:
    task = {**TASK, "test": "def check(count_up):\n    assert count_up(2) == [0, 1]\n"}
    split = fix_workspace.split_test(task)
    assert len(split.visible) == 1 and split.hidden == ()
    assert fix_workspace.check_program(split, "hidden") is None
    text = fix_workspace.pytest_file(split, _file(task, task["canonical_solution"]))
    assert "count_up = count_up" not in text  # it would make the name local to the test
    scope: dict[str, Any] = {}
    exec(_file(task, task["canonical_solution"]), scope)
    exec(text.split("\n", 1)[1], scope)  # the tests, with the solution's names in scope
    scope["test_case_1"]()
    canonical = fix_workspace.score_halves(split, _file(task, task["canonical_solution"]))
    assert canonical == {"visible": True, "hidden": None}


def test_judge_scores_each_half_and_lost_docstrings() -> None:
    split = fix_workspace.split_test(TASK)
    buggy = _file(TASK, TASK["buggy_solution"])
    fixed = _file(TASK, TASK["canonical_solution"])
    assert fix_workspace.judge(split, buggy, fixed, True) == {
        "visible": True,
        "hidden": True,
        "docstring_lost": False,
    }
    assert fix_workspace.judge(split, buggy, None, False) == {
        "visible": False,
        "hidden": False,
        "docstring_lost": False,
    }
    assert not fix_workspace.lost_comments(buggy, fixed)
    assert fix_workspace.lost_comments(buggy, fixed.replace("    Ascending.", "    "))
    assert fix_workspace.lost_comments(buggy, fixed.replace("# from zero", ""))
    stripped = "def count_up(n):\n    return list(range(n))\n"
    assert fix_workspace.judge(split, buggy, stripped, True)["docstring_lost"]


def test_hangs_is_a_timeout_not_a_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fix_workspace, "HANG_S", 1.0)
    looping = _file(TASK, "    while True:\n        pass\n")
    assert fix_workspace.hangs(TASK, looping)
    assert not fix_workspace.hangs(TASK, _file(TASK, TASK["buggy_solution"]))


def test_halves_are_seeded_disjoint_and_cover_the_tasks() -> None:
    tasks = [{"task_id": f"Python/{i}"} for i in range(41)]
    ids = [t["task_id"] for t in tasks]
    tune = fix_workspace.select_half(tasks, "tune", 0)
    held = fix_workspace.select_half(tasks, "held-out", 0)
    assert fix_workspace.select_half(tasks, "tune", 0) == tune  # deterministic
    assert len(tune) == 21 and len(held) == 20
    assert {t["task_id"] for t in tune}.isdisjoint(t["task_id"] for t in held)
    assert sorted(t["task_id"] for t in tune + held) == sorted(ids)
    assert [t["task_id"] for t in tune] == [i for i in ids if i in {t["task_id"] for t in tune}]
    assert fix_workspace.select_half(tasks, "tune", 1) != tune
    assert fix_workspace.select_half(tasks, "all", 0) == tasks


def test_arm_p_takes_the_loop_from_the_settings_unless_flags_are_given() -> None:
    settings = Settings(actions=ActionsConfig(candidates=4, budget_s=30.0))
    args = argparse.Namespace(
        rounds=None,
        candidates=None,
        budget=None,
        temperature=None,
        baseline_feedback=None,
        check=["a", "p"],
    )
    fix_workspace.resolve_loop(args, settings)
    keys = ["rounds", "candidates", "budget_s", "temperature", "baseline_feedback"]
    assert list(args.p_loop) == keys
    assert list(args.p_loop.values()) == [3, [4], 30.0, 0.8, False]
    assert (args.rounds, args.candidates, args.budget) == (3, [8], 60.0)  # a and b unchanged
    args.small_edits = ["on"]
    assert fix.arm_names(args) == ["single", "a_n8+edits", "p_n4+edits"]
    given = argparse.Namespace(
        rounds=1, candidates=[2], budget=5.0, temperature=0.0, baseline_feedback="on"
    )
    fix_workspace.resolve_loop(given, settings)
    assert list(given.p_loop.values()) == [1, [2], 5.0, 0.0, True]


def test_the_request_names_the_task_function_so_answers_are_trimmed_to_it(
    tmp_path: Path,
) -> None:
    args = argparse.Namespace(language="python", check=["a", "b"])
    (tmp_path / "root").mkdir()
    row: dict[str, Any] = {}
    files = fix._write_task(args, TASK, tmp_path / "root", tmp_path / "project", row)
    assert files.request.region.function == "count_up"  # not a check file's name
    assert {p.name for p in (tmp_path / "root").iterdir()} >= {"check_a.py", "check_b.py"}


@pytest.mark.skipif(not HUMANEVALPACK.is_file(), reason="HumanEvalPack data not present")
def test_real_record_splits_and_its_canonical_solution_passes_both_halves() -> None:
    line = HUMANEVALPACK.read_text(encoding="utf-8").split("\n", 1)[0]
    task = json.loads(line)
    split = fix_workspace.split_test(task)
    assert len(split.visible) >= 1 and len(split.hidden) >= 1
    assert len(split.visible) + len(split.hidden) == sum(c for c, _ in split.body)
    text = task["prompt"] + task["canonical_solution"]
    assert fix_workspace.score_halves(split, text) == {"visible": True, "hidden": True}
    buggy = fix_workspace.score_halves(split, task["prompt"] + task["buggy_solution"])
    assert False in buggy.values()


def test_bench_checks_counts_the_same_verdicts_cold_and_warm(tmp_path: Path) -> None:
    import argparse
    import asyncio

    from pairline.bench.quality import checks
    from pairline.engine.core.config import Settings

    args = argparse.Namespace(edits=4)
    result = asyncio.run(checks._measure(args, Settings(), [TASK]))
    assert result["tasks"] == 1 and result["checks"] == 4
    assert result["same_verdicts"] is True
    assert result["cold_checks_per_s"] > 0 and result["warm_checks_per_s"] > 0


def _result(text: str, verdict: Verdict, source: str = "model") -> FixResult:
    attempt = Attempt(1, "answer", text, verdict, 0.5, source=source)
    return FixResult(text, True, verdict.message, "m", "local", (attempt,), seconds=1.0)


def test_a_partial_answer_is_counted_apart_from_verified_fixes(tmp_path: Path) -> None:
    """A model answer taken because the check "fails less than before" is applied, but it does
    not pass the visible check: `partial`, never `verified`."""
    args = argparse.Namespace(language="python", check=["p"])
    (tmp_path / "root").mkdir()
    (tmp_path / "project").mkdir()
    files = fix._write_task(args, TASK, tmp_path / "root", tmp_path / "project", {})
    fails_less = Verdict(True, "check", "`pytest` fails less than before", "pytest", partial=True)
    # Passes case 1 (n = 0), as the buggy code does, and still fails case 3.
    partial_text = _file(TASK, "    return list(range(n - 2))\n")
    passes = Verdict(True, "check", "`pytest` passes", "pytest")
    fixed = _file(TASK, TASK["canonical_solution"])
    arm = "p_n8+edits"
    outcomes = [_result(partial_text, fails_less), _result(fixed, passes, "edit")]
    rows = [
        {"task_id": f"Python/{i}", arm: fix._arm_row(arm, TASK, files, outcome, "pytest")}
        for i, outcome in enumerate(outcomes)
    ]
    partial, verified = rows[0][arm], rows[1][arm]
    assert partial["partial"] and not partial["verified"] and partial["found_by"] == "model"
    assert verified["verified"] and not verified["partial"] and verified["edit"] == "answer"
    summary = fix._summary(rows, arm)
    assert (summary["verified"], summary["partial"], summary["passed"]) == (1, 1, 1)
    assert summary["seconds_to_verified_p50"] == 1.0  # the verified fix's time alone


def test_only_hanging_keeps_the_tasks_whose_buggy_code_hangs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fix_workspace, "HANG_S", 1.0)
    looping = {**TASK, "task_id": "Python/901", "buggy_solution": "    while True:\n        pass\n"}
    tasks = [TASK, looping]
    args = argparse.Namespace(language="python", half="all", seed=0, n=0, tasks="", only="hanging")
    assert [t["task_id"] for t in fix.build(args, tasks)] == ["Python/901"]
    assert args.selected == {"only": "hanging", "of": 2, "task_ids": ["Python/901"]}
    args.only = "other"
    assert [t["task_id"] for t in fix.build(args, tasks)] == ["Python/900"]
    args.only = None
    assert len(fix.build(args, tasks)) == 2
