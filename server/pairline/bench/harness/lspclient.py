"""A minimal LSP client over stdio, enough to drive `pairline serve` the way an editor does.

Written against the wire protocol (Content-Length framing, JSON-RPC 2.0) rather than pygls so
that the benchmark measures the server, not a client library, and so that only `lsp/` imports
pygls. Server-to-client requests are answered with null, as a minimal editor would.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

REQUEST_CANCELLED = -32800


@dataclass
class Pending:
    """A request on the wire: when it left, and when and how it was answered."""

    id: int
    method: str
    sent_at: float
    future: asyncio.Future[Any]
    answered_at: float | None = None
    error: dict[str, Any] | None = None
    result: Any = None
    on_answer: Callable[[Pending], None] | None = field(default=None, repr=False)


class LspClient:
    """One server process and the JSON-RPC conversation with it."""

    def __init__(self, command: list[str], stderr_path: Path | None = None) -> None:
        self.command = command
        self.stderr_path = stderr_path
        self.process: asyncio.subprocess.Process | None = None
        self._next_id = 0
        self._pending: dict[int, Pending] = {}
        self._reader: asyncio.Task[None] | None = None
        self._stderr: BinaryIO | None = None
        self.notifications: list[tuple[float, str, Any]] = []
        self.status: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.started_at: float | None = None  # perf_counter() when the process was spawned

    async def start(self) -> None:
        if self.stderr_path is not None:
            self.stderr_path.parent.mkdir(parents=True, exist_ok=True)
            self._stderr = self.stderr_path.open("wb")
        self.started_at = time.perf_counter()
        self.process = await asyncio.create_subprocess_exec(
            *self.command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=self._stderr if self._stderr is not None else asyncio.subprocess.DEVNULL,
            limit=64 * 1024 * 1024,
        )
        self._reader = asyncio.get_running_loop().create_task(self._read_loop())

    def _write(self, message: dict[str, Any]) -> None:
        assert self.process is not None and self.process.stdin is not None
        body = json.dumps(message, ensure_ascii=False).encode("utf-8")
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def notify(self, method: str, params: Any) -> None:
        self._write({"jsonrpc": "2.0", "method": method, "params": params})

    def request(
        self, method: str, params: Any, on_answer: Callable[[Pending], None] | None = None
    ) -> Pending:
        """Send a request now; its Pending resolves when the answer arrives."""
        self._next_id += 1
        pending = Pending(
            id=self._next_id,
            method=method,
            sent_at=time.perf_counter(),
            future=asyncio.get_running_loop().create_future(),
            on_answer=on_answer,
        )
        self._pending[pending.id] = pending
        self._write({"jsonrpc": "2.0", "id": pending.id, "method": method, "params": params})
        return pending

    def cancel(self, pending: Pending) -> None:
        self.notify("$/cancelRequest", {"id": pending.id})

    async def call(self, method: str, params: Any, timeout: float = 300.0) -> Any:
        pending = self.request(method, params)
        return await asyncio.wait_for(pending.future, timeout)

    async def drain(self) -> None:
        assert self.process is not None and self.process.stdin is not None
        await self.process.stdin.drain()

    async def _read_loop(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        stream = self.process.stdout
        try:
            while True:
                length = 0
                while True:
                    line = await stream.readline()
                    if not line:
                        return
                    line = line.strip()
                    if not line:
                        break
                    name, _, value = line.decode("ascii").partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                body = await stream.readexactly(length)
                self._dispatch(json.loads(body))
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            for pending in self._pending.values():
                if not pending.future.done():
                    pending.future.set_exception(ConnectionError("server exited"))

    def _dispatch(self, message: dict[str, Any]) -> None:
        now = time.perf_counter()
        if "method" in message:
            if "id" in message:
                # workspace/configuration, workDoneProgress/create, ...: a minimal editor's answer.
                result: Any = None
                if message["method"] == "workspace/configuration":
                    result = [None for _ in message.get("params", {}).get("items", [])]
                self._write({"jsonrpc": "2.0", "id": message["id"], "result": result})
                return
            self.notifications.append((now, message["method"], message.get("params")))
            if message["method"] == "pairline/status":
                self.status.put_nowait(message.get("params") or {})
            return
        pending = self._pending.pop(int(message.get("id", -1)), None)
        if pending is None:
            return
        pending.answered_at = now
        if "error" in message:
            pending.error = message["error"]
        pending.result = message.get("result")
        if pending.on_answer is not None:
            # Runs before anything else can be written, so a follow-up request sent from here
            # reaches the server ahead of the next keystroke.
            pending.on_answer(pending)
        if not pending.future.done():
            pending.future.set_result(message.get("result"))

    async def initialize(
        self, capabilities: dict[str, Any], options: Any, root: Path | None = None
    ) -> Any:
        """`initialize` and `initialized`; `root` is the workspace folder, if any."""
        folders = None if root is None else [{"uri": root.as_uri(), "name": root.name}]
        result = await self.call(
            "initialize",
            {
                "processId": None,
                "rootUri": None if root is None else root.as_uri(),
                "workspaceFolders": folders,
                "capabilities": capabilities,
                "initializationOptions": options,
                "clientInfo": {"name": "pairline-bench"},
            },
        )
        self.notify("initialized", {})
        return result

    async def wait_ready(self, timeout: float = 600.0) -> dict[str, Any]:
        """The first `pairline/status` that is ready or error."""
        while True:
            status = await asyncio.wait_for(self.status.get(), timeout)
            if status.get("state") in ("ready", "error"):
                return status

    async def close(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(Exception):
            await self.call("shutdown", None, timeout=30)
            self.notify("exit", None)
            await self.drain()
        try:
            await asyncio.wait_for(self.process.wait(), 30)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._stderr is not None:
            self._stderr.close()
