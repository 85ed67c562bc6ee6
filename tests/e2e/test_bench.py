"""`pairline bench …` end to end on tiny samples with the real embedded model.

Each run checks that the report has its documented fields with sane values; benchmarks
measure speed, so nothing here asserts a timing.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES, ROOT

pytestmark = pytest.mark.model

BENCH = FIXTURES / "bench"


def bench(*args: str, out: Path, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pairline", "bench", *args, "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def report(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.returncode == 0, result.stderr[-3000:]
    data: dict[str, Any] = json.loads(result.stdout)
    machine = data["machine"]
    assert machine["cores"] >= 1 and machine["model"] == "gemma3-270m"
    assert machine["llama_cpp_python"] and machine["cpu"]
    assert data["settings"]["model"]["name"] == "gemma3-270m"
    for path in data["files"].values():
        assert Path(path).is_file()
    return data


def check_latency(summary: dict[str, Any], count: int) -> None:
    assert summary["count"] == count
    if count:
        assert 0 <= summary["p50_ms"] <= summary["p95_ms"] <= summary["p99_ms"]


def share(value: Any) -> None:
    assert value is None or 0.0 <= value <= 1.0


def test_infill(tmp_path: Path) -> None:
    data = report(
        bench("infill", "--data", str(BENCH / "infill-sample.jsonl"), "--json", out=tmp_path)
    )
    results = data["results"]
    assert results["tasks"] == 3 and results["line_level_tasks"] == 3
    assert sum(results["modes"].values()) == 3
    for arm in ("engine", "engine_first_line", "baseline"):
        for metric in ("exact_match", "edit_similarity", "pass_at_1"):
            share(results[arm][metric])
        assert 0 <= results[arm]["passed"] <= 3
        check_latency(results[arm]["latency"], 3)
    assert set(results["gain_over_baseline"]) == {"exact_match", "edit_similarity", "pass_at_1"}
    assert [t["task_id"] for t in data["per_task"]] == ["Sample/0/L1", "Sample/1/L2", "Sample/2/L2"]
    assert data["settings"]["seed"] == 0
    assert (tmp_path / "infill.png").read_bytes().startswith(b"\x89PNG")


def test_latency_with_raw_and_peer(tmp_path: Path) -> None:
    args = [
        "latency",
        "--source",
        str(BENCH / "source"),
        "--traces",
        "2",
        "--seed",
        "3",
        "--cps",
        "12",
        "--raw",
        "--json",
    ]
    peer = (
        importlib.util.find_spec("uvicorn") is not None
        and importlib.util.find_spec("llama_cpp.server") is not None
    )
    if peer:  # needs the [server] extra; CI's [test] install may not have it
        args += ["--peer", "auto"]
    data = report(bench(*args, out=tmp_path))
    r = data["results"]
    assert r["traces"] == 2 and r["keystrokes"] >= 2
    assert r["keystrokes"] == r["chars_total"] - r["chars_accepted"] + r["accepts"]
    assert r["requests"] == r["answered"] + r["cancelled"]
    assert r["requests"] + r["debounced_keystrokes"] == r["keystrokes"]
    assert r["answered"] >= 2  # at least the end of each trace gets its answer
    assert r["acceptable"] <= r["shown"] <= r["answered"]
    for key in ("cancelled_share", "acceptable_rate", "acceptable_per_answered"):
        share(r[key])
    # Attributed from the server's debug counters; null only where a server has none.
    share(r["cache_share"])
    share(r["typing_through_share"])
    if r["cache_share"] is not None:
        assert r["cache_share"] + r["typing_through_share"] <= 1.0
    assert r["chars_saved_per_100_keystrokes"] >= 0
    check_latency(r["latency"], r["answered"])
    raw = r["raw"]
    assert raw["requests"] <= r["answered"]
    check_latency(raw["latency"], raw["requests"])
    if raw["requests"]:
        assert raw["overhead_ratio_p50"] > 0
    if peer:
        assert r["peer"]["endpoint"] == "/v1/completions"
        assert r["peer"]["requests"] == r["answered"]
        assert r["peer"]["pairline_over_peer_p50"] > 0
    assert len(data["timeline"]) == r["requests"]
    assert {p["outcome"] for p in data["timeline"]} <= {"cancelled", "accepted", "shown", "empty"}
    assert (tmp_path / "latency.png").read_bytes().startswith(b"\x89PNG")


def test_accept_two_arms_on_local_code(tmp_path: Path) -> None:
    args = ["accept", "--source", str(BENCH / "source"), "--traces", "2", "--lines", "2"]
    args += ["--arms", "all,naive", "--cps", "12", "--json"]
    data = report(bench(*args, out=tmp_path))
    results = data["results"]
    assert results["traces"] == 2 and list(results["arms"]) == ["all", "naive"]
    targets = [t["target"] for t in data["trace_files"]]
    assert {t["path"] for t in data["trace_files"]} == {"shapes.py", "cart.ts"}
    for r in results["arms"].values():
        # The same traces for both arms: every character is either typed or accepted.
        assert r["target_chars"] == sum(map(len, targets))
        assert r["chars_typed"] + r["chars_accepted"] == r["target_chars"]
        assert r["keystrokes"] == r["typed_keys"] + r["accept_keys"] >= 2
        assert r["accepted_full"] + r["accepted_partial"] <= r["shown"] <= r["requests"]
        assert r["accept_keys"] >= r["accepted_full"] + r["accepted_partial"]
        assert r["cancelled"] <= r["requests"]
        share(r["accepted_share"])
        assert r["chars_saved_per_100_keystrokes"] >= 0
        check_latency(r["latency_shown"], r["shown"])
    assert data["settings"]["arms"]["naive"]["completion.postprocess"] is False
    assert (
        "all_minus_all" not in results["comparison"] and "naive_minus_all" in results["comparison"]
    )
    assert (tmp_path / "accept.png").read_bytes().startswith(b"\x89PNG")


def test_crossfile_offline_tree(tmp_path: Path) -> None:
    data = report(
        bench(
            "crossfile",
            "--from-dir",
            str(BENCH / "crossfile"),
            "-n",
            "3",
            "--automatic",
            "--json",
            out=tmp_path,
        )
    )
    assert data["settings"]["automatic"] is True
    r = data["results"]
    assert r["package"] == "crossfile" and r["tasks"] == 3 and r["tasks_found"] >= 3
    assert r["tasks_with_context"] == 3
    for arm in ("without_context", "with_context", "pairline_context"):
        share(r[arm]["exact_match"])
        share(r[arm]["edit_similarity"])
        check_latency(r[arm]["latency"], 3)
    assert set(r["gain"]) == {"exact_match", "edit_similarity"}
    assert set(r["pairline_gain"]) == {"exact_match", "edit_similarity"}
    assert (tmp_path / "crossfile-crossfile.json").is_file()


def test_fix_single_shot_and_loop(tmp_path: Path) -> None:
    args = ["--rounds", "1", "--candidates", "2", "--check", "a", "--budget", "30", "--json"]
    args += ["--small-edits", "off", "on"]
    result = bench("fix", "--data", str(BENCH / "fix-sample.jsonl"), *args, out=tmp_path)
    if result.returncode == 2:  # a build without the fix engine must say so, not fail silently
        assert "not available" in result.stderr and result.stdout == ""
        return
    r = report(result)["results"]
    assert r["tasks"] == 1 and r["model"] == "gemma3-270m"
    for arm in ("single", "a_n2", "a_n2+edits"):
        share(r[arm]["fix_rate"])
        assert r[arm]["errors"] == 0
        assert r[arm]["verified"] <= 1 and r[arm]["seconds_per_task"]["count"] == 1
    assert 1 <= r["a_n2"]["candidates_generated"] <= 2
    assert r["a_n2"]["edits_checked"] == 0 and r["a_n2+edits"]["edits_checked"] >= 1
    # The check is the task's own test: a verified fix is a passing one.
    for arm in ("a_n2", "a_n2+edits"):
        assert r[arm]["passed"] == r[arm]["verified"]


def test_startup(tmp_path: Path) -> None:
    source = BENCH / "source" / "shapes.py"
    args = ["startup", "--file", str(source), "--positions", "3", "--runs", "1", "--json"]
    data = report(bench(*args, out=tmp_path))
    r = data["results"]
    assert r["file"] == str(source) and r["runs"] == 1 and r["positions_per_run"] == 3
    # Milestones in the order a user meets them: answered, loaded, first suggestion back.
    assert 0 < r["initialize_ms"] <= r["model_ready_ms"] <= r["first_completion_ms"]
    check_latency(r["completion"], 3)
    assert r["acceptable"] <= r["shown"] <= 3
    share(r["acceptable_rate"])
    assert r["rss_mb"] > 0 and r["rss_loaded_mb"] > 0  # read from /proc with the model loaded
    # Split by kind; the model file is mapped, so part of the RSS is its pages.
    m = r["memory"]
    assert m["model_file_mb"] > 0 and m["anonymous_mb"] > 0 and m["rss_mb"] > 0
    assert isinstance(m["large_anonymous"], list)
    assert len(r["per_run"]) == 1
    assert (tmp_path / "startup.png").read_bytes().startswith(b"\x89PNG")


def test_bench_data_missing_is_an_error(tmp_path: Path) -> None:
    result = bench("infill", "--data", str(tmp_path / "nope.jsonl.gz"), out=tmp_path)
    assert result.returncode != 0 and "no such data file" in result.stderr


# Two "releases" of a tiny package: a parameter renamed through a function, then an argument
# added to each call of a helper, with unchanged lines between the hunks.
NEXTEDIT_OLD = '''def area(width, height):
    """The area."""
    scale = 1
    size = width * height
    return size * scale


def report(items):
    first = render(items[0])
    second = render(items[1])
    return first + second
'''
NEXTEDIT_NEW = '''def area(w, height):
    """The area."""
    scale = 1
    size = w * height
    return size * scale


def report(items):
    first = render(items[0], strict=True)
    second = render(items[1], strict=True)
    return first + second
'''


def test_nextedit_on_a_local_pair(tmp_path: Path) -> None:
    for version, text in (("old", NEXTEDIT_OLD), ("new", NEXTEDIT_NEW)):
        (tmp_path / version / "pkg").mkdir(parents=True)
        (tmp_path / version / "pkg" / "shapes.py").write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    args = ["nextedit", "--pair", str(tmp_path / "old"), str(tmp_path / "new")]
    data = report(bench(*args, "--model-sample", "2", "--seed", "1", "--json", out=out))
    r = data["results"]
    assert r["files"] == 1 and r["hunks"] == len(data["per_hunk"]) >= 2
    assert r["hunks_with_more_to_come"] == r["hunks"] - 1
    assert r["sources"] == {"old..new": {"changed_files": 1, "hunks_replayed": r["hunks"]}}
    assert r["model_path"] == "on"
    for predictor in ("propagation", "model", "all"):
        figures = r[predictor]
        assert 0 <= figures["correct"] <= figures["shown"] <= figures["hunks"]
        for key in ("precision", "recall", "propagation_share", "precision_all_alternatives"):
            share(figures[key])
        assert figures["adds_parse_errors"] <= figures["proposals_adding_parse_errors"]
        rows = r["thresholds"][predictor]
        assert [row["threshold"] for row in rows] == sorted(row["threshold"] for row in rows)
        # A higher bar never shows more.
        assert all(a["shown"] >= b["shown"] for a, b in itertools.pairwise(rows))
    check_latency(r["propagation"]["latency"], r["hunks"])
    check_latency(r["model"]["latency"], 2)
    assert r["model"]["hunks"] == r["all"]["hunks"] == 2
    for record in data["per_hunk"]:
        for proposal in (record["propagation"] or {}).get("proposals", []):
            assert set(proposal) >= {"confidence", "kind", "correct", "adds_errors"}
    assert (out / "nextedit.png").read_bytes().startswith(b"\x89PNG")
    assert json.loads((out / "nextedit.json").read_text())["bench"] == "nextedit"
