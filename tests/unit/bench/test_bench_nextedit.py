"""The next-edit bench's replay of line hunks and its judge of proposals (no model, no network)."""

from __future__ import annotations

import itertools
from pathlib import Path

from pairline.bench.nextedit.releases import _plan, recommend, summarise
from pairline.bench.nextedit.replay import judge, normalise, replay
from pairline.bench.nextedit.sources import changed_files, parse_spec

OLD = "def f(count):\n    return count\n\n\nx = f(1)\ny = f(2)\n"
NEW = "def f(total):\n    return total\n\n\nx = f(1, strict=True)\ny = f(2, strict=True)\n"


def test_replay_applies_hunks_in_order_and_tracks_those_to_come() -> None:
    steps = list(replay(OLD, NEW))
    assert steps[0].before == OLD
    assert steps[-1].after == NEW
    for earlier, later in itertools.pairwise(steps):
        assert later.before == earlier.after
    first = steps[0]
    assert [r.index for r in first.remaining] == list(range(1, len(steps)))
    lines = first.after.splitlines(keepends=True)
    for remaining in first.remaining:  # each still-to-come hunk applies to the current text
        target = "".join([*lines[: remaining.start], *remaining.lines, *lines[remaining.end :]])
        assert target != first.after
    assert steps[-1].remaining == ()


def _offset(text: str, needle: str, nth: int = 0) -> int:
    at = -1
    for _ in range(nth + 1):
        at = text.index(needle, at + 1)
    return at


def test_judge_accepts_a_whole_hunk_and_a_complete_line_of_one() -> None:
    text = "a = f(1)\nb = f(2)\nc = 3\n"
    target = "a = f(1, z)\nb = f(2, z)\nc = 3\n"
    step = next(iter(replay("x\nkeep\n" + text, "y\nkeep\n" + target)))  # x → y, then the rest
    (rest,) = step.remaining
    current = step.after
    at = current.index("f(1)") + 3
    # Line one of the two-line hunk, complete: a correct part.
    verdict = judge(current, at, at, ", z", step.remaining)
    assert verdict.correct and verdict.how == "part" and verdict.hunk == rest.index
    # Both lines at once: the whole hunk.
    second = current.index("f(2)") + 3
    both = ", z" + current[at:second] + ", z"
    assert judge(current, at, second, both, step.remaining).how == "whole"
    # Whitespace and a trailing comma are formatting, not the edit.
    assert judge(current, at, at, " ,  z,", step.remaining).correct
    # A different argument, a change outside the hunk, or only whitespace: wrong.
    assert not judge(current, at, at, ", w", step.remaining).correct
    three = current.index("3")
    assert not judge(current, three, three + 1, "4", step.remaining).correct
    assert not judge(current, at, at, "  ", step.remaining).correct


def test_judge_rejects_a_line_left_half_done() -> None:
    old = "x\nkeep\nn = count + count\n"
    new = "y\nkeep\nn = total + total\n"
    step = next(iter(replay(old, new)))
    current = step.after
    at = current.index("count")
    assert not judge(current, at, at + 5, "total", step.remaining).correct
    both = current.index("count", at + 1)
    assert judge(current, at, both + 5, "total + total", step.remaining).correct


def test_normalise_drops_whitespace_and_trailing_commas() -> None:
    assert normalise("f(\n    a,\n    b,\n)") == normalise("f(a, b)")
    assert normalise("[1, 2]") != normalise("[1, 3]")


def test_changed_files_and_plan(tmp_path: Path) -> None:
    for version, text in (("old", OLD), ("new", NEW)):
        (tmp_path / version / "pkg").mkdir(parents=True)
        (tmp_path / version / "pkg" / "mod.py").write_text(text, encoding="utf-8")
        (tmp_path / version / "pkg" / "same.py").write_text("x = 1\n", encoding="utf-8")
        (tmp_path / version / "notes.txt").write_text(version, encoding="utf-8")
    files = changed_files("t", tmp_path / "old", tmp_path / "new")
    assert [(f.path, f.language) for f in files] == [("pkg/mod.py", "python")]
    plan = _plan([("t", files)], limit=2, seed=0)
    assert [(pair.path, take) for pair, take in plan] == [("pkg/mod.py", 2)]


def test_parse_spec() -> None:
    assert parse_spec("click==8.1.3..8.1.7") == ("click", "pypi", "8.1.3", "8.1.7")
    assert parse_spec("npm:semver==7.5.4..7.6.0") == ("semver", "npm", "7.5.4", "7.6.0")
    assert parse_spec("attrs")[0] == "attrs"


def _record(remaining: int, *proposals: tuple[float, bool]) -> dict[str, object]:
    return {
        "source": "s",
        "path": "p",
        "remaining": remaining,
        "propagation": {
            "seconds": 0.001,
            "proposals": [
                {"confidence": c, "correct": ok, "adds_errors": False, "kind": "rename"}
                for c, ok in proposals
            ],
        },
        "model": None,
    }


def test_summary_counts_the_best_proposal_above_the_threshold() -> None:
    records = [_record(2, (0.9, True), (0.6, False)), _record(1, (0.6, False)), _record(0)]
    results = summarise(records, 0.5, model_ran=False)  # type: ignore[arg-type]
    prop = results["propagation"]
    assert (prop["shown"], prop["correct"], prop["recall"]) == (2, 1, 0.5)
    assert prop["precision_all_alternatives"] == round(1 / 3, 3)
    rows = results["thresholds"]["propagation"]
    assert next(r for r in rows if r["threshold"] == 0.7)["precision"] == 1.0
    assert recommend(results["thresholds"]) is None  # too few shown to say
    many = [_record(1, (0.9, True))] * 6 + [_record(1, (0.6, False))] * 6
    assert recommend(summarise(many, 0.5, model_ran=False)["thresholds"]) == 0.65  # type: ignore[arg-type]
    assert results["propagation_by_kind"] == {"rename": {"shown": 2, "precision": 0.5}}
    by_threshold = {r["threshold"]: r for r in results["propagation_by_kind_thresholds"]["rename"]}
    assert by_threshold[0.5] == {"threshold": 0.5, "shown": 2, "precision": 0.5}
    assert by_threshold[0.95] == {"threshold": 0.95, "shown": 0, "precision": None}
