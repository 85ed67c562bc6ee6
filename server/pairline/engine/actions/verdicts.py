"""How a candidate edit is judged: by its parse, its definitions, and its check's output
against the unmodified file's.

A candidate passes its check when the command succeeds, or when it fails with no output line
the baseline did not have and some baseline line gone (a failure fixed, nothing new broken).
Lines are compared with numbers and timings blanked out: line numbers shift when an edit adds
lines, and summary counts change.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from pairline.engine.checks.timeouts import CheckRun
from pairline.engine.core import languages, syntax

_OUTPUT_LINES = 40  # lines of check output fed back to the model
_TIMING = re.compile(r"\b\d+(\.\d+)?\s*(s|ms|sec|seconds)\b")
_NUMBER = re.compile(r"\d+")


@dataclass(frozen=True)
class Verdict:
    ok: bool
    stage: str  # "parse", "check", "unchanged", "extract", "setup"
    message: str  # why, in words fit for the user and for the model's next round
    checked: str = ""  # the check command that passed ("" when only the parse was checked)
    failing: int = 0  # how badly a rejected candidate failed (output lines): fewer is closer
    partial: bool = False  # passed as "fails less than before", not outright


def parse_verdict(language: str, original: str, candidate: str) -> Verdict | None:
    """A failing verdict when the candidate parses worse than the original, else None."""
    before = syntax.error_count(language, original)
    after = syntax.error_count(language, candidate)
    if before is None or after is None:
        return None
    if after > before:
        return Verdict(
            False,
            "parse",
            f"the edited file does not parse: {after} syntax error(s), {before} before the edit",
        )
    return None


def definitions(language: str, text: str) -> Counter[str] | None:
    """How many times each function, method, class or type name is defined (None: no grammar)."""
    parser = syntax.parser_for(language)
    if parser is None:
        return None
    entry = languages.find(language)
    kinds = entry.definition_nodes if entry is not None else frozenset()
    names: Counter[str] = Counter()
    stack = [parser.parse(text.encode("utf-8", "surrogatepass")).root_node]
    while stack:
        node = stack.pop()
        if node.type in kinds:
            name = node.child_by_field_name("name")
            if name is not None and name.text is not None:
                names[name.text.decode("utf-8", "replace")] += 1
        stack.extend(node.children)
    return names


def shape_verdict(language: str, original: str, candidate: str) -> Verdict | None:
    """A failing verdict when the edit drops, renames or duplicates a definition.

    Small models asked to fix one function sometimes answer with a copy of its neighbour; that
    parses, so the parse check alone would accept it.
    """
    before = definitions(language, original)
    after = definitions(language, candidate)
    if before is None or after is None or before == after:
        return None
    missing = sorted((before - after).elements())
    # New helpers are fine; a second copy of an existing name is not.
    duplicated = sorted(name for name in (after - before) if before[name])
    if not missing and not duplicated:
        return None
    parts = []
    if missing:
        parts.append("it removes or renames " + ", ".join(f"{n}()" for n in missing))
    if duplicated:
        parts.append("it duplicates " + ", ".join(f"{n}()" for n in duplicated))
    return Verdict(False, "parse", "the edit changes which definitions exist: " + "; ".join(parts))


_PASSED = re.compile(r"\b(\d+) passed\b")
_FAILED = re.compile(r"\b(\d+) (?:failed|errors?)\b")


def _tally(base: CheckRun, cand: CheckRun) -> str:
    """ ": 7 tests pass (3 failed before)" where the test runner counts them, else ""."""
    passed = _PASSED.findall(cand.output)
    if not passed:
        return ""
    count = int(passed[-1])
    before = sum(int(n) for n in _FAILED.findall(base.output[-2000:]))
    if base.returncode is None:
        was = " (the code as it was did not finish)"
    else:
        was = f" ({before} failed before)" if before else ""
    return f": {count} test{'s' if count != 1 else ''} pass{'' if count != 1 else 'es'}{was}"


def _normalise(output: str, root: str) -> Counter[str]:
    # Numbers go: line numbers shift when an edit adds lines, and summary counts change.
    text = output.replace(root, "<workspace>")
    return Counter(
        _NUMBER.sub("N", _TIMING.sub("<time>", ln.rstrip()))
        for ln in text.splitlines()
        if ln.strip()
    )


def tail(text: str, lines_kept: int = _OUTPUT_LINES) -> str:
    lines = text.strip().splitlines()
    return "\n".join(lines[-lines_kept:])


def relative(output: str, root: Path) -> str:
    """`output` with the sandbox's paths written relative to the workspace: the same in every
    copy, and what the user and the model know the files as."""
    return output.replace(f"{root}{os.sep}", "").replace(str(root), ".")


def compare(command: str, base: CheckRun, cand: CheckRun, root: str) -> Verdict:
    """Judge a candidate's check run against the baseline's."""
    if cand.returncode is None:
        return Verdict(
            False, "check", f"`{command}` did not finish: {cand.output}", failing=1 << 20
        )
    if cand.returncode == 0:
        return Verdict(True, "check", f"`{command}` passes{_tally(base, cand)}", checked=command)
    failing = sum(1 for ln in cand.output.splitlines() if ln.strip())
    if base.returncode == 0:
        return Verdict(
            False,
            "check",
            f"`{command}` fails with the edit (it passes without it):\n{tail(cand.output)}",
            failing=failing,
        )
    base_lines = _normalise(base.output, root)
    cand_lines = _normalise(cand.output, root)
    new = list((cand_lines - base_lines).elements())
    if new:
        shown = "\n".join(new[:_OUTPUT_LINES])
        return Verdict(
            False,
            "check",
            f"`{command}` reports new problems with the edit:\n{shown}",
            failing=failing,
        )
    if not base_lines - cand_lines:
        return Verdict(
            False,
            "check",
            f"`{command}` still fails the same way:\n{tail(cand.output)}",
            failing=failing,
        )
    return Verdict(
        True, "check", f"`{command}` fails less than before", checked=command, partial=True
    )
