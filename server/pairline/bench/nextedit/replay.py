"""Edit sequences for `pairline bench nextedit`: a file's line hunks, replayed, and the judge.

A file changed between two versions becomes a sequence of line hunks (difflib, line-based,
autojunk off), applied one by one from the top, starting from the old file. After hunk i the
text is `new[:end of hunk i in new] + old[end of hunk i in old:]`, and every later hunk k is
still to come: it replaces the current lines `old_start(k) + shift .. old_end(k) + shift`
(shift: lines added so far) by its new lines.

A proposal (replace characters `start..end` of the current text by `text`) is judged against
the hunks still to come, comparing lines after normalisation: every run of whitespace removed,
then a comma right before a closing bracket (a formatter's "magic trailing comma": with the
line breaks, formatting is not the predictor's to guess). It is **correct** when, for some
remaining hunk H,

1. *whole*: the proposal applied to the current text gives, under normalisation, the same text
   as H applied to it (the lines either one touches compared, the rest being equal), or
2. *part*: the proposal changes lines in place (as many lines after as before) inside H's old
   lines, changes at least one line, and every line it changes becomes exactly the line H makes
   of it. Lines of H are paired as difflib pairs them (its equal-sized replace blocks); a line
   of H without a partner can only be matched by a whole match. A line the proposal leaves half
   done (H renames two names in it, the proposal one) is not a correct part.

Whatever else it does is wrong, including a change that is only whitespace.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class LineHunk:
    """Old lines `old_start..old_end` replaced by new lines `new_start..new_end` (0-based)."""

    old_start: int
    old_end: int
    new_start: int
    new_end: int


@dataclass(frozen=True)
class Remaining:
    """A hunk still to come, in the current text: lines `start..end` become `lines`."""

    index: int  # position of the hunk in the file's sequence
    start: int
    end: int
    lines: tuple[str, ...]
    pairs: dict[int, int]  # old line offset in the hunk → new line offset, for part matches


@dataclass(frozen=True)
class Step:
    """The state after applying hunk `index` of a file: texts and the hunks still to come."""

    index: int
    before: str  # the text before the hunk
    after: str  # the text after it (the current text)
    remaining: tuple[Remaining, ...]


def split_lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def line_hunks(old: Sequence[str], new: Sequence[str]) -> list[LineHunk]:
    """The changed blocks between two lists of lines, top to bottom."""
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    return [
        LineHunk(i1, i2, j1, j2) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"
    ]


def _pairs(old: Sequence[str], new: Sequence[str]) -> dict[int, int]:
    if len(old) == len(new):
        return {i: i for i in range(len(old))}
    pairs: dict[int, int] = {}
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "equal") and i2 - i1 == j2 - j1:
            pairs.update({i1 + k: j1 + k for k in range(i2 - i1)})
    return pairs


def replay(old_text: str, new_text: str) -> Iterator[Step]:
    """The steps of applying the file's hunks in order, from `old_text` to `new_text`."""
    old, new = split_lines(old_text), split_lines(new_text)
    hunks = line_hunks(old, new)
    remaining_all = [
        (
            k,
            h,
            tuple(new[h.new_start : h.new_end]),
            _pairs(old[h.old_start : h.old_end], new[h.new_start : h.new_end]),
        )
        for k, h in enumerate(hunks)
    ]
    before = old_text
    for i, hunk in enumerate(hunks):
        after = "".join(new[: hunk.new_end] + old[hunk.old_end :])
        shift = hunk.new_end - hunk.old_end
        remaining = tuple(
            Remaining(k, h.old_start + shift, h.old_end + shift, lines, pairs)
            for k, h, lines, pairs in remaining_all[i + 1 :]
        )
        yield Step(i, before, after, remaining)
        before = after


_TRAILING_COMMA = re.compile(r",(?=[)\]}])")


def normalise(text: str) -> str:
    """`text` without whitespace and without commas right before a closing bracket."""
    return _TRAILING_COMMA.sub("", "".join(text.split()))


@dataclass(frozen=True)
class Verdict:
    correct: bool
    hunk: int | None  # the index of the hunk it matched
    how: str  # "whole", "part", "" (wrong)


def judge(current: str, start: int, end: int, text: str, remaining: Sequence[Remaining]) -> Verdict:
    """Whether replacing `current[start:end]` by `text` is a correct next edit (module doc)."""
    cur = split_lines(current)
    new = split_lines(current[:start] + text + current[end:])
    # The lines the proposal changed: cur[low:high] became new[low:high_new].
    low = 0
    while low < min(len(cur), len(new)) and cur[low] == new[low]:
        low += 1
    tail = 0
    while tail < min(len(cur), len(new)) - low and cur[-1 - tail] == new[-1 - tail]:
        tail += 1
    high, high_new = len(cur) - tail, len(new) - tail
    if normalise("".join(cur[low:high])) == normalise("".join(new[low:high_new])):
        return Verdict(False, None, "")
    for hunk in remaining:
        # Whole: compare the union of both changed spans, which is all that can differ.
        first, last = min(low, hunk.start), max(high, hunk.end)
        ours = new[first : last + (high_new - high)]
        theirs = [*cur[first : hunk.start], *hunk.lines, *cur[hunk.end : last]]
        if normalise("".join(ours)) == normalise("".join(theirs)):
            return Verdict(True, hunk.index, "whole")
    if high - low != high_new - low:
        return Verdict(False, None, "")
    for hunk in remaining:
        if not hunk.start <= low <= high <= hunk.end:
            continue
        changed = [i for i in range(low, high) if normalise(cur[i]) != normalise(new[i])]
        if changed and all(
            (i - hunk.start) in hunk.pairs
            and normalise(new[i]) == normalise(hunk.lines[hunk.pairs[i - hunk.start]])
            for i in changed
        ):
            return Verdict(True, hunk.index, "part")
    return Verdict(False, None, "")
