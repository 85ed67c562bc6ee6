"""One model host child process, seen from the language server: start, call, cancel, stop.

Requests go out as frames with an id; a reader thread takes the answers and resolves each
request's future. While a request generates, the host asks after every token whether the text
so far is complete; the reader answers with the request's own rule (on the reader thread, as in
process the rule ran on the model's worker thread) and sends the cancellation first when the
request's flag is set. When the pipe closes the process is reaped and every request still open
fails at once with `ModelCrashed` naming how the host ended; then `on_exit` hears of it.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass
from typing import Any

from pairline.engine.backends import host_protocol as wire
from pairline.engine.backends.base import ModelCrashed
from pairline.engine.backends.cpu_probe import signal_name
from pairline.engine.models.manifest import ModelError

log = logging.getLogger(__name__)

HOST_MODULE = "pairline.engine.backends.model_host"
_STOP_WAIT_S = 2.0  # a host told to stop gets this long before it is killed


def exit_description(returncode: int | None) -> str:
    """How a process ended, for messages: "SIGSEGV", "exit code 1"."""
    if returncode is None:
        return "no exit status"
    if returncode < 0:
        return signal_name(-returncode)
    return f"exit code {returncode}"


def _settle(future: Future[Any], value: Any = None, error: Exception | None = None) -> None:
    """Resolve `future` unless its waiter gave up on it (a cancelled request)."""
    try:
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)
    except InvalidStateError:
        pass


def host_environment(base: Mapping[str, str]) -> dict[str, str]:
    """The host's environment: the server's, with glibc's heap kept to two arenas.

    glibc gives each thread that allocates its own arena (up to eight per core), and the
    host's threads (the model worker, the pipe's reader, llama.cpp's compute threads) each keep
    freed blocks in theirs: two arenas leave 3-4 MB less resident, with no change in speed
    measured. A value the user set is kept; other C libraries ignore the variable.
    """
    return {"MALLOC_ARENA_MAX": "2", **base}


@dataclass
class _Call:
    future: Future[Any]
    is_complete: Callable[[str], bool] | None
    cancel: threading.Event | None


class HostProcess:
    """A started model host and the requests it has not answered yet."""

    def __init__(
        self,
        on_exit: Callable[[str], None],
        log_level: str = "INFO",
        command: Sequence[str] | None = None,
    ) -> None:
        """`command` replaces the host's (tests run stand-ins that crash on purpose)."""
        self._on_exit = on_exit
        self._ids = itertools.count(1)
        self._calls: dict[int, _Call] = {}
        self._lock = threading.Lock()  # guards _calls and the write end of the pipe
        self._stopping = False
        self.exit: str | None = None  # how it ended, once it has
        self._proc = subprocess.Popen(
            list(command) if command else [sys.executable, "-m", HOST_MODULE, log_level],
            env=host_environment(os.environ),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None,  # its log goes where the server's goes
        )
        self._reader = threading.Thread(
            target=self._read_all, name=f"model-host-{self._proc.pid}", daemon=True
        )
        self._reader.start()

    @property
    def pid(self) -> int:
        return self._proc.pid

    def call(
        self,
        op: str,
        message: dict[str, Any],
        *,
        is_complete: Callable[[str], bool] | None = None,
        cancel: threading.Event | None = None,
    ) -> tuple[int, Future[Any]]:
        """Send request `op`; its id and the future of its value."""
        future: Future[Any] = Future()
        with self._lock:
            request_id = next(self._ids)
            if self.exit is not None:
                future.set_exception(ModelCrashed(f"the local model crashed ({self.exit})"))
                return request_id, future
            self._calls[request_id] = _Call(future, is_complete, cancel)
            self._send({**message, "id": request_id, "op": op})
        return request_id, future

    def cancel(self, request_id: int) -> None:
        with self._lock:
            if request_id in self._calls:
                self._send({"op": "cancel", "id": request_id})

    def _send(self, message: dict[str, Any]) -> None:
        """Write one frame (the lock held); a host that is gone is the reader's to report."""
        stdin = self._proc.stdin
        if stdin is None:
            return
        with contextlib.suppress(OSError, ValueError):
            wire.write(stdin, message)

    def _read_all(self) -> None:
        stdout = self._proc.stdout
        assert stdout is not None
        try:
            while (message := wire.read(stdout)) is not None:
                self._received(message)
        except wire.ProtocolError:
            log.exception("the model host sent something unreadable; stopping it")
            self._proc.kill()
        except OSError:
            pass
        self._ended()

    def _received(self, message: dict[str, Any]) -> None:
        request_id = int(message.get("id", -1))
        op = message.get("op")
        with self._lock:
            call = (
                self._calls.get(request_id) if op == "check" else self._calls.pop(request_id, None)
            )
        if call is None:
            return
        if op == "check":
            self._check(request_id, call, str(message.get("text", "")))
        elif op == "result":
            _settle(call.future, message.get("value"))
        else:
            _settle(call.future, error=ModelError(str(message.get("message", "model error"))))

    def _check(self, request_id: int, call: _Call, text: str) -> None:
        if call.cancel is not None and call.cancel.is_set():
            self.cancel(request_id)
            return
        try:
            complete = call.is_complete(text) if call.is_complete is not None else False
        except Exception:  # the rule failing must not hang the host waiting for its answer
            log.exception("completeness rule failed")
            complete = False
        with self._lock:
            self._send({"op": "checked", "id": request_id, "complete": complete})

    def _ended(self) -> None:
        try:
            returncode = self._proc.wait(timeout=_STOP_WAIT_S)
        except subprocess.TimeoutExpired:  # closed its stdout but lives on: end it
            self._proc.kill()
            returncode = self._proc.wait()
        description = exit_description(returncode)
        with self._lock:
            self.exit = description
            calls, self._calls = self._calls, {}
        if not self._stopping:
            log.error("the model host (pid %d) ended: %s", self._proc.pid, description)
            # Before the answers: the supervisor must know the host is gone by the time a
            # failed request's caller asks again.
            self._on_exit(description)
        failure = (
            "the local model was stopped"
            if self._stopping
            else f"the local model crashed ({description})"
        )
        for call in calls.values():
            _settle(call.future, error=ModelCrashed(failure))

    def stop(self) -> None:
        """End the host (the server is stopping or replacing it); no crash is reported.

        Waits for it to exit (it does as soon as it reads the end of its input, even
        mid-generation), so that a server that exits leaves no process behind.
        """
        self._stopping = True
        with self._lock:
            if self._proc.stdin is not None:
                with contextlib.suppress(OSError):
                    self._proc.stdin.close()  # the host's reader sees the end and exits
        try:
            self._proc.wait(timeout=_STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
