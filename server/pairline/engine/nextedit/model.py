"""The model predictor: the next edit as a model sees it, when propagation found nothing.

The model gets the recent edits and a window of lines around the cursor (see `model_prompt`)
and rewrites the window; the difference is offered when it is one small region of lines that
changes more than whitespace, does not simply undo a recent edit, and adds no parse error.

The local model (a `Backend`) generates with an early stop (see `model_diff.settled`), and its
confidence is how much likelier the model finds the new lines than the old ones at that place,
when the backend can score text (`joint_logprobs`); a remote `EditBackend` answers the chat or
completion form of the same prompt, with a fixed confidence below propagation's.
"""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from pairline.engine.backends.base import Backend, Generation, GenerationParams
from pairline.engine.backends.edit import Cancelled, EditBackend, EditPrompt
from pairline.engine.core import syntax
from pairline.engine.core.document import Document
from pairline.engine.core.types import Position
from pairline.engine.nextedit import model_diff
from pairline.engine.nextedit.history import Edit
from pairline.engine.nextedit.hunks import changed_span
from pairline.engine.nextedit.model_prompt import (
    STOP,
    Window,
    build_prompt,
    examples,
    window_around,
)
from pairline.engine.nextedit.propagate import ProposedEdit
from pairline.engine.prompt.edit import extract_code

KIND = "model"
WINDOW_LINES = 9
MAX_TOKENS = 192
# The most lines a proposal may remove, and add: a next edit, not a rewrite.
MAX_CHANGED_LINES = 4
# Confidence without scores: below every kind of propagation, to be calibrated by the bench.
UNSCORED_CONFIDENCE = 0.4
# Scores say how sure the model is, never more sure than a rename found by propagation.
MAX_CONFIDENCE = 0.9


@runtime_checkable
class _Generates(Protocol):
    async def generate(
        self, prompt: str, params: GenerationParams, cancel: threading.Event
    ) -> Generation: ...


@runtime_checkable
class Scorer(Protocol):
    """A backend that can say how likely each continuation of a prompt is (the local one)."""

    async def joint_logprobs(
        self, prompt: str, continuations: Sequence[str], cancel: threading.Event
    ) -> list[float]: ...


async def predict_with_model(
    backend: Backend | EditBackend,
    recent: Sequence[Edit],
    document: Document,
    cursor: Position,
    *,
    cancel: threading.Event | None = None,
    window_lines: int = WINDOW_LINES,
    max_tokens: int = MAX_TOKENS,
    max_changed_lines: int = MAX_CHANGED_LINES,
) -> list[ProposedEdit]:
    """At most one edit of `document` inside the window around `cursor`, from the model.

    `recent` are the user's recent edits in any order (those of other documents too); with
    none, there is no pattern to continue and nothing is asked. Answers [] when cancelled or
    when the answer is rejected; errors of the backend (EngineError) reach the caller.
    Raises InvalidPosition for a cursor outside the document. A document that changes while
    the model answers gets nothing: the answer was for the text it had.
    """
    cancel = cancel if cancel is not None else threading.Event()
    text, version = document.text, document.version
    window = window_around(document, cursor, window_lines)
    shown = examples(recent)
    if not shown or cancel.is_set():
        return []
    prompt = build_prompt(shown, document, window)
    if isinstance(backend, _Generates):
        answer = await _generate(
            backend, prompt.completion, window, max_tokens, max_changed_lines, cancel
        )
    else:
        answer = await _ask(backend, prompt, cancel)
    if answer is None or cancel.is_set() or _changed(document, text, version):
        return []
    lines = model_diff.read_answer(answer[0], window.lines, answer[1], max_changed_lines)
    change = _acceptable_change(window, lines, max_changed_lines)
    if change is None:
        return []
    new_text = _rewritten(text, window, change)
    if _undoes(new_text, change, document, recent):
        return []
    # A whole parse of a long file takes milliseconds: off the event loop.
    if await asyncio.to_thread(_adds_errors, document.language, text, new_text):
        return []
    confidence = UNSCORED_CONFIDENCE
    if isinstance(backend, Scorer):
        scored = await _score(backend, prompt.completion, window, change, cancel)
        if scored is None:
            return []
        confidence = scored
    if _changed(document, text, version):
        return []
    return [_proposal(document, new_text, confidence)]


def _changed(document: Document, text: str, version: int) -> bool:
    return document.version != version or document.text is not text


