"""`pairline bench infill`: HumanEval-Infilling through the engine path the server uses.

Each task becomes an open buffer: for line-level tasks (the prompt ends a line) the missing
lines are an empty line the cursor sits on, as in an editor; otherwise the cursor sits between
prompt and suffix. The engine's suggestion (CompletionEngine.complete, the same call the LSP
handler makes) is scored by exact match, edit similarity and pass@1 (execution). Two more arms
need no extra judgement: `engine_first_line` (only the first line of the suggestion, since a
block suggestion may run past a single missing line) and `baseline`, the raw model continuing
the bare prefix cut at the first newline, so the engine's gain over naive prompting is visible.

With `--typed-chars K` the first K characters of a line task's missing line (after its
indentation) are already typed, so the cursor sits mid-word as it does while a person types;
both arms continue from there and what was typed counts as part of the answer. The engine
arm records each suggestion's confidence, and the report gives the confidence gate's curve:
per threshold, the share of suggestions shown, pass@1 over all tasks and the precision of
what is shown.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gzip
import json
import random
import re
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from pairline.bench.harness import common, plot
from pairline.bench.harness.scoring import humaneval_program, run_passes
from pairline.engine.backends.base import GenerationParams
from pairline.engine.backends.local_llama import LocalLlamaBackend
from pairline.engine.completion.engine import CompletionEngine
from pairline.engine.context import ContextGatherer
from pairline.engine.core.config import Settings
from pairline.engine.core.types import Position, PositionEncoding
from pairline.engine.models.manifest import ResolvedModel
from pairline.engine.workspace import Workspace

ARMS = ("engine", "engine_first_line", "baseline")
GATE_THRESHOLDS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def load_tasks(path: Path) -> list[dict[str, Any]]:
    """Records of a HumanEval-Infilling file (.jsonl or .jsonl.gz)."""
    opener: Any = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        tasks = [json.loads(line) for line in handle if line.strip()]
    needed = {"task_id", "entry_point", "prompt", "suffix", "canonical_solution", "test"}
    for task in tasks:
        missing = needed - set(task)
        if missing:
            raise SystemExit(f"pairline: {path}: record lacks {sorted(missing)}")
    return tasks


def sample(tasks: list[dict[str, Any]], n: int, seed: int) -> list[dict[str, Any]]:
    """`n` tasks chosen with `seed`, kept in file order (neighbours share a prefix: KV reuse)."""
    if n <= 0 or n >= len(tasks):
        return list(tasks)
    chosen = sorted(random.Random(seed).sample(range(len(tasks)), n))
    return [tasks[i] for i in chosen]


def line_level(task: dict[str, Any]) -> bool:
    return bool(task["prompt"].endswith("\n") and task["canonical_solution"].endswith("\n"))


def task_uri(task: dict[str, Any]) -> str:
    name = re.sub(r"[^A-Za-z0-9_]", "_", task["entry_point"]) or "task"
    return f"file:///pairline-bench/infill/{name}.py"


def typed(task: dict[str, Any], chars: int) -> str:
    """What is already typed on the cursor line: indentation and `chars` characters of the
    missing line (fewer if it is short, so that something is always left to suggest)."""
    if chars <= 0 or not line_level(task):
        return ""
    line: str = task["canonical_solution"].split("\n", 1)[0]
    body = line.lstrip(" \t")
    return line[: len(line) - len(body) + max(0, min(chars, len(body) - 1))]


def scored_completion(task: dict[str, Any], text: str) -> str:
    """What goes between prompt and suffix when `text` is accepted at the cursor."""
    return text + "\n" if line_level(task) else text


def first_line(text: str) -> str:
    return text.split("\n", 1)[0] if text.strip() else text


def score(task: dict[str, Any], text: str, timeout_s: float) -> dict[str, Any]:
    target = (
        task["canonical_solution"].rstrip("\n") if line_level(task) else task["canonical_solution"]
    )
    program = humaneval_program(
        task["prompt"],
        scored_completion(task, text),
        task["suffix"],
        task["test"],
        task["entry_point"],
    )
    return {
        "text": text,
        "exact_match": common.exact_match(text, target),
        "edit_similarity": round(common.edit_similarity(text.strip(), target.strip()), 4),
        "passed": run_passes(program, timeout_s),
    }


async def _engine_arm(
    engine: CompletionEngine,
    tasks: list[dict[str, Any]],
    chars: int,
    automatic: bool,
    progress: common.Progress,
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    workspace = Workspace(PositionEncoding.UTF32)
    # As in the server, a context gatherer (no workspace roots: each task is a lone file), so
    # context drawn from the buffer itself (windows after the cursor) counts here too.
    gatherer = engine.context = ContextGatherer(workspace)
    for task in tasks:
        uri = task_uri(task)
        head = task["prompt"] + typed(task, chars)
        text = head + ("\n" if line_level(task) else "") + task["suffix"]
        doc = workspace.open(uri, text, language="python")
        position = doc.position_at(len(head))
        request = workspace.request_at(uri, Position(position.line, position.character))
        request = dataclasses.replace(request, automatic=automatic)
        started = time.perf_counter()
        suggestion = await engine.complete(request)
        seconds = time.perf_counter() - started
        workspace.close(uri)
        gatherer.forget(uri)
        out.append(
            {
                "text": typed(task, chars) + (suggestion.text if suggestion else ""),
                "confidence": suggestion.timings.get("confidence") if suggestion else None,
                "mode": engine.mode_at(request).value,
                "seconds": seconds,
            }
        )
        progress.advance(note="engine")
    return out


async def _baseline_arm(
    backend: Any,
    tasks: list[dict[str, Any]],
    max_tokens: int,
    chars: int,
    progress: common.Progress,
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    params = GenerationParams(max_tokens=max_tokens, is_complete=lambda text: "\n" in text)
    for task in tasks:
        started = time.perf_counter()
        head = typed(task, chars)
        generation = await backend.generate(task["prompt"] + head, params, threading.Event())
        seconds = time.perf_counter() - started
        out.append({"text": head + generation.text.split("\n", 1)[0], "seconds": seconds})
        progress.advance(note="baseline")
    return out


def gate_curve(
    confidences: list[float | None], passed: list[bool], shown: list[bool]
) -> list[dict[str, Any]]:
    """Per threshold of `completion.min_confidence`: what would be shown and how good it is.

    A suggestion without a confidence (none was generated) counts as not shown at any threshold.
    """
    total = len(passed)
    rows = []
    for threshold in GATE_THRESHOLDS:
        kept = [
            i
            for i, c in enumerate(confidences)
            if shown[i] and (threshold == 0.0 or (c is not None and c >= threshold))
        ]
        good = sum(1 for i in kept if passed[i])
        rows.append(
            {
                "min_confidence": threshold,
                "shown": round(len(kept) / total, 4) if total else None,
                "pass_at_1": round(good / total, 4) if total else None,
                "precision": round(good / len(kept), 4) if kept else None,
            }
        )
    return rows


def _arm_summary(rows: list[dict[str, Any]], seconds: list[float]) -> dict[str, Any]:
    return {
        "exact_match": common.mean([float(r["exact_match"]) for r in rows]),
        "edit_similarity": common.mean([r["edit_similarity"] for r in rows]),
        "pass_at_1": common.mean([float(r["passed"]) for r in rows]),
        "passed": sum(1 for r in rows if r["passed"]),
        "empty": sum(1 for r in rows if not r["text"].strip()),
        "latency": common.latency_summary(seconds),
    }


@dataclasses.dataclass
class Measured:
    """The arms' answers (text, seconds) per task, their scores per arm, and the model file."""

    engine: list[dict[str, Any]]
    baseline: list[dict[str, Any]]  # empty with --no-baseline
    rows: dict[str, list[dict[str, Any]]]
    model: ResolvedModel


