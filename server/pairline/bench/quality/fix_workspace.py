"""Check arm `p` of `pairline bench fix`: the task as a user's project with a pytest file.

The workspace holds `solution.py` (the buggy file, docstring included), `test_solution.py`
with half of the task's test cases, and `.venv` linking to the running interpreter's prefix
(a project environment that has pytest), so "Fix this" finds the check itself, as it does for
a user who configured nothing.

The task's `test` field defines `def check(candidate): ...`. Each statement of that body that
contains an `assert` is one case; the others (imports, assignments) are setup. The 1st, 3rd, …
cases are visible, the 2nd, 4th, … hidden: with two or more cases each half has one, a single
case is visible and the hidden half is empty. Each visible case
becomes `def test_case_<k>():` (k: its position among the cases, from 1), preceded by the setup
statements that come before it in `check`; module-level statements (helpers, METADATA) are kept
in both halves. A fix is then judged on each half apart from the loop.

The arm's loop is set up as the code action sets it up (`project_arm`), and `select_half` draws
the seeded halves of the tasks that `--half` picks.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import hashlib
import io
import math
import sys
import textwrap
import tokenize
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pairline.bench.harness.scoring import run_result
from pairline.engine.core.config import Settings

if TYPE_CHECKING:
    from pairline.engine.actions.fix import Loop
    from pairline.engine.actions.offers import FixRequest
    from pairline.engine.actions.verify import WorkspaceVerifier

SOLUTION = "solution.py"
TEST_FILE = "test_solution.py"
HANG_S = 10.0  # a buggy file whose whole test runs longer than this is counted as hanging
HALVES = ("all", "tune", "held-out")


@dataclass(frozen=True)
class SplitTest:
    """The task's `check`, statement by statement, and which cases each half holds."""

    entry_point: str
    param: str  # the name `check` calls the function under test
    module: tuple[str, ...]  # module-level statements but `check` and its call
    body: tuple[tuple[bool, str], ...]  # (is a case, source) in the order of `check`
    visible: tuple[int, ...]  # positions in `body` of the visible cases
    hidden: tuple[int, ...]


def _is_check_call(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name)
        and node.value.func.id == "check"
    )


def split_test(task: dict[str, Any]) -> SplitTest:
    """The task's test split into a visible and a hidden half (see the module docstring)."""
    tree = ast.parse(task["test"])
    check = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "check")
    module = tuple(ast.unparse(n) for n in tree.body if n is not check and not _is_check_call(n))
    body = tuple(
        (any(isinstance(sub, ast.Assert) for sub in ast.walk(stmt)), ast.unparse(stmt))
        for stmt in check.body
    )
    cases = [i for i, (is_case, _) in enumerate(body) if is_case]
    return SplitTest(
        entry_point=task["entry_point"],
        param=check.args.args[0].arg if check.args.args else "candidate",
        module=module,
        body=body,
        visible=tuple(cases[0::2]),
        hidden=tuple(cases[1::2]),
    )


def _names(text: str, entry_point: str) -> list[str]:
    """What the test file imports from the solution: the entry point, then its other
    top-level functions and classes (the tests may call helpers such as an encoder)."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return [entry_point]
    defs = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    others = [n.name for n in tree.body if isinstance(n, defs) and n.name != entry_point]
    return [entry_point, *others]


def _indent(source: str) -> str:
    return textwrap.indent(source, "    ")


def pytest_file(split: SplitTest, solution_text: str) -> str:
    """`test_solution.py`: one test function per visible case."""
    parts = [f"from solution import {', '.join(_names(solution_text, split.entry_point))}\n"]
    parts += [f"\n{stmt}\n" for stmt in split.module]
    cases = [i for i, (is_case, _) in enumerate(split.body) if is_case]
    for position in split.visible:
        lines = []
        if split.param != split.entry_point:
            # Binding the entry point's own name would make it local to the test function.
            lines.append(f"{split.param} = {split.entry_point}")
        lines += [src for i, (is_case, src) in enumerate(split.body[:position]) if not is_case]
        lines.append(split.body[position][1])
        number = cases.index(position) + 1
        parts.append(f"\n\ndef test_case_{number}():\n" + _indent("\n".join(lines)) + "\n")
    return "".join(parts)


def check_program(split: SplitTest, half: str) -> str | None:
    """A program that runs the setup and the `half` ("visible" or "hidden") cases against the
    function defined above it, as the task's own test does; None when the half is empty."""
    chosen = set(split.visible if half == "visible" else split.hidden)
    if not chosen:
        return None
    body = [src for i, (is_case, src) in enumerate(split.body) if not is_case or i in chosen]
    module = "".join(f"{stmt}\n" for stmt in split.module)
    check = f"def check({split.param}):\n" + _indent("\n".join(body)) + "\n"
    return f"\n{module}\n{check}\ncheck({split.entry_point})\n"


