"""The one place that starts and stops the servers a benchmark talks to.

`pairline_server` runs `pairline serve` over stdio the way an editor does: started, initialized
(with the editor capabilities every typing bench declares), waited on until its model is
loaded, and shut down when the block ends, optionally with an empty completion cache of its
own so that a run never profits from an earlier one. `http_server` runs an HTTP server process
(llama.cpp's `llama-server`, `llama_cpp.server`) on loopback with its output in a log, waits
until it answers, and stops it when the block ends: terminated, killed if it lingers.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx

from pairline.bench.harness import common
from pairline.bench.harness.lspclient import LspClient
from pairline.engine.core.config import Settings

# What a minimal editor with inline completion declares; position offsets in UTF-16, as VS Code.
CAPABILITIES: dict[str, Any] = {
    "textDocument": {"inlineCompletion": {}, "synchronization": {}},
    "general": {"positionEncodings": ["utf-16"]},
    "window": {"workDoneProgress": False},
}
LOG_TAIL_LINES = 30
STOP_GRACE_S = 30.0


def server_command() -> list[str]:
    """`pairline serve` with the Python running the bench, so both use the same install."""
    return [sys.executable, "-m", "pairline", "serve"]


async def wait_loaded(client: LspClient, timeout: float = 600.0) -> None:
    """Until the server says its model is ready; SystemExit when it could not load it."""
    status = await client.wait_ready(timeout)
    if status.get("state") != "ready":
        raise SystemExit(
            f"pairline: the server did not load its model: {status.get('message') or status}"
        )


@contextlib.asynccontextmanager
async def pairline_server(
    options: dict[str, Any],
    log_path: Path,
    *,
    root: Path | None = None,
    fresh_cache: Settings | None = None,
    capabilities: dict[str, Any] | None = None,
    wait: bool = True,
) -> AsyncIterator[LspClient]:
    """`pairline serve`, initialized with `options` (and workspace `root`), until the block ends.

    With `fresh_cache`, the server gets an empty cache dir of its own (the models of that
    settings' cache linked in); with `wait`, the block starts once the model is loaded.
    """
    with contextlib.ExitStack() as stack:
        if fresh_cache is not None:
            cache_dir = stack.enter_context(common.fresh_cache_dir(fresh_cache))
            options = {**options, "cache_dir": str(cache_dir)}
        client = LspClient(server_command(), log_path)
        await client.start()
        try:
            await client.initialize(capabilities or CAPABILITIES, options, root)
            if wait:
                await wait_loaded(client)
            yield client
        finally:
            await client.close()


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """The last `lines` lines of a log ('' when it cannot be read)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def stop(process: subprocess.Popen[Any], grace_s: float = STOP_GRACE_S) -> None:
    """Terminate `process`; kill it when it has not exited after `grace_s` seconds."""
    process.terminate()
    try:
        process.wait(grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait_up(
    name: str,
    url: str,
    process: subprocess.Popen[Any],
    answers: Callable[[str], bool],
    log_path: Path,
    timeout_s: float,
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(
                f"pairline: {name} exited with {process.returncode}; the last lines of "
                f"{log_path}:\n{tail(log_path)}"
            )
        try:
            if answers(url):
                return
        except (httpx.HTTPError, ValueError):
            pass  # not listening yet, or still answering "loading"
        time.sleep(0.25)
    raise SystemExit(
        f"pairline: {name} at {url} did not answer in {timeout_s:.0f}s; the last lines of "
        f"{log_path}:\n{tail(log_path)}"
    )


@contextlib.contextmanager
def http_server(
    name: str,
    command: Sequence[str],
    port: int,
    answers: Callable[[str], bool],
    log_path: Path,
    timeout_s: float = 180.0,
) -> Iterator[str]:
    """Run `command` (listening on loopback `port`) until the block ends; yields its base URL.

    The block starts once `answers(url)` is true; a process that exits first, or does not
    answer within `timeout_s`, ends the run with the tail of its log.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    url = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        process = subprocess.Popen(list(command), stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_up(name, url, process, answers, log_path, timeout_s)
            yield url
        finally:
            stop(process)
