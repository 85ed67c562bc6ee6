"""A text document as the editor sees it, with LSP positions in any of the three encodings.

Edits are applied all-or-nothing: a batch holding one out-of-range edit leaves the text as it
was, so the server never keeps a half-applied change.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence

from pairline.engine.core.types import InvalidPosition, Position, PositionEncoding, TextChange

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _units(ch: str, encoding: PositionEncoding) -> int:
    if encoding is PositionEncoding.UTF16:
        return 2 if ord(ch) > 0xFFFF else 1
    if encoding is PositionEncoding.UTF8:
        return len(ch.encode("utf-8", "surrogatepass"))
    return 1


def column_to_index(line: str, column: int, encoding: PositionEncoding) -> int:
    """Code-point index in `line` for a column in `encoding` units, clamped to the line end.

    A column that falls inside a character (half of a surrogate pair) rounds down to its start.
    """
    if column <= 0:
        return 0
    if encoding is PositionEncoding.UTF32 or line.isascii():
        return min(column, len(line))
    units = 0
    for index, ch in enumerate(line):
        units += _units(ch, encoding)
        if units > column:
            return index
        if units == column:
            return index + 1
    return len(line)


def index_to_column(line: str, index: int, encoding: PositionEncoding) -> int:
    """Column in `encoding` units of the code-point index `index` in `line`."""
    head = line[:index]
    if encoding is PositionEncoding.UTF32 or head.isascii():
        return len(head)
    return sum(_units(ch, encoding) for ch in head)


class Document:
    """The latest text of one open buffer."""

    def __init__(
        self,
        uri: str,
        text: str,
        *,
        language: str = "",
        version: int = 0,
        encoding: PositionEncoding = PositionEncoding.UTF16,
    ) -> None:
        self.uri = uri
        self.language = language
        self.version = version
        self.encoding = encoding
        self._text = text
        self._starts: list[int] | None = None

    @property
    def text(self) -> str:
        return self._text

    @property
    def line_starts(self) -> list[int]:
        """Offsets where each line begins (computed lazily: a burst of edits pays once)."""
        if self._starts is None:
            self._starts = [0] + [m.end() for m in _LINE_BREAK.finditer(self._text)]
        return self._starts

    @property
    def line_count(self) -> int:
        return len(self.line_starts)

    def line_text(self, line: int) -> str:
        """The text of `line` without its line break."""
        starts = self.line_starts
        start = starts[line]
        end = starts[line + 1] if line + 1 < len(starts) else len(self._text)
        return self._text[start:end].rstrip("\r\n")

    def offset_at(self, position: Position) -> int:
        """Offset of `position`; a column past the line end is clamped to it (as LSP says).

        Raises InvalidPosition for a negative position or a line past the end of the document.
        The one position just after the last line, column 0, means the end of the text.
        """
        if position.line < 0 or position.character < 0:
            raise InvalidPosition(f"negative position {position.line}:{position.character}")
        starts = self.line_starts
        if position.line >= len(starts):
            if position.line == len(starts) and position.character == 0:
                return len(self._text)
            raise InvalidPosition(
                f"line {position.line} is past the end of the document ({len(starts)} lines)"
            )
        line = self.line_text(position.line)
        return starts[position.line] + column_to_index(line, position.character, self.encoding)

    def position_at(self, offset: int) -> Position:
        """The position of `offset` (clamped into the text) in this document's encoding."""
        offset = max(0, min(offset, len(self._text)))
        starts = self.line_starts
        line = bisect_right(starts, offset) - 1
        # An offset between "\r" and "\n" belongs to the line it breaks.
        index = min(offset - starts[line], len(self.line_text(line)))
        return Position(line, index_to_column(self.line_text(line), index, self.encoding))

    def clamp(self, position: Position) -> Position:
        """The position that `offset_at` resolves `position` to."""
        return self.position_at(self.offset_at(position))

    def apply(self, changes: Sequence[TextChange], version: int | None = None) -> None:
        """Apply a batch of changes in order, all or none."""
        doc = Document(self.uri, self._text, encoding=self.encoding)
        for change in changes:
            if change.range is None:
                doc._set_text(change.text)
                continue
            start = doc.offset_at(change.range.start)
            end = doc.offset_at(change.range.end)
            if end < start:
                raise InvalidPosition(
                    f"inverted range {change.range.start.line}:{change.range.start.character}"
                    f"-{change.range.end.line}:{change.range.end.character}"
                )
            doc._set_text(doc._text[:start] + change.text + doc._text[end:])
        self._set_text(doc._text)
        if version is not None:
            self.version = version

    def _set_text(self, text: str) -> None:
        self._text = text
        self._starts = None
