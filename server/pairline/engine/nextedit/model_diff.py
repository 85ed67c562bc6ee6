"""Reading the model's rewritten window back: which lines it changed, and when to stop it early.

The model rewrites the whole window line by line, but only one small region may change. So
generation stops as soon as the answer has diverged from the window and come back to it for
`SETTLE` lines in a row (the rest is taken as unchanged), or has run too far from it to be a
small change: the tokens after that could only be copied lines or a rejected rewrite.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

# Unchanged lines after a change that say the model is copying the window again.
SETTLE = 2


@dataclass(frozen=True)
class LineChange:
    """Window lines `first`..`first + len(old)` replaced by `new`."""

    first: int
    old: tuple[str, ...]
    new: tuple[str, ...]


def _complete_lines(text: str) -> list[str]:
    """The lines of `text` that a line break ends (the last, unfinished one left out)."""
    return text.split("\n")[:-1]


def _divergence(answer: Sequence[str], window: Sequence[str]) -> int:
    """The index of the first answer line that differs from the window's line there."""
    for index, line in enumerate(answer):
        if index >= len(window) or line != window[index]:
            return index
    return len(answer)


def _resync(answer: Sequence[str], window: Sequence[str], start: int, reach: int) -> int | None:
    """Where in the window the answer's last `SETTLE` lines are, at or after `start`, if near.

    The answer's lines from `start` on are the changed ones; its last `SETTLE` lines must
    match window lines no more than `reach` lines past `start`.
    """
    if len(answer) - SETTLE < start:
        return None
    tail = list(answer[len(answer) - SETTLE :])
    for index in range(start, min(len(window) - SETTLE, start + reach) + 1):
        if list(window[index : index + SETTLE]) == tail:
            return index
    return None


def settled(text: str, window: Sequence[str], max_lines: int) -> bool:
    """Whether generation can stop: the answer so far tells all it can."""
    if not text.endswith("\n"):
        return False  # only a finished line can change the verdict
    answer = _complete_lines(text)
    start = _divergence(answer, window)
    if start == len(answer):
        return False  # still copying
    changed = len(answer) - start
    if changed > max_lines + SETTLE:
        return True  # too big to offer, whatever follows
    return changed >= SETTLE and _resync(answer, window, start, max_lines) is not None


def read_answer(text: str, window: Sequence[str], whole: bool, max_lines: int) -> list[str] | None:
    """The window as the model rewrote it, or None when the answer cannot tell.

    `whole`: the answer ended with its closing fence, so every line is in it. Otherwise it was
    cut (early stop, token limit): it must have come back to the window after its change, and
    the window's lines after that point are taken as they are.
    """
    if whole:
        lines = [line.rstrip("\r") for line in text.split("\n")]
        # Blank lines that end the window are often left out of a fenced answer: not a change.
        while lines and not lines[-1].strip():
            lines.pop()
        blank = len(window)
        while blank > 0 and not window[blank - 1].strip():
            blank -= 1
        return lines + list(window[blank:])
    answer = [line.rstrip("\r") for line in _complete_lines(text)]
    start = _divergence(answer, window)
    if start == len(answer):
        return list(window) if len(answer) >= len(window) else None
    while len(answer) - SETTLE >= start:
        at = _resync(answer, window, start, max_lines)
        if at is not None:
            return answer + list(window[at + SETTLE :])
        answer.pop()  # lines copied after the change, then something else: retry earlier
    return None


def line_change(window: Sequence[str], answer: Sequence[str]) -> LineChange | None:
    """The one region where `answer` differs from `window`; None if none (unchanged).

    Raises ValueError when the lines differ in more than one region.
    """
    matcher = difflib.SequenceMatcher(a=list(window), b=list(answer), autojunk=False)
    groups = [op for op in matcher.get_opcodes() if op[0] != "equal"]
    if not groups:
        return None
    if len(groups) > 1:
        raise ValueError(f"{len(groups)} changed regions")
    _, old_start, old_end, new_start, new_end = groups[0]
    return LineChange(old_start, tuple(window[old_start:old_end]), tuple(answer[new_start:new_end]))
