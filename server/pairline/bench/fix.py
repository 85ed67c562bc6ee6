"""`pairline bench fix`: HumanEvalFix through the "Fix this" code-action path.

The buggy function is the open file; "Fix this" runs on the function through the same
generate → verify → revise loop the code action uses (`pairline.engine.fix`), with the model
the action would use (remote when configured, else the local one). Two arms: verify off (one
round, the candidate applied as is) and verify on (up to `--rounds` rounds, the check command
runs the task's *example* tests in a sandbox copy; an unverified fix is not applied). pass@1 is
judged by the hidden tests. Where the fix engine is missing, the command says so and exits 2
instead of reporting numbers it cannot measure.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import sys
import tempfile
from pathlib import Path
from typing import Any

from pairline.bench.scoring import run_passes
from pairline.engine.config import Settings

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
    return importlib.util.find_spec("pairline.engine.fix") is not None


def _document(task: dict[str, Any]) -> tuple[str, int]:
    """The buggy file as the user has it, and the line where the function starts."""
    text = task["declaration"] + task["buggy_solution"]
    lines = text.split("\n")
    start = next(
        (i for i, line in enumerate(lines) if line.startswith(f"def {task['entry_point']}")), 0
    )
    return text, start


async def _fix_all(
    args: argparse.Namespace, settings: Settings, tasks: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], Any, str]:
    from pairline.bench import common
    from pairline.engine import fix as fix_engine
    from pairline.engine.config import ActionsConfig
    from pairline.engine.types import EngineError
    from pairline.engine.verify import WorkspaceVerifier

    try:
        backend, resolved = await common.load_backend(settings, quiet=args.json)
    except EngineError as exc:
        raise SystemExit(f"pairline: {exc}") from None
    router = fix_engine.EditRouter(settings=lambda: settings, local=lambda: backend)
    edit_backend = router.backend(fix_engine.FIX)
    progress = common.Progress(2 * len(tasks), "fix")
    rows: list[dict[str, Any]] = []
    try:
        for task in tasks:
            text, start = _document(task)
            region = fix_engine.Region(
                start, len(text.rstrip("\n").split("\n")), task["entry_point"]
            )
            request = fix_engine.FixRequest(
                kind=fix_engine.FIX,
                language="python",
                text=text,
                region=region,
                file_name="solution.py",
                rel_path="solution.py",
            )
            row: dict[str, Any] = {"task_id": task["task_id"], "bug_type": task.get("bug_type")}
            with tempfile.TemporaryDirectory(prefix="pairline-fix-") as tmp:
                root = Path(tmp)
                (root / "solution.py").write_text(text, encoding="utf-8")
                # The verify loop may only see the examples a user would have, never the
                # hidden tests that judge pass@1.
                (root / "check_examples.py").write_text(
                    "from solution import *\n" + task.get("example_test", ""), encoding="utf-8"
                )
                arms = {
                    "verify_off": (1, ActionsConfig(trusted=False)),
                    "verify_on": (
                        args.rounds,
                        ActionsConfig(
                            trusted=True,
                            check_commands={"python": f"{sys.executable} check_examples.py"},
                            rounds=args.rounds,
                        ),
                    ),
                }
                for arm, (rounds, config) in arms.items():
                    verifier = WorkspaceVerifier(config, root)
                    try:
                        result = await fix_engine.fix(request, edit_backend, verifier, rounds)
                    except EngineError as exc:
                        row[arm] = {"passed": False, "error": str(exc), "seconds": 0.0}
                        progress.advance()
                        continue
                    finally:
                        verifier.close()
                    # Off: whatever the one round produced is what gets applied.
                    candidate = result.text
                    if arm == "verify_off" and candidate is None and result.attempts:
                        candidate = result.attempts[-1].candidate
                    passed = False
                    if candidate:
                        # The candidate is the whole edited file: judge it as it stands.
                        passed = fixed_passes({**task, "declaration": ""}, candidate)
                    row[arm] = {
                        "passed": passed,
                        "verified": result.verified,
                        "rounds": result.rounds,
                        "seconds": round(result.seconds, 3),
                    }
                    progress.advance(note=arm)
            rows.append(row)
    finally:
        progress.close()
        await router.aclose()
        backend.close()
    return rows, resolved, edit_backend.name


def _summary(rows: list[dict[str, Any]], arm: str) -> dict[str, Any]:
    from pairline.bench import common

    seconds = [r[arm]["seconds"] for r in rows if r[arm].get("seconds")]
    return {
        "pass_at_1": common.mean([float(r[arm]["passed"]) for r in rows]),
        "passed": sum(1 for r in rows if r[arm]["passed"]),
        "verified": sum(1 for r in rows if r[arm].get("verified")),
        "errors": sum(1 for r in rows if "error" in r[arm]),
        "seconds_per_fix": common.latency_summary(seconds),
    }


def run(
    args: argparse.Namespace, settings: Settings, tasks: list[dict[str, Any]]
) -> dict[str, Any]:
    import asyncio

    from pairline.bench import common

    if 0 < args.n < len(tasks):
        chosen = sorted(random.Random(args.seed).sample(range(len(tasks)), args.n))
        tasks = [tasks[i] for i in chosen]
    rows, resolved, model = asyncio.run(_fix_all(args, settings, tasks))
    results = {
        "tasks": len(rows),
        "model": model,
        "verify_off": _summary(rows, "verify_off"),
        "verify_on": _summary(rows, "verify_on"),
    }
    report: dict[str, Any] = {
        "bench": "fix",
        "results": results,
        "settings": {
            "data": Path(args.data).name,
            "n": args.n,
            "seed": args.seed,
            "rounds": args.rounds,
            **common.settings_info(settings),
        },
        "machine": common.machine_info(resolved),
        "per_task": rows,
    }
    out_dir = Path(args.out)
    report["files"] = {"json": str(out_dir / "fix.json")}
    common.write_report(report, out_dir, "fix")
    return report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, help="humanevalpack_python.jsonl")
    parser.add_argument("-n", type=int, default=0, help="tasks to sample (0: all)")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed")
    parser.add_argument("--rounds", type=int, default=3, help="verify-loop rounds (k)")


def main(args: argparse.Namespace, settings: Settings) -> int:
    from pairline.bench import common

    data = Path(args.data)
    if not data.is_file():
        raise SystemExit(f"pairline: no such data file: {data}")
    tasks = load_tasks(data)
    if not fix_engine_available():
        print(
            "pairline: bench fix: fixes are not available in this build "
            "(no fix engine: pairline.engine.fix is missing); nothing was measured",
            file=sys.stderr,
        )
        return EXIT_UNAVAILABLE
    report = run(args, common.measuring(settings), tasks)
    common.emit(report, args.json)
    return 0
