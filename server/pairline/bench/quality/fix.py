"""`pairline bench fix`: HumanEvalFix through the "Fix this" code-action path.

The buggy function (signature, docstring, buggy body) is the open file; "Fix this" runs on the
function through the loop the code action uses (`pairline.engine.actions.fix`), with the model the
action would use (remote when configured, else the local one; `--remote auto` serves the
embedded model itself through `python -m llama_cpp.server` on loopback). Arms:

- single: one greedy candidate, applied as is (no check) — what a plain model call gives;
- loop, per `--check` arm and per `--candidates N`: best-of-N rounds within `--budget` seconds;
  only a verified candidate is applied. Check arm `a`: the task's tests are the project's check
  command ("make this failing test pass"); arm `b`: only the docstring's examples are the check;
  arm `p`: the task as a user's project (`fix_workspace`: the module, a pytest file with half of
  its test cases, an environment with pytest), no check configured, so the engine finds the
  check itself; its loop follows `actions` unless the loop flags are given.
  `--small-edits on off` runs each loop arm with and without the small edits of
  `actions.small_edits` (`a_n8+edits`, `a_n8`); `--candidates 0` with them: small edits alone.

`--language js|rust` (HumanEvalPack's JavaScript or Rust records) runs arm `p` alone, each task
written as the user would have it by `fix_languages` (a module and a test file that
`node --test` or `cargo test` runs); the single arm and arms `a` and `b` are Python's only.

Every arm is scored by the task's tests run apart from the loop (for arm `b` they stay hidden
from it; arm `p` is also scored on each half of them). `--half tune|held-out` runs one seeded
half of the tasks, so what is tuned on one half is reported on the other; `--only hanging`
keeps the tasks whose buggy code hangs in its tests (`--only other` the rest), so that the few
hanging tasks can be run together. An edit counts as verified only when the check passes with it
outright; a model answer the loop took because the check fails less is counted as `partial`.
Where the fix engine is missing, the command says so and exits 2 instead of reporting numbers
it cannot measure.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib.util
import json
import os
import random
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pairline.bench.harness import common
from pairline.bench.harness.scoring import run_passes
from pairline.bench.quality import fix_languages, fix_workspace
from pairline.engine.core.config import Settings

if TYPE_CHECKING:
    # Types only: a build without the fix engine still lists `bench fix` and says so when run.
    from pairline.bench.quality.fix_project import Project
    from pairline.engine.actions.fix import Loop
    from pairline.engine.actions.offers import FixRequest
    from pairline.engine.actions.verify import WorkspaceVerifier

EXIT_UNAVAILABLE = 2


def load_tasks(path: Path) -> list[dict[str, Any]]:
    """HumanEvalPack records: declaration, buggy_solution, canonical_solution, test, entry_point."""
    tasks = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    needed = {"task_id", "declaration", "buggy_solution", "test", "entry_point"}
    for task in tasks:
        missing = needed - set(task)
        if missing:
            raise SystemExit(f"pairline: {path}: record lacks {sorted(missing)}")
    return tasks


def fixed_passes(task: dict[str, Any], solution: str, timeout_s: float = 10.0) -> bool:
    """True when declaration + `solution` passes the task's tests."""
    program = f"{task['declaration']}{solution}\n{task['test']}\n"
    if f"check({task['entry_point']})" not in task["test"]:
        program += f"check({task['entry_point']})\n"
    return run_passes(program, timeout_s)


def fix_engine_available() -> bool:
    return importlib.util.find_spec("pairline.engine.actions.fix") is not None


def document(task: dict[str, Any]) -> tuple[str, int]:
    """The buggy file as the user has it (docstring included), and where the function starts."""
    text = task.get("prompt", task["declaration"]) + task["buggy_solution"]
    lines = text.split("\n")
    start = next(
        (i for i, line in enumerate(lines) if line.startswith(f"def {task['entry_point']}")), 0
    )
    return text, start


def _check_files(task: dict[str, Any]) -> dict[str, str]:
    """The check arms' scripts, written next to solution.py: a, the tests; b, the examples."""
    tests = task["test"]
    if f"check({task['entry_point']})" not in tests:
        tests += f"\ncheck({task['entry_point']})\n"
    return {
        "a": "from solution import *\n" + tests,
        "b": "from solution import *\n" + task.get("example_test", ""),
    }