async def _generate(
    backend: _Generates,
    prompt: str,
    window: Window,
    max_tokens: int,
    max_lines: int,
    cancel: threading.Event,
) -> tuple[str, bool] | None:
    """(the answer, whether it is whole) from a local model, stopped as early as possible."""

    def done(text: str) -> bool:
        return STOP in text or model_diff.settled(text, window.lines, max_lines)

    params = GenerationParams(max_tokens=max_tokens, is_complete=done)
    generation = await backend.generate(prompt, params, cancel)
    if generation.stop_reason == "cancelled":
        return None
    return generation.text.split(STOP)[0], STOP in generation.text


async def _ask(
    backend: EditBackend, prompt: EditPrompt, cancel: threading.Event
) -> tuple[str, bool] | None:
    """(the answer, whole) from an edit backend: the code in its fenced block."""
    try:
        answer = await backend.answer(prompt, cancel)
    except Cancelled:
        return None
    code = extract_code(answer)
    return None if code is None else (code.rstrip("\n"), True)


def _acceptable_change(
    window: Window, lines: list[str] | None, max_lines: int
) -> model_diff.LineChange | None:
    """The answer's change when it is one small region that changes more than whitespace."""
    if lines is None:
        return None
    try:
        change = model_diff.line_change(window.lines, lines)
    except ValueError:
        return None  # changes in several places: a rewrite, not a next edit
    if change is None or len(change.old) > max_lines or len(change.new) > max_lines:
        return None

    def words(lines: Sequence[str]) -> list[str]:
        return [" ".join(line.split()) for line in lines if line.strip()]

    if words(change.old) == words(change.new):
        return None  # reindented or blank lines moved: not worth a suggestion
    if len(change.new) > len(change.old) and set(words(change.new)) - set(words(change.old)) <= set(
        words(window.lines)
    ):
        return None  # lines the window already has, repeated: small models loop like this
    return change


def _rewritten(text: str, window: Window, change: model_diff.LineChange) -> str:
    """The document's text with the window's lines changed."""
    lines = window.lines
    new = (*lines[: change.first], *change.new, *lines[change.first + len(change.old) :])
    return text[: window.start] + window.eol.join(new) + text[window.end :]


def _undoes(
    new_text: str, change: model_diff.LineChange, document: Document, recent: Sequence[Edit]
) -> bool:
    """Whether the change takes back one of the document's recent edits: the text as it was
    before it, or (where later edits moved it) its lines changed back."""
    text = document.text
    for edit in recent:
        if edit.uri != document.uri:
            continue
        hunk = edit.hunk
        if change.old == hunk.added and change.new == hunk.removed:
            return True
        if text[edit.start : edit.end] == edit.inserted and new_text == (
            text[: edit.start] + edit.removed + text[edit.end :]
        ):
            return True
    return False


def _adds_errors(language: str, text: str, new_text: str) -> bool:
    """Whether `new_text` parses with more errors than `text` (False: no grammar)."""
    before = syntax.error_count(language, text)
    if before is None:
        return False
    after = syntax.error_count(language, new_text)
    return after is not None and after > before


def _continuation(lines: Sequence[str]) -> str:
    return "".join(line + "\n" for line in lines)


async def _score(
    backend: Scorer,
    prompt: str,
    window: Window,
    change: model_diff.LineChange,
    cancel: threading.Event,
) -> float | None:
    """How much likelier the model finds the new lines than the old ones: P(new) / (P(new) +
    P(old)), each followed by the line after them (an inserted line is weighed against going
    on without it). None when cancelled."""
    head = window.lines[: change.first]
    after = window.lines[change.first + len(change.old) :][:1]
    new, old = await backend.joint_logprobs(
        prompt + _continuation(head),
        [_continuation((*change.new, *after)), _continuation((*change.old, *after))],
        cancel,
    )
    if cancel.is_set() or math.isinf(new):
        return None
    gap = min(old - new, 50.0)  # exp overflows far beyond where the share is 0
    return round(min(1.0 / (1.0 + math.exp(gap)), MAX_CONFIDENCE), 3)


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _proposal(document: Document, new_text: str, confidence: float) -> ProposedEdit:
    """The smallest replacement that turns the document into `new_text`, widened to whole words
    (a rename shows as the name replaced, not its last letters)."""
    text = document.text
    start, end, new_end = changed_span(text, new_text)
    while (
        start > 0
        and _is_word(text[start - 1])
        and (
            (start < end and _is_word(text[start]))
            or (start < new_end and _is_word(new_text[start]))
        )
    ):
        start -= 1
    while (
        end < len(text)
        and _is_word(text[end])
        and (
            (end > start and _is_word(text[end - 1]))
            or (new_end > start and _is_word(new_text[new_end - 1]))
        )
    ):
        end, new_end = end + 1, new_end + 1
    return ProposedEdit.replacing(document, start, end, new_text[start:new_end], KIND, confidence)
