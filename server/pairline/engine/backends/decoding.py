"""Decoding bookkeeping: token log-probabilities, token healing's and guided names' constraints.

Pure functions over a logits row and token texts, so that the rules are tested without a
model. The backend owns the model and calls these once per generated token.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pairline.engine.backends.base import Generation

# Token healing looks for tokens that agree with the backed-off text among the likeliest
# ones: the model ranks a token that spells the typed characters high, and scanning a whole
# 262k vocabulary per step would cost more than the step. The first token of the backed-off
# text itself always qualifies, so decoding can never get stuck.
HEAL_CANDIDATES = 512
# With guided names and `prefer_seen_names`, the logit bonus of the allowed tokens that spell a
# member the code around the cursor already uses after the same receiver (e^2: about 7 times
# as likely as the model alone has it).
SEEN_BONUS = 2.0
# With guided names, the allowed tokens are looked at too when there are at most this many
# (a name's pieces); a whole name allows every token that ends it, too many to spell each step.
GUIDED_HEAL_SCAN = 4096
# Tokens passed over at most in one step for writing a made-up member along with the dot; past
# that, the model's next choice stands (a step must end).
REFUSED_MAX = 32


def log_normalizer(row: Any) -> float:
    """log Σ exp(row): subtracted from a logit it gives that token's log-probability."""
    import numpy as np

    peak = float(row.max())
    return peak + float(np.log(np.exp(row - peak).sum()))


def sample(row: Any, temperature: float, top_p: float, rng: Any, top_k: int = 40) -> int:
    """A token drawn from the logits `row`: the `top_k` likeliest, cut to `top_p` of the mass."""
    import numpy as np

    top_k = min(top_k, row.size)
    top = np.argpartition(-row, top_k - 1)[:top_k]
    top = top[np.argsort(-row[top])]
    weights = np.exp((row[top] - row[top[0]]) / temperature)
    weights /= weights.sum()
    keep = min(int(np.searchsorted(np.cumsum(weights), top_p)) + 1, len(top))
    weights = weights[:keep] / weights[:keep].sum()
    return int(top[rng.choice(keep, p=weights)])


def agrees(piece: str, need: str) -> bool:
    """Whether a token spelling `piece` may come next when the output must start with `need`."""
    return bool(piece) and (need.startswith(piece) or piece.startswith(need))


def healing_choice(
    row: Any,
    need: str,
    piece: Callable[[int], str],
    fallback: Iterable[int],
    allowed: Any | None = None,
    fits: Callable[[int], bool] | None = None,
) -> tuple[int, float] | None:
    """The likeliest token that agrees with `need` (the rest of the backed-off text), and the
    log-normalizer over the agreeing ones: the typed characters are given, so a token's
    log-probability is taken among the tokens that spell them, not among all.

    `piece` spells a token id; `fallback` are ids that spell a start of `need` (its own
    tokenization), looked at besides the likeliest `HEAL_CANDIDATES`. `allowed` (sorted ids,
    from guided names) and `fits` narrow the agreeing tokens further, unless none of them
    passes: the typed characters then name no known member, and what was typed wins.
    """
    import numpy as np

    count = min(HEAL_CANDIDATES, row.shape[0] - 1)
    candidates = [*(int(t) for t in np.argpartition(-row, count)[:count]), *fallback]
    if allowed is not None and len(allowed) <= GUIDED_HEAL_SCAN:
        candidates.extend(int(t) for t in allowed)  # a name's pieces may rank low
    agreeing = sorted({t for t in candidates if agrees(piece(t), need)})
    if agreeing and (allowed is not None or fits is not None):
        ok = within(agreeing, allowed) if allowed is not None else [True] * len(agreeing)
        guided = [
            t for t, yes in zip(agreeing, ok, strict=True) if yes and (fits is None or fits(t))
        ]
        agreeing = guided or agreeing
    if not agreeing:
        return None
    best = max(agreeing, key=lambda t: float(row[t]))
    return best, log_normalizer(row[agreeing])


def within(ids: Sequence[int], allowed: Any) -> Any:
    """For each of `ids`, whether it is in `allowed` (sorted ids)."""
    import numpy as np

    at = np.searchsorted(allowed, ids)
    return (at < len(allowed)) & (allowed[np.minimum(at, len(allowed) - 1)] == ids)


