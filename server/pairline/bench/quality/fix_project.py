"""A HumanEvalPack task written as a user's project in another language than Python.

`Project` is what `bench fix --language js|rust` (arm `p`) needs of one task, whatever its
language: the buggy module as the user has it and where its function lies (`text`, `region`),
the project written under a folder with the visible half of the task's test cases (`write`),
whether the buggy module hangs and whether the task can be scored at all (`prepare`), and a
candidate judged on each half apart from the loop (`judge`), each run with the tool the user
would run, in a scratch copy of the project (the task's own folder, kept across its arms).
`fix_languages` writes the files of each language.

The task's test function is split as `fix_workspace` splits Python's `check`: each statement of
its body that asserts is one case, the others are setup; the 1st, 3rd, … cases are visible, the
2nd, 4th, … hidden, and each case comes with the setup statements before it.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import textwrap
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import tree_sitter

from pairline.engine.core import syntax

HANG_S = 10.0  # a run of the tests longer than this is counted as hanging
_CPU_S = 120  # CPU seconds per process: a guard against accidents, not a security boundary


@dataclass(frozen=True)
class Split:
    """The task's test function, statement by statement, and which cases each half holds."""

    module: tuple[str, ...]  # statements and items around the test function, kept in both
    body: tuple[tuple[bool, str], ...]  # (is a case, source) in the order of the test
    visible: tuple[int, ...]  # positions in `body` of the visible cases
    hidden: tuple[int, ...]

    @staticmethod
    def of(module: list[str], body: list[tuple[bool, str]]) -> Split:
        cases = [i for i, (is_case, _) in enumerate(body) if is_case]
        return Split(tuple(module), tuple(body), tuple(cases[0::2]), tuple(cases[1::2]))

    def cases(self, positions: tuple[int, ...]) -> Iterator[tuple[int, list[str]]]:
        """Per case at `positions`: its number among all cases (from 1), setup then the case."""
        numbers = [i for i, (is_case, _) in enumerate(self.body) if is_case]
        for position in positions:
            setup = [src for is_case, src in self.body[:position] if not is_case]
            yield numbers.index(position) + 1, [*setup, self.body[position][1]]


def walk(node: tree_sitter.Node) -> Iterator[tree_sitter.Node]:
    """The node and everything under it, in source order."""
    yield node
    for child in node.children:
        yield from walk(child)


def parse(language: str, text: str) -> tree_sitter.Node:
    parser = syntax.parser_for(language)
    assert parser is not None, f"no grammar for {language}"
    return parser.parse(text.encode("utf-8")).root_node


def text_of(node: tree_sitter.Node) -> str:
    return (node.text or b"").decode("utf-8", "replace")


def source(src: bytes, node: tree_sitter.Node, edits: list[tuple[int, int, str]]) -> str:
    """The node's text with `edits` (byte ranges in `src`, replacement) made, dedented."""
    line_start = src.rfind(b"\n", 0, node.start_byte) + 1
    lead = src[line_start : node.start_byte]
    start = line_start if not lead.strip() else node.start_byte
    out, at = b"", start
    for begin, end, new in sorted(edits):
        out += src[at:begin] + new.encode("utf-8")
        at = end
    out += src[at : node.end_byte]
    return textwrap.dedent(out.decode("utf-8")).strip("\n")


def names(node: tree_sitter.Node) -> list[str]:
    """The names a top-level JS or Rust statement declares."""
    if node.type in ("lexical_declaration", "variable_declaration"):
        found = [d.child_by_field_name("name") for d in node.named_children]
    elif node.type.startswith(("function", "class")):
        found = [node.child_by_field_name("name")]
    else:
        found = []
    return [text_of(n) for n in found if n is not None and n.type == "identifier"]


def _comment_lines(language: str, text: str) -> Counter[str]:
    lines: Counter[str] = Counter()
    for node in walk(parse(language, text)):
        if node.type in ("comment", "line_comment", "block_comment"):
            for line in text_of(node).splitlines():
                kept = line.strip().lstrip("/*!").rstrip("*/").strip()
                if kept:
                    lines[kept] += 1
    return lines


