"""Text differences as small hunks: the changed span of two texts and its lines with context."""

from __future__ import annotations

from dataclasses import dataclass
from typing import AnyStr

# Below this length a character loop beats slicing; above it, halving the compared slices
# keeps the work in C (texts are whole documents, compared on every keystroke).
_SCAN = 64


def common_prefix(a: AnyStr, b: AnyStr) -> int:
    """The length of the longest common prefix of `a` and `b`."""
    lo, hi = 0, min(len(a), len(b))
    if a[:hi] == b[:hi]:
        return hi
    while hi - lo > _SCAN:  # invariant: a[:lo] == b[:lo] and a[:hi] != b[:hi]
        mid = (lo + hi) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid
    while lo < hi and a[lo] == b[lo]:
        lo += 1
    return lo


def common_suffix(a: AnyStr, b: AnyStr, limit: int) -> int:
    """The length of the longest common suffix of `a` and `b`, at most `limit`."""
    lo, hi = 0, min(len(a), len(b), limit)
    if hi == 0 or a[len(a) - hi :] == b[len(b) - hi :]:
        return hi
    while hi - lo > _SCAN:  # invariant: the last lo agree, the last hi do not
        mid = (lo + hi) // 2
        if a[len(a) - mid : len(a) - lo] == b[len(b) - mid : len(b) - lo]:
            lo = mid
        else:
            hi = mid
    while lo < hi and a[len(a) - lo - 1] == b[len(b) - lo - 1]:
        lo += 1
    return lo


def changed_span(before: AnyStr, after: AnyStr) -> tuple[int, int, int]:
    """(start, end in `before`, end in `after`) of the one span where the two texts differ."""
    start = common_prefix(before, after)
    tail = common_suffix(before, after, min(len(before), len(after)) - start)
    return start, len(before) - tail, len(after) - tail


def trim(start: int, removed: str, inserted: str) -> tuple[int, str, str]:
    """The same replacement without the text that `removed` and `inserted` share at their ends."""
    head = common_prefix(removed, inserted)
    tail = common_suffix(removed, inserted, min(len(removed), len(inserted)) - head)
    return start + head, removed[head : len(removed) - tail], inserted[head : len(inserted) - tail]


@dataclass(frozen=True)
class Hunk:
    """The lines an edit touched, before and after it, between unchanged context lines."""

    line: int  # zero-based line of the first line shown (context included)
    above: tuple[str, ...]  # unchanged context lines
    removed: tuple[str, ...]  # the touched lines as they were
    added: tuple[str, ...]  # the touched lines as they are
    below: tuple[str, ...]
    clipped: bool = False  # the touched lines were cut to fit the size bound

    @property
    def before(self) -> str:
        return "\n".join((*self.above, *self.removed, *self.below))

    @property
    def after(self) -> str:
        return "\n".join((*self.above, *self.added, *self.below))

    def unified(self) -> str:
        """The hunk in unified diff form (one-based line numbers), for prompts and logs."""
        context = len(self.above) + len(self.below)
        header = (
            f"@@ -{self.line + 1},{len(self.removed) + context}"
            f" +{self.line + 1},{len(self.added) + context} @@"
        )
        body = [
            *(" " + line for line in self.above),
            *("-" + line for line in self.removed),
            *("+" + line for line in self.added),
            *(" " + line for line in self.below),
        ]
        return "\n".join((header, *body))


def _context_above(text: str, line_start: int, count: int) -> tuple[str, ...]:
    lines: list[str] = []
    end = line_start - 1  # the line break ending the line above
    while len(lines) < count and end >= 0:
        begin = text.rfind("\n", 0, end) + 1
        lines.append(text[begin:end].rstrip("\r"))
        end = begin - 1
    return tuple(reversed(lines))


def _context_below(text: str, line_end: int, count: int) -> tuple[str, ...]:
    lines: list[str] = []
    begin = line_end + 1
    while len(lines) < count and begin < len(text):
        end = text.find("\n", begin)
        end = len(text) if end < 0 else end
        lines.append(text[begin:end].rstrip("\r"))
        begin = end + 1
    return tuple(lines)


def _split(text: str) -> tuple[str, ...]:
    return tuple(line.rstrip("\r") for line in text.split("\n"))


def _clip(lines: tuple[str, ...], chars: int) -> tuple[str, ...]:
    kept: list[str] = []
    for line in lines:
        if chars <= 0:
            break
        kept.append(line[:chars])
        chars -= len(line) + 1
    return tuple(kept)


def _unchanged_ends(old: tuple[str, ...], new: tuple[str, ...]) -> tuple[int, int]:
    """How many lines the two lists share at their start, then at their end."""
    shortest = min(len(old), len(new))
    head = 0
    while head < shortest - 1 and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < shortest - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    return head, tail


def extract(
    after: str, start: int, end: int, removed: str, *, context: int = 3, max_chars: int = 2000
) -> Hunk:
    """The hunk of an edit that replaced `removed` by `after[start:end]`.

    Context lines are dropped, then the touched lines cut, until the hunk fits in `max_chars`.
    """
    line_start = after.rfind("\n", 0, start) + 1
    line_end = after.find("\n", end)
    line_end = len(after) if line_end < 0 else line_end
    added = _split(after[line_start:line_end])
    old = _split(after[line_start:start] + removed + after[end:line_end])
    # Whole lines inserted or deleted leave unchanged lines at the ends: context, not change.
    head, tail = _unchanged_ends(old, added)
    moved_above, moved_below = added[:head], added[len(added) - tail :]
    if line_end == len(after) and moved_below[-1:] == ("",):
        moved_below = moved_below[:-1]  # the "line" after the text's last line break
    old, added = old[head : len(old) - tail], added[head : len(added) - tail]
    size = sum(len(line) + 1 for line in (*added, *old))
    above = (*_context_above(after, line_start, context), *moved_above)
    above = above[max(0, len(above) - context - head) :]
    below = (*moved_below, *_context_below(after, line_end, context))[: context + tail]
    while above or below:
        if size + sum(len(line) + 1 for line in (*above, *below)) <= max_chars:
            break
        above, below = above[1:], below[:-1]
    clipped = size > max_chars
    if clipped:
        old, added = _clip(old, max_chars // 2), _clip(added, max_chars // 2)
    first = after.count("\n", 0, line_start) + head - len(above)
    return Hunk(first, above, old, added, below, clipped)
