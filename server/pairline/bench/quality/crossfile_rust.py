"""Cross-file tasks from a Rust crate (`bench crossfile --from-dir CRATE --names`).

The Rust counterpart of the Python task builder in crossfile.py: a task is a one-line
statement inside a function body (a `let` or an expression statement) of a file under the
crate's `src/` that uses a name the file brings in from another module of the crate (`use
crate::…`, `use super::…`, `use self::…`, or a `mod`); the cursor goes at the statement's start
and the statement is removed from the line. Read with tree-sitter, without building anything.
There is no signature block: Rust tasks are for the names arms (`--names`), which score member
names with the workspace indexed.
"""

from __future__ import annotations

import re
from pathlib import Path

import tree_sitter

from pairline.bench.quality.crossfile_task import Task
from pairline.engine.context.imports import WILDCARD, extract_imports
from pairline.engine.core import syntax

_STATEMENTS = ("let_declaration", "expression_statement")
_FUNCTIONS = ("function_item",)
_LOCAL_ROOTS = ("crate", "super", "self")


def is_crate(root: Path) -> bool:
    """Whether `root` is a Rust crate's folder (a `Cargo.toml` beside a `src/`)."""
    return (root / "Cargo.toml").is_file() and (root / "src").is_dir()


def crate_version(root: Path) -> str:
    """The `version` of the crate's `[package]`, as Cargo.toml gives it."""
    match = re.search(r'^version\s*=\s*"([^"]+)"', (root / "Cargo.toml").read_text(), re.M)
    return match.group(1) if match else ""


def _imported(tree: tree_sitter.Tree) -> set[str]:
    """The names a file binds from other modules of its crate."""
    names: set[str] = set()
    for ref in extract_imports("rust", tree.root_node):
        if ref.spec.split("::")[0] in _LOCAL_ROOTS:
            names.update(local for _, local in ref.names if local != WILDCARD)
    return names


def _words(node: tree_sitter.Node) -> set[str]:
    found: set[str] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type in ("identifier", "type_identifier") and current.text is not None:
            found.add(current.text.decode("utf-8", "replace"))
        stack.extend(current.named_children)
    return found


def _bodies(node: tree_sitter.Node) -> list[tree_sitter.Node]:
    """The bodies of every function under `node`, nested ones included."""
    out: list[tree_sitter.Node] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type in _FUNCTIONS:
            body = current.child_by_field_name("body")
            if body is not None:
                out.append(body)
        stack.extend(reversed(current.named_children))
    return out


def build_tasks(root: Path) -> list[Task]:
    """Every qualifying statement of every file under `root/src`, in a stable order."""
    tasks: list[Task] = []
    for path in sorted((root / "src").rglob("*.rs")):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        tree = syntax.parse("rust", text.encode("utf-8"))
        if tree is None:
            continue
        imported = _imported(tree)
        if not imported:
            continue
        data = text.encode("utf-8")
        lines = text.split("\n")
        for body in _bodies(tree.root_node):
            for stmt in body.named_children:
                if stmt.type not in _STATEMENTS or stmt.start_point.row != stmt.end_point.row:
                    continue
                if not _words(stmt) & imported:
                    continue
                row = stmt.start_point.row
                line = lines[row]
                # tree-sitter counts bytes: the statement's columns in characters.
                start = len(data[: stmt.start_byte].decode("utf-8").rsplit("\n", 1)[-1])
                end = start + len(stmt.text.decode("utf-8")) if stmt.text else start
                target = line[start:end]
                if not 8 <= len(target) <= 120 or line[end:].strip():
                    continue
                rest = lines.copy()
                rest[row] = line[:start]
                tasks.append(
                    Task(
                        path=str(path.relative_to(root)),
                        line=row,
                        column=start,
                        target=target,
                        text="\n".join(rest),
                        context="",
                    )
                )
    return tasks