def arm_names(args: argparse.Namespace) -> list[str]:
    """`single`, then per check arm and N: `a_n8` (the model's candidates only), `a_n8+edits`
    (and the small edits of `actions.small_edits`), `a_n0+edits` (small edits alone); other
    languages than Python have no `single` arm."""
    single = ["single"] if getattr(args, "language", "python") == "python" else []
    return single + [
        f"{c}_n{n}{'+edits' if e == 'on' else ''}"
        for c in args.check
        for n in (fix_workspace.p_loop(args)["candidates"] if c == "p" else args.candidates)
        for e in args.small_edits
        if n > 0 or e == "on"
    ]


@contextlib.contextmanager
def _remote(args: argparse.Namespace, settings: Settings, out: Path) -> Iterator[Settings]:
    """`settings` with the remote the bench uses: as given, or the embedded model served."""
    if args.remote != "auto":
        yield settings
        return
    from pairline.bench.harness.peer import start_local_peer

    model = common.resolve_model(settings).path
    threads = settings.model.n_threads or os.cpu_count() or 1
    with start_local_peer(model, 4096, threads, 256, out / "fix-remote.log") as url:
        remote = dataclasses.replace(
            settings.remote, base_url=url + "/v1", prompt_style="completion", max_tokens=256
        )
        yield dataclasses.replace(settings, remote=remote)


@dataclasses.dataclass
class TaskFiles:
    """One task on disk: the request "Fix this" gets, and what each arm checks and is judged by.

    `root` holds the file and the check scripts of arms a and b (and scores other languages);
    `project` is the task as a user's project (arm p); `split` is Python's half of the tests
    shown to arm p, `other` the project of another language.
    """

    request: FixRequest
    text: str
    root: Path
    project: Path
    split: Any = None
    other: Project | None = None


def _write_task(
    args: argparse.Namespace, task: dict[str, Any], root: Path, project: Path, row: dict[str, Any]
) -> TaskFiles:
    """The task's files under `root` and `project`; notes a skip or a hang in `row`."""
    from pairline.engine.actions import fix as fix_engine

    split, other = None, None
    if args.language == "python":
        text, start = document(task)
        end, name = len(text.rstrip("\n").split("\n")), task["entry_point"]
        language, rel_path = "python", None
        (root / "solution.py").write_text(text, encoding="utf-8")
        # Not `name`: that is the function the request names, trimmed to as the editor does.
        for arm, script in _check_files(task).items():
            (root / f"check_{arm}.py").write_text(script, encoding="utf-8")
        if "p" in args.check:
            split = fix_workspace.write_workspace(project, task, text)
            row["hangs"] = fix_workspace.hangs(task, text)
    else:
        # Only arm p: the task as the user's project, scored in `root`.
        other = fix_languages.project(args.language, task, root)
        if other.prepare() is not None:
            row["skipped"] = other.skipped
        text, (start, end, name) = other.text, other.region()
        language, rel_path = other.language, other.rel_path
        other.write(project)
        row["hangs"] = other.hanging
    request = fix_engine.FixRequest(
        kind=fix_engine.FIX,
        language=language,
        text=text,
        region=fix_engine.Region(start, end, name),
        file_name=Path(rel_path or "solution.py").name,
        rel_path=rel_path or "solution.py",
    )
    return TaskFiles(request, text, root, project, split, other)


def _arm_setup(
    args: argparse.Namespace, settings: Settings, arm: str, files: TaskFiles, where: str
) -> tuple[WorkspaceVerifier, Loop, FixRequest, str | None]:
    """The verifier, loop and request of one arm on one task, and the label of its check."""
    from pairline.engine.actions import fix as fix_engine
    from pairline.engine.actions import session
    from pairline.engine.actions.verify import WorkspaceVerifier
    from pairline.engine.core.config import ActionsConfig

    if arm == "single":
        config = ActionsConfig(trusted=False)
        return WorkspaceVerifier(config, files.root), fix_engine.Loop(1, 1), files.request, None
    if arm.startswith("p_"):
        return fix_workspace.project_arm(args, settings, arm, files.project, files.request, where)
    check, rest = arm.split("_n")
    n, plus, _ = rest.partition("+")
    config = ActionsConfig(
        trusted=True,
        check_commands={"python": f"{sys.executable} check_{check}.py"},
        check_timeout_s=10.0,
    )
    loop = fix_engine.Loop(
        args.rounds,
        int(n),
        args.budget,
        args.temperature,
        baseline_feedback=_baseline_feedback(args, settings),
        small_edits=plus == "+",
        edit_families=session.edit_families(settings.actions),
    )
    return WorkspaceVerifier(config, files.root), loop, files.request, None


