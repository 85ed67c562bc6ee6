"""Which command checks a file: the one configured for its language, else one the project has.

`check_for` answers with a `Check`: the command line (run at the workspace root, or at a copy of
it, `{file}` standing for the file), a short label for titles and messages ("pytest
tests/test_stats.py") and the tool whose output it prints (so its failures can be read back).
Detection only reads files under the root, never runs anything:

- Python: pytest on the test files that import the module or are named after it or one of its
  functions; without such files, the doctest examples of the file's docstrings.
- JavaScript/TypeScript: `node --test` on the matching test files, else the nearest
  package.json's `test` script.
- Go: `go test` on the file's package (inside the module of the nearest go.mod).
- Rust: `cargo test` on the crate of the nearest Cargo.toml.

Whether a check may run at all (`actions.trusted`) is the caller's decision.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from pairline.engine.core import languages
from pairline.engine.core.config import ActionsConfig
from pairline.engine.core.languages import SKIP_DIRS

# Build outputs and environments hold no tests of the project's own.
_SKIP = SKIP_DIRS | {"venv", "env", "target", "dist", "build", "out"}
MAX_WALK_FILES = 20_000  # a larger tree is searched no further (the check is then a guess)
MAX_TEST_FILES = 8  # named in one command; more would make a slow check for one file
_READ_BYTES = 200_000  # of a test file, enough to see its imports
_WORKSPACE_VENVS = (".venv", "venv", "env")
_NPM_DEFAULT_TEST = "no test specified"  # what `npm init` writes as the test script

_PY_IMPORT = re.compile(r"^\s*import\s+([\w., ]+)", re.MULTILINE)
_PY_FROM = re.compile(r"^\s*from\s+(\.*[\w.]*)\s+import\s+\(?([\w., \n]+)", re.MULTILINE)
_PY_DEFS = re.compile(r"^(?:async\s+def|def|class)\s+([A-Za-z_]\w*)", re.MULTILINE)
_JS_SPECIFIER = re.compile(
    r"""(?:\bfrom\s*|\brequire\s*\(\s*|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]""",
    re.MULTILINE,
)
_NODE_TEST_SUFFIXES = (".js", ".mjs", ".cjs")  # what `node --test` runs without a loader


@dataclass(frozen=True)
class Check:
    """A command that checks one file, and how to speak of it."""

    command: str  # split with shlex and run at the workspace root; {file} is the file
    label: str  # for titles and messages: "pytest tests/test_stats.py"
    tool: str  # "pytest", "doctest", "node", "npm", "go", "cargo" or "command" (configured)

    def argv(self, rel_path: str) -> list[str]:
        """The command's words for the file at `rel_path`."""
        return shlex.split(self.command.replace("{file}", shlex.quote(rel_path)))


Which = Callable[[str], str | None]


def check_for(
    config: ActionsConfig, root: Path | None, rel_path: str | None, language: str
) -> Check | None:
    """The configured check command for `language`, else one detected for the file, else None."""
    configured = config.check_commands.get(language)
    if configured:
        label = configured.replace("{file}", rel_path) if rel_path else configured
        return Check(configured, label, tool_of(configured))
    if root is None or rel_path is None:
        return None
    return detect(root, rel_path, language)


def tool_of(command: str) -> str:
    """The tool a configured command runs, as far as its words tell (for reading failures)."""
    words = command.split()
    for tool in ("pytest", "doctest", "cargo", "go", "node", "npm"):
        if tool in words or any(w.endswith("/" + tool) for w in words):
            return tool
    return "command"


def detect(root: Path, rel_path: str, language: str, which: Which = shutil.which) -> Check | None:
    """The check the project has for the file at `rel_path` (relative to `root`), or None."""
    entry = languages.find(language)
    path = PurePosixPath(rel_path.replace(os.sep, "/"))
    if entry is None or path.is_absolute() or ".." in path.parts:
        return None
    detector = _DETECTORS.get(entry.name)
    return detector(root, path, language, which) if detector is not None else None


# --- Walking the workspace --------------------------------------------------------------------


def _test_files(root: Path, language: str) -> Iterator[PurePosixPath]:
    """The language's test files under `root`, as paths relative to it, in a stable order."""
    seen = 0
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP and not d.startswith("."))
        base = PurePosixPath(Path(folder).relative_to(root).as_posix())
        for name in sorted(names):
            seen += 1
            if seen > MAX_WALK_FILES:
                return
            rel = base / name if str(base) != "." else PurePosixPath(name)
            if languages.is_test_file(language, str(rel)):
                yield rel


