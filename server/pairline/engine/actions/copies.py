"""Copies of the workspace that checks run in, each lent to one check at a time.

A copy is made when a check needs one and none is free, up to `parallel` copies (default one per
core); a returned copy is reused by the next check, and `remove_copies` deletes them all. Beside
each copy, never in it (the project's files stay as they are), a folder holds the test watchdog,
the warm pytest worker and the tests' times.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from pairline.engine.actions.workspace_copy import copy_workspace
from pairline.engine.checks.timeouts import install_watchdog
from pairline.engine.checks.warm import install_worker


class WorkspaceCopies:
    """Copies of the workspace at `root`, lent one check at a time."""

    def __init__(self, root: Path | None, parallel: int = 0) -> None:
        self.root = root
        self.parallel = parallel if parallel > 0 else cores()
        self._tmps: list[tempfile.TemporaryDirectory[str]] = []
        self._free: list[Path] = []
        self._made = 0
        self._returned: asyncio.Condition | None = None

    @contextlib.asynccontextmanager
    async def _sandbox(self) -> AsyncIterator[Path]:
        """A copy of the workspace for this check alone: a free one, a new one, or the next one
        another check returns."""
        if self._returned is None:
            self._returned = asyncio.Condition()
        async with self._returned:
            while not self._free and self._made >= self.parallel:
                await self._returned.wait()
            copy = self._free.pop() if self._free else None
            if copy is None:
                self._made += 1
        if copy is None:
            try:
                copy = await self._new_copy()
            except BaseException:
                async with self._returned:
                    self._made -= 1
                    self._returned.notify()
                raise
        try:
            yield copy
        finally:
            async with self._returned:
                self._free.append(copy)
                self._returned.notify()

    async def _new_copy(self) -> Path:
        assert self.root is not None
        tmp = tempfile.TemporaryDirectory(prefix="pairline-check-")
        self._tmps.append(tmp)  # before copying: a cancelled copy is removed by close() too
        target = Path(tmp.name) / "workspace"
        await asyncio.to_thread(_install_scripts, scripts_folder(target))
        copying = asyncio.ensure_future(asyncio.to_thread(copy_workspace, self.root, target))
        try:
            await asyncio.shield(copying)
        except asyncio.CancelledError:
            # Let the copy finish first, or it would write into the folder close() removes.
            with contextlib.suppress(Exception):
                await copying
            raise
        return target

    def remove_copies(self) -> None:
        """Remove every copy (no process may still run in one). Safe from any thread."""
        for tmp in self._tmps:
            with contextlib.suppress(OSError):
                tmp.cleanup()
        self._tmps.clear()
        self._free.clear()
        self._made = 0


def cores() -> int:
    """CPU cores this process may run on: how many checks run at once."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def scripts_folder(copy: Path) -> Path:
    """The folder beside a workspace copy (never in it: the project's files stay as they are)
    for the watchdog, the warm worker and the tests' times."""
    return copy.parent / "plugin"


def write_file(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _install_scripts(folder: Path) -> None:
    install_watchdog(folder)
    install_worker(folder)