def guided_choice(row: Any, allowed: Any, fits: Callable[[int], bool]) -> tuple[int, float]:
    """The likeliest of the `allowed` tokens (sorted ids) and the log-normalizer over them
    alone, so that the log-probabilities the gate sees are renormalised over the allowed set.
    Reads only the allowed entries of `row`: cheaper than masking the whole row."""
    values = row[allowed]
    token = int(allowed[int(values.argmax())])
    if fits(token):
        return token, log_normalizer(values)
    return fitting_choice(only(row, allowed), lambda scores: int(scores.argmax()), fits)


def fitting_choice(
    row: Any, pick: Callable[[Any], int], fits: Callable[[int], bool]
) -> tuple[int, float]:
    """The token `pick` takes from `row`, passed over while `fits` refuses it (a token that
    writes a made-up member name along with its dot), and the log-normalizer over the tokens
    left: with guided names `row` has the disallowed tokens at -inf, so the log-probabilities
    the gate sees are renormalised over the allowed ones. The first pick nearly always fits:
    then this costs one call of `fits`."""
    import numpy as np

    token = pick(row)
    if fits(token):
        return token, log_normalizer(row)
    row = row.copy()
    for _ in range(REFUSED_MAX):
        row[token] = -np.inf
        token = pick(row)
        if fits(token):
            break
    return token, log_normalizer(row)


def only(row: Any, allowed: Any) -> Any:
    """A copy of `row` with every token but the `allowed` ones at -inf (for sampling)."""
    import numpy as np

    masked = np.full_like(row, -np.inf)
    masked[allowed] = row[allowed]
    return masked


@dataclass
class Decoded:
    """Tokens generated so far and the text they show, less the backed-off text `healed`."""

    healed: str = ""
    tokens: list[int] = field(default_factory=list)
    full: str = ""  # everything generated, the backed-off text included
    logprobs: list[float] = field(default_factory=list)
    token_ends: list[int] = field(default_factory=list)

    @property
    def need(self) -> str:
        """What the output must still spell before the model is free ("" once it is)."""
        return self.healed[len(self.full) :] if len(self.full) < len(self.healed) else ""

    @property
    def text(self) -> str:
        """The suggestion so far: what follows the backed-off text."""
        return self.full[len(self.healed) :] if len(self.full) >= len(self.healed) else ""

    def add(self, token: int, full: str, logprob: float) -> None:
        """Record `token`, after which the whole output reads `full`."""
        self.tokens.append(token)
        self.full = full
        end = len(full) - len(self.healed)
        if end > 0:  # tokens wholly inside the backed-off text show nothing
            self.logprobs.append(logprob)
            self.token_ends.append(end)


def shown_logprobs(logprobs: Iterable[float], token_ends: Iterable[int], shown: str) -> list[float]:
    """The log-probabilities of the tokens that spell `shown`.

    Post-processing keeps a start of the generated text; tokens that begin past its end were
    cut off and do not count.
    """
    kept: list[float] = []
    start = 0
    for logprob, end in zip(logprobs, token_ends, strict=False):
        if start >= len(shown):
            break
        kept.append(logprob)
        start = end
    return kept


def generation(
    out: Decoded, reason: str, prompt_tokens: int, reused: int, started: float
) -> Generation:
    """What a decoding produced, with what it cost since `started` (a perf_counter time)."""
    return Generation(
        text=out.text,
        stop_reason=reason,
        prompt_tokens=prompt_tokens,
        reused_tokens=reused,
        generated_tokens=len(out.tokens),
        seconds=time.perf_counter() - started,
        logprobs=tuple(out.logprobs),
        token_ends=tuple(out.token_ends),
    )


def confidence(generation: Generation, shown: str) -> float | None:
    """How sure the model was of `shown`: the geometric mean of its tokens' probabilities.

    None when the backend gave no log-probabilities (a remote model, a cached answer).
    """
    kept = shown_logprobs(generation.logprobs, generation.token_ends, shown)
    return math.exp(sum(kept) / len(kept)) if kept else None
