"""The model predictor's prompt: the user's recent edits as examples, then the window to rewrite.

The built-in models are small base models without fill-in-the-middle or chat templates: they
continue text. So the completion form shows each recent edit as a "before" and an "after"
block (the edit's hunk, oldest first), then the lines around the cursor as one more "before"
block and an open "after" block: a model that has seen the pattern continues it by rewriting
the window with the next edit applied, or copies it unchanged. The chat form (remote instruct
models) asks for the same thing in words, with the edits as unified diffs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from pairline.engine.backends.edit import EditPrompt
from pairline.engine.core.document import Document
from pairline.engine.core.languages import comment_marker
from pairline.engine.core.types import Position
from pairline.engine.nextedit.history import Edit

FENCE = "```"
# Ends the rewritten window: the closing fence, on its own line.
STOP = "\n" + FENCE
# Recent edits shown, and the characters their hunks may take in all: the newest ones that fit.
MAX_EXAMPLES = 3
EXAMPLE_CHARS = 2400

SYSTEM = (
    "You predict the next edit a programmer makes, from the edits they just made. Answer with "
    "one fenced code block and nothing else."
)


@dataclass(frozen=True)
class Window:
    """Whole lines `first`..`first + len(lines)` of a document: what the model rewrites."""

    first: int  # zero-based line
    lines: tuple[str, ...]  # without their line breaks
    start: int  # code-point offset of the first line's start
    end: int  # code-point offset of the end of the last line (before its line break)
    eol: str  # the document's line break, used to join rewritten lines

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def window_around(document: Document, cursor: Position, size: int) -> Window:
    """`size` lines around the cursor's line: a third above it, the rest from it down.

    The next edit is more often below the last one than above it. Raises InvalidPosition for
    a cursor outside the document.
    """
    offset = document.offset_at(cursor)
    line = document.position_at(offset).line
    count = document.line_count
    first = max(0, line - max(1, size) // 3)
    last = min(count, first + max(1, size))
    first = max(0, last - max(1, size))
    lines = tuple(document.line_text(n) for n in range(first, last))
    starts = document.line_starts
    end = starts[last - 1] + len(lines[-1])
    eol = "\r\n" if "\r\n" in document.text[starts[first] : end + 2] else "\n"
    return Window(first, lines, starts[first], end, eol)


def file_name(uri: str) -> str:
    """The last part of a document's path, for the prompt."""
    path = unquote(urlsplit(uri).path) or uri
    return path.rstrip("/").rsplit("/", 1)[-1] or "untitled"


def examples(recent: Sequence[Edit], limit: int = MAX_EXAMPLES) -> list[Edit]:
    """The newest edits whose hunks fit the budget, oldest first (the order they were made)."""
    kept: list[Edit] = []
    budget = EXAMPLE_CHARS
    for edit in sorted(recent, key=lambda e: e.sequence, reverse=True):
        if len(kept) >= limit:
            break
        size = len(edit.hunk.before) + len(edit.hunk.after)
        if edit.clipped or edit.hunk.clipped or size > budget:
            continue
        kept.append(edit)
        budget -= size
    return kept[::-1]


def _block(heading: str, code: str, language: str) -> str:
    return f"{heading}\n{FENCE}{language}\n{code}\n{FENCE}\n"


def completion_prompt(shown: Sequence[Edit], document: Document, window: Window) -> str:
    """The base-model form: ends with the open block the model fills with the new window."""
    mark = comment_marker(document.language)
    language = document.language
    parts: list[str] = []
    for number, edit in enumerate(shown, 1):
        name = file_name(edit.uri)
        parts.append(_block(f"{mark} Edit {number} in {name}, before:", edit.hunk.before, language))
        parts.append(_block(f"{mark} Edit {number}, after:", edit.hunk.after, language) + "\n")
    number = len(shown) + 1
    name = file_name(document.uri)
    parts.append(_block(f"{mark} Edit {number} in {name}, before:", window.text, language))
    parts.append(f"{mark} Edit {number}, after:\n{FENCE}{language}\n")
    return "".join(parts)


def chat_prompt(shown: Sequence[Edit], document: Document, window: Window) -> str:
    """The instruct-model form: the edits as diffs, the window, what to answer."""
    diffs = "\n".join(f"--- {file_name(e.uri)}\n{e.hunk.unified()}" for e in shown)
    language = document.language
    return (
        f"The edits just made, oldest first:\n{FENCE}diff\n{diffs}\n{FENCE}\n\n"
        f"Lines {window.first + 1}-{window.first + len(window.lines)} of "
        f"`{file_name(document.uri)}` now read:\n{FENCE}{language}\n{window.text}\n{FENCE}\n\n"
        "Rewrite these lines with the next edit those edits call for applied (the same change "
        "at another place, or its consequence), and change nothing else. If no edit follows, "
        f"repeat them unchanged. Answer with the lines in one {FENCE}{language} block."
    )


def build_prompt(shown: Sequence[Edit], document: Document, window: Window) -> EditPrompt:
    """Both forms of the request (`shown`: the edits from `examples`), for either backend."""
    return EditPrompt(
        system=SYSTEM,
        user=chat_prompt(shown, document, window),
        completion=completion_prompt(shown, document, window),
        stop=(STOP,),
    )
