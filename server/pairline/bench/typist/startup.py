"""`pairline bench startup`: how soon a fresh server is useful, and how fast it then answers.

Each run starts `pairline serve` over stdio the way an editor does and times, from the moment
the process is spawned: the `initialize` answer, the model becoming ready (`pairline/status`),
and the first inline completion, requested right after `initialized` on a freshly opened real
file (the server holds it until the model is loaded, so this is what a user waits for after
opening the editor). Then the same server answers `--positions` more cursor positions of that
file one after another, each on a line cut off partway as if it were being typed; the report
gives their latency percentiles, how many suggestions were a prefix of the rest of the line,
and the RSS of the server and its model host process together: right after the first
completion (the model loaded) and at rest after the last one, then split into the model file's
pages, other files and anonymous memory (`pairline.bench.typist.memory`).

The positions, the file and the cut points come from `--seed`. Every run starts with an empty
completion cache, so no answer comes from an earlier run; the model file is shared.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pairline.bench.harness import common, plot, servers
from pairline.bench.harness.lspclient import LspClient
from pairline.bench.typist import memory
from pairline.bench.typist.traces import candidate_lines, default_source_dirs, source_files
from pairline.engine.core.config import Settings
from pairline.engine.models.manifest import ResolvedModel
from pairline.engine.workspace import language_for_path

_INVOKED = 1  # InlineCompletionTriggerKind.Invoked: never skipped by auto-trigger heuristics
_SETTLE_S = 2.0


@dataclass(frozen=True)
class Position:
    """A line of the file cut off after `typed` characters; the rest is what comes next."""

    line: int
    text: str  # the whole document with the rest of that line removed
    character: int  # UTF-16 column of the cursor
    rest: str  # the removed text


def pick_file(dirs: list[Path], seed: int, needed: int) -> Path | None:
    """A Python file with at least `needed` lines worth completing, chosen by `seed`."""
    rng = random.Random(seed)
    files = source_files(dirs)["python"]
    rng.shuffle(files)
    for path in files[:500]:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if len(candidate_lines(text, "python")) >= needed:
            return path
    return None


def positions(text: str, language: str, count: int, seed: int) -> list[Position]:
    """Up to `count` cursor positions inside function bodies, each partway into its line."""
    family = "python" if language == "python" else "js"
    text = text.replace("\r\n", "\n")
    lines = text.split("\n")
    rng = random.Random(seed)
    chosen = candidate_lines(text, family)
    rng.shuffle(chosen)
    out: list[Position] = []
    for number in sorted(chosen[:count]):
        line = lines[number]
        indent = len(line) - len(line.lstrip(" \t"))
        body = line[indent:].rstrip()
        # Somewhere in the first half of the line: the typist has started, most is still to come.
        typed = rng.randint(0, len(body) // 2)
        head = line[: indent + typed]
        cut = [*lines[:number], head, *lines[number + 1 :]]
        out.append(Position(number, "\n".join(cut), common.utf16_len(head), body[typed:]))
    return out


@dataclass
class Run:
    """What one fresh server did: its start-up milestones and its answers."""

    initialize_s: float
    ready_s: float | None
    first_completion_s: float
    first_text: str
    latencies_s: list[float]
    acceptable: int
    shown: int
    rss_loaded_mb: float
    rss_mb: float
    memory: dict[str, Any]


async def _one_run(
    settings: Settings, uri: str, language: str, plan: list[Position], log: Path, model: Path
) -> Run:
    options = common.settings_info(settings)
    async with servers.pairline_server(options, log, fresh_cache=settings, wait=False) as client:
        assert client.process is not None and client.started_at is not None
        spawned = client.started_at
        initialize_s = time.perf_counter() - spawned
        first, rest = plan[0], plan[1:]
        item = {"uri": uri, "languageId": language, "version": 1, "text": first.text}
        client.notify("textDocument/didOpen", {"textDocument": item})
        answer = await client.call("textDocument/inlineCompletion", _params(uri, first), 900)
        first_completion_s = time.perf_counter() - spawned
        # The server and its model host process together.
        rss_loaded_kb = memory.resident_kb_tree(client.process.pid)
        ready_s = next(
            (
                at - spawned
                for at, method, params in client.notifications
                if method == "pairline/status" and (params or {}).get("state") == "ready"
            ),
            None,
        )
        if ready_s is None:
            await servers.wait_loaded(client, timeout=60)
        latencies, shown, acceptable = await _positions(client, uri, rest)
        await _at_rest(client)
        rss_kb = memory.resident_kb_tree(client.process.pid)
        return Run(
            initialize_s=initialize_s,
            ready_s=ready_s,
            first_completion_s=first_completion_s,
            first_text=_first_text(answer),
            latencies_s=latencies,
            acceptable=acceptable,
            shown=shown,
            rss_loaded_mb=round(rss_loaded_kb / 1024, 1),
            rss_mb=round(rss_kb / 1024, 1),
            memory=memory.breakdown_tree(client.process.pid, model),
        )


async def _positions(
    client: LspClient, uri: str, positions: list[Position]
) -> tuple[list[float], int, int]:
    """Seconds per answer at each position in turn; suggestions shown and acceptable."""
    latencies: list[float] = []
    acceptable = shown = 0
    for version, position in enumerate(positions, start=2):
        client.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{"text": position.text}],
            },
        )
        started = time.perf_counter()
        result = await client.call("textDocument/inlineCompletion", _params(uri, position))
        latencies.append(time.perf_counter() - started)
        text = _first_text(result)
        if text:
            shown += 1
            acceptable += position.rest.startswith(text)
    return latencies, shown, acceptable


async def _at_rest(client: LspClient) -> None:
    """Until the model's work (speculative included) is done and the heap has been trimmed.

    The server hands freed heap memory back once its model has been idle for a second.
    """
    deadline = time.perf_counter() + 300
    while time.perf_counter() < deadline:
        stats = await client.call("pairline/debug/stats", None, timeout=120)
        if not (stats or {}).get("generations_pending"):
            break
        await asyncio.sleep(0.2)
    await asyncio.sleep(_SETTLE_S)


def _params(uri: str, position: Position) -> dict[str, Any]:
    return {
        "textDocument": {"uri": uri},
        "position": {"line": position.line, "character": position.character},
        "context": {"triggerKind": _INVOKED},
    }


def _first_text(result: Any) -> str:
    items = result.get("items", []) if isinstance(result, dict) else result or []
    return str(items[0].get("insertText", "")) if items else ""


def _median_ms(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(statistics.median(known) * 1000, 1) if known else None


@dataclass
class Plan:
    """The file, its positions and the model file, settled before a server starts."""

    path: Path
    language: str
    positions: list[Position]
    model: ResolvedModel


def build(args: argparse.Namespace, settings: Settings) -> Plan:
    """The file to complete in and its positions; SystemExit where there are too few."""
    plot.require(args)
    if args.runs < 1 or args.positions < 1:
        raise SystemExit("pairline: --runs and --positions must be at least 1")
    dirs = default_source_dirs()
    path = Path(args.file) if args.file else pick_file(dirs, args.seed, args.positions + 1)
    if path is None:
        raise SystemExit("pairline: no Python file with enough functions among installed packages")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SystemExit(f"pairline: cannot read {path}: {exc}") from None
    language = language_for_path(str(path))
    plan = positions(text, language, args.positions + 1, args.seed)
    if len(plan) < 2:
        raise SystemExit(f"pairline: {path} has too few lines inside functions to complete")
    return Plan(path, language, plan, common.resolve_model(settings))


def measure(args: argparse.Namespace, settings: Settings, plan: Plan) -> list[Run]:
    """`--runs` fresh servers, one after another, each with an empty completion cache."""
    progress = common.Progress(args.runs, "startup")
    runs: list[Run] = []
    for index in range(args.runs):
        log = Path(args.out) / f"startup-server-{index}.log"
        uri = plan.path.resolve().as_uri()
        runs.append(
            asyncio.run(
                _one_run(settings, uri, plan.language, plan.positions, log, plan.model.path)
            )
        )
        progress.advance()
    return runs


def _per_run(run: Run) -> dict[str, Any]:
    return {
        "initialize_ms": round(run.initialize_s * 1000, 1),
        "model_ready_ms": None if run.ready_s is None else round(run.ready_s * 1000, 1),
        "first_completion_ms": round(run.first_completion_s * 1000, 1),
        "completion_p50_ms": _median_ms(list(run.latencies_s)),
        "rss_loaded_mb": run.rss_loaded_mb,
        "rss_mb": run.rss_mb,
    }


def _results(plan: Plan, runs: list[Run]) -> dict[str, Any]:
    every = [s for r in runs for s in r.latencies_s]
    shown = sum(r.shown for r in runs)
    return {
        "file": str(plan.path),
        "runs": len(runs),
        "positions_per_run": len(plan.positions) - 1,
        "initialize_ms": _median_ms([r.initialize_s for r in runs]),
        "model_ready_ms": _median_ms([r.ready_s for r in runs]),
        "first_completion_ms": _median_ms([r.first_completion_s for r in runs]),
        "first_completion_shown": sum(bool(r.first_text) for r in runs),
        "completion": common.latency_summary(every),
        "shown": shown,
        "acceptable": sum(r.acceptable for r in runs),
        "acceptable_rate": round(sum(r.acceptable for r in runs) / shown, 4) if shown else None,
        "rss_loaded_mb": max(r.rss_loaded_mb for r in runs),
        "rss_mb": max(r.rss_mb for r in runs),
        # Of the run that ended largest.
        "memory": max(runs, key=lambda r: r.rss_mb).memory,
        "per_run": [_per_run(r) for r in runs],
    }


def _figure(png: Path, plan: Plan, runs: list[Run]) -> Path:
    every = [s for r in runs for s in r.latencies_s]
    return plot.latency_figure(
        png,
        {"completion after start": every},
        [{"keystroke": i, "latency_ms": s * 1000, "outcome": "shown"} for i, s in enumerate(every)],
        f"pairline bench startup: {plan.model.name}, {len(runs)} run(s)",
        x_label="position",
    )


def report(
    args: argparse.Namespace, settings: Settings, plan: Plan, runs: list[Run]
) -> dict[str, Any]:
    """The report of a run, written as startup.json (and startup.png) under `--out`."""
    data: dict[str, Any] = {
        "bench": "startup",
        "machine": common.machine_info(plan.model),
        "settings": {**common.settings_info(settings), "seed": args.seed},
        "results": _results(plan, runs),
    }
    return common.finish(data, args, "startup", lambda png: _figure(png, plan, runs))


def run(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    plan = build(args, settings)
    return report(args, settings, plan, measure(args, settings, plan))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--file", help="the file to complete in (default: one picked from installed packages)"
    )
    parser.add_argument("--positions", type=int, default=20, help="positions after the first")
    parser.add_argument("--runs", type=int, default=3, help="fresh server starts")
    parser.add_argument("--seed", type=int, default=0, help="seed for the file and positions")


def main(args: argparse.Namespace, settings: Settings) -> int:
    report = run(args, settings)
    common.emit(report, args.json)
    return 0
