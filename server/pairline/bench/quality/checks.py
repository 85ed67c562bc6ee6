"""`pairline bench checks`: how many "Fix this" checks per second, cold vs warm pytest.

Each sampled HumanEvalFix task is written as `bench fix --check p` writes it (a module and a
pytest file with half of its cases, found by the engine, not configured); the small edits of
its function are then checked one after another on one workspace copy, as the loop checks them,
once with `actions.warm_checks` off (a cold `python -m pytest` per check) and once on. Both
arms check the same edits and must reach the same verdicts; the report gives checks per second
per arm and their ratio. Tasks whose code hangs are left out: their checks measure the hang.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from pairline.engine.core.config import Settings


async def _arm(
    settings: Settings, root: Path, text: str, edits: list[str], warm: bool
) -> tuple[float, list[bool]]:
    from pairline.engine.actions.verify import WorkspaceVerifier

    actions = dataclasses.replace(
        settings.actions, trusted=True, check_commands={}, warm_checks=warm
    )
    verifier = WorkspaceVerifier(actions, root, parallel=1)
    try:
        await verifier.baseline("python", "solution.py", text)  # not timed: once per fix
        started = time.perf_counter()
        verdicts = [(await verifier.verify("python", "solution.py", text, e)).ok for e in edits]
        return time.perf_counter() - started, verdicts
    finally:
        await verifier.aclose()


async def _measure(
    args: argparse.Namespace, settings: Settings, tasks: list[dict[str, Any]]
) -> dict[str, Any]:
    from pairline.bench.quality import fix as fix_bench
    from pairline.bench.quality import fix_workspace
    from pairline.engine.actions.mutants import mutants

    seconds = {"cold": 0.0, "warm": 0.0}
    checks = 0
    agree = True
    per_task = []
    for task in tasks:
        text, start = fix_bench.document(task)
        if fix_workspace.hangs(task, text):
            continue
        end = len(text.rstrip("\n").split("\n"))
        edits = [m.text for m in mutants("python", text, start, end)][: args.edits]
        with tempfile.TemporaryDirectory(prefix="pairline-checks-") as tmp:
            root = Path(tmp)
            fix_workspace.write_workspace(root, task, text)
            cold, cold_verdicts = await _arm(settings, root, text, edits, warm=False)
            warm, warm_verdicts = await _arm(settings, root, text, edits, warm=True)
        seconds["cold"] += cold
        seconds["warm"] += warm
        checks += len(edits)
        agree = agree and cold_verdicts == warm_verdicts
        per_task.append(
            {"task_id": task["task_id"], "checks": len(edits), "cold_s": cold, "warm_s": warm}
        )
    rate = {arm: checks / s if s else 0.0 for arm, s in seconds.items()}
    return {
        "tasks": len(per_task),
        "checks": checks,
        "cold_checks_per_s": round(rate["cold"], 2),
        "warm_checks_per_s": round(rate["warm"], 2),
        "warm_over_cold": round(rate["warm"] / rate["cold"], 2) if rate["cold"] else None,
        "same_verdicts": agree,
        "per_task": per_task,
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, help="humanevalpack_python.jsonl")
    parser.add_argument("-n", type=int, default=5, help="tasks to sample (default 5)")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed")
    parser.add_argument("--edits", type=int, default=20, help="small edits checked per task")


def main(args: argparse.Namespace, settings: Settings) -> int:
    from pairline.bench.harness import common
    from pairline.bench.quality.fix import load_tasks

    data = Path(args.data)
    if not data.is_file():
        raise SystemExit(f"pairline: no such data file: {data}")
    tasks = load_tasks(data)
    if 0 < args.n < len(tasks):
        tasks = [
            tasks[i] for i in sorted(random.Random(args.seed).sample(range(len(tasks)), args.n))
        ]
    results = asyncio.run(_measure(args, settings, tasks))
    report: dict[str, Any] = {
        "bench": "checks",
        "results": results,
        "settings": {"data": data.name, "n": args.n, "seed": args.seed, "edits": args.edits},
        "machine": common.machine_info(None),
    }
    common.emit(common.finish(report, args, "checks"), args.json)
    return 0
