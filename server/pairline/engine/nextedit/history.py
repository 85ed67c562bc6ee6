"""The user's recent edits, per document and across documents, as coalesced hunks.

Every document change is recorded; a change that touches the span of the edit recorded just
before it (same document, nothing recorded in between) extends that edit instead of starting a
new one, so typing a word character by character, or fixing a typo in it, is one edit. A
change elsewhere, in another document, or after `settle()` starts a new edit. Coalescing
depends on that adjacency only, unless a `pause` (seconds, read from `clock`) is given.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pairline.engine.core.document import Document
from pairline.engine.core.types import PositionEncoding, TextChange
from pairline.engine.nextedit.hunks import Hunk, changed_span, extract, trim


@dataclass(frozen=True)
class Edit:
    """One coalesced edit: `removed` replaced by `inserted` at `start` (code-point offsets).

    `start` and `end` locate `inserted` in the document text right after this edit; later
    edits of the document may move it.
    """

    uri: str
    version: int
    start: int
    end: int
    removed: str
    inserted: str
    hunk: Hunk
    sequence: int  # order of recording across documents
    time: float
    clipped: bool = False  # `removed` / `inserted` were cut to the size bound


class EditHistory:
    """The last edits of the last edited documents, bounded in count and size."""

    def __init__(
        self,
        *,
        per_document: int = 16,
        documents: int = 32,
        context_lines: int = 3,
        max_hunk_chars: int = 2000,
        pause: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._per_document = per_document
        self._documents = documents
        self._context = context_lines
        self._max_chars = max_hunk_chars
        self._pause = pause
        self._clock = clock
        self._edits: OrderedDict[str, deque[Edit]] = OrderedDict()
        self._sequence = 0
        self._open = False  # whether the last recorded edit may still grow
        # Where a change extends the last edit: its span, the change that made it (a diff of
        # "count" → "t" says "coun" was deleted, but the cursor is after the "t"), and the word
        # around them.
        self._reach = (0, 0)

    def record(self, uri: str, before: str, after: str, *, version: int = 0) -> Edit | None:
        """Record the change from `before` to `after` (a whole-text update); the edit it joined."""
        start, end_before, end_after = changed_span(before, after)
        if start == end_before == end_after:
            return None
        return self.record_change(
            uri, before, start, end_before, after[start:end_after], version=version, after=after
        )

    def record_changes(
        self,
        uri: str,
        before: str,
        changes: Sequence[TextChange],
        *,
        version: int = 0,
        encoding: PositionEncoding = PositionEncoding.UTF16,
    ) -> str:
        """Record a batch of LSP-style changes, each against the text the previous one left.

        Returns the text after the batch. Raises InvalidPosition (nothing recorded) when a
        range lies outside the text. Where the caller has the texts before and after the batch,
        `record` is cheaper: it needs no line offsets.
        """
        doc = Document(uri, before, encoding=encoding)
        steps: list[tuple[str, int, int, str]] = []  # recorded once the whole batch applies
        for change in changes:
            text = doc.text
            if change.range is None:
                start, end, end_after = changed_span(text, change.text)
                steps.append((text, start, end, change.text[start:end_after]))
            else:
                start = doc.offset_at(change.range.start)
                end = doc.offset_at(change.range.end)
                steps.append((text, start, end, change.text))
            doc.apply([change])
        for text, start, end, inserted in steps:
            self.record_change(uri, text, start, end, inserted, version=version)
        return doc.text

    def record_change(
        self,
        uri: str,
        before: str,
        start: int,
        end: int,
        text: str,
        *,
        version: int = 0,
        after: str | None = None,
    ) -> Edit | None:
        """Record `before[start:end]` replaced by `text` (code-point offsets; `after` if known).

        Returns the edit this change made or extended, or None when it changed nothing (or
        undid the edit it extended, which is then forgotten).
        """
        if after is None:
            after = before[:start] + text + before[end:]
        # Where the change happened, before trimming: the cursor is there, next to the edit.
        changed = (start, start + len(text))
        now = self._clock()
        removed, inserted = before[start:end], text
        last = self.last()
        joined = last is not None and self._joins(last, uri, before, (start, end), len(text), now)
        if last is not None and joined:
            low, high = min(last.start, start), max(last.end, end)
            removed = before[low : last.start] + last.removed + before[last.end : high]
            inserted = before[low:start] + text + before[end:high]
            start = low
            self._edits[uri].pop()
        start, removed, inserted = trim(start, removed, inserted)
        if removed == inserted:
            if joined:  # the change undid the edit it extended
                self._open = False
                if not self._edits[uri]:
                    del self._edits[uri]
            return None
        edit = self._make(uri, version, after, start, removed, inserted, now)
        self._push(edit)
        self._reach = _word_bounds(after, min(edit.start, changed[0]), max(edit.end, changed[1]))
        return edit

    def _joins(
        self, last: Edit, uri: str, before: str, span: tuple[int, int], size: int, now: float
    ) -> bool:
        start, end = span
        grown = len(last.removed) + len(last.inserted) + (end - start) + size
        return (
            self._open
            and last.uri == uri
            and not last.clipped
            and (self._pause is None or now - last.time <= self._pause)
            and start <= self._reach[1]
            and end >= self._reach[0]
            # The text must be the one the last edit left: a change we did not see breaks it.
            and before[last.start : last.end] == last.inserted
            and grown <= self._max_chars
        )

    def _make(
        self,
        uri: str,
        version: int,
        after: str,
        start: int,
        removed: str,
        inserted: str,
        now: float,
    ) -> Edit:
        end = start + len(inserted)
        hunk = extract(after, start, end, removed, context=self._context, max_chars=self._max_chars)
        clipped = len(removed) + len(inserted) > self._max_chars
        if clipped:
            half = self._max_chars // 2
            removed, inserted = removed[:half], inserted[:half]
        self._sequence += 1
        return Edit(uri, version, start, end, removed, inserted, hunk, self._sequence, now, clipped)

    def _push(self, edit: Edit) -> None:
        edits = self._edits.get(edit.uri)
        if edits is None:
            edits = self._edits[edit.uri] = deque(maxlen=self._per_document)
        edits.append(edit)
        self._edits.move_to_end(edit.uri)
        while len(self._edits) > self._documents:
            self._edits.popitem(last=False)
        self._open = True

    def settle(self) -> None:
        """End the current edit: the next change starts a new one (a jump, an accepted edit)."""
        self._open = False

    def last(self, uri: str | None = None) -> Edit | None:
        """The latest edit of `uri`, or of any document."""
        if uri is None:
            uri = next(reversed(self._edits), None)
            if uri is None:
                return None
        edits = self._edits.get(uri)
        return edits[-1] if edits else None

    def edits(self, uri: str) -> list[Edit]:
        """The kept edits of `uri`, oldest first."""
        return list(self._edits.get(uri, ()))

    def recent(self, limit: int = 8) -> list[Edit]:
        """The latest edits across documents, newest first."""
        every = [edit for edits in self._edits.values() for edit in edits]
        return sorted(every, key=lambda edit: edit.sequence, reverse=True)[:limit]

    def forget(self, uri: str) -> None:
        """Drop the edits of `uri` (the document was closed or deleted)."""
        if self._edits.pop(uri, None) is not None:
            self._open = False


# How far a word around an edit extends the place where typing continues it.
_WORD_REACH = 64


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _word_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """`start` and `end` moved outwards over the word characters around them."""
    low = max(0, start - _WORD_REACH)
    while start > low and _is_word(text[start - 1]):
        start -= 1
    high = min(len(text), end + _WORD_REACH)
    while end < high and _is_word(text[end]):
        end += 1
    return start, end