def build(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The sampled tasks; SystemExit where the data or the figure library is missing."""
    plot.require(args)
    data = Path(args.data)
    if not data.is_file():
        raise SystemExit(f"pairline: no such data file: {data}")
    return sample(load_tasks(data), args.n, args.seed)


async def _generate(
    args: argparse.Namespace,
    settings: Settings,
    backend: LocalLlamaBackend,
    tasks: list[dict[str, Any]],
    progress: common.Progress,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    # Each task is asked once: a completion cache kept from earlier runs (of older code)
    # could only answer with a stale suggestion. The gate is open so that its curve can say
    # what each threshold (the configured one included) would hide.
    completion = dataclasses.replace(settings.completion, cache=False, min_confidence=0.0)
    engine = CompletionEngine(dataclasses.replace(settings, completion=completion))
    engine.attach(backend)
    try:
        engine_out = await _engine_arm(engine, tasks, args.typed_chars, args.automatic, progress)
        baseline_out: list[dict[str, Any]] = []
        if args.baseline:
            baseline_out = await _baseline_arm(
                backend, tasks, settings.completion.max_tokens, args.typed_chars, progress
            )
    finally:
        engine.close()
    return engine_out, baseline_out


async def measure(
    args: argparse.Namespace, settings: Settings, tasks: list[dict[str, Any]]
) -> Measured:
    """Every task through the engine (and the baseline), then every answer scored."""
    backend, model = await common.load_backend(settings, quiet=args.json)
    arms_run = 2 if args.baseline else 1
    progress = common.Progress(len(tasks) * (arms_run + 1), "infill")
    engine_out, baseline_out = await _generate(args, settings, backend, tasks, progress)
    # Scoring runs after the model is done so that execution does not skew model latency.
    rows: dict[str, list[dict[str, Any]]] = {arm: [] for arm in ARMS}
    for i, task in enumerate(tasks):
        suggestion = engine_out[i]["text"]
        rows["engine"].append(score(task, suggestion, args.timeout))
        rows["engine_first_line"].append(score(task, first_line(suggestion), args.timeout))
        if args.baseline:
            rows["baseline"].append(score(task, baseline_out[i]["text"], args.timeout))
        progress.advance(note="scoring")
    progress.close()
    return Measured(engine_out, baseline_out, rows, model)


def _results(
    args: argparse.Namespace, tasks: list[dict[str, Any]], measured: Measured
) -> dict[str, Any]:
    engine_out, rows = measured.engine, measured.rows
    engine_seconds = [r["seconds"] for r in engine_out]
    results: dict[str, Any] = {
        "tasks": len(tasks),
        "line_level_tasks": sum(1 for t in tasks if line_level(t)),
        "modes": dict(Counter(r["mode"] for r in engine_out)),
        "engine": _arm_summary(rows["engine"], engine_seconds),
        "engine_first_line": _arm_summary(rows["engine_first_line"], engine_seconds),
        # Measured with the gate open (min_confidence 0) it shows what each threshold would do.
        "gate": gate_curve(
            [r["confidence"] for r in engine_out],
            [r["passed"] for r in rows["engine"]],
            [
                r["text"] != typed(t, args.typed_chars)
                for r, t in zip(engine_out, tasks, strict=True)
            ],
        ),
    }
    if args.baseline:
        baseline_seconds = [r["seconds"] for r in measured.baseline]
        results["baseline"] = _arm_summary(rows["baseline"], baseline_seconds)
        gain = {}
        for metric in ("exact_match", "edit_similarity", "pass_at_1"):
            a, b = results["engine"][metric], results["baseline"][metric]
            gain[metric] = None if a is None or b is None else round(a - b, 4)
        results["gain_over_baseline"] = gain
    return results


def _per_task(tasks: list[dict[str, Any]], measured: Measured) -> list[dict[str, Any]]:
    engine_out, rows = measured.engine, measured.rows
    return [
        {
            "task_id": task["task_id"],
            "mode": engine_out[i]["mode"],
            "latency_ms": round(engine_out[i]["seconds"] * 1000, 1),
            "confidence": engine_out[i]["confidence"],
            **{
                f"{arm}_{key}": rows[arm][i][key]
                for arm in ARMS
                if rows[arm]
                for key in ("text", "passed", "exact_match")
            },
        }
        for i, task in enumerate(tasks)
    ]


def _figure(png: Path, title: str, results: dict[str, Any], measured: Measured) -> Path:
    metrics = {
        arm: {k: results[arm][k] for k in ("exact_match", "edit_similarity", "pass_at_1")}
        for arm in ARMS
        if arm in results
    }
    latencies = {
        "engine": [r["seconds"] for r in measured.engine],
        "baseline": [r["seconds"] for r in measured.baseline],
    }
    return plot.quality_figure(png, metrics, latencies, title)


def report(
    args: argparse.Namespace,
    settings: Settings,
    tasks: list[dict[str, Any]],
    measured: Measured,
) -> dict[str, Any]:
    """The report of a run, written as infill.json (and infill.png) under `--out`."""
    results = _results(args, tasks, measured)
    name = Path(args.data).name
    data: dict[str, Any] = {
        "bench": "infill",
        "results": results,
        "settings": {
            "data": name,
            "n": args.n,
            "seed": args.seed,
            "timeout_s": args.timeout,
            "baseline": bool(args.baseline),
            "typed_chars": args.typed_chars,
            "automatic": bool(args.automatic),
            **common.settings_info(settings),
        },
        "machine": common.machine_info(measured.model),
        "per_task": _per_task(tasks, measured),
    }
    title = f"infill: {name}, n={len(tasks)}"
    return common.finish(data, args, "infill", lambda png: _figure(png, title, results, measured))


async def run(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    tasks = build(args)
    return report(args, settings, tasks, await measure(args, settings, tasks))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, help="HumanEval-Infilling .jsonl or .jsonl.gz")
    parser.add_argument("-n", type=int, default=0, help="tasks to sample (0: all)")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per test run")
    parser.add_argument(
        "--typed-chars",
        type=int,
        default=0,
        metavar="K",
        help="line tasks: the first K characters of the missing line are typed (cursor mid-word)",
    )
    common.add_automatic_argument(parser)
    parser.add_argument(
        "--no-baseline",
        dest="baseline",
        action="store_false",
        help="skip the prefix-only baseline arm",
    )


def main(args: argparse.Namespace, settings: Settings) -> int:
    report = asyncio.run(run(args, common.measuring(settings)))
    common.emit(report, args.json)
    return 0
