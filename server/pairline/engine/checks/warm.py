"""The verifier's side of the warm pytest (`checks.worker`): start one per workspace copy, ask it
to run a check, stop it.

A worker that cannot start (an interpreter too old, pytest missing) or breaks mid-way answers
None, and the verifier runs that check cold; the log says which. A cancelled check stops the
child's process group and the worker with it (the next check starts a new one).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from pathlib import Path
from typing import Any

from pairline.engine.checks.timeouts import CheckRun, install_script, kill_group

log = logging.getLogger(__name__)

WORKER_MODULE = "pairline_check_worker"
WORKER_SCRIPT = f"{WORKER_MODULE}.py"  # its file in the folder `install_worker` fills
_WORKER_SOURCE = Path(__file__).with_name("worker.py")
_START_TIMEOUT_S = 60.0  # importing pytest and its plugins, once
_REPLY_GRACE_S = 10.0  # beyond the check's own limit, which the worker enforces
_LINE_LIMIT = 64 * 1024 * 1024  # one reply line holds the check's whole output


def install_worker(folder: Path) -> Path:
    """Put the worker script in `folder`; its path."""
    return install_script(folder, _WORKER_SOURCE, WORKER_MODULE)


def warm_args(argv: list[str]) -> list[str] | None:
    """pytest's own arguments when `argv` is `PYTHON -m pytest ARGS`, else None (cold only)."""
    if len(argv) >= 3 and argv[1:3] == ["-m", "pytest"]:
        return argv[3:]
    return None


class WarmPytest:
    """A running `checks.worker` in one interpreter."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self._proc = proc

    @classmethod
    async def start(cls, python: str, script: Path, env: dict[str, str]) -> WarmPytest | None:
        """Start the worker `script` (`install_worker`) with `python`, the check's interpreter;
        None when it cannot."""
        try:
            proc = await asyncio.create_subprocess_exec(
                python,
                str(script),
                cwd=script.parent,
                env=env,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL,
                start_new_session=True,
                limit=_LINE_LIMIT,
            )
        except OSError as exc:
            log.info("checks run cold: cannot start a warm pytest: %s", exc)
            return None
        worker = cls(proc)
        ready = await worker._read(_START_TIMEOUT_S)
        if not ready or not ready.get("ready"):
            log.info("checks run cold: the warm pytest did not start in %s", python)
            worker.close()
            return None
        return worker

    async def _read(self, timeout: float) -> dict[str, Any] | None:
        assert self._proc.stdout is not None
        try:
            line = await asyncio.wait_for(self._proc.stdout.readline(), timeout)
            reply = json.loads(line) if line else None
        except (TimeoutError, ValueError):
            return None
        return reply if isinstance(reply, dict) else None

    async def run(
        self, args: list[str], cwd: Path, env: dict[str, str], timeout: float
    ) -> CheckRun | None:
        """Run pytest with `args` in `cwd`; None when the worker broke (run it cold)."""
        assert self._proc.stdin is not None
        request = {"args": args, "cwd": str(cwd), "env": env, "timeout": timeout}
        started = time.perf_counter()
        child: int | None = None
        try:
            self._proc.stdin.write((json.dumps(request) + "\n").encode("utf-8"))
            await self._proc.stdin.drain()
            first = await self._read(_START_TIMEOUT_S)
            child = int(first["pid"]) if first and "pid" in first else None
            if child is None:
                self.close()
                return None
            reply = await self._read(timeout + _REPLY_GRACE_S)
        except asyncio.CancelledError:
            if child is not None:
                kill_group(child)
            self.close()  # it may be mid-reply: a new one serves the next check
            raise
        except (OSError, ConnectionError):
            self.close()
            return None
        if reply is None or "output" not in reply:
            if child is not None:
                kill_group(child)
            self.close()
            return None
        code = reply.get("returncode")
        seconds = float(reply.get("seconds", time.perf_counter() - started))
        return CheckRun(code if isinstance(code, int) else None, str(reply["output"]), seconds)

    @property
    def alive(self) -> bool:
        return self._proc.returncode is None

    def close(self) -> None:
        """Stop the worker (its children are in groups of their own, stopped per check).
        Safe from any thread; `aclose` also waits for it on the event loop."""
        kill_group(self._proc.pid)

    async def aclose(self) -> None:
        self.close()
        # Reaped while the loop runs: a process the loop never saw end is complained about.
        with contextlib.suppress(TimeoutError, ProcessLookupError):
            await asyncio.wait_for(self._proc.wait(), _REPLY_GRACE_S)