def _arm_row(
    arm: str, task: dict[str, Any], files: TaskFiles, result: Any, label: str | None
) -> dict[str, Any]:
    """What one arm did on one task, judged by the task's tests run apart from the loop."""
    candidate = result.text
    if arm == "single" and candidate is None and result.attempts:
        # One round, applied as is: whatever it produced is what the user gets.
        candidate = result.attempts[-1].candidate
    # The candidate is the whole edited file: judge it as it stands.
    judged = files.other.judge(result.text, result.verified) if files.other else {}
    passed = judged.pop("passed", None)
    if files.other is None:
        passed = bool(candidate) and fixed_passes({**task, "declaration": ""}, candidate or "")
    winner = next((a for a in result.attempts if a.verdict.ok), None)
    # A model answer taken because the check "fails less than before" is applied, but the
    # visible check does not pass with it: it is not counted as verified.
    partial = bool(result.verified and winner is not None and winner.verdict.partial)
    row = {
        "passed": passed,
        "verified": result.verified and not partial,
        "partial": partial,
        "rounds": result.rounds,
        "generated": result.generated,
        "checked": result.checked,
        "duplicates": result.duplicates,
        "unchanged": result.unchanged,
        "edits_checked": result.edits_checked,
        "found_by": winner.source if winner is not None else None,
        # Which small edit verified (its line and change), to tell which operator fixed it.
        "edit": winner.answer if winner is not None and winner.source == "edit" else None,
        "out_of_time": result.out_of_time,
        "seconds": round(result.seconds, 3),
    }
    if arm.startswith("p_"):
        row["check"] = label
        if files.split is not None:
            judged = fix_workspace.judge(files.split, files.text, result.text, result.verified)
        row.update(judged)
    return row


async def _fix_task(
    args: argparse.Namespace,
    settings: Settings,
    task: dict[str, Any],
    edit_backend: Any,
    progress: common.Progress,
) -> dict[str, Any]:
    """Every arm on one task, in temporary folders of its own."""
    from pairline.engine.actions import fix as fix_engine
    from pairline.engine.core.types import EngineError

    arms = arm_names(args)
    row: dict[str, Any] = {"task_id": task["task_id"], "bug_type": task.get("bug_type")}
    with (
        tempfile.TemporaryDirectory(prefix="pairline-fix-") as tmp,
        tempfile.TemporaryDirectory(prefix="pairline-fix-project-") as project,
    ):
        files = _write_task(args, task, Path(tmp), Path(project), row)
        if "skipped" in row:
            progress.advance(len(arms), note="skipped")
        for arm in arms if "skipped" not in row else []:
            verifier, loop, request, label = _arm_setup(
                args, settings, arm, files, edit_backend.where
            )
            try:
                result = await fix_engine.fix(
                    request, edit_backend, verifier, loop.rounds, loop=loop
                )
            except EngineError as exc:
                row[arm] = {"passed": False, "error": str(exc), "seconds": 0.0}
                progress.advance()
                continue
            finally:
                await verifier.aclose()
            row[arm] = _arm_row(arm, task, files, result, label)
            progress.advance(note=arm)
    return row


async def _fix_all(
    args: argparse.Namespace, settings: Settings, tasks: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], Any, str]:
    from pairline.engine.actions import fix as fix_engine

    backend, resolved = await common.load_backend(settings, quiet=args.json)
    router = fix_engine.EditRouter(settings=lambda: settings, local=lambda: backend)
    edit_backend = router.backend(fix_engine.FIX)
    progress = common.Progress(len(arm_names(args)) * len(tasks), "fix")
    rows: list[dict[str, Any]] = []
    try:
        for task in tasks:
            row = await _fix_task(args, settings, task, edit_backend, progress)
            rows.append(row)
            if args.rows_file is not None:
                # Row by row, so a run cut short still leaves what it measured.
                with open(args.rows_file, "a", encoding="utf-8") as rows_out:
                    rows_out.write(json.dumps(row) + "\n")
    finally:
        progress.close()
        await router.aclose()
        backend.close()
    return rows, resolved, edit_backend.name


def _baseline_feedback(args: argparse.Namespace, settings: Settings) -> bool:
    """--baseline-feedback on/off, else the setting (actions.baseline_feedback)."""
    if args.baseline_feedback is None:
        return settings.actions.baseline_feedback
    return bool(args.baseline_feedback == "on")


