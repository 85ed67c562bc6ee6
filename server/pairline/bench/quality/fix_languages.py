"""Arm `p` of `pairline bench fix` in JavaScript and Rust: each task as a user's project.

A HumanEvalPack record in these languages is written as the user would have it, and the
engine finds the check itself, as `fix_workspace` does for Python:

- JavaScript: `solution.js` (the task's prompt, its buggy body, and `module.exports` of the
  file's top-level names) and `solution.test.js`, run by `node --test`: `node:test` tests,
  one per visible case, whose `console.assert(...)` calls (which never fail a test) became
  `node:assert` assertions: `JSON.stringify(a) === JSON.stringify(b)` a `deepStrictEqual`,
  `a === b` a `strictEqual`, `a == b` an `equal`, anything else an `ok`.
- Rust: a crate named `solution` (`Cargo.toml`, no dependencies) whose `src/lib.rs` holds the
  prompt's `use` lines and the buggy function, made `pub`, then `#[cfg(test)] mod tests;`; the
  visible cases are the `#[test]` functions of `src/tests.rs`, run by `cargo test`. The prompt's
  `fn main(){}` and its `use` lines of crates outside the standard library (rand, regex, md5)
  are left out; a task whose code or tests name such a crate is skipped (offline, a crate has
  no dependencies).

The task's test is one function (JS: `const testX = () => {...}`, Rust: the `#[test]` of
`mod tests`), split into cases and setup as `fix_project` describes; the statements and items
around it are kept in both halves. Each half is scored apart from the loop, with the tool the
user would run, in a scratch copy of the project (Rust: one cargo target folder per task, so its
builds stay warm across the arms). A task whose canonical solution fails its own tests is
skipped too. Go (`go test`) is written by `fix_go`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import textwrap
from pathlib import Path
from typing import Any, ClassVar

import tree_sitter

from pairline.bench.quality import fix_project
from pairline.bench.quality.fix_go import GoProject
from pairline.bench.quality.fix_project import Project, Split, names, parse, source, text_of, walk

LANGUAGES = ("python", "js", "rust", "go")
TOOLS = {"js": "node", "rust": "cargo", "go": "go"}
BUILD_S = 300.0  # a cargo build of one tiny crate, on a busy machine


def refused(language: str, check: list[str] | None) -> str | None:
    """Why `--language` with the `--check` arms cannot be measured here, or None."""
    tool = TOOLS.get(language)
    if tool is None:
        return None
    if shutil.which(tool) is None:
        return (
            f"the {language} toolchain is not installed (no `{tool}` on PATH); nothing was measured"
        )
    if set(check or ["p"]) != {"p"}:
        return "only the check arm p (--check p) is written for this language"
    return None


# --- JavaScript -------------------------------------------------------------------------------


def _js_assertion(call: tree_sitter.Node) -> str:
    """A `console.assert(...)` call as a `node:assert` assertion that throws."""
    args = call.child_by_field_name("arguments")
    named = args.named_children if args is not None else []
    if len(named) != 1:
        return "assert.ok(" + text_of(named[0]) + ")" if named else "assert.fail()"
    expr = named[0]
    text = text_of(expr)
    operator = expr.child_by_field_name("operator")
    left, right = expr.child_by_field_name("left"), expr.child_by_field_name("right")
    if expr.type != "binary_expression" or operator is None or left is None or right is None:
        return f"assert.ok({text})"
    op = operator.type
    sides = [text_of(s) for s in (left, right)]
    stringified = [_stringify_argument(s) for s in (left, right)]
    if op in ("===", "==", "!==", "!=") and None not in stringified:
        name = "deepStrictEqual" if op in ("===", "==") else "notDeepStrictEqual"
        return f"assert.{name}({stringified[0]}, {stringified[1]})"
    methods = {"===": "strictEqual", "==": "equal", "!==": "notStrictEqual", "!=": "notEqual"}
    if op in methods:
        return f"assert.{methods[op]}({sides[0]}, {sides[1]})"
    return f"assert.ok({text})"


def _stringify_argument(node: tree_sitter.Node) -> str | None:
    """`x` of `JSON.stringify(x)`, else None."""
    function = node.child_by_field_name("function")
    args = node.child_by_field_name("arguments")
    if node.type != "call_expression" or function is None or args is None:
        return None
    if function.text != b"JSON.stringify" or len(args.named_children) != 1:
        return None
    return text_of(args.named_children[0])


def _is_console_assert(node: tree_sitter.Node) -> bool:
    function = node.child_by_field_name("function")
    return (
        node.type == "call_expression"
        and function is not None
        and (function.text == b"console.assert")
    )


_PACKAGE = {"name": "solution", "private": True, "scripts": {"test": "node --test"}}


class JsProject(Project):
    language = "javascript"
    rel_path = "solution.js"
    test_path = "solution.test.js"
    files: ClassVar[dict[str, str]] = {"package.json": json.dumps(_PACKAGE, indent=2) + "\n"}
    definition = re.compile(r"(?:const|let|var|function)\s+([A-Za-z_$][\w$]*)")

    def module_text(self, body: str) -> str:
        text: str = (self.task.get("prompt") or self.task["declaration"]) + body
        return text.rstrip("\n") + f"\n\nmodule.exports = {{ {self._exports(text)} }};\n"

    def _exports(self, text: str) -> str:
        """The buggy function, then the file's other top-level names (tests call helpers)."""
        found = [self.function]
        for node in parse(self.language, text).named_children:
            found += names(node)
        return ", ".join(dict.fromkeys(found))

    def split_test(self) -> Split:
        src = self.task["test"].encode("utf-8")
        root = parse(self.language, self.task["test"])
        test_fn, body = None, None
        for node in root.named_children:
            if any(_is_console_assert(n) for n in walk(node)):
                value = next(
                    (v for d in node.named_children if (v := d.child_by_field_name("value"))),
                    None,
                )
                function = node if node.type == "function_declaration" else value
                block = function.child_by_field_name("body") if function is not None else None
                if block is not None and block.type == "statement_block":
                    test_fn, body = node, block
                    break
        if test_fn is None or body is None:
            raise ValueError(f"{self.task['task_id']}: no test function with console.assert")
        called = set(names(test_fn))
        module = [
            source(src, n, [])
            for n in root.named_children
            if n is not test_fn and n.type != "comment" and not _calls(n, called)
        ]
        statements: list[tuple[bool, str]] = []
        for statement in body.named_children:
            if statement.type == "comment":
                continue
            calls = [n for n in walk(statement) if _is_console_assert(n)]
            edits = [(c.start_byte, c.end_byte, _js_assertion(c)) for c in calls]
            statements.append((bool(calls), source(src, statement, edits)))
        return Split.of(module, statements)

    def test_file(self, positions: tuple[int, ...]) -> str:
        exports = self._exports(self.text.rsplit("module.exports", 1)[0])
        parts = [
            "const { test } = require('node:test');\n",
            "const assert = require('node:assert');\n",
            f"const {{ {exports} }} = require('./{self.rel_path}');\n",
        ]
        parts += [f"\n{statement}\n" for statement in self.split.module]
        for number, lines in self.split.cases(positions):
            body = textwrap.indent("\n".join(lines), "  ")
            parts.append(f"\ntest('case {number}', () => {{\n{body}\n}});\n")
        return "".join(parts)

    def run(self, root: Path) -> bool | None:
        return fix_project.run(
            ["node", "--test", self.test_path], root, fix_project.HANG_S, dict(os.environ)
        )


