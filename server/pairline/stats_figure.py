"""The `pairline stats` figure: acceptance rate and latency per language (matplotlib, Agg)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pairline.engine.usage import Record

_MAX_LANGUAGES = 12  # the most shown ones; a long tail of rare languages is unreadable


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # no display needed: the command also runs over ssh and in CI
    import matplotlib.pyplot as plt

    return plt


def stats_figure(
    path: Path,
    groups: Mapping[str, Sequence[Record]],
    summaries: Mapping[str, Mapping[str, Any]],
) -> Path:
    """Bars of the acceptance rate (left) and latency box plots (right), one per language."""
    plt = _pyplot()
    languages = list(groups)[:_MAX_LANGUAGES]
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.8))
    try:
        rates = [100 * (summaries[lang]["acceptance_rate"] or 0.0) for lang in languages]
        bars = left.bar(languages, rates, color="tab:green")
        for bar, lang in zip(bars, languages, strict=True):
            s = summaries[lang]
            left.annotate(
                f"{s['accepted']}/{s['shown']}",
                (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                ha="center",
                va="bottom",
                fontsize=8,
            )
        left.set_ylabel("accepted / shown (%)")
        left.set_ylim(0, max([*rates, 10.0]) * 1.15)
        left.set_title("acceptance rate per language")
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
            boxes = right.boxplot(
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
        right.set_xticks(range(1, len(languages) + 1), languages)
        right.set_ylabel("latency (ms)")
        right.set_title("latency per language (box: p25-p75, whiskers: p5-p95)")
        right.set_ylim(0, right.get_ylim()[1] * 1.2)  # headroom for the legend
        right.legend(loc="upper right", ncols=2)
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
