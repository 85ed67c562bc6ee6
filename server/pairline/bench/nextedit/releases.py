"""`pairline bench nextedit`: next-edit suggestions replayed on real edits between releases.

The edits are the line hunks between two released versions of real packages (see
`sources`: pinned, downloaded once into the cache folder; `--pair OLD NEW` takes two
local folders). Each changed file is replayed from its old version, one hunk at a time, in
order (see `replay`). After each hunk the bench does what the server does on a
`didChange`: the before/after texts go to an `EditHistory` as the user's edit, and the
predictors are asked for the next edit with the cursor at the end of the applied hunk:

- propagation (`Propagator`, no model), after every hunk;
- the model path (`predict_with_model` of `engine/nextedit/model.py`, where it exists and
  `--no-model` is not given), after a random sample of `--model-sample` hunks (a small model
  takes about a second each on a laptop CPU).

Every proposal is judged against the hunks still to come (`replay.judge`: exact after
whitespace normalisation, the whole hunk or a complete line change of it), and checked for
parse errors it would add (a full tree-sitter parse of the text before and after it).

What is *shown* at a confidence threshold t is the best proposal with confidence ≥ t (clients
show one; the others are alternatives). "all predictors" is propagation's shown proposal,
else the model's, as the engine orders them; it is measured on the sampled hunks where the
model ran (on every hunk, equal to propagation, where it did not). Reported: precision of the
shown proposals (correct / shown), recall (hunks after which a correct proposal was shown /
hunks with some still to come), the share of shown proposals from each predictor, latency
p50/p95 per predictor, proposals that would add parse errors, and the table of precision and
shown count per threshold that calibrates `next_edit.min_confidence`. JSON and a PNG
(precision and shown count per threshold) go to `--out`.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pairline.bench.harness import common, plot
from pairline.bench.nextedit.replay import Step, judge, line_hunks, replay, split_lines
from pairline.bench.nextedit.sources import DEFAULT_PACKAGES, FilePair, changed_files, package_files
from pairline.engine.core import syntax
from pairline.engine.core.config import Settings
from pairline.engine.core.document import Document
from pairline.engine.nextedit.history import EditHistory
from pairline.engine.nextedit.propagate import Propagator

THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(20))
# Until the settings carry `next_edit.min_confidence`, the level the table is read at.
FALLBACK_MIN_CONFIDENCE = 0.5
PREDICTORS = ("propagation", "model", "all")
# Fewer shown suggestions than this say nothing about a threshold's precision.
MIN_SHOWN = 5


def _model_predictor() -> Callable[..., Any] | None:
    """`predict_with_model`, where this build has the model predictor."""
    try:
        module = importlib.import_module("pairline.engine.nextedit.model")
    except ImportError:
        return None
    found: Callable[..., Any] | None = getattr(module, "predict_with_model", None)
    return found


def default_min_confidence(settings: Settings) -> float:
    section = getattr(settings, "next_edit", None)
    value = getattr(section, "min_confidence", None)
    return float(value) if value is not None else FALLBACK_MIN_CONFIDENCE


def _files(args: argparse.Namespace, settings: Settings) -> list[tuple[str, list[FilePair]]]:
    if args.pair:
        old, new = (Path(p) for p in args.pair)
        for folder in (old, new):
            if not folder.is_dir():
                raise SystemExit(f"pairline: no such folder: {folder}")
        label = f"{old.name}..{new.name}"
        return [(label, changed_files(label, old, new))]
    specs = [s.strip() for s in args.packages.split(",") if s.strip()]
    cache = settings.cache_path / "bench" / "nextedit"
    return [package_files(cache, spec) for spec in specs]


def _plan(
    sources: list[tuple[str, list[FilePair]]], limit: int, seed: int
) -> list[tuple[FilePair, int]]:
    """(file, hunks replayed) per chosen file: `limit` hunks shared evenly by the sources."""
    rng = random.Random(seed)
    plan: list[tuple[FilePair, int]] = []
    left = limit if limit > 0 else sys.maxsize
    for done, (_label, files) in enumerate(sources):
        budget = -(-left // (len(sources) - done)) if left != sys.maxsize else left
        order = list(files)
        rng.shuffle(order)
        for pair in order:
            if budget <= 0:
                break
            count = len(line_hunks(split_lines(pair.old), split_lines(pair.new)))
            take = min(count, budget)
            if take:
                plan.append((pair, take))
                budget -= take
                left -= take
    return plan


def _adds_errors(language: str, errors_now: int | None, new_text: str) -> bool:
    after = syntax.error_count(language, new_text)
    return errors_now is not None and after is not None and after > errors_now


def _judged(pair: FilePair, step: Step, proposals: Sequence[Any], errors: int | None) -> list[Any]:
    current = step.after
    out = []
    for p in proposals:
        verdict = judge(current, p.start, p.end, p.text, step.remaining)
        new_text = current[: p.start] + p.text + current[p.end :]
        out.append(
            {
                "confidence": p.confidence,
                "kind": p.kind,
                "correct": verdict.correct,
                "how": verdict.how,
                "next_hunk": verdict.hunk == step.index + 1,
                "adds_errors": _adds_errors(pair.language, errors, new_text),
                "text": p.text[:200],
                "replaced": current[p.start : p.end][:200],
            }
        )
    return out


async def _replay(
    args: argparse.Namespace, settings: Settings, plan: list[tuple[FilePair, int]]
) -> tuple[list[dict[str, Any]], Any, str]:
    predict = None if args.no_model else _model_predictor()
    model_status = "off (--no-model)" if args.no_model else "unavailable in this build"
    backend, resolved = None, None
    total = sum(take for _, take in plan)
    sampled: set[int] = set()
    if predict is not None and args.model_sample > 0:
        backend, resolved = await common.load_backend(settings, quiet=args.json)
        model_status = "on"
        sampled = set(random.Random(args.seed).sample(range(total), min(args.model_sample, total)))
    propagator = Propagator()
    progress = common.Progress(total, "nextedit")
    records: list[dict[str, Any]] = []
    number = 0
    try:
        for pair, take in plan:
            uri = f"file:///{pair.source.split()[0]}/{pair.path}"
            history = EditHistory()
            for step in replay(pair.old, pair.new):
                if step.index >= take:
                    break
                record = await _step(args, pair, uri, step, history, propagator)
                if number in sampled and predict is not None:
                    record["model"] = await _model_step(pair, uri, step, history, predict, backend)
                records.append(record)
                number += 1
                progress.advance()
            propagator.forget(uri)
    finally:
        progress.close()
        if backend is not None:
            backend.close()
    return records, resolved, model_status


async def _step(
    args: argparse.Namespace,
    pair: FilePair,
    uri: str,
    step: Step,
    history: EditHistory,
    propagator: Propagator,
) -> dict[str, Any]:
    edit = history.record(uri, step.before, step.after, version=step.index + 1)
    history.settle()  # the next hunk is elsewhere: a new edit
    record: dict[str, Any] = {
        "source": pair.source,
        "path": pair.path,
        "hunk": step.index,
        "remaining": len(step.remaining),
        "propagation": None,
        "model": None,
    }
    if edit is None:
        return record
    document = Document(uri, step.after, language=pair.language, version=step.index + 1)
    cursor = document.position_at(edit.end)
    began = time.perf_counter()
    earlier = history.edits(uri)[:-1]
    proposals = propagator.propose(
        edit, document, cursor=cursor, limit=args.max_edits, earlier=earlier
    )
    seconds = time.perf_counter() - began
    errors = syntax.error_count(pair.language, step.after) if proposals else None
    record["propagation"] = {
        "seconds": seconds,
        "proposals": _judged(pair, step, proposals, errors),
    }
    return record


async def _model_step(
    pair: FilePair,
    uri: str,
    step: Step,
    history: EditHistory,
    predict: Callable[..., Any],
    backend: Any,
) -> dict[str, Any]:
    document = Document(uri, step.after, language=pair.language, version=step.index + 1)
    edit = history.last(uri)
    cursor = document.position_at(edit.end if edit is not None else 0)
    began = time.perf_counter()
    try:
        proposals = await predict(backend, history.recent(), document, cursor)
    except Exception as exc:  # a failure is a figure too: counted, the run goes on
        return {"seconds": time.perf_counter() - began, "proposals": [], "error": repr(exc)}
    seconds = time.perf_counter() - began
    errors = syntax.error_count(pair.language, step.after) if proposals else None
    return {"seconds": seconds, "proposals": _judged(pair, step, proposals, errors)}


def _shown(record: dict[str, Any], predictor: str, threshold: float) -> tuple[str, Any] | None:
    """(predictor, proposal) shown after this hunk at `threshold`, if any."""
    order = ("propagation", "model") if predictor == "all" else (predictor,)
    for name in order:
        result = record.get(name)
        for proposal in (result or {}).get("proposals", []):
            if proposal["confidence"] >= threshold:
                return name, proposal
    return None


def _scope(records: list[dict[str, Any]], predictor: str, model_ran: bool) -> list[Any]:
    if predictor == "propagation" or (predictor == "all" and not model_ran):
        return records
    return [r for r in records if r.get("model") is not None]


def _row(records: list[dict[str, Any]], predictor: str, threshold: float) -> dict[str, Any]:
    shown = correct = found = by_propagation = with_errors = 0
    steps = [r for r in records if r["remaining"]]
    for record in records:
        hit = _shown(record, predictor, threshold)
        if hit is None:
            continue
        name, proposal = hit
        shown += 1
        correct += proposal["correct"]
        by_propagation += name == "propagation"
        with_errors += proposal["adds_errors"]
        found += bool(record["remaining"] and proposal["correct"])
    return {
        "threshold": threshold,
        "shown": shown,
        "correct": correct,
        "precision": common.ratio(correct, shown),
        "recall": common.ratio(found, len(steps)),
        "propagation_share": common.ratio(by_propagation, shown),
        "adds_parse_errors": with_errors,
    }


def summarise(
    records: list[dict[str, Any]], min_confidence: float, model_ran: bool
) -> dict[str, Any]:
    """The results section: figures at `min_confidence` and the threshold table."""
    results: dict[str, Any] = {
        "hunks": len(records),
        "hunks_with_more_to_come": sum(1 for r in records if r["remaining"]),
        "files": len({(r["source"], r["path"]) for r in records}),
        "min_confidence": min_confidence,
    }
    table: dict[str, list[dict[str, Any]]] = {}
    for predictor in PREDICTORS:
        scope = _scope(records, predictor, model_ran)
        if predictor == "model" and not model_ran:
            continue
        table[predictor] = [_row(scope, predictor, t) for t in THRESHOLDS]
        at_default = _row(scope, predictor, min_confidence)
        at_default.pop("threshold")
        timed = [
            r[predictor]["seconds"]
            for r in scope
            if predictor != "all" and r.get(predictor) is not None
        ]
        every = [
            p
            for r in scope
            for key in (("propagation", "model") if predictor == "all" else (predictor,))
            for p in (r.get(key) or {}).get("proposals", [])
        ]
        results[predictor] = {
            "hunks": len(scope),
            **at_default,
            "proposals": len(every),
            "proposals_adding_parse_errors": sum(p["adds_errors"] for p in every),
            "precision_all_alternatives": common.ratio(
                sum(p["correct"] for p in every if p["confidence"] >= min_confidence),
                sum(1 for p in every if p["confidence"] >= min_confidence),
            ),
        }
        if predictor != "all":
            results[predictor]["latency"] = common.latency_summary(timed)
    results["propagation_by_kind"] = by_kind(records, min_confidence)
    results["propagation_by_kind_thresholds"] = {
        kind: [{"threshold": t, **by_kind(records, t).get(kind, _NONE)} for t in THRESHOLDS]
        for kind in sorted({k for t in THRESHOLDS for k in by_kind(records, t)})
    }
    results["model_errors"] = sum(1 for r in records if (r.get("model") or {}).get("error"))
    results["recommended_min_confidence"] = recommend(table)
    results["thresholds"] = table
    return results


_NONE = {"shown": 0, "precision": None}


def by_kind(records: list[dict[str, Any]], min_confidence: float) -> dict[str, Any]:
    """Propagation's shown proposals per kind of change: how many, and how many correct."""
    kinds: dict[str, list[int]] = {}
    for record in records:
        hit = _shown(record, "propagation", min_confidence)
        if hit is not None:
            counts = kinds.setdefault(hit[1]["kind"], [0, 0])
            counts[0] += 1
            counts[1] += hit[1]["correct"]
    return {
        kind: {"shown": shown, "precision": common.ratio(correct, shown)}
        for kind, (shown, correct) in sorted(kinds.items())
    }