def _calls(node: tree_sitter.Node, called: set[str]) -> bool:
    """Whether a top-level statement only calls (or names) the test function."""
    if node.type != "expression_statement" or not node.named_children:
        return False
    expr = node.named_children[0]
    if expr.type == "call_expression":
        expr = expr.child_by_field_name("function") or expr
    return text_of(expr) in called


# --- Rust -------------------------------------------------------------------------------------

_MANIFEST = '[package]\nname = "solution"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n'
_USE = re.compile(r"^\s*use\s+(?:::)?([A-Za-z_]\w*)(.*);\s*$")
_STD_CRATES = {"std", "core", "alloc", "crate", "self", "super"}


class RustProject(Project):
    language = "rust"
    rel_path = "src/lib.rs"
    test_path = "src/tests.rs"
    files: ClassVar[dict[str, str]] = {"Cargo.toml": _MANIFEST}
    definition = re.compile(r"\bfn\s+([A-Za-z_]\w*)")

    def __init__(self, task: dict[str, Any], scratch: Path) -> None:
        super().__init__(task, scratch)
        self.skipped = self._external_crates()

    def _external_crates(self) -> str | None:
        """Why the task needs a crate outside the standard library, else None."""
        code = "\n".join(
            self.task.get(k) or "" for k in ("prompt", "declaration", "buggy_solution", "test")
        )
        crates: dict[str, set[str]] = {}
        for line in code.splitlines():
            found = _USE.match(line)
            if found is not None and found.group(1) not in _STD_CRATES:
                items = set(re.findall(r"[A-Za-z_]\w*", found.group(2))) - {"self", "as"}
                crates.setdefault(found.group(1), set()).update(items)
        rest = "\n".join(line for line in code.splitlines() if _USE.match(line) is None)
        used = [
            crate
            for crate, items in crates.items()
            if any(re.search(rf"\b{re.escape(n)}\b", rest) for n in {crate, *items})
        ]
        return f"uses the crate(s) {', '.join(sorted(used))} (no dependencies)" if used else None

    def module_text(self, body: str) -> str:
        text: str = (self.task.get("prompt") or self.task["declaration"]) + body
        lines = []
        for line in text.split("\n"):
            found = _USE.match(line)
            if line.strip().replace(" ", "") == "fnmain(){}":
                continue
            if found is not None and found.group(1) not in _STD_CRATES:
                continue
            lines.append(line)
        name = self.function
        module = re.sub(rf"(?m)^(\s*)fn {re.escape(name)}\b", rf"\1pub fn {name}", "\n".join(lines))
        return module.strip("\n") + "\n\n#[cfg(test)]\nmod tests;\n"

    def split_test(self) -> Split:
        src = self.task["test"].encode("utf-8")
        root = parse(self.language, self.task["test"])
        items = root.named_children
        tests = next((n for n in items if n.type == "mod_item"), None)
        block = tests.child_by_field_name("body") if tests is not None else None
        if block is not None:
            items = block.named_children
        test_fn = next(
            (n for n in items if n.type == "function_item" and _has_test_attribute(n)), None
        )
        body = test_fn.child_by_field_name("body") if test_fn is not None else None
        if test_fn is None or body is None:
            raise ValueError(f"{self.task['task_id']}: no #[test] function")
        skip = {"attribute_item", "line_comment", "block_comment"}
        module = [source(src, n, []) for n in items if n is not test_fn and n.type not in skip]
        statements: list[tuple[bool, str]] = []
        for statement in body.named_children:
            if statement.type in skip:
                continue
            text = source(src, statement, [])
            if not text.endswith((";", "}")):
                text += ";"
            is_case = any(_is_assert_macro(n) for n in walk(statement))
            statements.append((is_case, text))
        return Split.of(module, statements)

    def test_file(self, positions: tuple[int, ...]) -> str:
        parts = [f"{item}\n" for item in self.split.module]
        for number, lines in self.split.cases(positions):
            body = textwrap.indent("\n".join(lines), "    ")
            parts.append(f"\n#[test]\nfn case_{number}() {{\n{body}\n}}\n")
        return "".join(parts)

    def run(self, root: Path) -> bool | None:
        env = {**os.environ, "CARGO_TARGET_DIR": str(self.scratch / "target")}
        cargo = ["cargo", "test", "--offline", "--quiet"]
        if not fix_project.run([*cargo, "--no-run"], root, BUILD_S, env):
            return False  # does not build (or the build itself hung)
        return fix_project.run(cargo, root, fix_project.HANG_S, env)


def _is_assert_macro(node: tree_sitter.Node) -> bool:
    macro = node.child_by_field_name("macro")
    return (
        node.type == "macro_invocation"
        and macro is not None
        and ((macro.text or b"").startswith(b"assert"))
    )


def _has_test_attribute(node: tree_sitter.Node) -> bool:
    previous = node.prev_named_sibling
    while previous is not None and previous.type in ("line_comment", "block_comment"):
        previous = previous.prev_named_sibling
    return (
        previous is not None
        and previous.type == "attribute_item"
        and b"test" in (previous.text or b"")
    )


def project(language: str, task: dict[str, Any], scratch: Path) -> Project:
    """The task written for `language` ("js", "rust" or "go"); `scratch` holds its scoring runs."""
    kinds: dict[str, type[Project]] = {"js": JsProject, "rust": RustProject, "go": GoProject}
    return kinds[language](task, scratch)
