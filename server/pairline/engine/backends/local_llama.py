"""The in-process model: llama.cpp through llama-cpp-python, owned by one worker thread.

The `Llama` object is not thread-safe, so every call runs on a single-thread executor, where a
`LlamaDecoder` (llama_decoder.py) does the model work. The prompt is evaluated in small batches
and generation checks the cancel flag on every token, so a cancelled or superseded request gives
the worker back within one batch or one token. Consecutive prompts that share a beginning reuse
llama.cpp's evaluated prefix (the KV cache). This module loads the model and counts the work
queued and running for the gauges.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from pairline.engine.backends import cpu_probe, heap
from pairline.engine.backends.base import Generation, GenerationParams
from pairline.engine.backends.llama_decoder import LlamaDecoder
from pairline.engine.backends.llama_runtime import (
    detect_fim,
    open_llama,
    recent_errors,
    route_llama_log,
)
from pairline.engine.core.config import ModelConfig
from pairline.engine.models.manifest import FimTemplate, ModelError, ResolvedModel

log = logging.getLogger(__name__)

T = TypeVar("T")


def model_identity(model: ResolvedModel, n_ctx: int) -> str:
    """What makes two outputs comparable across restarts: the file and the window."""
    stat = model.path.stat()
    return f"{model.path.name}:{stat.st_size}:{int(stat.st_mtime)}:{n_ctx}"


class LocalLlamaBackend:
    """A GGUF model loaded in this process."""

    def __init__(
        self, model: ResolvedModel, config: ModelConfig, *, extra_buffers: bool = True
    ) -> None:
        """`extra_buffers=False` loads without llama.cpp's extra buffer types (the repacked
        kernels) whatever the CPU probe says: the model host's safe configuration after crashes.
        """
        self._model = model
        self._config = config
        self._extra_buffers = extra_buffers
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pairline-llama")
        self._llm: Any = None
        self._fim: FimTemplate | None = None
        self._decoder: LlamaDecoder | None = None  # once loaded
        self._closed = False
        # What the CPU probe found at load: which kernels the model runs with, and why.
        self.kernels_verdict: cpu_probe.ProbeVerdict | None = None
        # Gauges for the stats request and the load tests: generations submitted and not yet
        # finished (the worker's queue, the running one included), those running, and peaks.
        self._gauge_lock = threading.Lock()
        self.generations_pending = 0
        self.generations_running = 0
        self.peak_generations_pending = 0
        self.peak_generations_running = 0
        self._idle_release = heap.IdleRelease(
            self._executor.submit, lambda: self.generations_pending == 0 and not self._closed
        )

    @property
    def name(self) -> str:
        return self._model.name

    @property
    def model(self) -> ResolvedModel:
        """The file this backend loads, as found by `models.resolve`."""
        return self._model

    @property
    def fim(self) -> FimTemplate | None:
        return self._fim

    @property
    def kernels(self) -> str:
        """Which CPU kernels the model runs with, and why (for the log and doctor)."""
        verdict = self.kernels_verdict
        return verdict.describe() if verdict is not None else "not loaded yet"

    @property
    def identity(self) -> str:
        return model_identity(self._model, self._config.n_ctx)

    @property
    def n_ctx(self) -> int:
        return int(self._llm.n_ctx()) if self._llm is not None else self._config.n_ctx

    async def _on_worker(self, fn: Callable[[], T]) -> T:
        return await asyncio.wrap_future(self._executor.submit(fn))

    async def load(self) -> None:
        """Load the model on the worker thread (raises ModelError with a readable reason)."""
        await self._on_worker(self._load)

    def _load(self) -> None:
        started = time.perf_counter()
        route_llama_log()
        recent_errors.clear()
        try:
            self.kernels_verdict = verdict = cpu_probe.probe(self._model.path)
        except Exception as exc:  # the probe failing (llama_cpp not importable) fails the load
            raise ModelError(f"cannot load model {self._model.path}: {exc}") from exc
        if verdict.plain_crashes:
            # The first completion would take the whole server down: better no local model.
            raise ModelError(f"not loading {self._model.path.name}: {verdict.describe()}")
        config = self._config
        try:
            # Python-level notes llama-cpp-python prints while loading verbosely go nowhere.
            with (
                contextlib.redirect_stderr(io.StringIO()),
                cpu_probe.without_extra_buffers(not (verdict.safe and self._extra_buffers)),
            ):
                self._llm = open_llama(
                    config.kv_cache_type,
                    model_path=str(self._model.path),
                    n_ctx=config.n_ctx,
                    n_threads=config.threads,
                    n_threads_batch=config.threads,
                    n_batch=config.n_batch,
                    swa_full=config.swa_full,
                    n_gpu_layers=config.n_gpu_layers,
                    # verbose=False makes llama-cpp-python point fd 1 (our LSP transport) at
                    # /dev/null while it loads, from this thread: every answer the server sent
                    # meanwhile was lost. Load verbosely, then hush it.
                    verbose=True,
                )
            # llama-cpp-python forwards llama.cpp's log by this logger's level (what
            # verbose=False would have set) and prints per generation when verbose.
            logging.getLogger("llama-cpp-python").setLevel(logging.ERROR)
            self._llm.verbose = False
        except Exception as exc:  # llama.cpp reports every load failure as ValueError/RuntimeError
            why = f" ({'; '.join(recent_errors)})" if recent_errors else ""
            raise ModelError(f"cannot load model {self._model.path}: {exc}{why}") from exc
        self._fim = detect_fim(self._llm)
        self._decoder = LlamaDecoder(self._llm, self._fim)
        heap.after_load(self._model.path)
        log.info(
            "loaded %s in %.2fs (n_ctx=%d, threads=%d, gpu_layers=%d, fim=%s); kernels: %s",
            self._model.path.name,
            time.perf_counter() - started,
            config.n_ctx,
            config.threads,
            config.n_gpu_layers,
            self._fim.family if self._fim else "none",
            self.kernels,
        )

    def tokenize(self, text: str) -> list[int]:
        """Token ids of `text` (safe only on the worker thread or before serving)."""
        return self._loaded.tokenize(text)

    def tokenize_special(self, text: str) -> list[int]:
        """Token ids of `text` with control tokens (FIM markers) parsed as such."""
        return self._loaded.tokenize_special(text)

    @property
    def _loaded(self) -> LlamaDecoder:
        if self._decoder is None:
            raise ModelError("the model is not loaded")
        return self._decoder

    async def tokens(self, text: str, special: bool = False) -> list[int]:
        """Token ids of `text` (with control tokens parsed when `special`), on the worker."""
        return await self._on_worker(
            lambda: self.tokenize_special(text) if special else self.tokenize(text)
        )

    async def count_tokens(self, text: str) -> int:
        return len(await self.tokens(text))

    async def generate(
        self, prompt: str, params: GenerationParams, cancel: threading.Event
    ) -> Generation:
        return await self._submit(lambda: self._loaded.generate(prompt, params, cancel), cancel)

    async def candidates(
        self, prompt: str, params: GenerationParams, count: int, cancel: threading.Event
    ) -> list[Generation]:
        """Up to `count` greedy continuations, each starting with one of the likeliest tokens.

        The first is the plain greedy generation; the others branch at the first token, which
        is where a prefix-only model most often goes astray (it cannot see the suffix).
        """
        return await self._submit(
            lambda: self._loaded.candidates(prompt, params, count, cancel), cancel
        )

    async def joint_logprobs(
        self, prompt: str, continuations: Sequence[str], cancel: threading.Event
    ) -> list[float]:
        """log P(continuation | prompt) for each continuation, in nats (-inf if cancelled)."""
        return await self._submit(
            lambda: self._loaded.joint_logprobs(prompt, continuations, cancel), cancel
        )

    async def _submit(self, work: Callable[[], T], cancel: threading.Event) -> T:
        """Run model work on the worker, counted in the gauges, stoppable through `cancel`."""
        if self._closed:
            raise ModelError("the model is shut down")
        with self._gauge_lock:
            self.generations_pending += 1
            self.peak_generations_pending = max(
                self.peak_generations_pending, self.generations_pending
            )
        try:
            future = self._executor.submit(self._counted, work)
        except RuntimeError:  # shut down meanwhile
            self._finished(None)
            raise ModelError("the model is shut down") from None
        future.add_done_callback(self._finished)
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            # The request was cancelled: stop the worker at its next token.
            cancel.set()
            future.cancel()
            raise

    def _finished(self, _future: object) -> None:
        with self._gauge_lock:
            self.generations_pending -= 1
            idle = self.generations_pending == 0
        if idle and not self._closed:
            self._idle_release.idle()

    def _counted(self, work: Callable[[], T]) -> T:
        with self._gauge_lock:
            self.generations_running += 1
            self.peak_generations_running = max(
                self.peak_generations_running, self.generations_running
            )
        try:
            return work()
        finally:
            with self._gauge_lock:
                self.generations_running -= 1

    def close(self) -> None:
        """Stop the worker; queued work is dropped, the running generation finishes first."""
        self._closed = True
        self._idle_release.cancel()
        self._executor.shutdown(wait=False, cancel_futures=True)