def recommend(
    table: dict[str, list[dict[str, Any]]], *, propagation: float = 0.8, every: float = 0.5
) -> float | None:
    """The lowest threshold that meets the targets: precision of propagation ≥ `propagation`
    and of all predictors together ≥ `every`, on at least `MIN_SHOWN` shown suggestions each.

    The lowest such threshold shows the most at that precision; None: none meets them.
    """
    rows = zip(table.get("propagation", []), table.get("all", []), strict=True)
    for ours, together in rows:
        if all(
            row["shown"] >= MIN_SHOWN and row["precision"] is not None and row["precision"] >= aim
            for row, aim in ((ours, propagation), (together, every))
        ):
            return float(ours["threshold"])
    return None


def _table(title: str, table: dict[str, list[dict[str, Any]]], recall: bool) -> list[str]:
    lines = ["", title]
    names = list(table)
    width = 30 if recall else 22
    lines.append("  threshold  " + "".join(f"{n:>{width}}" for n in names))
    for i, threshold in enumerate(THRESHOLDS):
        cells = []
        for name in names:
            row = table[name][i]
            precision = "n/a" if row["precision"] is None else f"{row['precision']:.3f}"
            cell = f"{precision:>14} / {row['shown']:>5}"
            if recall:
                cell += f" / {row['recall'] or 0:.3f}"
            cells.append(f"{cell:>{width}}")
        lines.append(f"  {threshold:>9.2f}  " + "".join(cells))
    return lines


