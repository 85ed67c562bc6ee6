"""`pairline stats`: how inline suggestions fare per language, from the local usage log.

Reads what the server recorded (pairline.engine.usage) and prints, per language: suggestions
shown and accepted, the acceptance rate, latency percentiles (all answers and model-only),
the share answered from the cache or by typing-through, and the characters accepted; also as
JSON, and as a PNG (pairline.stats_figure); next-edit suggestions get a summary of their own.
The data never leaves the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pairline.engine.core.config import Settings
from pairline.engine.core.percentile import percentile
from pairline.engine.usage import Record, UsageLogError, log_path, read_records

ALL = "all"
LOCAL_ONLY = "local only: recorded on this machine, never sent anywhere"
PNG_NAME = "stats.png"
NEXT_EDIT = "nextedit"  # the usage log's surface of next-edit suggestions


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def summarize(records: Sequence[Record]) -> dict[str, Any]:
    """The numbers of one group of records (one language, or all)."""
    shown = len(records)
    accepted = sum(r.accepted for r in records)
    latencies = [r.event.latency_ms for r in records]
    model = [r.event.latency_ms for r in records if r.event.source == "model"]
    return {
        "shown": shown,
        "accepted": accepted,
        "acceptance_rate": _share(accepted, shown),
        "latency_ms": {"p50": percentile(latencies, 50), "p95": percentile(latencies, 95)},
        "model_latency_ms": {"p50": percentile(model, 50), "p95": percentile(model, 95)},
        "cache_share": _share(sum(r.event.source == "cache" for r in records), shown),
        "typing_share": _share(sum(r.event.source == "typing" for r in records), shown),
        "chars_accepted": sum(r.accepted_chars for r in records),
    }


def summarize_next_edits(records: Sequence[Record]) -> dict[str, Any]:
    """The numbers of next-edit suggestions (surface "nextedit"): shown, accepted, sources."""
    shown = len(records)
    accepted = sum(r.accepted for r in records)
    latencies = [r.event.latency_ms for r in records]
    return {
        "shown": shown,
        "accepted": accepted,
        "acceptance_rate": _share(accepted, shown),
        "latency_ms": {"p50": percentile(latencies, 50), "p95": percentile(latencies, 95)},
        "propagation_share": _share(sum(r.event.source == "propagation" for r in records), shown),
    }


def by_language(records: Sequence[Record]) -> dict[str, list[Record]]:
    """Records grouped by language id, the most shown first."""
    groups: dict[str, list[Record]] = {}
    for record in records:
        groups.setdefault(record.event.language, []).append(record)
    return dict(sorted(groups.items(), key=lambda item: (-len(item[1]), item[0])))


def aggregate(records: Sequence[Record]) -> dict[str, dict[str, Any]]:
    """Per-language summaries, then one for all languages together under "all"."""
    out = {language: summarize(group) for language, group in by_language(records).items()}
    out[ALL] = summarize(records)
    return out


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def table(summaries: dict[str, dict[str, Any]]) -> str:
    """A plain-text table, one row per language and a last row for all of them."""
    header = [
        "language",
        "shown",
        "accepted",
        "rate",
        "p50 ms",
        "p95 ms",
        "model p50",
        "model p95",
        "cache",
        "typing",
        "chars accepted",
    ]
    rows = [header]
    for language, s in summaries.items():
        rows.append(
            [
                language,
                str(s["shown"]),
                str(s["accepted"]),
                _pct(s["acceptance_rate"]),
                _ms(s["latency_ms"]["p50"]),
                _ms(s["latency_ms"]["p95"]),
                _ms(s["model_latency_ms"]["p50"]),
                _ms(s["model_latency_ms"]["p95"]),
                _pct(s["cache_share"]),
                _pct(s["typing_share"]),
                str(s["chars_accepted"]),
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]

    def line(row: list[str]) -> str:
        cells = [row[0].ljust(widths[0])]
        cells += [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * w for w in widths)
    body = [line(r) for r in rows[1:]]
    # The "all" row comes last, under a rule of its own.
    return "\n".join([line(header), rule, *body[:-1], rule, body[-1]])


def _next_edit_line(s: dict[str, Any]) -> str:
    return (
        f"next edits: {s['shown']} shown, {s['accepted']} accepted "
        f"({_pct(s['acceptance_rate'])}), {_pct(s['propagation_share'])} by propagation, "
        f"p50 {_ms(s['latency_ms']['p50'])} ms, p95 {_ms(s['latency_ms']['p95'])} ms"
    )


def _png_path(args: argparse.Namespace, settings: Settings) -> Path:
    if args.png:
        return Path(args.png)
    cache = settings.cache_path
    # Beside the log when the cache dir can take it, else in the current directory.
    writable = cache.is_dir() and os.access(cache, os.W_OK)
    return cache / PNG_NAME if writable else Path.cwd() / PNG_NAME


def _figure(
    target: Path, records: Sequence[Record], summaries: dict[str, dict[str, Any]]
) -> Path | None:
    """The PNG written to `target`, or None (with the reason on stderr) where it cannot be."""
    from pairline.stats_figure import FigureUnavailable, stats_figure

    try:
        return stats_figure(target, by_language(records), summaries)
    except FigureUnavailable as exc:
        # The table is what the command is for: the figure is skipped, not the report.
        print(f"pairline: {exc} (or pass --no-png)", file=sys.stderr)
    except OSError as exc:
        print(f"pairline: could not write {target}: {exc}", file=sys.stderr)
    return None


def run(args: argparse.Namespace, settings: Settings) -> int:
    """`pairline stats`: print the table (or JSON) and write the PNG; 0 unless unreadable."""
    path = log_path(settings.cache_path)
    since = time.time() - args.days * 86400 if args.days is not None else None
    window = f"the last {args.days:g} days" if args.days is not None else "all kept days"
    try:
        records = read_records(path, since)
    except UsageLogError as exc:
        print(f"pairline: {exc}", file=sys.stderr)
        return 1
    # Next-edit suggestions are counted apart: they are not completions at the cursor.
    next_edits = summarize_next_edits([r for r in records if r.event.surface == NEXT_EDIT])
    records = [r for r in records if r.event.surface != NEXT_EDIT]
    notes = (
        [] if settings.completion.record_stats else ["recording is off (completion.record_stats)"]
    )
    if not records:
        when = " in " + window if args.days is not None else " yet"
        message = f"no completions recorded{when} (looked in {path})"
        if args.json:
            report = {"log": str(path), "days": args.days, "languages": {}, "message": message}
            report |= {"next_edits": next_edits, "local_only": True, "notes": notes}
            print(json.dumps(report, indent=2))
        else:
            print(f"pairline stats: {message}")
            if next_edits["shown"]:
                print(f"pairline stats: {_next_edit_line(next_edits)}")
            for note in notes:
                print(f"pairline stats: {note}")
            print(f"pairline stats: {LOCAL_ONLY}")
        return 0
    summaries = aggregate(records)
    png = None if args.no_png else _figure(_png_path(args, settings), records, summaries)
    if args.json:
        report = {
            "log": str(path),
            "days": args.days,
            "local_only": True,
            "notes": notes,
            "png": str(png) if png else None,
            "languages": {k: v for k, v in summaries.items() if k != ALL},
            "total": summaries[ALL],
            "next_edits": next_edits,
        }
        print(json.dumps(report, indent=2))
        return 0
    print(f"pairline stats: {len(records)} suggestions over {window}, from {path}")
    print(f"({LOCAL_ONLY})")
    print()
    print(table(summaries))
    print()
    print("rate: accepted / shown; every suggestion returned counts as shown, typing-through")
    print("re-shows included. model p50/p95: answers the model generated (no cache, no typing).")
    if next_edits["shown"]:
        print(_next_edit_line(next_edits))
    for note in notes:
        print(f"note: {note}")
    if png:
        print(f"figure: {png}")
    return 0
