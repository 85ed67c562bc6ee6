"""Code actions: generate many → verify → revise until an edit verifies.

`fix()` is the loop run when the user picks an action. Each round asks the model for several
diverse versions of the region (best-of-N: the round's first greedy, the others sampled, half of
them revising the most promising rejection so far with its check output, half drawn afresh),
drops duplicates, applies each to a shadow copy of the file and lets the verifier judge them as
they arrive, in parallel; the first that passes wins. A small model rarely writes a passing fix
in one go, but among many samples one often does, and running the check finds it. When the
check fails on the code as it is, one-token edits of the region (`mutants`) are checked beside
the model's candidates, a few at a time: they find most of the bugs a tiny model cannot. The loop
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
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from pairline.engine.actions.answers import (
    LineEdit,
    apply_answer,
    line_edits,
    normalised,
    split_lines,
)
from pairline.engine.actions.fault_localisation import tier
from pairline.engine.actions.hunks import finished, keep_prose
from pairline.engine.actions.mutants import Mutant, mutants
from pairline.engine.actions.offers import (
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
from pairline.engine.actions.outcome import (
    Attempt,
    FixResult,
    best_rejected,
    passes_already,
    why_none,
)
from pairline.engine.actions.router import EditRouter, make_remote
from pairline.engine.actions.verify import Verdict, Verifier, baseline_until, cores
from pairline.engine.backends.edit import Cancelled, EditBackend, EditPrompt, Sampling
from pairline.engine.core.redact import is_secret_file
from pairline.engine.core.types import EngineError
from pairline.engine.prompt.edit import EditTask, budget_context, build_prompt

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
    # Also check one-token edits of the region (`mutants`) when a check fails on it unmodified.
    small_edits: bool = False


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
    counts = {
        "generated": 0,
        "duplicates": 0,
        "checked": 0,
        "rounds": 0,
        "unchanged": 0,
        "edits": 0,
    }
    concurrency = 1 if backend.where == "local" else _REMOTE_CONCURRENCY

    def report(number: int, passed: int = 0) -> None:
        if progress is None:
            return
        spent = time.perf_counter() - started
        edits = f" ({counts['edits']} small edits)" if counts["edits"] else ""
        share = spent / loop.budget_s if loop.budget_s else (number - 1) / loop.rounds
        progress(
            f"round {number}/{loop.rounds}: {counts['generated']} candidates, "
            f"{counts['checked']} checked{edits}, {passed} passed",
            min(99, int(100 * share)),
        )

    def result(text: str | None, message: str, *, out_of_time: bool = False) -> FixResult:
        best = best_rejected(attempts)
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
            edits_checked=counts["edits"],
            out_of_time=out_of_time,
        )

    failure = None  # how the check fails on the unmodified file, shown to the first round
    edits: list[Mutant] = []
    base = None
    if loop.baseline_feedback or request.kind == FIX:
        where = (request.language, request.rel_path, request.text)
        base = await baseline_until(verifier, *where, cancel, deadline)
        if base is not None and base.passes and request.kind == FIX:
            # Any edit that keeps it passing would "verify": nothing tells a fix from damage.
            return result(None, passes_already(base.label))
        failure = base.failure if base is not None else None
    if loop.small_edits and request.kind == FIX and failure is not None:
        # Only a check that fails now can tell a fixing edit from a harmless one.
        region = request.region
        # A thread: each edit is parse-checked, which for a long file takes a while. The lines
        # the failing tests ran, and the passing ones did not, go first.
        ranked = tier(base.suspicion) if base is not None else None
        edits = await asyncio.to_thread(
            lambda: mutants(request.language, request.text, region.start, region.end, tier=ranked)
        )
        seen.update(normalised(m.text) for m in edits)
    if not loop.baseline_feedback:
        failure = None
    edit_slots = cores()  # edits checked at once: a model candidate's check waits for no more
    for number in range(1, loop.rounds + 1):
        if time.perf_counter() >= deadline:
            break
        counts["rounds"] = number
        best = best_rejected(attempts)
        queue = list(enumerate(asks(request, number, loop)))
        round_ = _Round(request, backend, verifier)
        report(number)
        winner: Attempt | None = None
        try:
            while queue or round_.pending or edits:
                if cancel.is_set():
                    raise Cancelled("cancelled")
                while edits and round_.edits_in_flight < edit_slots:
                    edit = edits.pop(0)
                    round_.check(-1, edit.what, edit.text, time.perf_counter(), "edit")
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
                settled = [_settle(task, round_, number, attempts, seen, counts) for task in done]
                winner = next((a for a in settled if a is not None), None)
                if winner is not None:
                    break
                if done:
                    report(number)
        finally:
            await round_.stop()
        if winner is not None:
            report(number, 1)
            return result(*await finished(request, verifier, winner, cancel, deadline, counts))
        if round_.answers == 0 and round_.errors:
            raise round_.errors[0]
    out_of_time = time.perf_counter() >= deadline
    return result(
        None, why_none(attempts, counts, loop.budget_s, out_of_time), out_of_time=out_of_time
    )


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
        prose_only = False
        if candidate is not None and request.kind == FIX:
            # A fix changes code: what it does to comments and docstrings is put back.
            kept = keep_prose(request.language, request.text, candidate)
            prose_only = kept == request.text and candidate != request.text
            candidate = kept
        key = normalised(candidate) if candidate is not None else ""
        known: Verdict | None = None
        if candidate is None:
            missing = "docstring" if request.kind == DOCSTRING else "code"
            known = Verdict(False, "extract", f"the answer holds no {missing}")
        elif prose_only:
            counts["unchanged"] += 1
            why = "the answer changes only comments, docstrings or blank lines"
            known = Verdict(False, "unchanged", why)
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
    index, answer, candidate, asked, source = round_.checking.pop(task)
    verdict = task.result()
    assert isinstance(verdict, Verdict)
    counts["checked"] += 1
    if source == "edit":
        counts["edits"] += 1
        if verdict.partial:
            # An edit nobody wrote must make the check pass outright, not only fail less.
            verdict = replace(verdict, ok=False, message=f"{verdict.message}, but still fails")
    seconds = time.perf_counter() - asked
    attempt = Attempt(number, answer, candidate, verdict, seconds, index, source)
    attempts.append(attempt)
    log.info(
        "%s round %d candidate %d with %s: %s (%s)",
        request.kind,
        number,
        index,
        round_.backend.name if source == "model" else f"a small edit, {answer}",
        "accepted" if verdict.ok else "rejected",
        verdict.message.splitlines()[0] if verdict.message else verdict.stage,
    )
    return attempt if verdict.ok else None
