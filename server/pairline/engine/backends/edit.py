"""What code actions ask of a model: one prompt in, one answer out (no streaming to the caller).

A `Sampling` asks for a varied answer instead of the greedy one: the "Fix this" loop asks for
several candidates per round and needs them to differ.

An `EditPrompt` carries both forms of the same request: a chat form (system + user messages) for
instruct models behind a chat API, and a completion form (plain text ending where the answer
begins) for base models, which have no chat template and answer nothing useful in chat format.
Each backend picks the form its model understands.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol

from pairline.engine.backends.base import Backend, GenerationParams
from pairline.engine.core.types import EngineError


@dataclass(frozen=True)
class EditPrompt:
    system: str
    user: str
    completion: str  # the same request for a base model; ends where the answer begins
    stop: tuple[str, ...] = ()  # completion form only: text that ends the answer


@dataclass(frozen=True)
class Sampling:
    """How to draw one answer: greedy (temperature 0) or sampled, seeded for repeatability."""

    temperature: float = 0.0
    top_p: float = 1.0
    seed: int = 0
    max_tokens: int | None = None  # a tighter limit than the backend's own (None: its own)

    def limit(self, own: int) -> int:
        return own if self.max_tokens is None else max(1, min(own, self.max_tokens))


GREEDY = Sampling()


class EditBackend(Protocol):
    """A model that answers edit prompts."""

    @property
    def name(self) -> str: ...

    @property
    def where(self) -> str:
        """ "remote" or "local": shown to the user, who should know what leaves the machine."""
        ...

    async def answer(
        self, prompt: EditPrompt, cancel: threading.Event, sampling: Sampling = GREEDY
    ) -> str: ...

    async def aclose(self) -> None: ...


class Cancelled(EngineError):
    """The request was cancelled before the model answered."""


class LocalEditBackend:
    """The in-process model used for edits: completion-style prompts, cancellable.

    Candidates for the same prompt run one after another on the model's worker, each reusing
    the prompt already in the KV cache, so only the first pays for the prefill.
    """

    def __init__(self, backend: Backend, max_tokens: int) -> None:
        self._backend = backend
        self._max_tokens = max_tokens

    @property
    def name(self) -> str:
        return self._backend.name

    @property
    def where(self) -> str:
        return "local"

    async def answer(
        self, prompt: EditPrompt, cancel: threading.Event, sampling: Sampling = GREEDY
    ) -> str:
        stops = prompt.stop

        def done(text: str) -> bool:
            return any(stop in text for stop in stops)

        params = GenerationParams(
            max_tokens=sampling.limit(self._max_tokens),
            is_complete=done,
            temperature=sampling.temperature,
            top_p=sampling.top_p,
            seed=sampling.seed,
        )
        generation = await self._backend.generate(prompt.completion, params, cancel)
        if generation.stop_reason == "cancelled":
            raise Cancelled("cancelled")
        text = generation.text
        for stop in stops:
            text = text.split(stop)[0]
        return text

    async def aclose(self) -> None:
        # The local model belongs to the completion engine; it outlives this wrapper.
        return None
