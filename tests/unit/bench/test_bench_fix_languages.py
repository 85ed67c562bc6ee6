"""`bench fix --language js|rust`: each task as a user's project, run by the real tool."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from pairline.bench.quality import fix, fix_languages, fix_project
from pairline.engine.checks import detect
from pairline.engine.core.config import ActionsConfig

needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
needs_cargo = pytest.mark.skipif(shutil.which("cargo") is None, reason="cargo is not installed")

# Shaped like a HumanEvalPack record: console.assert of ===, of JSON.stringify pairs, of `==`
# and of `<`; setup a later case reads; a case that is a loop.
JS_TASK: dict[str, Any] = {
    "task_id": "JavaScript/900",
    "entry_point": "countUp",
    "prompt": "/* The numbers below n, ascending.\n  >>> countUp(2)\n  [0, 1]\n  */\n"
    "const countUp = (n) => {\n",
    "declaration": "\nconst countUp = (n) => {\n",
    "buggy_solution": "  // from zero\n  const out = [];\n  for (let i = 0; i < n - 1; i++) {\n"
    "    out.push(i);\n  }\n  return out;\n}\n\n",
    "canonical_solution": "  // from zero\n  const out = [];\n  for (let i = 0; i < n; i++) {\n"
    "    out.push(i);\n  }\n  return out;\n}\n\n",
    "test": "const testCountUp = () => {\n  console.assert(countUp(0).length === 0)\n"
    "  console.assert(\n    JSON.stringify(countUp(1)) === JSON.stringify([0])\n  )\n"
    "  const xs = [2, 3]\n  console.assert(countUp(xs[0])[1] === 1)\n"
    "  for (const k of xs) {\n    console.assert(countUp(k).length == k)\n  }\n"
    "  console.assert(countUp(4).length < 5)\n}\n\ntestCountUp()\n",
}

RUST_TASK: dict[str, Any] = {
    "task_id": "Rust/900",
    "entry_point": "count_up",
    "prompt": "fn main(){}\n\nuse std::collections::HashMap;\nuse rand::Rng;\nuse md5;\n\n"
    "/*\n The numbers below n, ascending.\n*/\nfn count_up(n: i32) -> Vec<i32> {\n",
    "declaration": "\nuse std::collections::HashMap;\nuse rand::Rng;\nuse md5;\n\n"
    "fn count_up(n: i32) -> Vec<i32> {\n",
    "buggy_solution": "\n    // from zero\n    (0..n - 1).collect()\n}\n",
    "canonical_solution": "\n    // from zero\n    (0..n).collect()\n}\n",
    "test": "\n#[cfg(test)]\nmod tests {\n    use super::*;\n\n    #[test]\n"
    "    fn test_count_up() {\n        assert_eq!(count_up(0), vec![]);\n"
    "        assert_eq!(count_up(1), vec![0]);\n        let xs = vec![2, 3];\n"
    "        assert_eq!(count_up(xs[0]), vec![0, 1]);\n        for k in xs {\n"
    "            assert!(count_up(k).len() == k as usize);\n        }\n    }\n\n}\n",
}

# What a fix that passes every case and keeps the comments is judged.
FIXED = {"passed": True, "visible": True, "hidden": True, "docstring_lost": False}


def _project(language: str, task: dict[str, Any], tmp: Path) -> fix_project.Project:
    return fix_languages.project(language, task, tmp / "scratch")


def test_js_console_asserts_become_assertions_that_fail() -> None:
    project = _project("js", JS_TASK, Path("/nonexistent"))
    split = project.split
    assert [is_case for is_case, _ in split.body] == [True, True, False, True, True, True]
    assert split.visible == (0, 3, 5) and split.hidden == (1, 4)
    text = project.test_file(split.visible)
    assert "console.assert" not in text
    assert "assert.strictEqual(countUp(0).length, 0)" in text
    assert "assert.strictEqual(countUp(xs[0])[1], 1)" in text
    assert "assert.ok(countUp(4).length < 5)" in text
    assert "test('case 1'" in text and "test('case 3'" in text and "test('case 5'" in text
    assert "case 2" not in text and "case 4" not in text
    case3 = text.split("test('case 3'")[1]
    assert case3.index("const xs = [2, 3]") < case3.index("xs[0]")  # setup comes with it
    hidden = project.test_file(split.hidden)
    assert "assert.deepStrictEqual(countUp(1), [0])" in hidden
    assert "assert.equal(countUp(k).length, k)" in hidden  # inside the loop, `==` kept loose
    assert "testCountUp()" not in text + hidden  # the call of the test function is dropped
    assert project.text.endswith("module.exports = { countUp };\n")
    start, end, name = project.region()
    lines = project.text.split("\n")
    assert lines[start].startswith("const countUp") and lines[end - 1] == "}"
    assert name == "countUp"
    # A record whose entry point is not the name it declares: the declared function counts.
    renamed = _project("js", {**JS_TASK, "entry_point": "countup"}, Path("/nonexistent"))
    assert renamed.text.endswith("module.exports = { countUp };\n")
    assert renamed.region() == (start, end, "countUp")


def _node_test(root: Path) -> int:
    return subprocess.run(
        ["node", "--test", "solution.test.js"], cwd=root, capture_output=True, timeout=60
    ).returncode


@needs_node
def test_js_project_runs_under_node_and_the_engine_finds_the_check(tmp_path: Path) -> None:
    project = _project("js", JS_TASK, tmp_path)
    good, bad = tmp_path / "good", tmp_path / "bad"
    good.mkdir()
    bad.mkdir()
    project.write(good, project.module_text(JS_TASK["canonical_solution"]))
    project.write(bad)
    assert _node_test(good) == 0
    assert _node_test(bad) != 0  # case 3 fails on the bug
    found = detect.check_for(ActionsConfig(trusted=True), bad, "solution.js", "javascript")
    assert found is not None and found.tool == "node"
    assert found.label == "node --test solution.test.js"


@needs_node
def test_js_judge_scores_each_half_and_lost_comments(tmp_path: Path) -> None:
    project = _project("js", JS_TASK, tmp_path)
    assert project.prepare() is None and not project.hanging
    fixed = project.module_text(JS_TASK["canonical_solution"])
    assert project.judge(fixed, True) == FIXED
    assert project.judge(project.text, False)["visible"] is False
    assert project.judge(None, False)["passed"] is False
    assert project.judge(fixed.replace("  // from zero\n", ""), True)["docstring_lost"]


@needs_node
def test_js_hangs_is_a_timeout_and_a_failing_reference_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fix_project, "HANG_S", 2.0)
    looping = {**JS_TASK, "buggy_solution": "  while (true) {}\n}\n"}
    project = _project("js", looping, tmp_path)
    assert project.prepare() is None and project.hanging
    wrong = {**JS_TASK, "canonical_solution": JS_TASK["buggy_solution"]}
    assert "canonical" in (_project("js", wrong, tmp_path).prepare() or "")


def test_rust_module_leaves_out_main_and_unused_crates() -> None:
    project = _project("rust", RUST_TASK, Path("/nonexistent"))
    assert project.skipped is None
    text = project.text
    assert "fn main" not in text and "rand" not in text and "md5" not in text
    assert text.startswith("use std::collections::HashMap;\n")
    assert "pub fn count_up(n: i32)" in text and text.endswith("#[cfg(test)]\nmod tests;\n")
    start, end, _ = project.region()
    lines = text.split("\n")
    assert lines[start].startswith("pub fn count_up") and lines[end - 1] == "}"
    renamed = _project("rust", {**RUST_TASK, "entry_point": "count"}, Path("/nonexistent"))
    assert renamed.text == text and renamed.region() == (start, end, "count_up")
    tests = project.test_file(project.split.visible)
    assert tests.startswith("use super::*;\n")
    assert "fn case_1()" in tests and "fn case_3()" in tests and "case_2" not in tests
    case3 = tests.split("fn case_3()")[1]
    assert case3.index("let xs = vec![2, 3];") < case3.index("count_up(xs[0])")
    uses_rand = {**RUST_TASK, "test": RUST_TASK["test"].replace("vec![2, 3]", "rand::random()")}
    assert "rand" in (_project("rust", uses_rand, Path("/nonexistent")).skipped or "")


@needs_cargo
def test_rust_crate_runs_under_cargo_and_the_engine_finds_the_check(tmp_path: Path) -> None:
    project = _project("rust", RUST_TASK, tmp_path)
    root = tmp_path / "crate"
    root.mkdir()
    project.write(root)
    env = {**os.environ, "CARGO_TARGET_DIR": str(tmp_path / "scratch" / "target")}
    bad = subprocess.run(
        ["cargo", "test", "--offline", "--quiet"], cwd=root, env=env, capture_output=True
    )
    assert bad.returncode != 0 and b"panicked" in bad.stdout + bad.stderr  # built, case 3 fails
    found = detect.check_for(ActionsConfig(trusted=True), root, "src/lib.rs", "rust")
    assert found is not None and found.tool == "cargo" and found.label == "cargo test"
    # The canonical solution passes both halves, each in the task's scratch copy.
    fixed = project.module_text(RUST_TASK["canonical_solution"])
    assert project.judge(fixed, True) == FIXED


def test_other_languages_run_arm_p_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fix_languages.shutil, "which", lambda tool: None)
    assert "not installed" in (fix_languages.refused("go", None) or "")
    assert "not installed" in (fix_languages.refused("rust", ["p"]) or "")
    monkeypatch.setattr(fix_languages.shutil, "which", lambda tool: f"/usr/bin/{tool}")
    assert fix_languages.refused("python", ["a", "b"]) is None
    assert fix_languages.refused("js", None) is None
    assert fix_languages.refused("js", ["p"]) is None
    assert "--check p" in (fix_languages.refused("rust", ["a", "p"]) or "")
    args = argparse.Namespace(language="js", check=["p"], p_loop={"candidates": [4]})
    args.small_edits = ["on"]
    assert fix.arm_names(args) == ["p_n4+edits"]  # no single arm
