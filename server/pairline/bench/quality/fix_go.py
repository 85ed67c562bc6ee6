"""Arm `p` of `pairline bench fix` in Go: each HumanEvalPack task as a user's Go module.

The module `solution` holds `solution.go` (package main: the task's prompt, with its imports,
and the buggy body) and `solution_test.go`, run by `go test .`, which the engine finds from
`go.mod` as it would in a user's project. Each visible case is a test function of its own:
the task's setup statements (`assert := assert.New(t)`, helper closures) then one
`assert.Equal(...)` statement.

The records' tests use testify's `assert.Equal`, a module the machine may not have and cannot
fetch offline. `go.mod` therefore replaces `github.com/stretchr/testify` with a folder of the
project holding the one function the tests call, written here (testify's semantics: equal by
`reflect.DeepEqual`), so the test files stay as the records have them.
"""

from __future__ import annotations

import os
import re
import textwrap
from pathlib import Path
from typing import Any, ClassVar

import tree_sitter

from pairline.bench.quality import fix_project
from pairline.bench.quality.fix_project import Project, Split, parse, source, walk

TESTIFY = "github.com/stretchr/testify"
_GO_MOD = (
    f"module solution\n\ngo 1.19\n\nrequire {TESTIFY} v1.8.4\n\nreplace {TESTIFY} => ./testify\n"
)
_ASSERT = """\
// Package assert: the part of testify's assert package that the tests call.
package assert

import (
\t"reflect"
\t"testing"
)

type Assertions struct{ t *testing.T }

func New(t *testing.T) *Assertions { return &Assertions{t} }

func (a *Assertions) Equal(expected, actual interface{}, msgAndArgs ...interface{}) bool {
\ta.t.Helper()
\tif !reflect.DeepEqual(expected, actual) {
\t\ta.t.Errorf("Not equal:\\nexpected: %#v\\nactual  : %#v", expected, actual)
\t\treturn false
\t}
\treturn true
}
"""
_IMPORTS = re.compile(r'^import\s*(?:\([^)]*\)|"[^"\n]*")[ \t]*\n?', re.MULTILINE)
_IMPORT = re.compile(r'"([\w./]+)"')
# Packages a few records use without importing them (their harness runs goimports, as a Go
# user's editor does on save): imported where the code names them.
_STANDARD = ("fmt", "math", "sort", "strconv", "strings", "bytes", "unicode", "math/rand")
BUILD_S = 120.0  # the first build of a run also compiles the standard library's test deps


class GoProject(Project):
    language = "go"
    rel_path = "solution.go"
    test_path = "solution_test.go"
    files: ClassVar[dict[str, str]] = {
        "go.mod": _GO_MOD,
        "testify/go.mod": f"module {TESTIFY}\n\ngo 1.19\n",
        "testify/assert/assert.go": _ASSERT,
    }
    definition = re.compile(r"\bfunc\s+([A-Za-z_]\w*)")

    def __init__(self, task: dict[str, Any], scratch: Path) -> None:
        imports = "".join(task.get(k) or "" for k in ("test_setup", "import", "prompt"))
        found = _IMPORT.findall("\n".join(_IMPORTS.findall(imports)))
        found += [
            p
            for p in _STANDARD
            if p.rsplit("/", 1)[-1] not in (f.rsplit("/", 1)[-1] for f in found)
        ]
        self._imports = [p for p in dict.fromkeys(found) if TESTIFY not in p and p != "testing"]
        super().__init__(task, scratch)

    def module_text(self, body: str) -> str:
        text: str = (self.task.get("prompt") or self.task["declaration"]) + body
        # The records share one import list between code and tests (they run as one file): each
        # file here imports what it names, since Go refuses an import that is not used.
        code = _IMPORTS.sub("", text).strip("\n")
        return "package main\n\n" + _import_block(self._used(code)) + "\n" + code + "\n"

    def _used(self, code: str) -> list[str]:
        return [p for p in self._imports if re.search(rf"\b{p.rsplit('/', 1)[-1]}\.", code)]

    def split_test(self) -> Split:
        src = self.task["test"].encode("utf-8")
        root = parse(self.language, self.task["test"])
        test_fn = next(
            (
                n
                for n in root.named_children
                if n.type == "function_declaration"
                and (name := n.child_by_field_name("name")) is not None
                and (name.text or b"").startswith(b"Test")
            ),
            None,
        )
        body = test_fn.child_by_field_name("body") if test_fn is not None else None
        if test_fn is None or body is None:
            raise ValueError(f"{self.task['task_id']}: no Test function")
        statements_of = body.named_children
        if len(statements_of) == 1 and statements_of[0].type == "statement_list":
            statements_of = statements_of[0].named_children
        module = [
            source(src, n, [])
            for n in root.named_children
            if n is not test_fn and n.type != "comment"
        ]
        statements = [
            (any(_is_equal(n) for n in walk(s)), source(src, s, []))
            for s in statements_of
            if s.type != "comment"
        ]
        return Split.of(module, statements)

    def test_file(self, positions: tuple[int, ...]) -> str:
        cases = list(self.split.cases(positions))
        code = "\n".join([*self.split.module, *("\n".join(lines) for _, lines in cases)])
        parts = [
            "package main\n\n",
            _import_block(["testing", *self._used(code), f"{TESTIFY}/assert"]),
        ]
        parts += [f"\n{item}\n" for item in self.split.module]
        for number, lines in cases:
            # Go refuses a variable that is declared and never used: a case may not use every
            # helper the setup declares.
            unused = [f"_ = {name}" for name in _declared(lines[:-1])]
            body = textwrap.indent("\n".join([*lines[:-1], *unused, lines[-1]]), "    ")
            parts.append(f"\nfunc TestCase{number}(t *testing.T) {{\n{body}\n}}\n")
        return "".join(parts)

    def run(self, root: Path) -> bool | None:
        env = {**os.environ, "GOFLAGS": "-mod=mod", "GOPROXY": "off"}
        if not fix_project.run(["go", "test", "-count=1", "-run", "^$", "."], root, BUILD_S, env):
            return False  # does not build (or the build itself hung)
        return fix_project.run(["go", "test", "-count=1", "."], root, fix_project.HANG_S, env)


def _import_block(paths: list[str]) -> str:
    return "import (\n" + "".join(f'    "{path}"\n' for path in paths) + ")\n" if paths else ""


def _is_equal(node: tree_sitter.Node) -> bool:
    function = node.child_by_field_name("function")
    return (
        node.type == "call_expression" and function is not None and function.text == b"assert.Equal"
    )


def _declared(setup: list[str]) -> list[str]:
    """Names the setup statements declare with `:=` at their top level (not `assert`)."""
    names: list[str] = []
    for statement in setup:
        found = re.match(r"\s*([A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*)\s*:=", statement)
        if found is not None:
            names += [
                n.strip() for n in found.group(1).split(",") if n.strip() not in ("_", "assert")
            ]
    return names
