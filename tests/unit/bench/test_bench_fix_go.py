"""`bench fix --language go`: each task as a user's Go module, run by the real `go test`."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from pairline.bench.quality import fix_languages
from pairline.engine.checks import detect
from pairline.engine.core.config import ActionsConfig

needs_go = pytest.mark.skipif(shutil.which("go") is None, reason="go is not installed")

# Shaped like a HumanEvalPack Go record: testify's assert, a helper closure the setup declares
# that only one case uses, and a package (`math`) only one case names.
GO_TASK: dict[str, Any] = {
    "task_id": "Go/900",
    "entry_point": "CountUp",
    "prompt": "\n// The numbers below n, ascending.\n// >>> CountUp(2)\n// [0, 1]\n"
    "func CountUp(n int) []int {\n",
    "declaration": "\nfunc CountUp(n int) []int {\n",
    "import": "",
    "buggy_solution": "    // from zero\n    out := make([]int, 0)\n"
    "    for i := 0; i < n-1; i++ {\n        out = append(out, i)\n    }\n    return out\n}\n",
    "canonical_solution": "    // from zero\n    out := make([]int, 0)\n"
    "    for i := 0; i < n; i++ {\n        out = append(out, i)\n    }\n    return out\n}\n",
    "test_setup": 'package main\n\nimport (\n    "testing"\n    "math"\n'
    '    "github.com/stretchr/testify/assert"\n)\n',
    "test": "func TestCountUp(t *testing.T) {\n    assert := assert.New(t)\n"
    "    assert.Equal(0, len(CountUp(0)))\n"
    "    last := func(xs []int) int { return xs[len(xs)-1] }\n"
    "    assert.Equal([]int{0}, CountUp(1))\n    assert.Equal(2, last(CountUp(3)))\n"
    "    assert.Equal(true, math.Abs(float64(len(CountUp(4))-4)) < 1e-9)\n}\n",
}
FIXED = {"passed": True, "visible": True, "hidden": True, "docstring_lost": False}


def test_go_cases_are_test_functions_with_the_setup_and_only_the_imports_they_use() -> None:
    project = fix_languages.project("go", GO_TASK, Path("/nonexistent"))
    assert project.text.startswith("package main\n") and "func CountUp" in project.text
    visible = project.test_file(project.split.visible)  # cases 1 and 3
    assert "func TestCase1(t *testing.T)" in visible and "func TestCase3(" in visible
    assert "TestCase2" not in visible and "TestCase4" not in visible
    assert '"math"' not in visible  # only case 4 names it: an unused import would not compile
    case3 = visible.split("func TestCase3(")[1]
    assert case3.index("last := func") < case3.index("_ = last") < case3.index("last(CountUp(3))")
    hidden = project.test_file(project.split.hidden)
    assert '"math"' in hidden and '"github.com/stretchr/testify/assert"' in hidden


@needs_go
def test_go_module_runs_under_go_test_and_the_engine_finds_the_check(tmp_path: Path) -> None:
    project = fix_languages.project("go", GO_TASK, tmp_path / "scratch")
    root = tmp_path / "module"
    root.mkdir()
    project.write(root)
    env = {**os.environ, "GOPROXY": "off"}  # nothing to fetch: testify is the project's folder
    bad = subprocess.run(["go", "test", "."], cwd=root, env=env, capture_output=True)
    assert bad.returncode != 0 and b"Not equal" in bad.stdout + bad.stderr  # built, case 3 fails
    found = detect.check_for(ActionsConfig(trusted=True), root, "solution.go", "go")
    assert found is not None and found.tool == "go" and found.label == "go test ."
    fixed = project.module_text(GO_TASK["canonical_solution"])
    assert project.judge(fixed, True) == FIXED
    assert project.judge(project.text, False)["visible"] is False
