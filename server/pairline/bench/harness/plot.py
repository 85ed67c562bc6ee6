"""PNG figures for the benchmarks (matplotlib, headless Agg backend).

matplotlib comes with the `bench` extra; `require` checks for it before a run measures
anything, so that a missing figure library costs seconds, not the run.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pairline.stats_figure import FigureUnavailable, pyplot


def _pyplot() -> Any:
    try:
        return pyplot()
    except FigureUnavailable as exc:
        raise SystemExit(f"pairline: {exc} (or pass --no-plot)") from None


def require(args: argparse.Namespace) -> None:
    """SystemExit saying how to install matplotlib where the run would draw without it."""
    if not args.no_plot:
        _pyplot()


def _save(plt: Any, fig: Any, path: Path) -> Path:
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _cdf(ax: Any, series: Mapping[str, Sequence[float]]) -> None:
    for label, seconds in series.items():
        if not seconds:
            continue
        xs = sorted(s * 1000 for s in seconds)
        ys = [(i + 1) / len(xs) for i in range(len(xs))]
        ax.step(xs, ys, where="post", label=f"{label} (n={len(xs)})")
    ax.set_xlabel("latency (ms)")
    ax.set_ylabel("share of requests")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")


def latency_figure(
    path: Path,
    series: Mapping[str, Sequence[float]],
    timeline: Sequence[Mapping[str, Any]],
    title: str,
    x_label: str = "keystroke",
) -> Path:
    """Latency CDF per series (left) and, per keystroke, what happened to its request (right)."""
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.8))
    _cdf(left, series)
    left.set_title("latency CDF (answered requests)")
    styles = {
        "accepted": ("tab:green", "o"),
        "shown": ("tab:blue", "o"),
        "empty": ("tab:gray", "."),
        "cancelled": ("tab:red", "x"),
    }
    for outcome, (color, marker) in styles.items():
        points = [
            (p["keystroke"], p["latency_ms"])
            for p in timeline
            if p["outcome"] == outcome and p["latency_ms"] is not None
        ]
        if points:
            xs, ys = zip(*points, strict=True)
            right.scatter(xs, ys, s=10, c=color, marker=marker, label=outcome)
    right.set_xlabel(x_label)
    right.set_ylabel("latency (ms); cancelled: time until cancel")
    right.set_title(f"per-{x_label} timeline")
    right.grid(alpha=0.3)
    right.legend(loc="upper right")
    fig.suptitle(title)
    return _save(plt, fig, path)


def quality_figure(
    path: Path,
    metrics: Mapping[str, Mapping[str, float | None]],
    latencies: Mapping[str, Sequence[float]],
    title: str,
) -> Path:
    """Grouped bars of quality metrics per arm (left) and their latency CDFs (right)."""
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.8))
    arms = list(metrics)
    names = sorted({name for values in metrics.values() for name in values})
    width = 0.8 / max(len(arms), 1)
    for i, arm in enumerate(arms):
        values = [metrics[arm].get(name) or 0.0 for name in names]
        xs = [j + i * width for j in range(len(names))]
        bars = left.bar(xs, values, width, label=arm)
        left.bar_label(bars, fmt="%.2f", fontsize=7)
    left.set_xticks([j + width * (len(arms) - 1) / 2 for j in range(len(names))], names)
    left.set_ylim(0, 1.05)
    left.legend(loc="upper left")
    left.set_title("quality")
    _cdf(right, latencies)
    right.set_title("latency CDF")
    fig.suptitle(title)
    return _save(plt, fig, path)


def threshold_figure(
    path: Path,
    table: Mapping[str, Sequence[Mapping[str, Any]]],
    chosen: float,
    title: str,
) -> Path:
    """Precision (left) and shown count (right) per confidence threshold, one line per series."""
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.8))
    for name, rows in table.items():
        xs = [row["threshold"] for row in rows if row["precision"] is not None]
        ys = [row["precision"] for row in rows if row["precision"] is not None]
        left.plot(xs, ys, marker="o", markersize=3, label=name)
        right.plot([row["threshold"] for row in rows], [row["shown"] for row in rows], label=name)
    for ax, label in ((left, "precision of shown suggestions"), (right, "suggestions shown")):
        ax.axvline(chosen, color="gray", linestyle="--", linewidth=1)
        ax.set_xlabel("minimum confidence")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend(loc="best")
    left.set_ylim(0, 1.02)
    fig.suptitle(title)
    return _save(plt, fig, path)


def arms_figure(path: Path, metrics: Mapping[str, Mapping[str, float | None]], title: str) -> Path:
    """One bar panel per metric, one bar per arm (the accept bench's ablation)."""
    plt = _pyplot()
    arms = list(metrics)
    names = list(dict.fromkeys(name for values in metrics.values() for name in values))
    fig, axes = plt.subplots(1, max(len(names), 1), figsize=(6.5 * max(len(names), 1), 4.8))
    axes = list(axes) if len(names) > 1 else [axes]
    for ax, name in zip(axes, names, strict=False):
        values = [metrics[arm].get(name) or 0.0 for arm in arms]
        colors = ["tab:orange" if arm == "peer" else "tab:blue" for arm in arms]
        bars = ax.bar(range(len(arms)), values, color=colors)
        ax.bar_label(bars, fmt="%.1f", fontsize=7)
        ax.set_xticks(range(len(arms)), arms, rotation=40, ha="right", fontsize=8)
        ax.set_title(name)
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle(title)
    return _save(plt, fig, path)
