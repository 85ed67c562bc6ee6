"""What a completion request becomes before the model runs: mode, prompt, limits, cache key.

The plan also says whether the suggestion is picked among candidates by how well each fits the
code after the cursor (reranking), which only a prefix-only model that can score text needs.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass

from pairline.engine.backends.base import Backend, GenerationParams, PromptParts
from pairline.engine.completion.cache import cache_key
from pairline.engine.completion.names_check import accesses
from pairline.engine.completion.postprocess import CursorContext
from pairline.engine.core.config import CompletionConfig
from pairline.engine.core.types import CompletionRequest, Mode
from pairline.engine.prompt.fim import build_prompt, fim_parts, rerank_suffix, suffix_window

# Characters each side of the cursor searched for members already used: about 30 lines. A
# whole file's uses of `self.` name most of its members and tell the model nothing (tried
# with 20,000 on click at the dot: no change; 1,500: one more first member right).
SEEN_CHARS = 1_500
_CHAIN = re.compile(r"(?<![\w.:])[A-Za-z_]\w*(?:(?:\.|::)[A-Za-z_]\w*)+")


@dataclass(frozen=True)
class Plan:
    """Everything derived from a request before the model runs."""

    mode: Mode
    ctx: CursorContext
    prompt: str
    params: GenerationParams
    key: str
    rerank: bool  # generate candidates and rank them by the suffix


def make_plan(
    config: CompletionConfig,
    request: CompletionRequest,
    backend: Backend,
    mode: Mode,
    members: Mapping[str, frozenset[str]] | None = None,
) -> Plan:
    """The plan for `request` in `mode` on `backend`; `members`: the receivers at the cursor
    whose member names are known (guided decoding constrains them with `guide_names` on)."""
    guided = dict(members or {}) if config.guide_names else {}
    seen = used_members(request, guided) if config.prefer_seen_names else {}
    ctx = CursorContext.at(
        request.prefix,
        request.suffix,
        mode,
        request.language,
        config.max_block_lines,
        polish=config.postprocess,
    )
    prompt = build_prompt(
        request,
        budget_tokens=config.prompt_tokens,
        suffix_lines=config.suffix_lines,
        fim=backend.fim,
        context_on_top=config.context_on_top,
    )
    max_tokens = config.max_tokens if mode is Mode.LINE else config.max_block_tokens
    rerank = reranks(config, request, backend)
    # Healing needs the prompt to end at the cursor: not so with a FIM model's prompt.
    heal = config.token_healing and backend.fim is None and not rerank
    heal = heal and getattr(backend, "heals", True)  # servers' APIs cannot heal
    heal = heal and not ctx.line_before[-1:].isspace() and bool(ctx.line_before)
    key = cache_key(
        str(getattr(backend, "identity", backend.name)),
        str(max_tokens),
        str(config.max_block_lines),
        mode.value,
        prompt,
        suffix_window(request.suffix, config.suffix_lines),
        f"rerank={config.rerank_candidates}" if rerank else f"greedy heal={heal}",
        *_names_key(guided),
        *_names_key(seen, "seen="),
    )
    prefix, suffix, extra = fim_parts(
        request,
        budget_tokens=config.prompt_tokens,
        suffix_lines=config.suffix_lines,
        context_on_top=config.context_on_top,
    )
    parts = PromptParts(prefix, suffix, extra, request.uri)
    params = GenerationParams(max_tokens, ctx.end(), heal, members=guided, seen=seen, parts=parts)
    return Plan(mode, ctx, prompt, params, key, rerank)


def _names_key(members: Mapping[str, frozenset[str]], label: str = "names=") -> tuple[str, ...]:
    """Guided output depends on the names allowed (and preferred): a cache entry is for one
    set of them (unguided keys stay as they were)."""
    if not members:
        return ()
    listed = "\n".join(f"{k}:{','.join(sorted(v))}" for k, v in sorted(members.items()))
    return (label + hashlib.blake2b(listed.encode(), digest_size=8).hexdigest(),)


def used_members(
    request: CompletionRequest, members: Mapping[str, frozenset[str]]
) -> dict[str, frozenset[str]]:
    """Receiver → the members of it that the code around the cursor already uses (a name
    used nearby is the likeliest one to be used again)."""
    if not members:
        return {}
    text = request.prefix[-SEEN_CHARS:] + "\n" + request.suffix[:SEEN_CHARS]
    used: dict[str, set[str]] = {}
    for chain in _CHAIN.finditer(text):
        for receiver, name in accesses(chain.group()):
            if name.group() in members.get(receiver, ()):
                used.setdefault(receiver, set()).add(name.group())
    return {receiver: frozenset(names) for receiver, names in used.items()}


def reranks(config: CompletionConfig, request: CompletionRequest, backend: Backend) -> bool:
    """Whether this request's suggestion is picked among candidates by the suffix."""
    return (
        backend.fim is None  # a FIM model sees the suffix in its prompt already
        and hasattr(backend, "candidates")
        and hasattr(backend, "joint_logprobs")
        and (config.rerank == "always" or (config.rerank == "invoked" and not request.automatic))
        and bool(rerank_suffix(request.suffix))
    )
