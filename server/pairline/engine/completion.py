"""Inline completion: request → prompt → model → post-processing → suggestion.

One generation runs at a time. A newer request for the same document supersedes the older
one, which stops at its next token and yields no suggestion, so typing never queues up stale
work behind the worker.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable

from pairline.engine import syntax
from pairline.engine.backends.base import Backend, GenerationParams
from pairline.engine.config import Settings
from pairline.engine.postprocess import CursorContext, cut, finish
from pairline.engine.prompt.fim import build_prompt
from pairline.engine.types import CompletionRequest, Mode, Suggestion

log = logging.getLogger(__name__)

# Status callback: (state, message), state in "loading", "ready", "error".
StatusCallback = Callable[[str, str], None]


class CompletionEngine:
    """Serves completions from one backend."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.backend: Backend | None = None
        self.error: str | None = None
        self._ready = asyncio.Event()
        self._inflight: dict[str, threading.Event] = {}
        self.last_prompt: str | None = None  # for debugging and tests: what the model last saw

    @property
    def ready(self) -> bool:
        return self._ready.is_set() and self.backend is not None

    def attach(self, backend: Backend) -> None:
        """Use `backend` (already loaded) from now on."""
        self.backend = backend
        self.error = None
        self._ready.set()

    def reset(self) -> None:
        """Drop the current backend; requests wait until `attach` or `fail`."""
        self._ready.clear()
        for event in self._inflight.values():
            event.set()
        if self.backend is not None:
            self.backend.close()
        self.backend = None
        self.error = None

    def fail(self, message: str) -> None:
        """Record that no backend can be loaded; requests answer with nothing."""
        self.error = message
        self._ready.set()

    async def wait_ready(self) -> bool:
        await self._ready.wait()
        return self.backend is not None

    def mode_at(self, request: CompletionRequest) -> Mode:
        if syntax.opens_block(request.language, request.prefix, request.suffix):
            return Mode.BLOCK
        return Mode.LINE

    def cancel(self, uri: str) -> None:
        """Stop the generation running for `uri`, if any."""
        event = self._inflight.pop(uri, None)
        if event is not None:
            event.set()

    async def complete(self, request: CompletionRequest) -> Suggestion | None:
        """The suggestion at the request's cursor, or None (nothing useful, or superseded)."""
        # Supersede the previous request for this document before waiting for anything.
        self.cancel(request.uri)
        cancel = threading.Event()
        self._inflight[request.uri] = cancel
        try:
            return await self._complete(request, cancel)
        except asyncio.CancelledError:
            cancel.set()
            raise
        finally:
            if self._inflight.get(request.uri) is cancel:
                del self._inflight[request.uri]

    async def _complete(
        self, request: CompletionRequest, cancel: threading.Event
    ) -> Suggestion | None:
        started = time.perf_counter()
        if not self.settings.completion.enabled_for(request.language):
            return None
        if not await self.wait_ready() or cancel.is_set():
            return None
        backend = self.backend
        assert backend is not None
        config = self.settings.completion
        mode = self.mode_at(request)
        ctx = CursorContext.at(
            request.prefix, request.suffix, mode, request.language, config.max_block_lines
        )
        prompt = build_prompt(
            request,
            budget_tokens=config.prompt_tokens,
            suffix_lines=config.suffix_lines,
            fim=backend.fim,
        )
        self.last_prompt = prompt
        params = GenerationParams(
            max_tokens=config.max_tokens if mode is Mode.LINE else config.max_block_tokens,
            is_complete=lambda text: cut(text, ctx)[1],
        )
        generation = await backend.generate(prompt, params, cancel)
        if generation.stop_reason == "cancelled" or cancel.is_set():
            return None
        text = finish(generation.text, ctx)
        log.debug(
            "completion %s:%d:%d mode=%s prompt=%d reused=%d generated=%d stop=%s %.3fs -> %r",
            request.uri,
            request.position.line,
            request.position.character,
            mode.value,
            generation.prompt_tokens,
            generation.reused_tokens,
            generation.generated_tokens,
            generation.stop_reason,
            generation.seconds,
            text,
        )
        if text is None:
            return None
        return Suggestion(
            text=text,
            position=request.position,
            mode=mode,
            model=backend.name,
            timings={
                "total_s": time.perf_counter() - started,
                "generate_s": generation.seconds,
                "prompt_tokens": generation.prompt_tokens,
                "reused_tokens": generation.reused_tokens,
                "generated_tokens": generation.generated_tokens,
            },
        )

    def close(self) -> None:
        for event in self._inflight.values():
            event.set()
        if self.backend is not None:
            self.backend.close()