def _read(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            return handle.read(_READ_BYTES).decode("utf-8", "replace")
    except OSError:
        return ""


def _upward(root: Path, start: PurePosixPath, name: str) -> PurePosixPath | None:
    """The nearest folder from `start` up to the root (both relative) holding `name`."""
    folder = start
    while True:
        if (root / folder / name).is_file():
            return folder
        if str(folder) in ("", "."):
            return None
        folder = folder.parent


def _quote(paths: list[PurePosixPath]) -> str:
    return " ".join(shlex.quote(str(p)) for p in paths)


# --- Python -----------------------------------------------------------------------------------


def _venv_python(root: Path) -> Path | None:
    for venv in _WORKSPACE_VENVS:
        candidate = root / venv / "bin" / "python"
        if candidate.is_file():
            return candidate
    return None


def _pytest_python(root: Path, which: Which) -> str | None:
    """An interpreter that has pytest: the workspace's own, else the one `pytest` on PATH uses."""
    venv = _venv_python(root)
    if venv is not None:
        found = any(venv.parent.parent.glob("lib/python*/site-packages/pytest/__init__.py"))
        return str(venv) if found else None
    script = which("pytest")
    if script is None:
        return None
    # `python -m pytest` puts the workspace on sys.path, as running the tests by hand does.
    first = _read(Path(script)).split("\n", 1)[0]
    interpreter = first[2:].strip() if first.startswith("#!") else ""
    return interpreter if interpreter.startswith("/") and Path(interpreter).is_file() else None


def _module_names(path: PurePosixPath) -> set[str]:
    """The dotted names the file may be imported by: with and without a leading `src`."""
    parts = list(path.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    names = {".".join(parts[i:]) for i in range(len(parts))}
    return {name for name in names if name}


def _imports_module(test: str, modules: set[str]) -> bool:
    for match in _PY_IMPORT.finditer(test):
        for item in match.group(1).split(","):
            name = item.strip().split(" ")[0]
            if name in modules:
                return True
    for match in _PY_FROM.finditer(test):
        source = match.group(1).lstrip(".")
        if source in modules:
            return True
        for item in match.group(2).replace("\n", " ").split(","):
            name = item.strip().split(" ")[0]
            if name and (f"{source}.{name}" if source else name) in modules:
                return True
    return False


def _detect_python(root: Path, path: PurePosixPath, language: str, which: Which) -> Check | None:
    text = _read(root / path)
    if languages.is_test_file(language, str(path)):
        tests = [path]
    else:
        modules = _module_names(path)
        stem = path.stem if path.stem != "__init__" else path.parent.name
        named = {stem, *_PY_DEFS.findall(text)}
        tests = []
        for test in _test_files(root, language):
            test_name = test.stem.removeprefix("test_").removesuffix("_test")
            if test_name in named or _imports_module(_read(root / test), modules):
                tests.append(test)
                if len(tests) == MAX_TEST_FILES:
                    break
    pytest = _pytest_python(root, which) if tests else None
    if pytest is not None:
        # No cache folder in the workspace; short tracebacks are what failures are read from.
        command = f"{shlex.quote(pytest)} -m pytest -q --tb=short -p no:cacheprovider"
        return Check(f"{command} {_quote(tests)}", f"pytest {_quote(tests)}", "pytest")
    venv = _venv_python(root)
    python = str(venv) if venv is not None else which("python3") or which("python")
    if ">>>" in text and python is not None:
        return Check(
            f"{shlex.quote(python)} -m doctest {{file}}", f"doctest {_quote([path])}", "doctest"
        )
    return None


# --- JavaScript / TypeScript --------------------------------------------------------------------


def _js_imports(test: str, test_path: PurePosixPath, target: PurePosixPath) -> bool:
    wanted = str(target.with_suffix(""))
    for specifier in _JS_SPECIFIER.findall(test):
        if not specifier.startswith("."):
            continue
        joined = os.path.normpath(str(test_path.parent / specifier))
        resolved = PurePosixPath(joined)
        if str(resolved.with_suffix("")) == wanted or str(resolved) == wanted:
            return True
        if str(resolved) == str(target.parent) and target.stem == "index":
            return True
    return False


def _package_test(root: Path, folder: PurePosixPath) -> Check | None:
    found = _upward(root, folder, "package.json")
    if found is None:
        return None
    try:
        package = json.loads(_read(root / found / "package.json"))
    except ValueError:
        return None
    scripts = package.get("scripts") if isinstance(package, dict) else None
    script = scripts.get("test") if isinstance(scripts, dict) else None
    if not isinstance(script, str) or not script.strip() or _NPM_DEFAULT_TEST in script:
        return None
    if str(found) in ("", "."):
        return Check("npm test --silent", "npm test", "npm")
    where = shlex.quote(str(found))
    return Check(f"npm --prefix {where} test --silent", f"npm test in {where}", "npm")


def _detect_js(root: Path, path: PurePosixPath, language: str, which: Which) -> Check | None:
    if languages.is_test_file(language, str(path)):
        tests = [path]
    else:
        tests = []
        for test in _test_files(root, language):
            if test.name.startswith(path.stem + ".") or _js_imports(_read(root / test), test, path):
                tests.append(test)
                if len(tests) == MAX_TEST_FILES:
                    break
    runnable = [t for t in tests if t.suffix in _NODE_TEST_SUFFIXES]
    if runnable and runnable == tests:
        return Check(f"node --test {_quote(tests)}", f"node --test {_quote(tests)}", "node")
    # TypeScript tests, or none found: the project's own script knows how to run them.
    return _package_test(root, path.parent)


# --- Go and Rust ------------------------------------------------------------------------------


def _detect_go(root: Path, path: PurePosixPath, language: str, which: Which) -> Check | None:
    module = _upward(root, path.parent, "go.mod")
    if module is None:
        return None
    inside = str(path.parent.relative_to(module))
    package = "." if inside == "." else "./" + inside
    if str(module) in ("", "."):
        return Check(f"go test {shlex.quote(package)}", f"go test {package}", "go")
    where = shlex.quote(str(module))
    return Check(
        f"go -C {where} test {shlex.quote(package)}", f"go test {package} in {where}", "go"
    )


def _detect_rust(root: Path, path: PurePosixPath, language: str, which: Which) -> Check | None:
    crate = _upward(root, path.parent, "Cargo.toml")
    if crate is None:
        return None
    if str(crate) in ("", "."):
        return Check("cargo test --quiet", "cargo test", "cargo")
    manifest = shlex.quote(str(crate / "Cargo.toml"))
    return Check(
        f"cargo test --quiet --manifest-path {manifest}", f"cargo test in {crate}", "cargo"
    )


_DETECTORS: dict[str, Callable[[Path, PurePosixPath, str, Which], Check | None]] = {
    "python": _detect_python,
    "js": _detect_js,
    "go": _detect_go,
    "rust": _detect_rust,
}


class CheckCache:
    """Checks found per file, kept until a file changes (detection walks the workspace, and
    the code-action list asks on every cursor move)."""

    MAX_ENTRIES = 512

    def __init__(self) -> None:
        self._checks: dict[tuple[object, ...], Check | None] = {}

    def get(
        self, config: ActionsConfig, root: Path | None, rel_path: str | None, language: str
    ) -> Check | None:
        key = (root, rel_path, language, config.check_commands.get(language))
        if key not in self._checks:
            if len(self._checks) >= self.MAX_ENTRIES:
                self._checks.clear()
            self._checks[key] = check_for(config, root, rel_path, language)
        return self._checks[key]

    def clear(self) -> None:
        """Files were saved, created or deleted: tests may now exist, or import other files."""
        self._checks.clear()
