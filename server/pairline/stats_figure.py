"""The `pairline stats` figure: acceptance rate and latency per language (matplotlib, Agg).

matplotlib comes with the `bench` extra, not with pairline itself: `pyplot` raises
FigureUnavailable, whose message says how to install it, where it is missing. The benchmarks'
figures load it through `pyplot` too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pairline.engine.usage import Record

_MAX_LANGUAGES = 12  # the most shown ones; a long tail of rare languages is unreadable
INSTALL_HINT = "pip install 'pairline[bench]'"


class FigureUnavailable(RuntimeError):
    """A figure was asked for where matplotlib is not installed (it is not a core dependency)."""


def pyplot() -> Any:
    """matplotlib's pyplot on the headless Agg backend; FigureUnavailable without matplotlib."""
    try:
        import matplotlib
    except ImportError:
        raise FigureUnavailable(
            f"the figure needs matplotlib, which is not installed: {INSTALL_HINT}"
        ) from None
    matplotlib.use("Agg")  # no display needed: the command also runs over ssh and in CI
    import matplotlib.pyplot as plt

    return plt


def stats_figure(
    path: Path,
    groups: Mapping[str, Sequence[Record]],
    summaries: Mapping[str, Mapping[str, Any]],
) -> Path:
    """Bars of the acceptance rate (left) and latency box plots (right), one per language."""
    plt = pyplot()
    languages = list(groups)[:_MAX_LANGUAGES]
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.8))
    try:
        _acceptance(left, languages, summaries)
        _latency(right, languages, groups)
        for ax in (left, right):
            ax.grid(axis="y", alpha=0.3)
            ax.tick_params(axis="x", labelrotation=30)
        fig.suptitle("pairline: suggestions shown and accepted (local data only)")
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)
    return path


def _acceptance(ax: Any, languages: list[str], summaries: Mapping[str, Mapping[str, Any]]) -> None:
    rates = [100 * (summaries[lang]["acceptance_rate"] or 0.0) for lang in languages]
    bars = ax.bar(languages, rates, color="tab:green")
    for bar, lang in zip(bars, languages, strict=True):
        s = summaries[lang]
        ax.annotate(
            f"{s['accepted']}/{s['shown']}",
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            ha="center",
            va="bottom",
            fontsize=8,
        )
    ax.set_ylabel("accepted / shown (%)")
    ax.set_ylim(0, max([*rates, 10.0]) * 1.15)
    ax.set_title("acceptance rate per language")


def _latency(ax: Any, languages: list[str], groups: Mapping[str, Sequence[Record]]) -> None:
    # Two boxes per language: every answer, and the model's own (cache and typing-through
    # answers take ~0 ms and would hide how fast the model is). Whiskers at p5 and p95.
    width = 0.35
    for offset, color, label, sources in (
        (-width / 2, "tab:gray", "all answers", None),
        (width / 2, "tab:blue", "model only", ("model",)),
    ):
        series = [
            [
                r.event.latency_ms
                for r in groups[lang]
                if sources is None or r.event.source in sources
            ]
            for lang in languages
        ]
        kept = [(i, values) for i, values in enumerate(series) if values]
        if not kept:
            continue
        boxes = ax.boxplot(
            [values for _, values in kept],
            positions=[i + 1 + offset for i, _ in kept],
            widths=width * 0.9,
            whis=(5, 95),
            showfliers=False,
            patch_artist=True,
            manage_ticks=False,
        )
        for box in boxes["boxes"]:
            box.set(facecolor=color, alpha=0.5)
        boxes["boxes"][0].set_label(label)
    ax.set_xticks(range(1, len(languages) + 1), languages)
    ax.set_ylabel("latency (ms)")
    ax.set_title("latency per language (box: p25-p75, whiskers: p5-p95)")
    ax.set_ylim(0, ax.get_ylim()[1] * 1.2)  # headroom for the legend
    ax.legend(loc="upper right", ncols=2)