def write_workspace(root: Path, task: dict[str, Any], text: str) -> SplitTest:
    """The user's project for the task under `root`; the split its test file was written by."""
    split = split_test(task)
    (root / SOLUTION).write_text(text, encoding="utf-8")
    (root / TEST_FILE).write_text(pytest_file(split, text), encoding="utf-8")
    # The project's environment: the one the bench runs in, which has pytest.
    (root / ".venv").symlink_to(sys.prefix, target_is_directory=True)
    return split


def hangs(task: dict[str, Any], text: str) -> bool:
    """Whether the buggy file's whole test does not finish within HANG_S seconds."""
    program = f"{text}\n{task['test']}\n"
    if f"check({task['entry_point']})" not in task["test"]:
        program += f"check({task['entry_point']})\n"
    return run_result(program, HANG_S) is None


def score_halves(split: SplitTest, candidate: str | None) -> dict[str, bool | None]:
    """Whether `candidate` (the whole edited file) passes the visible and the hidden half;
    hidden is None when that half is empty."""
    scores: dict[str, bool | None] = {}
    for half in ("visible", "hidden"):
        program = check_program(split, half)
        if program is None:
            scores[half] = None
        else:
            scores[half] = bool(candidate) and run_result(f"{candidate}{program}") is True
    return scores


