"""Plain value types shared across the engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class PositionEncoding(StrEnum):
    """How a client counts columns (LSP `PositionEncodingKind`)."""

    UTF8 = "utf-8"
    UTF16 = "utf-16"
    UTF32 = "utf-32"


@dataclass(frozen=True)
class Position:
    """A zero-based line and a column counted in the document's position encoding."""

    line: int
    character: int


@dataclass(frozen=True)
class Range:
    start: Position
    end: Position


@dataclass(frozen=True)
class TextChange:
    """One content change: a range edit, or a whole-document replacement when `range` is None."""

    text: str
    range: Range | None = None


class Mode(StrEnum):
    """How much a completion may span."""

    LINE = "line"  # up to the end of the current line
    BLOCK = "block"  # the body of a block that starts at the cursor


@dataclass(frozen=True)
class CompletionRequest:
    """What the engine needs to complete at one cursor: the text split at the cursor."""

    uri: str
    language: str
    prefix: str
    suffix: str
    position: Position
    version: int = 0
    # Extra context placed before the code (snippets from other files, already formatted as
    # comments of the file's language). It leads the prompt, so keep it stable across
    # keystrokes: a change here re-evaluates the whole prompt.
    context: str = ""
    # Triggered by typing rather than asked for: may be skipped where no suggestion can help.
    automatic: bool = False


@dataclass(frozen=True)
class Suggestion:
    """A completion to insert at the cursor position of its request."""

    text: str
    position: Position
    mode: Mode
    model: str
    timings: dict[str, float] = field(default_factory=dict, compare=False)
    source: str = "model"  # "model", "cache" or "typing" (the rest of a shown suggestion)


class EngineError(Exception):
    """An error with a message fit to show the user."""


class Superseded(Exception):
    """A newer request or an edit of the document stopped this completion before it finished."""


class InvalidPosition(EngineError):
    """A position that does not exist in the document."""


class UnknownDocument(EngineError):
    """A request for a document the client never opened."""
