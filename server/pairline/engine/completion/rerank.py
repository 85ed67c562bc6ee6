"""Reranking: of a few candidates, the one that makes the code after the cursor likeliest.

A model without fill-in-the-middle tokens never sees the code after the cursor, so for an
explicit request (`completion.rerank`) it writes a few candidates and each is scored by
log P(candidate + suffix head | prompt), which rewards a candidate both for being likely and
for fitting what follows.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from pairline.engine.backends.base import Generation
from pairline.engine.completion.plan import Plan
from pairline.engine.completion.postprocess import finish
from pairline.engine.core.config import CompletionConfig
from pairline.engine.core.types import CompletionRequest
from pairline.engine.prompt.fim import rerank_suffix

Valid = Callable[[CompletionRequest, "str | None"], "str | None"]


async def reranked(
    request: CompletionRequest,
    plan: Plan,
    backend: Any,
    cancel: threading.Event,
    valid: Valid,
    config: CompletionConfig,
    stats: Counter[str],
) -> Generation:
    """The best candidate, as a generation; `valid` trims or drops a candidate as the engine's
    syntax check does (those it drops are out before scoring)."""
    count = config.rerank_candidates
    found: list[Generation] = await backend.candidates(plan.prompt, plan.params, count, cancel)
    if not found or cancel.is_set():
        return Generation("", "cancelled")
    kept: dict[str, Generation] = {}
    for generation in found:
        text = valid(request, finish(generation.text, plan.ctx))
        if text is not None and text not in kept:
            kept[text] = generation
    if len(kept) < 2:
        return next(iter(kept.values()), found[0])
    head = rerank_suffix(request.suffix)
    texts = list(kept)
    scores: list[float] = await backend.joint_logprobs(
        plan.prompt, [text + head for text in texts], cancel
    )
    best = max(range(len(texts)), key=lambda i: scores[i])
    chosen = kept[texts[best]]
    stats["reranked"] += 1
    stats["rerank_changed"] += chosen is not found[0]
    # The chosen one's text and log-probabilities, with what all candidates cost.
    spent = sum(g.generated_tokens for g in found)
    return replace(chosen, generated_tokens=spent, seconds=found[-1].seconds)
