"""Code actions: generate many → verify → revise until an edit verifies.

`FixLoop` is the loop run when the user picks an action (`fix()` runs one). Each round asks the
model for several diverse versions of the region (best-of-N: the round's first greedy, the others
sampled, half of them revising the most promising rejection so far with its check output, half
drawn afresh; `asks`), drops duplicates, applies each to a shadow copy of the file and lets the
verifier judge them as they arrive, in parallel (`round`); the first that passes wins. A small
model rarely writes a passing fix in one go, but among many samples one often does, and running
the check finds it. When the check fails on the code as it is, one-token edits of the region
(`mutants`) are checked beside the model's candidates, a few at a time: they find most of the
bugs a tiny model cannot. The loop stops after `rounds` rounds or when its wall-clock budget is
spent, and on cancellation stops every request and check it started before returning.

This module is also the one entry point for code actions, so it re-exports the rest of them:
what can be offered (`offers`), how an answer becomes a document and a line edit (`answers`)
and which model answers (`router`).
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from dataclasses import replace

from pairline.engine.actions.answers import LineEdit, apply_answer, line_edits, normalised
from pairline.engine.actions.asks import Loop, ProgressCallback, asks, task_for
from pairline.engine.actions.copies import cores
from pairline.engine.actions.fault_localisation import tier
from pairline.engine.actions.hunks import finished
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
from pairline.engine.actions.round import Round, Tally
from pairline.engine.actions.router import EditRouter, make_remote
from pairline.engine.actions.verify import Verifier, baseline_until
from pairline.engine.backends.edit import Cancelled, EditBackend, Sampling
from pairline.engine.core.redact import is_secret_file
from pairline.engine.core.types import EngineError
from pairline.engine.prompt.edit import build_prompt

__all__ = [
    "DOCSTRING",
    "FIX",
    "IMPLEMENT",
    "MAX_REGION_LINES",
    "TITLES",
    "Attempt",
    "EditRouter",
    "FixLoop",
    "FixRequest",
    "FixResult",
    "LineEdit",
    "Loop",
    "Offer",
    "ProgressCallback",
    "Region",
    "apply_answer",
    "best_rejected",
    "fix",
    "is_stub",
    "line_edits",
    "make_remote",
    "normalised",
    "offers",
    "task_for",
]

# Requests in flight at once to a remote (more mostly queue on the server and time out there);
# the local model takes one candidate at a time so inline completions slip in between.
_REMOTE_CONCURRENCY = 4
_POLL_S = 0.25  # how often a waiting loop looks at the cancel flag


class FixLoop:
    """One run of the loop for one request: generate, verify and revise until an edit verifies.

    `run` first checks the code as it is when the loop needs that (a fix, or `baseline_feedback`),
    then runs rounds until a candidate passes, the rounds are done or the budget is spent.
    """

    def __init__(
        self,
        request: FixRequest,
        backend: EditBackend,
        verifier: Verifier,
        loop: Loop,
        *,
        cancel: threading.Event | None = None,
        progress: ProgressCallback | None = None,
    ) -> None:
        self.request = request
        self.backend = backend
        self.verifier = verifier
        self.loop = loop
        self.cancel = cancel or threading.Event()
        self.progress = progress
        self.tally = Tally()
        self.started = time.perf_counter()
        self.deadline = math.inf
        self._concurrency = 1 if backend.where == "local" else _REMOTE_CONCURRENCY
        self._edit_slots = cores()  # edits checked at once: a model candidate's check waits less
        self._failure: str | None = None  # how the check fails unmodified, for the first round
        self._edits: list[Mutant] = []  # small edits of the region still to check

    async def run(self) -> FixResult:
        """Generate, verify and revise; the first verified candidate wins.

        Raises RemoteError (or another EngineError) when the model cannot be asked at all, or
        when every request of a round failed.
        """
        request, loop, counts = self.request, self.loop, self.tally.counts
        if self.backend.where == "remote" and is_secret_file(request.file_name):
            # A .env or key file is nothing but secrets: redacting it would leave nothing to fix.
            raise EngineError(
                f"{request.file_name} holds secrets; it is never sent to a remote model"
            )
        self.started = time.perf_counter()
        self.deadline = self.started + loop.budget_s if loop.budget_s else math.inf
        nothing_to_fix = await self._prepare()
        if nothing_to_fix is not None:
            return nothing_to_fix
        for number in range(1, loop.rounds + 1):
            if time.perf_counter() >= self.deadline:
                break
            counts["rounds"] = number
            winner = await self._round(number)
            if winner is not None:
                self._report(number, 1)
                where = (request, self.verifier, winner, self.cancel, self.deadline, counts)
                return self._result(*await finished(*where))
        out_of_time = time.perf_counter() >= self.deadline
        why = why_none(self.tally.attempts, counts, loop.budget_s, out_of_time)
        return self._result(None, why, out_of_time=out_of_time)

    async def _prepare(self) -> FixResult | None:
        """Check the code as it is when the loop needs it, and find the small edits to try.

        Returns the result when a fix has nothing to fix (the check passes already).
        """
        request, loop = self.request, self.loop
        failure = None
        base = None
        if loop.baseline_feedback or request.kind == FIX:
            where = (request.language, request.rel_path, request.text)
            base = await baseline_until(self.verifier, *where, self.cancel, self.deadline)
            if base is not None and base.passes and request.kind == FIX:
                # Any edit that keeps it passing would "verify": nothing tells a fix from damage.
                return self._result(None, passes_already(base.label))
            failure = base.failure if base is not None else None
        if loop.small_edits and request.kind == FIX and failure is not None:
            # Only a check that fails now can tell a fixing edit from a harmless one.
            region = request.region
            # A thread: each edit is parse-checked, which for a long file takes a while. The
            # lines the failing tests ran, and the passing ones did not, go first.
            ranked = tier(base.suspicion) if base is not None else None
            self._edits = await asyncio.to_thread(
                lambda: mutants(
                    request.language,
                    request.text,
                    region.start,
                    region.end,
                    tier=ranked,
                    families=loop.edit_families,
                )
            )
            self.tally.seen.update(normalised(m.text) for m in self._edits)
        self._failure = failure if loop.baseline_feedback else None
        return None

    async def _round(self, number: int) -> Attempt | None:
        """Run round `number` until a candidate passes (returned) or its tasks are done."""
        best = best_rejected(self.tally.attempts)
        queue = list(enumerate(asks(self.request, number, self.loop)))
        round_ = Round(self.request, self.backend, self.verifier, number, self.tally)
        self._report(number)
        winner: Attempt | None = None
        try:
            while queue or round_.pending or self._edits:
                if self.cancel.is_set():
                    raise Cancelled("cancelled")
                self._start(round_, queue, best)
                left = self.deadline - time.perf_counter()
                if left <= 0:
                    break
                done, _ = await asyncio.wait(
                    round_.pending, timeout=min(left, _POLL_S), return_when=asyncio.FIRST_COMPLETED
                )
                settled = [round_.settle(task) for task in done]
                winner = next((a for a in settled if a is not None), None)
                if winner is not None:
                    break
                if done:
                    self._report(number)
        finally:
            await round_.stop()
        if winner is None and round_.answers == 0 and round_.errors:
            raise round_.errors[0]
        return winner

    def _start(
        self, round_: Round, queue: list[tuple[int, tuple[Sampling, bool]]], best: Attempt | None
    ) -> None:
        """Start the checks of small edits and the model requests there is room for."""
        while self._edits and round_.edits_in_flight < self._edit_slots:
            edit = self._edits.pop(0)
            round_.check(-1, edit.what, edit.text, time.perf_counter(), "edit")
        while queue and len(round_.generating) < self._concurrency:
            index, (sampling, revise) = queue.pop(0)
            previous = best if revise else None
            prompt = build_prompt(task_for(self.request, previous, self._failure))
            round_.ask(index, prompt, sampling)

    def _report(self, number: int, passed: int = 0) -> None:
        if self.progress is None:
            return
        loop, counts = self.loop, self.tally.counts
        spent = time.perf_counter() - self.started
        edits = f" ({counts['edits']} small edits)" if counts["edits"] else ""
        share = spent / loop.budget_s if loop.budget_s else (number - 1) / loop.rounds
        self.progress(
            f"round {number}/{loop.rounds}: {counts['generated']} candidates, "
            f"{counts['checked']} checked{edits}, {passed} passed",
            min(99, int(100 * share)),
        )

    def _result(self, text: str | None, message: str, *, out_of_time: bool = False) -> FixResult:
        attempts, counts = self.tally.attempts, self.tally.counts
        best = best_rejected(attempts)
        return FixResult(
            text=text,
            verified=text is not None,
            message=message,
            model=self.backend.name,
            where=self.backend.where,
            attempts=tuple(attempts),
            seconds=time.perf_counter() - self.started,
            best_unverified=best.candidate if best is not None and text is None else None,
            rounds_run=counts["rounds"],
            generated=counts["generated"],
            duplicates=counts["duplicates"],
            checked=counts["checked"],
            unchanged=counts["unchanged"],
            edits_checked=counts["edits"],
            out_of_time=out_of_time,
        )


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
    loop = replace(loop or Loop(), rounds=rounds)
    return await FixLoop(request, backend, verifier, loop, cancel=cancel, progress=progress).run()