def _summary(rows: list[dict[str, Any]], arm: str) -> dict[str, Any]:
    done = [r[arm] for r in rows if "skipped" not in r]
    fixed = [a["seconds"] for a in done if a["passed"]]
    return {
        "fix_rate": common.mean([float(a["passed"]) for a in done]),
        "passed": sum(1 for a in done if a["passed"]),
        "verified": sum(1 for a in done if a.get("verified")),
        # Applied because the check failed less with them, not verified (see `_arm_row`).
        "partial": sum(1 for a in done if a.get("partial")),
        "errors": sum(1 for a in done if "error" in a),
        "out_of_time": sum(1 for a in done if a.get("out_of_time")),
        "candidates_generated": sum(a.get("generated", 0) for a in done),
        "candidates_checked": sum(a.get("checked", 0) for a in done),
        "duplicates": sum(a.get("duplicates", 0) for a in done),
        "unchanged": sum(a.get("unchanged", 0) for a in done),
        "edits_checked": sum(a.get("edits_checked", 0) for a in done),
        "fixed_by_edit": sum(1 for a in done if a["passed"] and a.get("found_by") == "edit"),
        "seconds_per_task": common.latency_summary([a["seconds"] for a in done]),
        "seconds_per_fix": common.mean(fixed),  # mean time of the tasks it fixed
        **(fix_workspace.summary(_scored(rows), arm) if arm.startswith("p_") else {}),
    }


