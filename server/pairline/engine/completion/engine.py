"""Inline completion: request → prompt → model → post-processing → suggestion.

One generation runs at a time. A newer request for the same document supersedes the older
one, which stops at its next token and yields no suggestion, so typing never queues up stale
work behind the worker; only a generation the user is typing into runs on (`flights`).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace

from pairline.engine.backends import decoding
from pairline.engine.backends.base import Backend, Generation, ModelCrashed
from pairline.engine.completion import names_check
from pairline.engine.completion.cache import CompletionCache
from pairline.engine.completion.flights import Flights, halt
from pairline.engine.completion.plan import Plan, make_plan
from pairline.engine.completion.postprocess import finish
from pairline.engine.completion.rerank import reranked
from pairline.engine.completion.server_choice import ServerChoice
from pairline.engine.completion.typing_through import ShownSuggestions
from pairline.engine.context import ContextGatherer
from pairline.engine.core import syntax
from pairline.engine.core.config import Settings
from pairline.engine.core.types import CompletionRequest, Mode, Suggestion, Superseded
from pairline.engine.models.local import LocalModel

log = logging.getLogger(__name__)

# What may follow the cursor without making a suggestion pointless.
_CLOSERS = " \t)]}'\"`;:,."


@dataclass(frozen=True)
class _Speculation:
    """The running speculation: its cancel flag, and its task (the loop keeps only a weak one)."""

    cancel: threading.Event
    task: asyncio.Task[None]


class CompletionEngine:
    """Serves completions from the local model, or from a model server (`server`)."""

    def __init__(self, settings: Settings, model: LocalModel | None = None) -> None:
        """`model`: the server's shared one; without it the engine has one of its own (the
        command line, benchmarks), loaded through `attach`."""
        self.settings = settings
        self.model = model if model is not None else LocalModel()
        self._owns_model = model is None
        self._flights = Flights()
        self.last_prompt: str | None = None  # for debugging and tests: what the model last saw
        self.last_confidence: float | None = None  # the last generated suggestion's (benches)
        # The receivers whose member names the last generation was constrained to (debugging).
        self.last_guided: Mapping[str, frozenset[str]] = {}
        self._cache: CompletionCache | None = None
        self._shown = ShownSuggestions()
        self._speculation: _Speculation | None = None
        self.stats: Counter[str] = Counter()
        # Cross-file context (imports, other buffers); the server sets it with its workspace.
        self.context: ContextGatherer | None = None
        self.model.watch(self._model_changed)
        self.server = ServerChoice()  # the model server, when completion.backend is "remote"

    def forget_shown(self) -> None:
        """Shown suggestions are not typed through again (they were made under old settings)."""
        self._shown.clear()
        self._stop_speculation()

    @property
    def backend(self) -> Backend | None:
        remote = self.server.current(self.settings)
        return remote if remote is not None else self.model.backend

    @backend.setter
    def backend(self, backend: Backend | None) -> None:
        self.model.backend = backend

    @property
    def error(self) -> str | None:
        return self.model.error

    def attach(self, backend: Backend) -> None:
        """Use `backend` (already loaded) from now on."""
        self.model.attach(backend)

    def fail(self, message: str) -> None:
        """Record that no backend can be loaded; requests answer with nothing."""
        self.model.fail(message)

    async def wait_ready(self) -> bool:
        remote = self.server.current(self.settings)
        if remote is None:
            return await self.model.wait_ready()
        if self._cache is None:
            self._model_changed(remote)  # the cache opens with the first backend, either kind
        return await remote.prepare()

    def _model_changed(self, backend: Backend | None) -> None:
        if backend is None:
            # The model is being replaced: what it generates now stops, and the suggestions it
            # made are not the next model's.
            self._shown.clear()
            self._flights.stop_all()
            return
        config = self.settings.completion
        if self._cache is not None:
            self._cache.close()
        self._cache = (
            CompletionCache(
                self.settings.cache_path / "completions", config.cache_size_mb * 1024 * 1024
            )
            if config.cache
            else None
        )

    def mode_at(self, request: CompletionRequest) -> Mode:
        block = syntax.opens_block(request.language, request.prefix, request.suffix)
        return Mode.BLOCK if block and self.settings.completion.postprocess else Mode.LINE

    def cancel(self, uri: str) -> None:
        """Stop the generation running for `uri` and any speculation."""
        self._flights.stop(uri)
        self._stop_speculation()

    def edited(self, uri: str, text: str) -> None:
        """The buffer `uri` is now `text` (a keystroke): what runs for it is out of date,
        except a generation the user typed on into (`flights`)."""
        self._flights.edited(uri, text, keep=self.settings.completion.finish_typed_into)
        self._stop_speculation()

    async def complete(
        self, request: CompletionRequest, *, report_superseded: bool = False
    ) -> Suggestion | None:
        """The suggestion at the request's cursor, or None (nothing useful, or superseded).

        With `report_superseded`, a request stopped by a newer one or by an edit raises
        `Superseded` instead, so the editor can tell "nothing to add" from "out of date".
        """
        # A generation this request types into may have its suggestion (typing-through).
        earlier = self._flights.typed_into(request)
        if earlier is not None:
            await asyncio.wait({earlier.task})
            self.stats["waited_typed_into"] += 1
        # Supersede the previous request for this document, and any speculation (the worker
        # is shared), before waiting for anything else.
        self.cancel(request.uri)
        self._stop_speculation()
        self.stats["requests"] += 1
        if not self.settings.completion.enabled_for(request.language):
            return None
        if request.automatic and not self._worth_asking(request):
            self.stats["skipped"] += 1
            return None
        started = time.perf_counter()
        through = self._shown.rest(request)
        if through is not None:
            self.stats["typing_through"] += 1
            return self._shown_at(request, through, "typing", started)
        cancel = threading.Event()
        task = asyncio.ensure_future(self._generate(request, cancel, started))
        flight = self._flights.start(request, cancel, task)
        try:
            suggestion = await asyncio.shield(task)
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is None or not current.cancelling():
                suggestion = None  # the generation was stopped: an edit or a newer request
            else:
                # The editor gave up on this request, most likely for a keystroke: an edit
                # that types into it keeps the generation running (`edited`); nothing else.
                if self.settings.completion.finish_typed_into:
                    self._flights.given_up(flight)
                else:
                    halt(flight)
                raise
        if flight.typed_into:  # typed on and not cancelled: its cursor moved (see `flights`)
            suggestion = None
        if suggestion is not None:
            self._speculate(request, suggestion)
        elif report_superseded and (cancel.is_set() or flight.typed_into):
            raise Superseded(request.uri)
        return suggestion

    async def _generate(
        self, request: CompletionRequest, cancel: threading.Event, started: float
    ) -> Suggestion | None:
        """The suggestion for `request`, remembered for typing-through."""
        request = await self.with_context(request)
        suggestion = await self._complete(request, cancel, started)
        if suggestion is not None:
            self._shown.remember(request, suggestion.text)
        return suggestion

    async def with_context(self, request: CompletionRequest) -> CompletionRequest:
        """The request with cross-file context attached, counted with the model's tokenizer."""
        gatherer = self.context
        if gatherer is None or request.context:
            return request
        if len(request.prefix) + len(request.suffix) > self.settings.context.max_file_bytes:
            return request  # a huge buffer (minified, data): whole-file passes would cost seconds
        # Counted with the model's own tokenizer, so wait for the model (a no-op once loaded).
        count = getattr(self.backend, "count_tokens", None) if await self.wait_ready() else None
        try:
            # A model without FIM tokens never sees the code after the cursor: offer windows of it.
            no_fim = getattr(self.backend, "fim", None) is None
            found = await gatherer.gather_async(
                request, self.settings.context, count, suffix_windows=no_fim
            )
        except Exception:  # context is an extra: a bug there must not cost the completion
            log.exception("context gathering failed for %s", request.uri)
            return request
        return replace(request, context=found.text) if found.text else request

    def _plan(
        self, request: CompletionRequest, backend: Backend, members: Mapping[str, frozenset[str]]
    ) -> Plan:
        mode = self.mode_at(request)
        return make_plan(self.settings.completion, request, backend, mode, members)

    def members_at(self, request: CompletionRequest) -> Mapping[str, frozenset[str]]:
        """Receivers at the cursor whose member names are known, when guiding or checking."""
        config = self.settings.completion
        if self.context is None or not (config.guide_names or config.check_names):
            return {}
        try:
            return self.context.members_at(request)
        except Exception:  # an extra, as context is: a bug there must not cost the completion
            log.exception("name monitor failed for %s", request.uri)
            return {}

    async def _complete(
        self, request: CompletionRequest, cancel: threading.Event, started: float
    ) -> Suggestion | None:
        if not await self.wait_ready() or cancel.is_set():
            return None
        backend = self.backend
        assert backend is not None
        members = self.members_at(request)
        plan = self._plan(request, backend, members)
        self.last_prompt = plan.prompt
        self.last_guided = plan.params.members
        cached = self._cache.get(plan.key) if self._cache is not None else None
        if cached is not None:
            self.stats["cache_hits"] += 1
            text = self._checked(request, finish(cached, plan.ctx), members)
            return None if text is None else self._shown_at(request, text, "cache", started)
        self.stats["generations"] += 1
        try:
            if plan.rerank:
                generation = await reranked(
                    request,
                    plan,
                    backend,
                    cancel,
                    self._valid,
                    self.settings.completion,
                    self.stats,
                )
            else:
                generation = await backend.generate(plan.prompt, plan.params, cancel)
        except ModelCrashed:
            # The model's process died under this request (the server says so once, and
            # restarts it), or the model server failed (said once per outage): this request
            # gets no suggestion.
            self.stats["model_crashed"] += 1
            return None
        if generation.stop_reason == "cancelled" or cancel.is_set():
            return None
        text = self._checked(request, finish(generation.text, plan.ctx), members)
        confidence = self.last_confidence = decoding.confidence(generation, text or "")
        if text is not None and not self._confident(confidence):
            self.stats["gated"] += 1  # not cached either: a cache hit would show it ungated
            return None
        if self._cache is not None:
            self._cache.put(plan.key, generation.text)
        log.debug(
            "completion %s:%s mode=%s %s -> %r", request.uri, request.position, plan.mode.value,
            generation.stop_reason, text,
        )  # fmt: skip
        if text is None:
            return None
        suggestion = self._shown_at(request, text, "model", started)
        suggestion.timings.update(
            generate_s=generation.seconds,
            prompt_tokens=generation.prompt_tokens,
            reused_tokens=generation.reused_tokens,
            generated_tokens=generation.generated_tokens,
            **({} if confidence is None else {"confidence": confidence}),
        )
        return suggestion

    def _confident(self, confidence: float | None) -> bool:
        """Whether a suggestion this sure of itself is worth showing (the confidence gate)."""
        return confidence is None or confidence >= self.settings.completion.min_confidence

    def _worth_asking(self, request: CompletionRequest) -> bool:
        """Whether an automatic request can be helped by a suggestion at all."""
        config = self.settings.completion
        rest = request.suffix.split("\n", 1)[0]
        if len(rest.strip().strip(_CLOSERS)) > config.max_chars_right:
            return False
        return config.in_strings or not syntax.inside_string(
            request.language, request.prefix, request.suffix
        )

    def _checked(
        self,
        request: CompletionRequest,
        text: str | None,
        members: Mapping[str, frozenset[str]],
    ) -> str | None:
        """Trim or drop a suggestion that would add parse errors to the code around it, or
        (with `check_names`) that names a member its receiver does not have."""
        valid = self._valid(request, text)
        if valid != text:
            self.stats["syntax_trimmed" if valid else "syntax_rejected"] += 1
        if valid is None or not self.settings.completion.check_names or not members:
            return valid
        before = request.prefix.rsplit("\n", 1)[-1]
        after = request.suffix.split("\n", 1)[0]
        checked = names_check.check(valid, before, after, members, request.language)
        if checked != valid:
            self.stats["names_trimmed" if checked else "names_rejected"] += 1
        return checked

    def _valid(self, request: CompletionRequest, text: str | None) -> str | None:
        if text is None or not self.settings.completion.syntax_check:
            return text
        return syntax.longest_valid(request.language, request.prefix, text, request.suffix)

    def _shown_at(
        self, request: CompletionRequest, text: str, source: str, started: float
    ) -> Suggestion:
        return Suggestion(
            text=text,
            position=request.position,
            mode=self.mode_at(request) if source != "typing" else Mode.LINE,
            model=self.backend.name if self.backend is not None else "",
            timings={"total_s": time.perf_counter() - started},
            source=source,
        )

    # Speculation: the next suggestion, computed as if the shown one was accepted.

    def _speculate(self, request: CompletionRequest, suggestion: Suggestion) -> None:
        if not self.settings.completion.speculative or self._cache is None:
            return
        accepted = replace(request, prefix=request.prefix + suggestion.text)
        cancel = threading.Event()
        task = asyncio.get_running_loop().create_task(self._fill_cache(accepted, cancel))
        self._speculation = _Speculation(cancel, task)

    async def _fill_cache(self, request: CompletionRequest, cancel: threading.Event) -> None:
        backend, cache = self.backend, self._cache
        if backend is None or cache is None:
            return
        plan = self._plan(request, backend, self.members_at(request))
        if cache.get(plan.key) is not None:
            return
        self.stats["speculations"] += 1
        try:
            generation = await backend.generate(plan.prompt, plan.params, cancel)
        except ModelCrashed:
            return
        except asyncio.CancelledError:  # withdrawn before the model got to it (a keystroke)
            generation = Generation("", "cancelled")
        if generation.stop_reason == "cancelled" or cancel.is_set():
            self.stats["speculations_cancelled"] += 1
            return
        shown = finish(generation.text, plan.ctx) or ""
        if self._confident(decoding.confidence(generation, shown)):
            cache.put(plan.key, generation.text)

    def _stop_speculation(self) -> None:
        if self._speculation is not None:
            self._speculation.cancel.set()
            self._speculation.task.cancel()  # a queued request leaves the model's queue now
            self._speculation = None

    def forget(self, uri: str) -> None:
        """The document closed: drop what was shown in it."""
        self.cancel(uri)
        self._shown.forget(uri)

    def close(self) -> None:
        self._flights.stop_all()
        self._stop_speculation()
        self.server.close()
        if self._owns_model:
            self.model.close()
        if self._cache is not None:
            self._cache.close()
            self._cache = None
