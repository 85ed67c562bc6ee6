"""Which check the project has for a file, per language, on real folders (nothing runs)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from pairline.engine.actions.offers import FIX, title
from pairline.engine.actions.verify import WorkspaceVerifier
from pairline.engine.checks import detect as check_detect
from pairline.engine.checks.detect import Check, CheckCache, check_for, detect
from pairline.engine.core.config import ActionsConfig

STATS = 'def mean(values):\n    """Average.\n\n    >>> mean([1, 2, 3])\n    2.0\n    """\n'


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def python_with_pytest(tmp_path: Path) -> str:
    """A workspace venv whose python has pytest: a link to the one running these tests."""
    (tmp_path / ".venv").symlink_to(Path(sys.prefix))
    return str(tmp_path / ".venv" / "bin" / "python")


def no_path(_name: str) -> str | None:
    return None


def test_python_tests_that_import_the_module(tmp_path: Path) -> None:
    python = python_with_pytest(tmp_path)
    write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/stats.py": STATS,
            "tests/test_stats_api.py": "from pkg.stats import mean\n",
            "tests/test_other.py": "import pkg\nimport json\n",
            "tests/test_relative.py": "from pkg import stats\n",
            "tests/helpers.py": "from pkg.stats import mean\n",  # not a test file
        },
    )
    check = detect(tmp_path, "pkg/stats.py", "python", no_path)
    assert check == Check(
        f"{python} -m pytest -q --tb=short -p no:cacheprovider "
        "tests/test_relative.py tests/test_stats_api.py",
        "pytest tests/test_relative.py tests/test_stats_api.py",
        "pytest",
    )


def test_python_tests_named_after_the_module_or_a_function(tmp_path: Path) -> None:
    python_with_pytest(tmp_path)
    write(
        tmp_path,
        {
            "src/stats.py": STATS + "\n\ndef median(values):\n    return 0\n",
            "tests/test_median.py": "def test_it(): ...\n",
            "stats_test.py": "def test_it(): ...\n",
            "tests/test_unrelated.py": "import os\n",
        },
    )
    check = detect(tmp_path, "src/stats.py", "python", no_path)
    assert check is not None
    assert check.label == "pytest stats_test.py tests/test_median.py"


def test_python_falls_back_to_doctests(tmp_path: Path) -> None:
    python = python_with_pytest(tmp_path)
    write(tmp_path, {"stats.py": STATS, "tests/test_unrelated.py": "import os\n"})
    check = detect(tmp_path, "stats.py", "python", no_path)
    assert check == Check(f"{python} -m doctest {{file}}", "doctest stats.py", "doctest")
    assert check.argv("my stats.py") == [python, "-m", "doctest", "my stats.py"]


def test_python_without_tests_or_examples_or_pytest(tmp_path: Path) -> None:
    write(tmp_path, {"plain.py": "x = 1\n", "tests/test_plain.py": "import plain\n"})
    # No workspace venv and no pytest on PATH: the tests cannot run, and there is no doctest.
    assert detect(tmp_path, "plain.py", "python", no_path) is None


def test_python_uses_the_interpreter_of_pytest_on_path(tmp_path: Path) -> None:
    write(tmp_path, {"calc.py": "x = 1\n", "test_calc.py": "import calc\n"})
    script = tmp_path / "bin" / "pytest"
    write(tmp_path, {"bin/pytest": f"#!{sys.executable}\nimport pytest\n"})
    check = detect(tmp_path, "calc.py", "python", lambda n: str(script) if n == "pytest" else None)
    assert check is not None
    assert check.argv("calc.py")[:3] == [sys.executable, "-m", "pytest"]


def test_a_test_file_checks_itself(tmp_path: Path) -> None:
    python_with_pytest(tmp_path)
    write(tmp_path, {"tests/test_x.py": "def test_x(): ...\n"})
    check = detect(tmp_path, "tests/test_x.py", "python", no_path)
    assert check is not None and check.label == "pytest tests/test_x.py"


def test_javascript_node_test_on_matching_files(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "lib/stats.js": "module.exports = {}\n",
            "test/stats.test.js": "const s = require('../lib/stats')\n",
            "test/uses.test.mjs": "import { mean } from '../lib/stats.js'\n",
            "test/other.test.js": "const x = require('../lib/other')\n",
        },
    )
    check = detect(tmp_path, "lib/stats.js", "javascript", no_path)
    assert check == Check(
        "node --test test/stats.test.js test/uses.test.mjs",
        "node --test test/stats.test.js test/uses.test.mjs",
        "node",
    )


def test_typescript_uses_the_package_test_script(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "web/package.json": json.dumps({"scripts": {"test": "vitest run"}}),
            "web/src/stats.ts": "export const x = 1\n",
            "web/src/stats.test.ts": "import { x } from './stats'\n",
        },
    )
    check = detect(tmp_path, "web/src/stats.ts", "typescript", no_path)
    assert check == Check("npm --prefix web test --silent", "npm test in web", "npm")


def test_javascript_ignores_the_npm_init_placeholder(tmp_path: Path) -> None:
    script = 'echo "Error: no test specified" && exit 1'
    write(
        tmp_path,
        {"package.json": json.dumps({"scripts": {"test": script}}), "index.js": "x\n"},
    )
    assert detect(tmp_path, "index.js", "javascript", no_path) is None
    write(tmp_path, {"package.json": json.dumps({"scripts": {"test": "node --test"}})})
    assert detect(tmp_path, "index.js", "javascript", no_path) == Check(
        "npm test --silent", "npm test", "npm"
    )


def test_go_tests_the_package(tmp_path: Path) -> None:
    write(tmp_path, {"go.mod": "module example.com/m\n", "stats/stats.go": "package stats\n"})
    assert detect(tmp_path, "stats/stats.go", "go", no_path) == Check(
        "go test ./stats", "go test ./stats", "go"
    )
    write(tmp_path, {"main.go": "package main\n"})
    assert detect(tmp_path, "main.go", "go", no_path) == Check("go test .", "go test .", "go")
    write(tmp_path, {"svc/go.mod": "module example.com/svc\n", "svc/api/api.go": "package api\n"})
    check = detect(tmp_path, "svc/api/api.go", "go", no_path)
    assert check is not None and check.command == "go -C svc test ./api"


def test_go_outside_a_module(tmp_path: Path) -> None:
    write(tmp_path, {"stats.go": "package stats\n"})
    assert detect(tmp_path, "stats.go", "go", no_path) is None


def test_rust_tests_the_crate(tmp_path: Path) -> None:
    write(tmp_path, {"Cargo.toml": "[package]\n", "src/lib.rs": "pub fn f() {}\n"})
    assert detect(tmp_path, "src/lib.rs", "rust", no_path) == Check(
        "cargo test --quiet", "cargo test", "cargo"
    )
    write(tmp_path, {"crates/a/Cargo.toml": "[package]\n", "crates/a/src/lib.rs": "\n"})
    check = detect(tmp_path, "crates/a/src/lib.rs", "rust", no_path)
    assert check is not None
    assert check.command == "cargo test --quiet --manifest-path crates/a/Cargo.toml"


def test_unknown_languages_and_paths_outside(tmp_path: Path) -> None:
    assert detect(tmp_path, "notes.md", "markdown", no_path) is None
    assert detect(tmp_path, "../x.py", "python", no_path) is None


def test_configured_command_comes_first(tmp_path: Path) -> None:
    config = ActionsConfig(check_commands={"python": "ruff check {file}"})
    check = check_for(config, tmp_path, "a.py", "python")
    assert check == Check("ruff check {file}", "ruff check a.py", "command")
    assert check_for(ActionsConfig(), None, "a.py", "python") is None


def test_the_cache_forgets_when_files_change(tmp_path: Path) -> None:
    python_with_pytest(tmp_path)
    write(tmp_path, {"calc.py": "x = 1\n"})
    cache = CheckCache()
    config = ActionsConfig()
    assert cache.get(config, tmp_path, "calc.py", "python") is None
    write(tmp_path, {"test_calc.py": "import calc\n"})
    assert cache.get(config, tmp_path, "calc.py", "python") is None  # cached
    cache.clear()
    found = cache.get(config, tmp_path, "calc.py", "python")
    assert found is not None and found.label == "pytest test_calc.py"


def test_titles_say_what_checks_the_edit() -> None:
    assert title(FIX) == "Fix this"
    assert title(FIX, "pytest tests/test_stats.py") == (
        "Fix this — checked by pytest tests/test_stats.py"
    )
    untrusted = title(FIX, "pytest tests/test_stats.py", trusted=False)
    assert untrusted.startswith("Fix this — pytest tests/test_stats.py not run")
    assert "actions.trusted" in untrusted


@pytest.mark.parametrize("trusted", [True, False])
def test_verifier_detects_only_when_trusted(tmp_path: Path, trusted: bool) -> None:
    python_with_pytest(tmp_path)
    write(tmp_path, {"calc.py": "x = 1\n", "test_calc.py": "import calc\n"})
    verifier = WorkspaceVerifier(ActionsConfig(trusted=trusted), tmp_path)
    command = verifier.command_for("python", "calc.py")
    assert (command is not None and "pytest" in command) is trusted


def test_walk_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    python_with_pytest(tmp_path)
    monkeypatch.setattr(check_detect, "MAX_WALK_FILES", 2)
    write(tmp_path, {"a.py": "", "b.py": "", "c.py": "", "test_z.py": "import a\n"})
    assert detect(tmp_path, "a.py", "python", no_path) is None
