"""What a "Fix this" loop produced: each judged candidate, the outcome, and why none passed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pairline.engine.actions.verify import Verdict


@dataclass(frozen=True)
class Attempt:
    """One candidate: what the model said (or the small edit tried) and the verifier's verdict."""

    round: int
    answer: str  # what the model said
    candidate: str | None  # the whole new document, None when no code could be read
    verdict: Verdict
    seconds: float
    index: int = 0  # which of its round's candidates (0: the greedy one)
    source: str = "model"  # "model", or "edit": a one-token edit of the region (`mutants`)


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
    edits_checked: int = 0  # small edits of the region checked (`mutants`), within `checked`
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


def why_none(
    attempts: Sequence[Attempt], counts: dict[str, int], budget_s: float | None, late: bool
) -> str:
    """Why nothing verified, in words: how much was tried and the closest miss."""
    best = best_rejected(attempts)
    closest = (
        best.verdict.message
        if best is not None
        else (attempts[-1].verdict.message if attempts else "no candidate")
    )
    tried = (
        f"{counts['rounds']} round(s), {counts['generated']} candidate(s), "
        f"{counts['checked']} checked"
    )
    if counts.get("edits"):
        tried += f" ({counts['edits']} of them small edits)"
    if counts["duplicates"]:
        tried += f", {counts['duplicates']} duplicate(s)"
    if counts["unchanged"]:
        tried += f", {counts['unchanged']} unchanged"
    limit = f"; the {budget_s:g} s budget (actions.budget_s) ran out" if late else ""
    return f"no verified edit after {tried}{limit}; closest: {closest}"


def passes_already(label: str) -> str:
    """Why "Fix this" applies nothing when the check passes on the code as it is."""
    return (
        f"`{label}` passes on the code as it is: there is no failure for a fix to make pass, "
        "so no edit can be verified"
    )


# A rejection at a later stage got further: a candidate that parses beats one that does not.
_STAGE_RANK = {"check": 3, "setup": 2, "parse": 1, "unchanged": 0, "extract": 0}


def best_rejected(attempts: Sequence[Attempt]) -> Attempt | None:
    """The most promising rejection: the furthest stage, then the fewest failing lines, then
    the latest round (a revision saw more feedback)."""
    usable = [a for a in attempts if a.candidate is not None and a.verdict.stage != "unchanged"]
    if not usable:
        return None
    return min(
        usable,
        key=lambda a: (-_STAGE_RANK.get(a.verdict.stage, 0), a.verdict.failing, -a.round, a.index),
    )