def _kept_lines(text: str) -> Counter[str]:
    """The `#` comment lines and docstring lines (module, functions, classes) of `text`."""
    lines: Counter[str] = Counter()
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT:
                lines[token.string.strip()] += 1
        tree = ast.parse(text)
    except (tokenize.TokenError, SyntaxError):
        return lines
    documented = (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    for node in ast.walk(tree):
        if isinstance(node, documented):
            doc = ast.get_docstring(node) or ""
            lines.update(line.strip() for line in doc.splitlines() if line.strip())
    return lines


def lost_comments(before: str, after: str) -> bool:
    """Whether `after` lacks a comment or docstring line `before` had (counted per line)."""
    return bool(_kept_lines(before) - _kept_lines(after))


def select_half(tasks: list[dict[str, Any]], half: str, seed: int) -> list[dict[str, Any]]:
    """`tune`: the tasks whose sha256 of "SEED:task_id" ranks in the first half (rounded up);
    `held-out`: the rest; `all`: every task. Each keeps the file's order."""
    if half == "all":
        return tasks
    ranked = sorted(
        tasks, key=lambda t: hashlib.sha256(f"{seed}:{t['task_id']}".encode()).hexdigest()
    )
    tune = {t["task_id"] for t in ranked[: math.ceil(len(ranked) / 2)]}
    return [t for t in tasks if (t["task_id"] in tune) == (half == "tune")]


def judge(split: SplitTest, buggy: str, candidate: str | None, verified: bool) -> dict[str, Any]:
    """Arm `p`'s scores of one task beyond `passed`: each half, and whether a verified fix
    lost a comment or docstring line of the buggy file."""
    scores: dict[str, Any] = dict(score_halves(split, candidate))
    scores["docstring_lost"] = bool(verified and candidate and lost_comments(buggy, candidate))
    return scores


def summary(rows: list[dict[str, Any]], arm: str) -> dict[str, Any]:
    """Arm `p`'s figures beyond the common ones (issue targets: hidden share, time, hangs)."""
    from pairline.bench.harness import common
    from pairline.engine.core.percentile import percentile

    done = [(row, row[arm]) for row in rows]
    fixes = [a for _, a in done if a.get("verified") and a.get("visible")]
    judged = [a for a in fixes if a.get("hidden") is not None]
    hanging = [float(a["passed"]) for row, a in done if row.get("hangs")]
    others = [float(a["passed"]) for row, a in done if not row.get("hangs")]
    return {
        "visible_passed": sum(1 for _, a in done if a.get("visible")),
        # Of the verified fixes that pass the visible half, those that pass the hidden one too
        # (tasks with one case have no hidden half and are left out).
        "hidden_share": common.mean([float(a["hidden"]) for a in judged]),
        "hidden_judged": len(judged),
        "seconds_to_verified_p50": percentile(
            [a["seconds"] for _, a in done if a.get("verified")], 50
        ),
        "hanging_tasks": len(hanging),
        "fix_rate_hanging": common.mean(hanging),
        "fix_rate_other": common.mean(others),
        "docstring_lost": sum(1 for _, a in done if a.get("docstring_lost")),
    }


def p_loop(args: argparse.Namespace) -> dict[str, Any]:
    """Arm p's rounds, candidates, budget, temperature, baseline feedback (`resolve_loop`)."""
    loop: dict[str, Any] = getattr(args, "p_loop", None) or {"candidates": args.candidates}
    return loop


def resolve_loop(args: argparse.Namespace, settings: Settings) -> None:
    """The loop flags left out: arms a and b keep the bench's own values, arm p takes what the
    code action uses (`actions.*`), as a user who configured nothing gets."""
    actions = settings.actions
    args.p_loop = {
        "rounds": actions.rounds if args.rounds is None else args.rounds,
        "candidates": [actions.candidates] if args.candidates is None else args.candidates,
        "budget_s": actions.budget_s if args.budget is None else args.budget,
        "temperature": actions.temperature if args.temperature is None else args.temperature,
        "baseline_feedback": (
            actions.baseline_feedback
            if args.baseline_feedback is None
            else args.baseline_feedback == "on"
        ),
    }
    args.rounds = 3 if args.rounds is None else args.rounds
    args.candidates = [8] if args.candidates is None else args.candidates
    args.budget = 60.0 if args.budget is None else args.budget
    args.temperature = 0.8 if args.temperature is None else args.temperature


def project_arm(
    args: argparse.Namespace,
    settings: Settings,
    arm: str,
    root: Path,
    request: FixRequest,
    where: str,
) -> tuple[WorkspaceVerifier, Loop, FixRequest, str | None]:
    """Arm p's verifier, loop, request and the label of the check found, set up as
    `session.run_action` sets up "Fix this": the actions settings, trusted, no check configured
    (the engine finds one); several candidates and the small edits only when a check runs."""
    from pairline.engine.actions import fix as fix_engine
    from pairline.engine.actions import session
    from pairline.engine.actions.verify import WorkspaceVerifier
    from pairline.engine.checks import detect

    n, _, edits = arm.removeprefix("p_n").partition("+")
    actions = dataclasses.replace(settings.actions, trusted=True, check_commands={})
    verifier = WorkspaceVerifier(actions, root)
    checked = verifier.will_check(request.language, request.rel_path)
    found = detect.check_for(actions, root, request.rel_path, request.language)
    loop = p_loop(args)
    fix_loop = fix_engine.Loop(
        rounds=loop["rounds"],
        candidates=int(n) if checked else 1,
        budget_s=loop["budget_s"],
        temperature=loop["temperature"],
        baseline_feedback=loop["baseline_feedback"],
        small_edits=edits == "edits" and checked,
        edit_families=session.edit_families(actions),
    )
    if where == "local":
        # As the code action does: a prompt the local model's window holds whole.
        lines = session.local_context_lines(request, settings.model.n_ctx, actions.local_max_tokens)
        request = dataclasses.replace(request, context_lines=lines)
    return verifier, fix_loop, request, found.label if found is not None else None
