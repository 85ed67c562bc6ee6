"""What each round of the "Fix this" loop asks the model: the task, and how to sample it.

`Loop` says how hard the loop tries; `asks` turns a round number into one request per candidate
(greedy first, then sampled, alternating between revising the best rejection and starting
afresh), and `task_for` builds the prompt's task from the region and, when revising, the
rejected attempt with its check output.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pairline.engine.actions.answers import split_lines
from pairline.engine.actions.mutants import FAMILIES
from pairline.engine.actions.offers import FIX, FixRequest
from pairline.engine.actions.outcome import Attempt
from pairline.engine.backends.edit import Sampling
from pairline.engine.prompt.edit import EditTask, budget_context

# Sampled candidates keep the likeliest tokens only: enough variety, little nonsense.
_TOP_P = 0.95

# Called with what the loop is doing and how far it is, in percent.
ProgressCallback = Callable[[str, int], None]


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
    # Which of the small edits' optional families (`mutants.FAMILIES`) are among them.
    edit_families: frozenset[str] = FAMILIES


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
