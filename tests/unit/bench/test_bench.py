"""Benchmark building blocks that need no model: scoring, statistics, traces, task extraction."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pytest

from pairline import cli
from pairline.bench.harness import common, plot
from pairline.bench.harness.scoring import humaneval_program, run_passes
from pairline.bench.quality import crossfile, fix, infill
from pairline.bench.typist import startup, traces
from pairline.engine.core.percentile import percentile
from tests.conftest import FIXTURES

BENCH = FIXTURES / "bench"


def _tasks() -> list[dict[str, object]]:
    return infill.load_tasks(BENCH / "infill-sample.jsonl")


@pytest.mark.parametrize("index", [0, 1, 2])
def test_pass_at_1_canonical_solution_passes(index: int) -> None:
    task = _tasks()[index]
    assert infill.score(task, task["canonical_solution"].rstrip("\n"), 10.0)["passed"]


@pytest.mark.parametrize("index", [0, 1, 2])
def test_pass_at_1_empty_completion_fails(index: int) -> None:
    task = _tasks()[index]
    result = infill.score(task, "", 10.0)
    assert not result["passed"]
    assert not result["exact_match"]


def test_scoring_sandbox_has_no_network_and_a_timeout() -> None:
    assert not run_passes("import socket\nsocket.create_connection(('127.0.0.1', 9))\n")
    assert not run_passes("while True:\n    pass\n", timeout_s=1.0)
    assert run_passes(humaneval_program("x = 1\n", "", "", "def check(f):\n    pass\n", "x"))


def test_fix_scorer_both_ways() -> None:
    task = fix.load_tasks(BENCH / "fix-sample.jsonl")[0]
    assert fix.fixed_passes(task, task["canonical_solution"])
    assert not fix.fixed_passes(task, task["buggy_solution"])


def test_fix_check_arms_run_the_tests_or_only_the_examples(tmp_path: Path) -> None:
    task = {
        **fix.load_tasks(BENCH / "fix-sample.jsonl")[0],
        "example_test": "assert add(1, 1) == 2\n",
    }
    scripts = fix._check_files(task)
    assert "add(2, 3) == 5" in scripts["a"] and "check(add)" in scripts["a"]
    assert "add(2, 3)" not in scripts["b"] and "add(1, 1) == 2" in scripts["b"]
    text, start = fix.document(task)
    assert text.startswith(task["prompt"]) and start == 0  # the docstring is in the file
    args = argparse.Namespace(check=["a", "b"], candidates=[8, 16], small_edits=["off"])
    assert fix.arm_names(args) == ["single", "a_n8", "a_n16", "b_n8", "b_n16"]
    args = argparse.Namespace(check=["a"], candidates=[0, 8], small_edits=["on", "off"])
    # Small edits alone, then the model's candidates with and without them.
    assert fix.arm_names(args) == ["single", "a_n0+edits", "a_n8+edits", "a_n8"]


def test_statistics() -> None:
    assert percentile([], 50) is None
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.0  # nearest rank, as everywhere
    summary = common.latency_summary([0.1, 0.2, 0.3])
    assert summary["count"] == 3 and summary["p50_ms"] == 200.0
    assert common.edit_similarity("abc", "abc") == 1.0
    assert common.edit_similarity("", "abcd") == 0.0
    assert common.edit_similarity("abcd", "abed") == 0.75
    assert common.ratio(2.0, 4.0) == 0.5 and common.ratio(1.0, None) is None


def test_table_marks_unmeasured_values() -> None:
    report = {"bench": "x", "results": {"cache_share": None, "n": 3}, "machine": {"cores": 2}}
    table = common.format_table(report)
    assert "cache_share  n/a" in table and "cores  2" in table


def test_traces_are_deterministic_and_typeable() -> None:
    source = [BENCH / "source"]
    first = traces.build_traces(source, 4, seed=7)
    again = traces.build_traces(source, 4, seed=7)
    assert first == again and len(first) == 4
    assert {t.language for t in first} == {"python", "typescript"}
    for trace in first:
        lines = trace.text.split("\n")
        assert lines[trace.line] == " " * trace.column  # the line waits to be typed
        original = Path(trace.path).read_text().split("\n")[trace.line]
        assert original.strip() == trace.target
        assert len(trace.intervals) == len(trace.target) and min(trace.intervals) > 0


def test_startup_positions_cut_lines_partway_and_are_seeded() -> None:
    text = (FIXTURES / "bench" / "source" / "shapes.py").read_text(encoding="utf-8")
    lines = text.split("\n")
    first = startup.positions(text, "python", 4, seed=1)
    assert first == startup.positions(text, "python", 4, seed=1)
    assert len(first) == 4 and [p.line for p in first] == sorted(p.line for p in first)
    for position in first:
        cut = position.text.split("\n")
        head = cut[position.line]
        # Only the cursor line changed, and the removed text is exactly the rest of that line.
        assert cut[: position.line] == lines[: position.line]
        assert cut[position.line + 1 :] == lines[position.line + 1 :]
        assert (head + position.rest).rstrip() == lines[position.line].rstrip()
        assert position.character == len(head) and position.rest.strip()


def test_crossfile_tasks_use_sibling_imports() -> None:
    tasks = crossfile.build_tasks(BENCH / "crossfile", context_chars=1500)
    targets = {t.target for t in tasks}
    assert "area = circle_area(radius)" in targets
    assert "box = Box(width, height, depth)" in targets
    for task in tasks:
        assert task.path.endswith("report.py")
        assert task.text.split("\n")[task.line] == " " * task.column
        assert task.context.startswith("# Definitions imported")
        assert "# tinypkg/geometry.py: def circle_area(radius: float) -> float:" in task.context
        assert task.target not in task.context  # the answer itself is never given away


def test_infill_sampling_is_seeded(tmp_path: Path) -> None:
    data = tmp_path / "many.jsonl"
    record = _tasks()[0]
    data.write_text("".join(json.dumps({**record, "task_id": f"T/{i}"}) + "\n" for i in range(20)))
    tasks = infill.load_tasks(data)
    a = [t["task_id"] for t in infill.sample(tasks, 5, 1)]
    assert a == [t["task_id"] for t in infill.sample(tasks, 5, 1)]
    assert a != [t["task_id"] for t in infill.sample(tasks, 5, 2)]
    assert a == sorted(a, key=lambda t: int(str(t).split("/")[1]))


def test_without_matplotlib_a_bench_names_the_extra_before_it_measures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As after a plain `pip install pairline`: matplotlib comes only with the bench extra.
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    out = tmp_path / "out"
    data = str(BENCH / "infill-sample.jsonl")
    with pytest.raises(SystemExit, match=r"pip install 'pairline\[bench\]' \(or pass --no-plot\)"):
        cli.main(["bench", "infill", "--data", data, "--out", str(out)])
    assert not out.exists()  # refused before loading the model or writing anything
    plot.require(argparse.Namespace(no_plot=True))  # no figure asked for: nothing to refuse
    with pytest.raises(SystemExit, match="matplotlib, which is not installed"):
        plot.latency_figure(tmp_path / "x.png", {}, [], "title")