def _scored(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [row for row in rows if "skipped" not in row]


def buggy_hangs(language: str, task: dict[str, Any]) -> bool:
    """Whether the task's buggy code runs past the hang limit (10 s) in all its tests, as each
    task's `hangs` is found; a task that is skipped (a Rust crate it needs) does not."""
    if language == "python":
        return fix_workspace.hangs(task, document(task)[0])
    with tempfile.TemporaryDirectory(prefix="pairline-fix-hangs-") as tmp:
        project = fix_languages.project(language, task, Path(tmp))
        return project.skipped is None and project.passes(project.text, "all") is None


def select_only(args: argparse.Namespace, tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`--only hanging`: the tasks whose buggy code hangs (`buggy_hangs`); `--only other`: the
    rest; else all. Hanging tasks are few (one of the 82 held-out Python tasks), so their fix
    rate needs them pooled: this runs them alone. Notes what it kept in `args.selected`."""
    only = getattr(args, "only", None)
    if only is None:
        return tasks
    progress = common.Progress(len(tasks), "hangs?")
    kept = []
    try:
        for task in tasks:
            if buggy_hangs(args.language, task) == (only == "hanging"):
                kept.append(task)
            progress.advance(note=f"{len(kept)} kept")
    finally:
        progress.close()
    args.selected = {"only": only, "of": len(tasks), "task_ids": [t["task_id"] for t in kept]}
    return kept


def build(args: argparse.Namespace, tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The tasks of the run: `--half`, then `--only`, then `-n` sampled with `--seed`, then the
    `--tasks` slice."""
    tasks = select_only(args, fix_workspace.select_half(tasks, args.half, args.seed))
    if 0 < args.n < len(tasks):
        chosen = sorted(random.Random(args.seed).sample(range(len(tasks)), args.n))
        tasks = [tasks[i] for i in chosen]
    if args.tasks:
        first, _, last = args.tasks.partition(":")
        tasks = tasks[int(first or 0) : int(last) if last else None]
    return tasks


def measure(
    args: argparse.Namespace, settings: Settings, tasks: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], Any, str]:
    """Per task, every arm's outcome (also appended to fix-rows.jsonl); the model and its name."""
    import asyncio

    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    args.rows_file = out_dir / "fix-rows.jsonl"
    args.rows_file.unlink(missing_ok=True)
    with _remote(args, settings, out_dir) as used:
        return asyncio.run(_fix_all(args, used, tasks))


def report(
    args: argparse.Namespace,
    settings: Settings,
    rows: list[dict[str, Any]],
    resolved: Any,
    model: str,
) -> dict[str, Any]:
    """The report of a run, written as fix.json under `--out`."""
    results: dict[str, Any] = {
        "tasks": len(_scored(rows)),
        "skipped": {r["task_id"]: r["skipped"] for r in rows if "skipped" in r},
        "model": model,
    }
    if getattr(args, "selected", None):
        # `--only`: which tasks of the half were kept, before `-n` and `--tasks`.
        results["selected"] = args.selected
    for arm in arm_names(args):
        results[arm] = _summary(rows, arm)
    data: dict[str, Any] = {
        "bench": "fix",
        "results": results,
        "settings": {
            "data": Path(args.data).name,
            "language": args.language,
            "n": args.n,
            "seed": args.seed,
            "half": args.half,
            "only": getattr(args, "only", None),
            "tasks": args.tasks,
            "rounds": args.rounds,
            "candidates": args.candidates,
            "check": args.check,
            "budget_s": args.budget,
            "temperature": args.temperature,
            **({"p_loop": fix_workspace.p_loop(args)} if "p" in args.check else {}),
            "baseline_feedback": _baseline_feedback(args, settings),
            "small_edits": args.small_edits,
            "remote": args.remote,
            **common.settings_info(settings),
        },
        "machine": common.machine_info(resolved),
        "per_task": rows,
    }
    return common.finish(data, args, "fix")


def run(
    args: argparse.Namespace, settings: Settings, tasks: list[dict[str, Any]]
) -> dict[str, Any]:
    rows, resolved, model = measure(args, settings, build(args, tasks))
    return report(args, settings, rows, resolved, model)


def _add_task_arguments(parser: argparse.ArgumentParser) -> None:
    """Which tasks of the data file run: -n, --seed, --half, --only, --tasks (see `build`)."""
    parser.add_argument("-n", type=int, default=0, help="tasks to sample (0: all)")
    parser.add_argument("--seed", type=int, default=0, help="sampling and --half seed")
    parser.add_argument(
        "--half",
        choices=fix_workspace.HALVES,
        default="all",
        help="tune: the tasks whose sha256 of 'SEED:task_id' ranks in the first half (rounded "
        "up); held-out: the others (choose on tune, report on held-out); all: every task. "
        "Applied before -n",
    )
    parser.add_argument(
        "--only",
        choices=("hanging", "other"),
        default=None,
        help="hanging: only the tasks whose buggy code runs past 10 s in all its tests (found "
        "by running each task of the half once before the run); other: only the rest. "
        "Applied after --half, before -n",
    )
    parser.add_argument(
        "--tasks", default="", help="START:END slice of the sampled tasks (split a long run)"
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, help="humanevalpack_<language>.jsonl")
    parser.add_argument(
        "--language",
        choices=fix_languages.LANGUAGES,
        default="python",
        help="the records' language; js, rust, go: arm p only (the single arm and arms a, b "
        "are refused), each task a project that `node --test`, `cargo test` or `go test` "
        "checks; tasks that need a crate outside Rust's standard library are skipped; a "
        "language whose toolchain is missing is refused (exit 2)",
    )
    _add_task_arguments(parser)
    parser.add_argument(
        "--rounds", type=int, default=None, help="loop rounds (a, b: 3; p: actions.rounds)"
    )
    parser.add_argument(
        "--candidates",
        type=int,
        nargs="+",
        default=None,
        help="candidates per round (a, b: 8; p: actions.candidates)",
    )
    parser.add_argument(
        "--check",
        nargs="+",
        choices=("a", "b", "p"),
        default=None,
        help="check arms: a, the task's tests (configured check); b, the docstring's examples "
        "only; p, a test file with half of the tests, found by the engine itself "
        "(default: a b; p for other languages than Python, which have only p)",
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=None,
        help="seconds per task and arm (a, b: 60; p: actions.budget_s)",
    )
    parser.add_argument(
        "--temperature",
        type=float,
        default=None,
        help="sampled candidates (a, b: 0.8; p: actions.temperature)",
    )
    parser.add_argument(
        "--baseline-feedback",
        choices=("on", "off"),
        default=None,
        help="show the check's failure on the buggy file to the first round "
        "(default: actions.baseline_feedback)",
    )
    parser.add_argument(
        "--small-edits",
        nargs="+",
        choices=("on", "off"),
        default=None,
        help="loop arms with and/or without the small edits of actions.small_edits "
        "(default: the setting); with --candidates 0, small edits alone",
    )
    parser.add_argument(
        "--remote",
        choices=("settings", "auto"),
        default="settings",
        help="auto: serve the embedded model with llama_cpp.server on loopback as the remote",
    )


def main(args: argparse.Namespace, settings: Settings) -> int:
    data = Path(args.data)
    if not data.is_file():
        raise SystemExit(f"pairline: no such data file: {data}")
    tasks = load_tasks(data)
    refused = fix_languages.refused(args.language, args.check)
    if refused:
        print(f"pairline: bench fix --language {args.language}: {refused}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    args.check = args.check or (["a", "b"] if args.language == "python" else ["p"])
    if not fix_engine_available():
        print(
            "pairline: bench fix: fixes are not available in this build "
            "(no fix engine: pairline.engine.actions.fix is missing); nothing was measured",
            file=sys.stderr,
        )
        return EXIT_UNAVAILABLE
    if args.small_edits is None:
        args.small_edits = ["on" if settings.actions.small_edits else "off"]
    fix_workspace.resolve_loop(args, settings)
    report = run(args, common.measuring(settings), tasks)
    common.emit(report, args.json)
    return 0
