"""The local model run in a model host child process, restarted when it crashes.

`HostBackend` offers what `LocalLlamaBackend` offers (generate, candidates, joint log-probs,
token counts, the gauges) and forwards each call to a `HostProcess`. When the host dies, every
call in flight fails at once with `ModelCrashed`; the crash is counted by a `RestartPolicy`,
listeners hear what happened (`HostEvent`: "crashed", "ready", "off"), and a new host starts
after a pause, in the safe configuration after repeated crashes. Calls made meanwhile wait for
it; once local completions are off they fail at once. Whatever the server keeps (documents,
caches, settings, edit history) never lived in the host, so nothing else is lost.

A cancel flag set by the engine is forwarded as a message: at once when the host asks about the
next token, and within `_CANCEL_POLL_S` while it evaluates a prompt.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from pairline.engine.backends import host_protocol as wire
from pairline.engine.backends.base import Generation, GenerationParams, ModelCrashed
from pairline.engine.backends.cpu_probe import ProbeVerdict
from pairline.engine.backends.host_process import HostProcess
from pairline.engine.backends.host_restarts import Decision, RestartPolicy, crash_message
from pairline.engine.backends.local_llama import model_identity
from pairline.engine.core.config import ModelConfig
from pairline.engine.models.manifest import FimTemplate, ModelError, ResolvedModel

log = logging.getLogger(__name__)

_CANCEL_POLL_S = 0.02  # how soon a flag set during prompt evaluation reaches the host
SAFE_NOTE = "safe configuration after crashes: no extra buffer types, one thread"


class CrashedWhileLoading(ModelError):
    """The host died before the model was loaded."""


@dataclass(frozen=True)
class HostEvent:
    """What happened to the model host, for the status bar and the user."""

    state: str  # "crashed" (restarting), "ready" (restarted), "off" (not restarted again)
    message: str


Listener = Callable[[HostEvent], None]


class HostBackend:
    """A GGUF model loaded in a supervised child process."""

    def __init__(
        self,
        model: ResolvedModel,
        config: ModelConfig,
        *,
        log_level: str = "INFO",
        policy: RestartPolicy | None = None,
        command: Sequence[str] | None = None,
    ) -> None:
        """`command` replaces the host's (tests run stand-ins that crash on purpose)."""
        self._model = model
        self._config = config
        self._log_level = log_level
        self._command = command
        self._policy = policy if policy is not None else RestartPolicy()
        self._process: HostProcess | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._up = asyncio.Event()  # a loaded host is there, or there will be none
        self._off: str | None = None  # why local completions are off for the session
        self._closed = False
        self._supervising = False  # from the first successful load on
        self._restart: asyncio.Task[None] | None = None
        self._listeners: list[Listener] = []
        self._fim: FimTemplate | None = None
        self._kernels = "not loaded yet"
        self._n_ctx = config.n_ctx
        self.kernels_verdict: ProbeVerdict | None = None
        self.crashes: list[str] = []  # how each host ended, for doctor and tests
        # The same gauges as the in-process backend; the host runs one request at a time.
        self.generations_pending = 0
        self.generations_running = 0
        self.peak_generations_pending = 0
        self.peak_generations_running = 0

    @property
    def name(self) -> str:
        return self._model.name

    @property
    def model(self) -> ResolvedModel:
        return self._model

    @property
    def fim(self) -> FimTemplate | None:
        return self._fim

    @property
    def kernels(self) -> str:
        return self._kernels

    @property
    def identity(self) -> str:
        return model_identity(self._model, self._config.n_ctx)

    @property
    def n_ctx(self) -> int:
        return self._n_ctx

    @property
    def pid(self) -> int | None:
        """The running host's process id (None before the first start)."""
        return self._process.pid if self._process is not None else None

    @property
    def off(self) -> str | None:
        """Why local completions are off for the session, or None while they are on."""
        return self._off

    def subscribe(self, listener: Listener) -> None:
        """Hear of every crash and restart (called on the event loop's thread)."""
        self._listeners.append(listener)

    def _emit(self, event: HostEvent) -> None:
        for listener in self._listeners:
            try:
                listener(event)
            except Exception:  # a listener's bug must not stop the restart
                log.exception("model host listener failed")

    async def load(self) -> None:
        """Start the host and load the model there (raises ModelError saying why not)."""
        self._loop = asyncio.get_running_loop()
        await self._start(safe=False)
        self._supervising = True

    async def _start(self, safe: bool) -> None:
        config = replace(self._config, n_threads=1) if safe else self._config
        process = HostProcess(self._exited_from_reader, self._log_level, self._command)
        self._process = process
        model = self._model
        message = {
            "name": model.name,
            "path": str(model.path),
            "builtin": model.builtin,
            "chat": model.chat,
            "config": asdict(config),
            "extra_buffers": not safe,
        }
        try:
            info = await asyncio.wrap_future(process.call("load", message)[1])
        except ModelCrashed as exc:
            raise CrashedWhileLoading(f"cannot load model {model.path}: {exc}") from exc
        except BaseException:
            process.stop()
            raise
        self._fim = wire.fim_from(info["fim"])
        self._kernels = str(info["kernels"]) + (f" ({SAFE_NOTE})" if safe else "")
        self._n_ctx = int(info["n_ctx"])
        record = info.get("verdict")
        self.kernels_verdict = ProbeVerdict.from_record(record) if record is not None else None
        self._up.set()

    def _exited_from_reader(self, description: str) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._died, description)

    def _died(self, description: str) -> None:
        """The host ended on its own: answer, count, tell, and restart or give up."""
        if self._closed or not self._supervising:
            return
        self.crashes.append(description)
        self._up.clear()
        decision = self._policy.crashed(time.monotonic())
        message = crash_message(description, decision)
        log.error("%s", message)
        if not decision.restart:
            self._give_up(message)
            return
        self._emit(HostEvent("crashed", message))
        self._restart = asyncio.get_running_loop().create_task(self._restarted(decision))

    def _give_up(self, message: str) -> None:
        self._off = message
        self._up.set()  # waiting calls wake and fail with the message
        self._emit(HostEvent("off", message))

    async def _restarted(self, decision: Decision) -> None:
        await asyncio.sleep(decision.delay_s)
        if self._closed:
            return
        try:
            await self._start(safe=decision.safe)
        except CrashedWhileLoading:
            return  # counted by `_died` like any other crash
        except Exception as exc:
            # Not a crash (the file went away, no process could start): no restart will help,
            # and calls waiting for one must not wait for ever.
            self._give_up(f"the local model cannot be restarted: {exc}")
            return
        note = f" ({SAFE_NOTE})" if decision.safe else ""
        self._emit(HostEvent("ready", f"{self.name} restarted{note}"))

    async def _call(
        self,
        op: str,
        message: dict[str, Any],
        cancel: threading.Event | None = None,
        is_complete: Callable[[str], bool] | None = None,
    ) -> Any:
        """Send one request to the host and wait for its value, forwarding `cancel`."""
        if self._closed:
            raise ModelError("the model is shut down")
        await self._up.wait()
        if self._closed:
            raise ModelError("the model is shut down")
        if self._off is not None:
            raise ModelCrashed(self._off)
        process = self._process
        assert process is not None
        request_id, future = process.call(op, message, is_complete=is_complete, cancel=cancel)
        waiting = asyncio.wrap_future(future)
        try:
            if cancel is None:
                return await waiting
            forwarded = False
            while True:
                done, _ = await asyncio.wait({waiting}, timeout=_CANCEL_POLL_S)
                if done:
                    return waiting.result()
                if cancel.is_set() and not forwarded:
                    process.cancel(request_id)
                    forwarded = True
        except asyncio.CancelledError:
            if cancel is not None:
                cancel.set()
            process.cancel(request_id)
            raise

    async def _submit(
        self,
        op: str,
        message: dict[str, Any],
        cancel: threading.Event,
        is_complete: Callable[[str], bool] | None = None,
    ) -> Any:
        """A generation-like request, counted in the gauges."""
        self.generations_pending += 1
        self.generations_running = 1
        self.peak_generations_pending = max(self.peak_generations_pending, self.generations_pending)
        self.peak_generations_running = 1
        try:
            return await self._call(op, message, cancel, is_complete)
        finally:
            self.generations_pending -= 1
            self.generations_running = min(1, self.generations_pending)

    def tokenize(self, text: str) -> list[int]:
        """Token ids of `text` (blocks: only before serving, or off the event loop)."""
        return self._tokenize_blocking(text, special=False)

    def tokenize_special(self, text: str) -> list[int]:
        return self._tokenize_blocking(text, special=True)

    def _tokenize_blocking(self, text: str, special: bool) -> list[int]:
        process = self._process
        if process is None or self._off is not None:
            raise ModelError("the model is not loaded")
        value = process.call("tokenize", {"text": text, "special": special})[1].result()
        return [int(token) for token in value]

    async def tokens(self, text: str, special: bool = False) -> list[int]:
        value = await self._call("tokenize", {"text": text, "special": special})
        return [int(token) for token in value]

    async def count_tokens(self, text: str) -> int:
        try:
            return len(await self.tokens(text))
        except ModelCrashed:
            # Counting only sizes the context; a rough count beats no completion.
            return len(text) // 3

    async def generate(
        self, prompt: str, params: GenerationParams, cancel: threading.Event
    ) -> Generation:
        per_token = wire.asks_per_token(params)
        message = {"prompt": prompt, "params": wire.params_record(params), "per_token": per_token}
        rule = params.is_complete if per_token else None
        return wire.generation_from(await self._submit("generate", message, cancel, rule))

    async def candidates(
        self, prompt: str, params: GenerationParams, count: int, cancel: threading.Event
    ) -> list[Generation]:
        per_token = wire.asks_per_token(params)
        message = {
            "prompt": prompt,
            "params": wire.params_record(params),
            "per_token": per_token,
            "count": count,
        }
        rule = params.is_complete if per_token else None
        found = await self._submit("candidates", message, cancel, rule)
        return [wire.generation_from(record) for record in found]

    async def joint_logprobs(
        self, prompt: str, continuations: Sequence[str], cancel: threading.Event
    ) -> list[float]:
        message = {"prompt": prompt, "continuations": list(continuations)}
        return [float(score) for score in await self._submit("joint_logprobs", message, cancel)]

    def close(self) -> None:
        """Stop the host; calls waiting for a restart fail."""
        self._closed = True
        if self._restart is not None:
            self._restart.cancel()
        if self._process is not None:
            self._process.stop()
        self._up.set()
