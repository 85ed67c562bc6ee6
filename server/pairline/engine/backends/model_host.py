"""The model host: a child process that owns the local model, so a crash in it spares the server.

`python -m pairline.engine.backends.model_host [LOG_LEVEL]` reads requests from stdin and
answers on stdout in `host_protocol` frames. It runs the in-process backend
(`LocalLlamaBackend`: its worker thread, KV cache, token healing, candidates, scoring), so the
model behaves exactly as in process. A suggestion's completeness rule travels with the
request as data (`SuggestionEnd`) and runs here; any other rule (next edits') stays in the
server, asked after every token. A native fault here (SIGSEGV, an abort, the OOM killer) ends
this process alone: the server sees the pipe close, answers what was in flight and starts a new
host.

stdout is the protocol, so fd 1 is pointed at stderr before anything loads: a native library
printing to stdout would otherwise corrupt the frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import threading
from concurrent.futures import Future
from dataclasses import fields
from pathlib import Path
from typing import IO, Any

from pairline.engine.backends import host_protocol as wire
from pairline.engine.backends.local_llama import LocalLlamaBackend
from pairline.engine.core.config import ModelConfig
from pairline.engine.core.types import EngineError
from pairline.engine.models.manifest import ResolvedModel

log = logging.getLogger("pairline.model_host")


class Host:
    """Answers the server's requests with one `LocalLlamaBackend`."""

    def __init__(self, out: IO[bytes], loop: asyncio.AbstractEventLoop) -> None:
        self._out = out
        self._loop = loop
        self._write_lock = threading.Lock()
        self._backend: LocalLlamaBackend | None = None
        self._cancels: dict[int, threading.Event] = {}
        self._checks: dict[int, Future[bool]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def send(self, message: dict[str, Any]) -> None:
        with self._write_lock:
            wire.write(self._out, message)

    def received(self, message: dict[str, Any]) -> None:
        """Called on the reader thread: cancellations and answers act at once, work queues."""
        op, request_id = message.get("op"), int(message.get("id", -1))
        if op == "cancel":
            event = self._cancels.get(request_id)
            if event is not None:
                event.set()
            self._answer_check(request_id, False)
        elif op == "checked":
            self._answer_check(request_id, bool(message.get("complete")))
        else:
            self._loop.call_soon_threadsafe(self._start, message)

    def _answer_check(self, request_id: int, complete: bool) -> None:
        waiter = self._checks.pop(request_id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(complete)

    def _start(self, message: dict[str, Any]) -> None:
        task = self._loop.create_task(self._handle(message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _handle(self, message: dict[str, Any]) -> None:
        request_id = int(message["id"])
        cancel = self._cancels[request_id] = threading.Event()
        try:
            value = await self._run(message, cancel)
        except EngineError as exc:
            self.send({"id": request_id, "op": "error", "message": str(exc)})
        except Exception as exc:  # a bug here must still answer, or the server waits for ever
            log.exception("model host request %s failed", message.get("op"))
            self.send({"id": request_id, "op": "error", "message": f"{type(exc).__name__}: {exc}"})
        else:
            self.send({"id": request_id, "op": "result", "value": value})
        finally:
            self._cancels.pop(request_id, None)

    def _asker(self, request_id: int, cancel: threading.Event) -> Any:
        """The completeness rule of request `request_id`: a question to the server per token."""

        def is_complete(text: str) -> bool:
            if cancel.is_set():
                return False  # the decoder stops at its next look at the flag
            waiter: Future[bool] = Future()
            self._checks[request_id] = waiter
            if cancel.is_set():  # cancelled before the waiter was there to be answered
                return False
            self.send({"id": request_id, "op": "check", "text": text})
            return waiter.result()

        return is_complete

    async def _run(self, message: dict[str, Any], cancel: threading.Event) -> Any:
        op = message["op"]
        if op == "load":
            return await self._load(message)
        backend = self._backend
        if backend is None:
            raise EngineError("the model is not loaded")
        if op == "tokenize":
            return await backend.tokens(str(message["text"]), bool(message.get("special")))
        prompt = str(message["prompt"])
        if op == "joint_logprobs":
            return await backend.joint_logprobs(prompt, list(message["continuations"]), cancel)
        per_token = message.get("per_token", False)
        is_complete = self._asker(int(message["id"]), cancel) if per_token else lambda _t: False
        params = wire.params_from(message["params"], is_complete)
        if op == "generate":
            generation = await backend.generate(prompt, params, cancel)
            return wire.generation_record(generation)
        if op == "candidates":
            found = await backend.candidates(prompt, params, int(message["count"]), cancel)
            return [wire.generation_record(generation) for generation in found]
        raise EngineError(f"unknown request {op!r}")

    async def _load(self, message: dict[str, Any]) -> dict[str, Any]:
        known = {f.name for f in fields(ModelConfig)}
        config = ModelConfig(**{k: v for k, v in message["config"].items() if k in known})
        model = ResolvedModel(
            name=str(message["name"]),
            path=Path(message["path"]),
            builtin=bool(message["builtin"]),
            chat=bool(message["chat"]),
        )
        backend = LocalLlamaBackend(model, config, extra_buffers=bool(message["extra_buffers"]))
        try:
            await backend.load()
        except EngineError:
            raise
        except Exception as exc:
            # Worded as `load_local` words what it did not foresee (a broken llama.cpp build).
            detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            raise EngineError(f"cannot load model {model.name}: {detail}") from exc
        self._backend = backend
        verdict = backend.kernels_verdict
        return {
            "fim": wire.fim_record(backend.fim),
            "kernels": backend.kernels,
            "verdict": verdict.record() if verdict is not None else None,
            "n_ctx": backend.n_ctx,
        }

    def abandon(self) -> None:
        """The server is gone: stop all work, and answer the questions nobody else will."""
        for event in list(self._cancels.values()):
            event.set()
        for request_id in list(self._checks):
            self._answer_check(request_id, True)

    def close(self) -> None:
        if self._backend is not None:
            self._backend.close()


def _read_all(
    stream: IO[bytes], host: Host, loop: asyncio.AbstractEventLoop, done: asyncio.Event
) -> None:
    try:
        while (message := wire.read(stream)) is not None:
            host.received(message)
    except wire.ProtocolError:
        log.exception("model host: broken request stream")
    finally:
        host.abandon()
        loop.call_soon_threadsafe(done.set)  # the server closed the pipe: time to go


async def serve(stream_in: IO[bytes], stream_out: IO[bytes]) -> None:
    """Answer requests until the server closes the pipe."""
    loop = asyncio.get_running_loop()
    host = Host(stream_out, loop)
    done = asyncio.Event()
    reader = threading.Thread(
        target=_read_all, args=(stream_in, host, loop, done), name="model-host-reader", daemon=True
    )
    reader.start()
    try:
        await done.wait()
    finally:
        host.close()


def main(argv: list[str]) -> None:
    # The server restarts a crashed host: core files of a model-sized process would only fill
    # the disk, crash after crash.
    with contextlib.suppress(ImportError, OSError, ValueError):
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    protocol_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    level = argv[0] if argv else "INFO"
    logging.basicConfig(
        stream=sys.stderr,
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s model-host %(levelname)s %(name)s: %(message)s",
    )
    asyncio.run(serve(sys.stdin.buffer, protocol_out))
    # A generation still running would keep the interpreter waiting for its thread at exit;
    # nobody is left to read its answer.
    logging.shutdown()
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
