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
from pairline.engine.context.members import text as text_of
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
    return {
        text_of(n)
        for n in syntax.named_descendants(node)
        if n.type in ("identifier", "type_identifier")
    }


def _bodies(node: tree_sitter.Node) -> list[tree_sitter.Node]:
    """The bodies of every function under `node`, nested ones included, in source order."""
    functions = (n for n in syntax.named_descendants(node) if n.type in _FUNCTIONS)
    return [body for n in functions if (body := n.child_by_field_name("body")) is not None]


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
                start = len(line.encode("utf-8")[: stmt.start_point.column].decode("utf-8"))
                end = start + len(text_of(stmt))
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
