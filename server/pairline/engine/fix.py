"""Code actions: generate → verify → revise until an edit verifies.

`fix()` is the loop run when the user picks an action: it asks the model for a new version of
the region, applies it to a shadow copy of the file, lets the verifier judge it, and on a
rejection asks again with the reason, up to `rounds` times.

This module is also the one entry point for code actions, so it re-exports the rest of them:
what can be offered (`action_offers`), how an answer becomes a document and a line edit
(`action_answers`) and which model answers (`edit_router`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pairline.engine.action_answers import LineEdit, apply_answer, line_edits, split_lines
from pairline.engine.action_offers import (
    DOCSTRING,
    FIX,
    IMPLEMENT,
    MAX_REGION_LINES,
    TITLES,
    FixRequest,
    Offer,
    Region,
    is_stub,
    offers,
)
from pairline.engine.backends.edit import EditBackend
from pairline.engine.edit_router import EditRouter, make_remote
from pairline.engine.prompt.edit import EditTask, budget_context, build_prompt
from pairline.engine.redact import is_secret_file
from pairline.engine.types import EngineError
from pairline.engine.verify import Verdict, Verifier

__all__ = [
    "DOCSTRING",
    "FIX",
    "IMPLEMENT",
    "MAX_REGION_LINES",
    "TITLES",
    "Attempt",
    "EditRouter",
    "FixRequest",
    "FixResult",
    "LineEdit",
    "Offer",
    "ProgressCallback",
    "Region",
    "apply_answer",
    "fix",
    "is_stub",
    "line_edits",
    "make_remote",
    "offers",
    "task_for",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Attempt:
    """One round: what the model said and what the verifier made of it."""

    round: int
    answer: str  # what the model said
    candidate: str | None  # the whole new document, None when no code could be read
    verdict: Verdict
    seconds: float


@dataclass(frozen=True)
class FixResult:
    """The outcome: `text` is the verified new document, or None when nothing verified."""

    text: str | None
    verified: bool
    message: str
    model: str
    where: str  # "remote" or "local"
    attempts: tuple[Attempt, ...] = ()
    seconds: float = 0.0
    best_unverified: str | None = None  # the most promising rejected candidate, if any

    @property
    def rounds(self) -> int:
        return len(self.attempts)


def task_for(request: FixRequest, previous: Attempt | None) -> EditTask:
    """What the model is asked this round: the region, and the last rejection when revising."""
    lines = split_lines(request.text)
    region = request.region
    before, after = budget_context(lines, region.start, region.end, request.context_lines)
    previous_region: str | None = None
    if previous is not None and previous.candidate is not None:
        new_lines = split_lines(previous.candidate)
        grown = len(new_lines) - len(lines)
        previous_region = "".join(new_lines[region.start : region.end + grown])
    elif previous is not None:
        previous_region = previous.answer
    return EditTask(
        kind=request.kind,
        language=request.language,
        file_name=request.file_name,
        region="".join(lines[region.start : region.end]),
        before=before,
        after=after,
        diagnostics=request.diagnostics,
        previous=previous_region,
        feedback=previous.verdict.message if previous is not None else None,
    )


ProgressCallback = Callable[[str, int], None]


async def fix(
    request: FixRequest,
    backend: EditBackend,
    verifier: Verifier,
    rounds: int,
    *,
    cancel: threading.Event | None = None,
    progress: ProgressCallback | None = None,
) -> FixResult:
    """Generate, verify and revise up to `rounds` times; the first verified candidate wins.

    Raises RemoteError (or another EngineError) when the model cannot be asked at all.
    """
    if backend.where == "remote" and is_secret_file(request.file_name):
        # A .env or key file is nothing but secrets: redacting it would leave nothing to fix.
        raise EngineError(f"{request.file_name} holds secrets; it is never sent to a remote model")
    cancel = cancel or threading.Event()
    started = time.perf_counter()
    attempts: list[Attempt] = []
    for number in range(1, rounds + 1):
        if progress is not None:
            what = "asking" if number == 1 else "revising with"
            progress(
                f"round {number}/{rounds}: {what} {backend.name}", (number - 1) * 100 // rounds
            )
        round_started = time.perf_counter()
        prompt = build_prompt(task_for(request, attempts[-1] if attempts else None))
        answer = await backend.answer(prompt, cancel)
        candidate = apply_answer(request, answer)
        if candidate is None:
            missing = "docstring" if request.kind == DOCSTRING else "code"
            verdict = Verdict(False, "extract", f"the answer holds no {missing}")
        else:
            if progress is not None:
                progress(f"round {number}/{rounds}: checking", (2 * number - 1) * 50 // rounds)
            verdict = await verifier.verify(
                request.language, request.rel_path, request.text, candidate
            )
        attempt = Attempt(number, answer, candidate, verdict, time.perf_counter() - round_started)
        attempts.append(attempt)
        log.info(
            "%s round %d/%d with %s: %s (%s)",
            request.kind,
            number,
            rounds,
            backend.name,
            "accepted" if verdict.ok else "rejected",
            verdict.message.splitlines()[0] if verdict.message else verdict.stage,
        )
        if verdict.ok:
            return FixResult(
                text=candidate,
                verified=True,
                message=verdict.message,
                model=backend.name,
                where=backend.where,
                attempts=tuple(attempts),
                seconds=time.perf_counter() - started,
            )
    best = _best(attempts)
    last = attempts[-1].verdict.message if attempts else "no attempt"
    return FixResult(
        text=None,
        verified=False,
        message=f"no verified edit after {len(attempts)} round(s); last: {last}",
        model=backend.name,
        where=backend.where,
        attempts=tuple(attempts),
        seconds=time.perf_counter() - started,
        best_unverified=best.candidate if best is not None else None,
    )


# A rejection at a later stage got further: a candidate that parses beats one that does not.
_STAGE_RANK = {"check": 3, "setup": 2, "parse": 1, "unchanged": 0, "extract": 0}


def _best(attempts: Sequence[Attempt]) -> Attempt | None:
    usable = [a for a in attempts if a.candidate is not None and a.verdict.stage != "unchanged"]
    if not usable:
        return None
    return max(usable, key=lambda a: (_STAGE_RANK.get(a.verdict.stage, 0), a.round))
