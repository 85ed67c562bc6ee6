"""Code actions: generate many → verify → revise until an edit verifies.

`fix()` is the loop run when the user picks an action. Each round asks the model for several
diverse versions of the region (best-of-N: the round's first greedy, the others sampled, half of
them revising the most promising rejection so far with its check output, half drawn afresh),
drops duplicates, applies each to a shadow copy of the file and lets the verifier judge them as
they arrive, in parallel; the first that passes wins. A small model rarely writes a passing fix
in one go, but among many samples one often does, and running the check finds it. The loop
stops after `rounds` rounds or when its wall-clock budget is spent, and on cancellation stops
every request and check it started before returning.

This module is also the one entry point for code actions, so it re-exports the rest of them:
what can be offered (`action_offers`), how an answer becomes a document and a line edit
(`action_answers`) and which model answers (`edit_router`).
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from pairline.engine.action_answers import (
    LineEdit,
    apply_answer,
    line_edits,
    normalised,
    split_lines,
)
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
from pairline.engine.backends.edit import Cancelled, EditBackend, EditPrompt, Sampling
from pairline.engine.edit_router import EditRouter, make_remote
from pairline.engine.prompt.edit import EditTask, budget_context, build_prompt
from pairline.engine.redact import is_secret_file
from pairline.engine.types import EngineError
from pairline.engine.verify import Verdict, Verifier, baseline_until

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
    "Loop",
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

# Sampled candidates keep the likeliest tokens only: enough variety, little nonsense.
_TOP_P = 0.95
# Requests in flight at once to a remote (more mostly queue on the server and time out there);
# the local model takes one candidate at a time so inline completions slip in between.
_REMOTE_CONCURRENCY = 4
_POLL_S = 0.25  # how often a waiting loop looks at the cancel flag


@dataclass(frozen=True)
class Loop:
    """How hard the loop tries: rounds, candidates per round, wall-clock budget, diversity."""

    rounds: int = 3
    candidates: int = 1
    budget_s: float | None = None  # None: no limit but the rounds
    temperature: float = 0.8
    baseline_feedback: bool = False  # prompts with no rejection to revise see the check fail


@dataclass(frozen=True)
class Attempt:
    """One candidate: what the model said and what the verifier made of it."""

    round: int
    answer: str  # what the model said
    candidate: str | None  # the whole new document, None when no code could be read
    verdict: Verdict
    seconds: float
    index: int = 0  # which of its round's candidates (0: the greedy one)


@dataclass(frozen=True)
class FixResult:
    """The outcome: `text` is the verified new document, or None when nothing verified."""

    text: str | None
    verified: bool
    message: str
    model: str
    where: str  # "remote" or "local"
    attempts: tuple[Attempt, ...] = ()  # every judged candidate, in the order judged
    seconds: float = 0.0
    best_unverified: str | None = None  # the most promising rejected candidate, if any
    rounds_run: int = 0
    generated: int = 0  # answers received
    duplicates: int = 0  # answers dropped as the same code as an earlier one
    checked: int = 0  # candidates judged by the verifier
    unchanged: int = 0  # answers dropped unchecked as the original code again
    out_of_time: bool = False  # the budget ran out before the rounds did

    @property
    def rounds(self) -> int:
        return self.rounds_run or len({a.round for a in self.attempts})

    def offered(self, offer_unverified: bool) -> tuple[str | None, str]:
        """The text to apply (None: nothing) and what to tell the user, never silence."""
        if self.verified:
            return self.text, self.message
        if self.best_unverified is None:
            return None, f"{self.message}; nothing applied"
        if offer_unverified:
            return self.best_unverified, (
                f"UNVERIFIED edit (the closest candidate, actions.offer_unverified): {self.message}"
            )
        return None, (
            f"{self.message}; nothing applied (actions.offer_unverified would offer the closest "
            "candidate, marked unverified)"
        )


def task_for(request: FixRequest, previous: Attempt | None, failure: str | None = None) -> EditTask:
    """What the model is asked this round: the region, and the last rejection when revising,
    else how the check fails on the unmodified file (`failure`, when known)."""
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
        failure=failure if previous is None else None,
    )


ProgressCallback = Callable[[str, int], None]


def asks(request: FixRequest, number: int, loop: Loop) -> list[tuple[Sampling, bool]]:
    """The round's requests, one per candidate: how to sample, and whether to revise.

    Two prompt variants alternate from the second round on: revise the most promising failure
    with its output, or start afresh (a weak model revising often repeats its mistake; a fresh
    sample escapes it). Each round's first candidate is greedy, the others sampled.
    """
    region = "".join(split_lines(request.text)[request.region.start : request.region.end])
    # A fix rewrites the region at about its length: a short limit keeps N candidates cheap.
    limit = len(region) // 2 + 48 if request.kind == FIX else None
    out = []
    for index in range(loop.candidates):
        temperature = 0.0 if index == 0 else loop.temperature
        sampling = Sampling(
            temperature, _TOP_P if temperature else 1.0, number * 1000 + index, limit
        )
        out.append((sampling, number > 1 and index % 2 == 0))
    return out


class _Round:
    """The tasks of one round and what they produced, until one passes or all are done."""

    def __init__(self, request: FixRequest, backend: EditBackend, verifier: Verifier) -> None:
        self.request = request
        self.backend = backend
        self.verifier = verifier
        self.generating: dict[asyncio.Task[Any], tuple[int, threading.Event, float]] = {}
        self.checking: dict[asyncio.Task[Any], tuple[int, str, str, float]] = {}
        self.errors: list[EngineError] = []
        self.answers = 0

    def ask(self, index: int, prompt: EditPrompt, sampling: Sampling) -> None:
        stop = threading.Event()
        task = asyncio.ensure_future(self.backend.answer(prompt, stop, sampling))
        self.generating[task] = (index, stop, time.perf_counter())

    def check(self, index: int, answer: str, candidate: str, started: float) -> None:
        request = self.request
        task = asyncio.ensure_future(
            self.verifier.verify(request.language, request.rel_path, request.text, candidate)
        )
        self.checking[task] = (index, answer, candidate, started)

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


async def fix(
    request: FixRequest,
    backend: EditBackend,
    verifier: Verifier,
    rounds: int,
    *,
    loop: Loop | None = None,
    cancel: threading.Event | None = None,
    progress: ProgressCallback | None = None,
) -> FixResult:
    """Generate, verify and revise up to `rounds` rounds; the first verified candidate wins.

    `loop` sets candidates per round, the budget and the sampling temperature (default: one
    candidate per round, no budget). Raises RemoteError (or another EngineError) when the model
    cannot be asked at all, or when every request of a round failed.
    """
    if backend.where == "remote" and is_secret_file(request.file_name):
        # A .env or key file is nothing but secrets: redacting it would leave nothing to fix.
        raise EngineError(f"{request.file_name} holds secrets; it is never sent to a remote model")
    loop = replace(loop or Loop(), rounds=rounds)
    cancel = cancel or threading.Event()
    started = time.perf_counter()
    deadline = started + loop.budget_s if loop.budget_s else math.inf
    attempts: list[Attempt] = []
    seen: set[str] = set()
    counts = {"generated": 0, "duplicates": 0, "checked": 0, "rounds": 0, "unchanged": 0}
    concurrency = 1 if backend.where == "local" else _REMOTE_CONCURRENCY

    def report(number: int, passed: int = 0) -> None:
        if progress is None:
            return
        spent = time.perf_counter() - started
        share = spent / loop.budget_s if loop.budget_s else (number - 1) / loop.rounds
        progress(
            f"round {number}/{loop.rounds}: {counts['generated']} candidates, "
            f"{counts['checked']} checked, {passed} passed",
            min(99, int(100 * share)),
        )

    def result(text: str | None, message: str, *, out_of_time: bool = False) -> FixResult:
        best = _best(attempts)
        return FixResult(
            text=text,
            verified=text is not None,
            message=message,
            model=backend.name,
            where=backend.where,
            attempts=tuple(attempts),
            seconds=time.perf_counter() - started,
            best_unverified=best.candidate if best is not None and text is None else None,
            rounds_run=counts["rounds"],
            generated=counts["generated"],
            duplicates=counts["duplicates"],
            checked=counts["checked"],
            unchanged=counts["unchanged"],
            out_of_time=out_of_time,
        )

    failure = None  # how the check fails on the unmodified file, shown to the first round
    if loop.baseline_feedback:
        where = (request.language, request.rel_path, request.text)
        failure = await baseline_until(verifier, *where, cancel, deadline)
    for number in range(1, loop.rounds + 1):
        if time.perf_counter() >= deadline:
            break
        counts["rounds"] = number
        best = _best(attempts)
        queue = list(enumerate(asks(request, number, loop)))
        round_ = _Round(request, backend, verifier)
        report(number)
        try:
            while queue or round_.pending:
                if cancel.is_set():
                    raise Cancelled("cancelled")
                while queue and len(round_.generating) < concurrency:
                    index, (sampling, revise) = queue.pop(0)
                    previous = best if revise else None
                    prompt = build_prompt(task_for(request, previous, failure))
                    round_.ask(index, prompt, sampling)
                left = deadline - time.perf_counter()
                if left <= 0:
                    break
                done, _ = await asyncio.wait(
                    round_.pending, timeout=min(left, _POLL_S), return_when=asyncio.FIRST_COMPLETED
                )
                for task in done:
                    passed = _settle(task, round_, number, attempts, seen, counts)
                    if passed is not None:
                        report(number, 1)
                        return result(passed.candidate, passed.verdict.message)
                if done:
                    report(number)
        finally:
            await round_.stop()
        if round_.answers == 0 and round_.errors:
            raise round_.errors[0]
    out_of_time = time.perf_counter() >= deadline
    return result(None, _why_none(attempts, counts, loop, out_of_time), out_of_time=out_of_time)


def _settle(
    task: asyncio.Task[Any],
    round_: _Round,
    number: int,
    attempts: list[Attempt],
    seen: set[str],
    counts: dict[str, int],
) -> Attempt | None:
    """Take in one finished task: an answer goes to the verifier, a verdict is recorded.

    Returns the attempt when it passed.
    """
    request = round_.request
    if task in round_.generating:
        index, _stop, asked = round_.generating.pop(task)
        try:
            answer = task.result()
        except EngineError as exc:
            if not isinstance(exc, Cancelled):
                log.info("candidate %d of round %d: %s", index, number, exc)
                round_.errors.append(exc)
            return None
        assert isinstance(answer, str)
        round_.answers += 1
        counts["generated"] += 1
        candidate = apply_answer(request, answer)
        key = normalised(candidate) if candidate is not None else ""
        known: Verdict | None = None
        if candidate is None:
            missing = "docstring" if request.kind == DOCSTRING else "code"
            known = Verdict(False, "extract", f"the answer holds no {missing}")
        elif key == normalised(request.text):
            # The code copied back: a known failure, not worth a check run.
            counts["unchanged"] += 1
            known = Verdict(False, "unchanged", "the answer leaves the code unchanged")
        if known is not None:
            seconds = time.perf_counter() - asked
            attempts.append(Attempt(number, answer, candidate, known, seconds, index))
            return None
        assert candidate is not None
        if key in seen:
            counts["duplicates"] += 1
            return None
        seen.add(key)
        round_.check(index, answer, candidate, asked)
        return None
    index, answer, candidate, asked = round_.checking.pop(task)
    verdict = task.result()
    assert isinstance(verdict, Verdict)
    counts["checked"] += 1
    attempt = Attempt(number, answer, candidate, verdict, time.perf_counter() - asked, index)
    attempts.append(attempt)
    log.info(
        "%s round %d candidate %d with %s: %s (%s)",
        request.kind,
        number,
        index,
        round_.backend.name,
        "accepted" if verdict.ok else "rejected",
        verdict.message.splitlines()[0] if verdict.message else verdict.stage,
    )
    return attempt if verdict.ok else None


def _why_none(attempts: Sequence[Attempt], counts: dict[str, int], loop: Loop, late: bool) -> str:
    """Why nothing verified, in words: how much was tried and the closest miss."""
    best = _best(attempts)
    closest = (
        best.verdict.message
        if best is not None
        else (attempts[-1].verdict.message if attempts else "no candidate")
    )
    tried = (
        f"{counts['rounds']} round(s), {counts['generated']} candidate(s), "
        f"{counts['checked']} checked"
    )
    if counts["duplicates"]:
        tried += f", {counts['duplicates']} duplicate(s)"
    if counts["unchanged"]:
        tried += f", {counts['unchanged']} unchanged"
    limit = f"; the {loop.budget_s:g} s budget (actions.budget_s) ran out" if late else ""
    return f"no verified edit after {tried}{limit}; closest: {closest}"


# A rejection at a later stage got further: a candidate that parses beats one that does not.
_STAGE_RANK = {"check": 3, "setup": 2, "parse": 1, "unchanged": 0, "extract": 0}


def _best(attempts: Sequence[Attempt]) -> Attempt | None:
    """The most promising rejection: the furthest stage, then the fewest failing lines, then
    the latest round (a revision saw more feedback)."""
    usable = [a for a in attempts if a.candidate is not None and a.verdict.stage != "unchanged"]
    if not usable:
        return None
    return min(
        usable,
        key=lambda a: (-_STAGE_RANK.get(a.verdict.stage, 0), a.verdict.failing, -a.round, a.index),
    )
