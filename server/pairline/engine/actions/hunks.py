"""A "Fix this" candidate cut down to the change the fix needs: nothing lost, nothing extra.

A small model that rewrites a region to fix one token often drops a docstring on the way, or
turns it into comments; the tests do not read docstrings, so the check passes and the damage
would ship with the fix. So:

- `keep_prose` puts back, before any check, the comments, docstrings and blank lines a
  candidate's hunks deleted or rewrote (a hunk that also changes code keeps its code);
- `minimal` reduces a candidate that passed to the smallest subset of its hunks that still
  passes (delta debugging over hunks: each hunk alone first, then dropping one at a time), so
  lines the fix did not need come back as they were; `finished` does that to the loop's winner
  within what is left of its budget.

Hunks are the whole-line edits of `action_answers.line_edits`, a run that replaces lines one
for one split into a hunk per line; a subset of them applied to the original is again a whole
document.
"""

from __future__ import annotations

import ast
import asyncio
import math
import threading
import time
from collections.abc import Awaitable, Callable, Sequence

from pairline.engine.actions.answers import LineEdit, line_edits, split_lines
from pairline.engine.actions.offers import FIX, FixRequest
from pairline.engine.actions.outcome import Attempt
from pairline.engine.actions.verify import Verifier
from pairline.engine.core import languages

MAX_HUNKS = 8  # more than this and the candidate is a rewrite: not worth a check per subset


def hunks(original: str, candidate: str) -> list[LineEdit]:
    """The changed runs of lines between two versions of a document; a run that replaces lines
    one for one is a hunk per line (a rename across lines next to the fix is not the fix)."""
    out: list[LineEdit] = []
    for edit in line_edits(original, candidate):
        new = split_lines(edit.text)
        if len(new) == edit.end - edit.start:
            out.extend(
                LineEdit(edit.start + k, edit.start + k + 1, line) for k, line in enumerate(new)
            )
        else:
            out.append(edit)
    return out


def applied(original: str, chosen: Sequence[LineEdit]) -> str:
    """`original` with only the `chosen` hunks applied."""
    lines = split_lines(original)
    out: list[str] = []
    at = 0
    for hunk in sorted(chosen, key=lambda h: h.start):
        out.extend(lines[at : hunk.start])
        out.append(hunk.text)
        at = hunk.end
    out.extend(lines[at:])
    return "".join(out)


def _docstring_lines(language: str, text: str) -> set[int]:
    """0-based lines of the docstrings of the module, its classes and functions (Python)."""
    if language != "python":
        return set()
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return set()
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                end = first.end_lineno or first.lineno
                out.update(range(first.lineno - 1, end))
    return out


def _prose(language: str, text: str) -> list[bool]:
    """Per line of `text`: blank, a comment line, or part of a docstring."""
    entry = languages.find(language)
    marker = entry.comment if entry is not None else "#"
    docstrings = _docstring_lines(language, text)
    out = []
    for number, line in enumerate(split_lines(text)):
        stripped = line.strip()
        out.append(
            not stripped
            or stripped.startswith(marker)
            or (marker == "//" and stripped.startswith(("/*", "*")))
            or number in docstrings
        )
    return out


def keep_prose(language: str, original: str, candidate: str) -> str:
    """`candidate` with the original's comments, docstrings and blank lines wherever its hunks
    touched them: a hunk of prose alone is put back whole; in a hunk that also changes code,
    the code is the candidate's and the prose the original's."""
    found = hunks(original, candidate)
    if not found:
        return candidate
    old_lines = split_lines(original)
    old_prose = _prose(language, original)
    new_prose = _prose(language, candidate)
    kept = []
    shift = 0  # how far the candidate's lines have moved from the original's so far
    for hunk in found:
        new = split_lines(hunk.text)
        at = hunk.start + shift  # where its new lines stand in the candidate
        shift += len(new) - (hunk.end - hunk.start)
        is_prose = new_prose[at : at + len(new)]
        was_prose = old_prose[hunk.start : hunk.end]
        code = [line for line, prose in zip(new, is_prose, strict=True) if not prose]
        if not code and all(was_prose):
            continue  # prose alone: the original's stays
        old = old_lines[hunk.start : hunk.end]
        # The original's prose above its first code line, the candidate's code, the rest of
        # the original's prose.
        first_code = next((i for i, prose in enumerate(was_prose) if not prose), len(old))
        after = [
            line
            for line, prose in zip(old[first_code:], was_prose[first_code:], strict=True)
            if prose
        ]
        kept.append(LineEdit(hunk.start, hunk.end, "".join([*old[:first_code], *code, *after])))
    return applied(original, kept)


Passes = Callable[[str], Awaitable[bool]]


async def minimal(original: str, candidate: str, passes: Passes) -> str:
    """The smallest subset of `candidate`'s hunks that `passes` still accepts (the candidate
    itself passed). Each hunk alone is tried first, then each hunk left out in turn; `passes`
    decides when to stop trying (a spent budget answers False)."""
    found = hunks(original, candidate)
    if len(found) < 2 or len(found) > MAX_HUNKS:
        return candidate
    for hunk in found:
        text = applied(original, [hunk])
        if await passes(text):
            return text
    chosen = list(found)
    for hunk in found:
        if len(chosen) == 1:
            break
        fewer = [h for h in chosen if h is not hunk]
        if await passes(applied(original, fewer)):
            chosen = fewer
    return applied(original, chosen)


async def finished(
    request: FixRequest,
    verifier: Verifier,
    winner: Attempt,
    cancel: threading.Event,
    deadline: float,
    counts: dict[str, int],
) -> tuple[str | None, str]:
    """The text to apply and its message, once `winner` passed: a model's fix cut down to the
    hunks its check needs (`fix_hunks.minimal`), within what is left of the budget."""
    message = winner.verdict.message
    if winner.source == "edit":
        return winner.candidate, f"{message} (a small edit, {winner.answer})"
    if request.kind != FIX or winner.verdict.stage != "check" or winner.candidate is None:
        return winner.candidate, message  # only a check can tell a needed hunk from the rest

    async def passes(text: str) -> bool:
        left = deadline - time.perf_counter()
        if cancel.is_set() or left <= 0:
            return False
        where = (request.language, request.rel_path, request.text)
        try:
            verdict = await asyncio.wait_for(
                verifier.verify(*where, text), None if math.isinf(left) else left
            )
        except TimeoutError:
            return False
        counts["checked"] += 1
        return verdict.ok and (winner.verdict.partial or not verdict.partial)

    text = await minimal(request.text, winner.candidate, passes)
    if text != winner.candidate:
        message += "; cut down to the lines the fix needs"
    return text, message
