"""One round of the "Fix this" loop: the requests and checks in flight, and what they produced.

A `Round` starts model requests and checks as tasks and `settle`s each one that finishes: an
answer becomes a candidate document (dropped unchecked when it holds no code, changes only
prose or repeats a candidate already tried) and goes to the verifier; a verdict becomes an
`Attempt`. What the rounds of one loop share (every attempt, the candidates seen, the counts the
result reports) lives in its `Tally`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any

from pairline.engine.actions.answers import apply_answer, normalised
from pairline.engine.actions.hunks import keep_prose
from pairline.engine.actions.offers import DOCSTRING, FIX, FixRequest
from pairline.engine.actions.outcome import Attempt
from pairline.engine.actions.verify import Verdict, Verifier
from pairline.engine.backends.edit import Cancelled, EditBackend, EditPrompt, Sampling
from pairline.engine.core.types import EngineError

log = logging.getLogger(__name__)

# What a loop counts, reported in its result and its progress messages.
_COUNTS = ("generated", "duplicates", "checked", "rounds", "unchanged", "edits")


@dataclass
class Tally:
    """What the rounds of one loop have seen: every judged attempt, the candidates already
    tried (normalised, so a copy is never checked twice) and the counts."""

    attempts: list[Attempt] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_COUNTS, 0))


class Round:
    """The tasks of one round and what they produced, until one passes or all are done."""

    def __init__(
        self,
        request: FixRequest,
        backend: EditBackend,
        verifier: Verifier,
        number: int,
        tally: Tally,
    ) -> None:
        self.request = request
        self.backend = backend
        self.verifier = verifier
        self.number = number
        self.tally = tally
        self.generating: dict[asyncio.Task[Any], tuple[int, threading.Event, float]] = {}
        self.checking: dict[asyncio.Task[Any], tuple[int, str, str, float, str]] = {}
        self.errors: list[EngineError] = []
        self.answers = 0

    def ask(self, index: int, prompt: EditPrompt, sampling: Sampling) -> None:
        stop = threading.Event()
        task = asyncio.ensure_future(self.backend.answer(prompt, stop, sampling))
        self.generating[task] = (index, stop, time.perf_counter())

    def check(
        self, index: int, answer: str, candidate: str, started: float, source: str = "model"
    ) -> None:
        request = self.request
        task = asyncio.ensure_future(
            self.verifier.verify(request.language, request.rel_path, request.text, candidate)
        )
        self.checking[task] = (index, answer, candidate, started, source)

    @property
    def edits_in_flight(self) -> int:
        return sum(1 for *_rest, source in self.checking.values() if source == "edit")

    @property
    def pending(self) -> set[asyncio.Task[Any]]:
        return {*self.generating, *self.checking}

    async def stop(self) -> None:
        """Cancel what still runs and wait for it: no request, process or copy outlives it."""
        for _index, stop, _t in self.generating.values():
            stop.set()
        tasks = self.pending
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self.generating.clear()
        self.checking.clear()

    def settle(self, task: asyncio.Task[Any]) -> Attempt | None:
        """Take in one finished task: an answer goes to the verifier, a verdict is recorded.

        Returns the attempt when it passed.
        """
        if task in self.generating:
            self._answered(task)
            return None
        return self._judged(task)

    def _answered(self, task: asyncio.Task[Any]) -> None:
        index, _stop, asked = self.generating.pop(task)
        try:
            answer = task.result()
        except EngineError as exc:
            if not isinstance(exc, Cancelled):
                log.info("candidate %d of round %d: %s", index, self.number, exc)
                self.errors.append(exc)
            return
        assert isinstance(answer, str)
        self.answers += 1
        counts = self.tally.counts
        counts["generated"] += 1
        candidate, known = _candidate(self.request, answer)
        if known is not None:
            if known.stage == "unchanged":
                counts["unchanged"] += 1
            seconds = time.perf_counter() - asked
            self.tally.attempts.append(
                Attempt(self.number, answer, candidate, known, seconds, index)
            )
            return
        assert candidate is not None
        key = normalised(candidate)
        if key in self.tally.seen:
            counts["duplicates"] += 1
            return
        self.tally.seen.add(key)
        self.check(index, answer, candidate, asked)

    def _judged(self, task: asyncio.Task[Any]) -> Attempt | None:
        index, answer, candidate, asked, source = self.checking.pop(task)
        verdict = task.result()
        assert isinstance(verdict, Verdict)
        counts = self.tally.counts
        counts["checked"] += 1
        if source == "edit":
            counts["edits"] += 1
            if verdict.partial:
                # An edit nobody wrote must make the check pass outright, not only fail less.
                verdict = replace(verdict, ok=False, message=f"{verdict.message}, but still fails")
        seconds = time.perf_counter() - asked
        attempt = Attempt(self.number, answer, candidate, verdict, seconds, index, source)
        self.tally.attempts.append(attempt)
        log.info(
            "%s round %d candidate %d with %s: %s (%s)",
            self.request.kind,
            self.number,
            index,
            self.backend.name if source == "model" else f"a small edit, {answer}",
            "accepted" if verdict.ok else "rejected",
            verdict.message.splitlines()[0] if verdict.message else verdict.stage,
        )
        return attempt if verdict.ok else None


def _candidate(request: FixRequest, answer: str) -> tuple[str | None, Verdict | None]:
    """The document an answer makes, and the verdict it gets without a check (None: check it).

    An answer with no code, one that changes only prose, and the code copied back are known
    failures, not worth a check run.
    """
    candidate = apply_answer(request, answer)
    prose_only = False
    if candidate is not None and request.kind == FIX:
        # A fix changes code: what it does to comments and docstrings is put back.
        kept = keep_prose(request.language, request.text, candidate)
        prose_only = kept == request.text and candidate != request.text
        candidate = kept
    if candidate is None:
        missing = "docstring" if request.kind == DOCSTRING else "code"
        return None, Verdict(False, "extract", f"the answer holds no {missing}")
    if prose_only:
        why = "the answer changes only comments, docstrings or blank lines"
        return candidate, Verdict(False, "unchanged", why)
    if normalised(candidate) == normalised(request.text):
        return candidate, Verdict(False, "unchanged", "the answer leaves the code unchanged")
    return candidate, None
