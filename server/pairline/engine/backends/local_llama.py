"""The in-process model: llama.cpp through llama-cpp-python, owned by one worker thread.

The `Llama` object is not thread-safe, so every call runs on a single-thread executor. The
prompt is evaluated in small batches and generation checks the cancel flag on every token, so
a cancelled or superseded request gives the worker back within one batch or one token.
Consecutive prompts that share a beginning reuse llama.cpp's evaluated prefix (the KV cache).
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

from pairline.engine.backends import cpu_probe, decoding, heap
from pairline.engine.backends.base import Generation, GenerationParams
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

# Prompt tokens evaluated between two looks at the cancel flag.
_PREFILL_CHUNK = 64
# Tokens scored per batch. llama.cpp keeps an output buffer of one vocabulary-sized row per
# token that asks for logits, sized by the largest batch seen, for good: with Gemma's 262k
# vocabulary 8 rows are 8 MB (and as much again in the compute buffer), a whole prompt's
# worth would be hundreds. 8 gave the same scores as 16 here (4 did not: other kernels).
_SCORE_CHUNK = 8
# Token texts remembered for token healing (a few thousand distinct ones cover typing).
_PIECES_KEPT = 16384


class LocalLlamaBackend:
    """A GGUF model loaded in this process."""

    def __init__(self, model: ResolvedModel, config: ModelConfig) -> None:
        self._model = model
        self._config = config
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pairline-llama")
        self._llm: Any = None
        self._fim: FimTemplate | None = None
        self._closed = False
        self._pieces: dict[int, str] = {}
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
        """What makes two outputs comparable across restarts: the file and the window."""
        stat = self._model.path.stat()
        return f"{self._model.path.name}:{stat.st_size}:{int(stat.st_mtime)}:{self._config.n_ctx}"

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
                cpu_probe.without_extra_buffers(not verdict.safe),
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
        return list(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def tokenize_special(self, text: str) -> list[int]:
        """Token ids of `text` with control tokens (FIM markers) parsed as such."""
        return list(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    async def count_tokens(self, text: str) -> int:
        return len(await self._on_worker(lambda: self.tokenize(text)))

    async def generate(
        self, prompt: str, params: GenerationParams, cancel: threading.Event
    ) -> Generation:
        return await self._submit(lambda: self._generate(prompt, params, cancel), cancel)

    async def candidates(
        self, prompt: str, params: GenerationParams, count: int, cancel: threading.Event
    ) -> list[Generation]:
        """Up to `count` greedy continuations, each starting with one of the likeliest tokens.

        The first is the plain greedy generation; the others branch at the first token, which
        is where a prefix-only model most often goes astray (it cannot see the suffix).
        """
        return await self._submit(lambda: self._candidates(prompt, params, count, cancel), cancel)

    async def joint_logprobs(
        self, prompt: str, continuations: Sequence[str], cancel: threading.Event
    ) -> list[float]:
        """log P(continuation | prompt) for each continuation, in nats (-inf if cancelled)."""
        return await self._submit(
            lambda: self._joint_logprobs(prompt, continuations, cancel), cancel
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

    def _prefill(self, tokens: Sequence[int], cancel: threading.Event) -> int:
        """Evaluate all but the last prompt token, reusing the KV cache; returns tokens reused."""
        llm = self._llm
        cached = llm.input_ids[: llm.n_tokens]
        reused = 0
        for a, b in zip(cached, tokens[:-1], strict=False):
            if a != b:
                break
            reused += 1
        if reused < llm.n_tokens:
            if not self._window_kept(reused) or not llm._ctx.kv_cache_seq_rm(-1, reused, -1):
                reused = 0
                llm.reset()
            llm.n_tokens = reused
        for start in range(reused, len(tokens) - 1, _PREFILL_CHUNK):
            if cancel.is_set():
                return reused
            llm.eval(tokens[start : min(start + _PREFILL_CHUNK, len(tokens) - 1)])
        return reused

    def _window_kept(self, reused: int) -> bool:
        """Whether the cache still holds what the token after `reused` tokens attends to.

        A sliding-window cache smaller than the context overwrites positions that left the
        window; llama.cpp removes a range without saying that the rest no longer suffices.
        """
        import llama_cpp

        n_swa = int(llama_cpp.llama_model_n_swa(self._llm._model.model))
        if n_swa <= 0 or reused == 0:
            return True
        oldest = int(llama_cpp.llama_memory_seq_pos_min(self._llm._ctx.memory, 0))
        return oldest <= max(0, reused - n_swa)

    def _prompt_tokens(self, prompt: str, room: int) -> list[int]:
        """The prompt's tokens, cut from the front (BOS kept) to leave `room` in the window."""
        llm = self._llm
        tokens = list(
            llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=self._fim is not None)
        )
        limit = llm.n_ctx() - room - 1
        if len(tokens) > limit:
            # Keep the BOS token and the text nearest the cursor.
            tokens = tokens[:1] + tokens[len(tokens) - limit + 1 :]
        return tokens

    def _generate(
        self, prompt: str, params: GenerationParams, cancel: threading.Event
    ) -> Generation:
        started = time.perf_counter()
        if cancel.is_set():
            return Generation("", "cancelled")
        tokens = self._prompt_tokens(prompt, params.max_tokens)
        healed = ""
        if params.heal and len(tokens) > 2:
            # Back off the last token; the output must spell it again, or a longer token.
            last = self._piece(tokens[-1])
            if last and prompt.endswith(last):
                healed, tokens = last, tokens[:-1]
        reused = self._prefill(tokens, cancel)
        out, reason = self._greedy(tokens, [], params, cancel, healed)
        return decoding.generation(out, reason, len(tokens), reused, started)

    def _piece(self, token: int) -> str:
        """The text of one token."""
        piece = self._pieces.get(token)
        if piece is None:
            piece = self._llm.detokenize([token]).decode("utf-8", errors="ignore")
            if len(self._pieces) >= _PIECES_KEPT:
                self._pieces.clear()
            self._pieces[token] = piece
        return piece

    def _logits(self) -> Any:
        import numpy as np

        llm = self._llm
        return np.ctypeslib.as_array(llm._ctx.get_logits_ith(-1), shape=(llm.n_vocab(),))

    def _greedy(
        self,
        tokens: list[int],
        forced: list[tuple[int, float]],
        params: GenerationParams,
        cancel: threading.Event,
        healed: str = "",
    ) -> tuple[decoding.Decoded, str]:
        """Decoding after `tokens` (prefilled but for the last) and `forced` tokens (with their
        log-probabilities), greedy unless `params` asks for sampling; the output starts with
        `healed`, which is not shown.
        """
        import llama_cpp
        import numpy as np

        llm = self._llm
        out = decoding.Decoded(healed)
        if cancel.is_set():
            return out, "cancelled"
        vocab = llm._model.vocab
        stops = self._fim.stop if self._fim else ()
        for token, logprob in forced:
            out.add(token, self._detokenize([*out.tokens, token]), logprob)
        if forced and params.is_complete(out.text):
            return out, "complete"
        sequence = tokens + [token for token, _ in forced]
        self._prefill(sequence, cancel)
        pending = sequence[-1:]
        rng = np.random.default_rng(params.seed) if params.temperature > 0 else None
        while True:
            if cancel.is_set():
                return out, "cancelled"
            llm.eval(pending)
            row = self._logits()
            need = out.need
            if need:
                fallback = self.tokenize(need)[:1]
                choice = decoding.healing_choice(row, need, self._piece, fallback)
                if choice is None:
                    return out, "eos"
                token, norm = choice
            elif rng is not None:
                token = decoding.sample(row, params.temperature, params.top_p, rng)
                norm = decoding.log_normalizer(row)
            else:
                token, norm = int(row.argmax()), decoding.log_normalizer(row)
            if llama_cpp.llama_vocab_is_eog(vocab, token):
                return out, "eos"
            logprob = float(row[token]) - norm
            out.add(token, self._detokenize([*out.tokens, token]), logprob)
            if out.need:
                pending = [token]
                continue
            text = out.text
            if any(stop in text for stop in stops):
                out.full = out.healed + min((text.split(stop)[0] for stop in stops), key=len)
                return out, "eos"
            if params.is_complete(text):
                return out, "complete"
            if len(out.logprobs) >= params.max_tokens:  # the backed-off token is free
                return out, "max_tokens"
            if llm.n_tokens + 1 >= llm.n_ctx():
                return out, "context"
            pending = [token]

    def _detokenize(self, tokens: list[int]) -> str:
        return str(self._llm.detokenize(tokens).decode("utf-8", errors="ignore"))

    def _candidates(
        self, prompt: str, params: GenerationParams, count: int, cancel: threading.Event
    ) -> list[Generation]:
        import llama_cpp
        import numpy as np

        started = time.perf_counter()
        llm = self._llm
        tokens = self._prompt_tokens(prompt, params.max_tokens)
        reused = self._prefill(tokens, cancel)
        if cancel.is_set():
            return []
        llm.eval(tokens[-1:])
        logits = self._logits()
        norm = decoding.log_normalizer(logits)
        vocab = llm._model.vocab
        ranked = np.argsort(-logits)[: count + 4]
        firsts = [int(t) for t in ranked if not llama_cpp.llama_vocab_is_eog(vocab, int(t))]
        out: list[Generation] = []
        for first in firsts[:count]:
            decoded, reason = self._greedy(
                tokens, [(first, float(logits[first]) - norm)], params, cancel
            )
            if reason == "cancelled":
                return []
            out.append(decoding.generation(decoded, reason, len(tokens), reused, started))
        return out

    def _joint_logprobs(
        self, prompt: str, continuations: Sequence[str], cancel: threading.Event
    ) -> list[float]:
        import numpy as np

        llm = self._llm
        n_vocab = llm.n_vocab()
        scored: list[float] = []
        for continuation in continuations:
            after = self.tokenize(continuation)
            tokens = self._prompt_tokens(prompt, len(after) + 1)
            self._prefill(tokens, cancel)
            if cancel.is_set():
                return [float("-inf")] * len(continuations)
            # The last prompt token and the continuation in batches with logits at every
            # position: position i predicts token i + 1.
            sequence = tokens[-1:] + after
            total = 0.0
            llm._ctx.kv_cache_seq_rm(-1, llm.n_tokens, -1)
            for start in range(0, len(sequence) - 1, _SCORE_CHUNK):
                chunk = sequence[start : start + _SCORE_CHUNK]
                n_past = llm.n_tokens
                llm._batch.set_batch(batch=chunk, n_past=n_past, logits_all=True)
                llm._ctx.decode(llm._batch)
                llm.input_ids[n_past : n_past + len(chunk)] = chunk
                llm.n_tokens += len(chunk)
                for i in range(len(chunk)):
                    if start + i + 1 >= len(sequence):
                        break
                    row = np.ctypeslib.as_array(llm._ctx.get_logits_ith(i), shape=(n_vocab,))
                    peak = float(row.max())
                    norm = peak + float(np.log(np.exp(row - peak).sum()))
                    total += float(row[sequence[start + i + 1]]) - norm
            scored.append(total)
        return scored

    def close(self) -> None:
        """Stop the worker; queued work is dropped, the running generation finishes first."""
        self._closed = True
        self._idle_release.cancel()
        self._executor.shutdown(wait=False, cancel_futures=True)