def run(argv: list[str], cwd: Path, timeout_s: float, env: dict[str, str]) -> bool | None:
    """Whether the command exits 0, or None when it runs past the timeout (its process group
    is then killed: `node --test` and `cargo test` run the tests in child processes)."""

    def limits() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_CPU, (_CPU_S, _CPU_S))

    with subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=limits,  # only sets an rlimit between fork and exec
    ) as process:
        try:
            return process.wait(timeout_s) == 0
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return None


class Project:
    """One task written as a user's project in one language (see the module docstring)."""

    language = ""  # the editor's language id, as "Fix this" gets it
    rel_path = ""  # the module, relative to the project root
    test_path = ""
    files: ClassVar[dict[str, str]] = {}  # the project's other files (a manifest)
    definition: ClassVar[re.Pattern[str]] = re.compile(r"(?!)")  # group 1: a defined name

    def __init__(self, task: dict[str, Any], scratch: Path) -> None:
        self.task = task
        self.scratch = scratch  # the task's own folder for scoring runs, kept across arms
        self.skipped: str | None = None
        self.hanging = False
        # The declaration's last function is the buggy one (a few records name another entry).
        found = self.definition.findall(task["declaration"])
        self.function: str = found[-1] if found else task["entry_point"]
        self.split = self.split_test()
        self.text = self.module_text(task["buggy_solution"])

    # Per language.
    def module_text(self, body: str) -> str:
        raise NotImplementedError

    def split_test(self) -> Split:
        raise NotImplementedError

    def test_file(self, positions: tuple[int, ...]) -> str:
        raise NotImplementedError

    def run(self, root: Path) -> bool | None:
        raise NotImplementedError

    def region(self) -> tuple[int, int, str]:
        """Lines [start, end) of the buggy function in `text`, and its name."""
        for node in parse(self.language, self.text).named_children:
            if self.function in names(node):
                return node.start_point.row, node.end_point.row + 1, self.function
        return 0, len(self.text.split("\n")), self.function

    # Common.
    def write(self, root: Path, text: str | None = None, half: str = "visible") -> None:
        """The project under `root`: the module (`text`, else the buggy one) and the tests of
        `half` ("visible", "hidden" or "all")."""
        positions = {
            "visible": self.split.visible,
            "hidden": self.split.hidden,
            "all": tuple(sorted(self.split.visible + self.split.hidden)),
        }[half]
        files = {
            **self.files,
            self.rel_path: self.text if text is None else text,
            self.test_path: self.test_file(positions),
        }
        for rel, content in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(content, encoding="utf-8")

    def passes(self, text: str, half: str) -> bool | None:
        """Whether the module `text` passes the tests of `half`; None when they hang."""
        root = self.scratch / "project"
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        self.write(root, text, half)
        return self.run(root)

    def prepare(self) -> str | None:
        """Why the task is skipped, else None; finds whether the buggy module hangs."""
        canonical = self.task.get("canonical_solution")
        if canonical is not None and self.skipped is None:
            passes = self.passes(self.module_text(canonical), "all")
            self.skipped = None if passes else "the canonical solution fails its own tests"
        if self.skipped is None:
            self.hanging = self.passes(self.text, "all") is None
        return self.skipped

    def judge(self, candidate: str | None, verified: bool) -> dict[str, Any]:
        """`passed` (every case), each half, and whether a verified fix lost a comment line."""
        visible = bool(candidate) and self.passes(candidate or "", "visible") is True
        hidden: bool | None = None
        if self.split.hidden:
            hidden = bool(candidate) and self.passes(candidate or "", "hidden") is True
        lost = bool(verified and candidate) and bool(
            _comment_lines(self.language, self.text)
            - _comment_lines(self.language, candidate or "")
        )
        return {
            "passed": visible and hidden is not False,
            "visible": visible,
            "hidden": hidden,
            "docstring_lost": lost,
        }
