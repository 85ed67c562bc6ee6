"""What the engine asks of a model backend."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from pairline.engine.core.types import EngineError
from pairline.engine.models.manifest import FimTemplate


@dataclass(frozen=True)
class PromptParts:
    """A completion prompt before it is laid out, for servers that lay it out themselves
    (llama-server's /infill applies the model's own FIM tokens to these)."""

    prefix: str  # the file's header and the code before the cursor, as in the prompt
    suffix: str  # the code after the cursor that the prompt would show
    # Cross-file context as (path, text) chunks, in the order the prompt would give them.
    extra: tuple[tuple[str, str], ...] = ()
    document: str = ""  # the document's URI: a server may keep one cache slot per document


class ModelCrashed(EngineError):
    """The process running the model died (or local completions are off after repeated
    crashes): the request gets no answer from the model, and the message says why."""


@dataclass(frozen=True)
class GenerationParams:
    max_tokens: int
    # Called with the text so far after every token; True stops generation (early cut-off).
    is_complete: Callable[[str], bool] = lambda _text: False
    # Token healing: the prompt ends inside a token (a half-typed word), so the backend backs
    # off its last token and makes the output start with that token's text, which it then
    # strips: the model continues from a whole token instead of from half of one.
    heal: bool = False
    # 0: greedy (completions always are); above 0, sampled with `top_p` and `seed`, which code
    # actions use to draw several different candidates for one prompt.
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int = 0
    # Names that exist (monitor-guided decoding): a receiver as written in code ("helpers",
    # "self", "self.items") → the member names it really has. While the text ends in
    # `<receiver>.<partial name>` for a receiver here, only tokens that keep the partial name
    # a prefix of one of those members are allowed, and the name ends only at a whole member.
    # Empty: nothing is constrained. Backends that cannot constrain ignore it.
    members: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # Of those, the members the code around the cursor already uses after the same receiver:
    # among the allowed tokens, those that spell one of these are preferred.
    seen: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # The completion prompt's parts, for backends that lay the prompt out themselves; the
    # others use the prompt text alone.
    parts: PromptParts | None = None


@dataclass(frozen=True)
class Generation:
    """The raw output of one generation, with what it cost."""

    text: str
    stop_reason: str  # "complete", "max_tokens", "eos", "cancelled", "context"
    prompt_tokens: int = 0
    reused_tokens: int = 0
    generated_tokens: int = 0
    seconds: float = 0.0
    # log P of each generated token that shows in `text`, and where each ends in `text`
    # (backends that cannot tell leave both empty; the confidence gate then lets it through).
    logprobs: tuple[float, ...] = ()
    token_ends: tuple[int, ...] = ()


class Backend(Protocol):
    """A model that continues a prompt, one generation at a time."""

    @property
    def name(self) -> str: ...

    @property
    def fim(self) -> FimTemplate | None: ...

    async def generate(
        self, prompt: str, params: GenerationParams, cancel: threading.Event
    ) -> Generation: ...

    def close(self) -> None: ...
