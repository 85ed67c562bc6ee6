"""The package's layering and size: no import cycles, the engine free of LSP types, and small
modules and functions, with the engine's features in their own packages.

The import graph is read from the source with `ast` (imports under `if TYPE_CHECKING:` left
out, since they never run), one node per module, so a cycle anywhere in `server/pairline` fails
with the modules that form it.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = ROOT / "server" / "pairline"
MAX_LINES = 400  # per engine or LSP module
MAX_FUNCTION_LINES = 80  # per function of the engine, the LSP layer and the command line
MAX_ENGINE_TOP_LEVEL = 12  # modules directly in engine/, __init__.py counted: the rest in packages
MAX_GATHER_LINES = 300  # context/gather.py orchestrates; the work sits in its siblings


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, module: str, is_package: bool, known: set[str]) -> set[str]:
    """The pairline modules `module` imports at run time."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            for alias in node.names:
                # `from package import submodule` imports the submodule; the package itself runs
                # first, as for any submodule, an edge Python adds and the code does not write.
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in known else target)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return {name for name in found if name in known and name != module}


def _graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    known = set(files)
    return {
        name: _imports(ast.parse(path.read_text()), name, path.name == "__init__.py", known)
        for name, path in files.items()
    }


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as the list of modules along it, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := walk(nxt)) is not None:
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := walk(node)) is not None:
            return found
    return None


def test_the_cycle_finder_sees_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycles() -> None:
    graph = _graph()
    assert _cycle(graph) is None, " → ".join(_cycle(graph) or [])


def test_engine_never_imports_lsp_libraries() -> None:
    for path in (PACKAGE / "engine").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            for name in names:
                root = name.split(".")[0]
                assert root not in {"pygls", "lsprotocol"}, f"{path.name} imports {name}"
                assert not name.startswith("pairline.lsp"), f"{path.name} imports {name}"


def test_engine_and_lsp_modules_stay_small() -> None:
    big = {
        str(path.relative_to(PACKAGE)): n
        for folder in ("engine", "lsp")
        for path in (PACKAGE / folder).rglob("*.py")
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert not big, f"over {MAX_LINES} lines: {big}"


def test_context_gathering_stays_orchestration() -> None:
    lines = len((PACKAGE / "engine" / "context" / "gather.py").read_text().splitlines())
    assert lines <= MAX_GATHER_LINES, f"context/gather.py has {lines} lines"


def test_few_modules_directly_in_the_engine() -> None:
    # A feature finds its folder; only what every package shares may sit beside them.
    top = sorted(path.name for path in (PACKAGE / "engine").glob("*.py"))
    assert len(top) <= MAX_ENGINE_TOP_LEVEL, f"{len(top)} modules directly in engine/: {top}"


def test_functions_stay_short() -> None:
    paths = PACKAGE.rglob("*.py")  # every module of the package, benchmarks included
    long = {
        f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name}": n
        for path in paths
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and (n := (node.end_lineno or node.lineno) - node.lineno + 1) > MAX_FUNCTION_LINES
    }
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines: {long}"


# Which engine packages each feature package may import (besides itself). A package missing
# here may import any; `core` and `checks` sit at the bottom, so the features above stay apart.
ALLOWED = {
    "core": {"core"},
    "checks": {"core"},
    "models": {"core", "backends"},
    "completion": {"core", "backends", "context", "prompt", "models"},
}


def _engine_package(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if len(parts) > 3 and parts[:2] == ["pairline", "engine"] else None


def test_engine_packages_import_only_what_they_build_on() -> None:
    wrong = []
    for module, imported in _graph().items():
        package = _engine_package(module)
        if package not in ALLOWED:
            continue
        for target in imported:
            other = _engine_package(target)
            if other is not None and other != package and other not in ALLOWED[package]:
                wrong.append(f"{module} imports {target}")
    assert not wrong, "\n".join(sorted(wrong))


def test_nothing_imports_the_benchmarks() -> None:
    # The command line only adds the `bench` subcommand, which loads the package when it runs.
    outside = {
        f"{module} imports {target}"
        for module, imported in _graph().items()
        if not module.startswith("pairline.bench") and module != "pairline.cli"
        for target in imported
        if target.startswith("pairline.bench")
    }
    assert not outside, "\n".join(sorted(outside))
