"""`pairline bench fix`: HumanEvalFix through the "Fix this" code-action path.

pass@1 of the fixed function with the verify loop off and on, and the time per fix. The fix
engine (`pairline.engine.fix`) is not part of this build yet; until it is, this command says so
and exits 2 instead of reporting numbers it cannot measure.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, help="humanevalpack_python.jsonl")
    parser.add_argument("-n", type=int, default=0, help="tasks to sample (0: all)")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed")
    parser.add_argument("--rounds", type=int, default=2, help="verify-loop rounds (k)")


def main(args: argparse.Namespace, settings: Settings) -> int:
    data = Path(args.data)
    if not data.is_file():
        raise SystemExit(f"pairline: no such data file: {data}")
    load_tasks(data)  # a bad data file is reported even while fixes are unavailable
    if not fix_engine_available():
        print(
            "pairline: bench fix: fixes are not available in this build "
            "(no fix engine: pairline.engine.fix is missing); nothing was measured",
            file=sys.stderr,
        )
        return EXIT_UNAVAILABLE
    print(
        "pairline: bench fix: the fix engine exists but this benchmark is not wired to it yet; "
        "nothing was measured",
        file=sys.stderr,
    )
    return EXIT_UNAVAILABLE