def format_thresholds(
    table: dict[str, list[dict[str, Any]]], kinds: dict[str, list[dict[str, Any]]] | None = None
) -> str:
    """The threshold table (precision / shown / recall per predictor), then propagation's
    precision / shown per kind of change."""
    lines = _table("== precision / shown / recall per confidence threshold", table, True)
    if kinds:
        lines += _table("== propagation per kind: precision / shown", kinds, False)
    return "\n".join(lines)


def run(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    plot.require(args)
    sources = _files(args, settings)
    plan = _plan(sources, args.limit, args.seed)
    if not plan:
        raise SystemExit("pairline: no changed source files between the versions")
    records, resolved, model_status = asyncio.run(_replay(args, settings, plan))
    return report(args, settings, sources, records, resolved, model_status)


def report(
    args: argparse.Namespace,
    settings: Settings,
    sources: list[tuple[str, list[FilePair]]],
    records: list[dict[str, Any]],
    resolved: Any,
    model_status: str,
) -> dict[str, Any]:
    """The report of a run, written as nextedit.json (and nextedit.png) under `--out`."""
    min_confidence = (
        args.min_confidence if args.min_confidence is not None else default_min_confidence(settings)
    )
    model_ran = any(r.get("model") is not None for r in records)
    results = summarise(records, min_confidence, model_ran)
    results["model_path"] = model_status
    results["sources"] = {
        label: {
            "changed_files": len(files),
            "hunks_replayed": sum(1 for r in records if r["source"] == label),
        }
        for label, files in sources
    }
    data: dict[str, Any] = {
        "bench": "nextedit",
        "results": results,
        "settings": {
            "sources": [label for label, _ in sources],
            "limit": args.limit,
            "seed": args.seed,
            "model_sample": args.model_sample,
            "max_edits": args.max_edits,
            **common.settings_info(settings),
        },
        "machine": common.machine_info(resolved),
        "per_hunk": records,
    }
    title = f"nextedit: {len(sources)} version pairs, {len(records)} hunks (sources in the JSON)"
    return common.finish(
        data,
        args,
        "nextedit",
        lambda png: plot.threshold_figure(png, results["thresholds"], min_confidence, title),
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--packages",
        default=",".join(DEFAULT_PACKAGES),
        help="comma-separated NAME (a pinned pair), NAME==OLD..NEW or npm:NAME==OLD..NEW"
        f" (default {','.join(DEFAULT_PACKAGES)})",
    )
    parser.add_argument(
        "--pair",
        nargs=2,
        metavar=("OLD_DIR", "NEW_DIR"),
        help="two local folders (old and new version) instead of packages; offline",
    )
    parser.add_argument("--limit", type=int, default=0, help="hunks to replay (0: all)")
    parser.add_argument("--seed", type=int, default=0, help="file order and model sample")
    parser.add_argument(
        "--model-sample", type=int, default=40, help="hunks after which the model is asked"
    )
    parser.add_argument(
        "--model-path", dest="model", help="the model for the model path (as --model)"
    )
    parser.add_argument("--no-model", action="store_true", help="propagation only")
    parser.add_argument("--max-edits", type=int, default=3, help="alternatives asked for")
    parser.add_argument(
        "--min-confidence",
        type=float,
        help="threshold the headline figures use (default: the settings' next_edit level)",
    )


def main(args: argparse.Namespace, settings: Settings) -> int:
    report = run(args, common.measuring(settings))
    common.emit(report, args.json)
    if not args.json:
        results = report["results"]
        print(format_thresholds(results["thresholds"], results["propagation_by_kind_thresholds"]))
    return 0
