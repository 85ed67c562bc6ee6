"""Completion cache: an in-memory front over a size-bounded diskcache that survives restarts.

Entries hold the model's raw output for a key built from everything that shapes it (model
identity, generation limits, the prompt, the text after the cursor), so post-processing runs
again on a hit and a changed suffix is a miss. The disk layer is a convenience: a corrupt,
locked, read-only or vanished directory is rebuilt once or bypassed, with one log line, and
completions go on from memory.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import shutil
from pathlib import Path
from typing import Any

from pairline.engine.core.lru import Lru

log = logging.getLogger(__name__)

_MEMORY_ENTRIES = 1024
_PAGE = 4096
_SHM_BYTES = 32 * 1024  # SQLite's shared-memory index beside a WAL database


def disk_settings(bound: int) -> dict[str, int]:
    """diskcache settings that keep the whole directory, not only its values, within `bound`.

    diskcache's `size_limit` counts the database pages and value files but not SQLite's
    write-ahead log, which by default grows to 4 MB before a checkpoint and never shrinks:
    a 1 MB cache would use 5 MB. The log gets a slice of the bound (checkpointed and truncated
    at that size), twice over for the moment between a write and its checkpoint.
    """
    wal = max(16 * _PAGE, min(bound // 8, 4 * 1024 * 1024))
    return {
        "size_limit": max(bound - 2 * wal - _SHM_BYTES, bound // 2),
        "sqlite_wal_autocheckpoint": wal // _PAGE,
        "sqlite_journal_size_limit": wal,
    }


def cache_key(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8", "surrogatepass")
        digest.update(len(data).to_bytes(8, "little"))  # length-prefixed: no ambiguous joins
        digest.update(data)
    return digest.hexdigest()


class CompletionCache:
    """get/put raw completions by key; never raises."""

    def __init__(self, directory: Path | None, size_limit: int = 64 * 1024 * 1024) -> None:
        self._memory: Lru[str, str] = Lru(_MEMORY_ENTRIES)
        self._directory = directory
        self._size_limit = size_limit
        self._disk: Any = None
        self.hits = 0
        self.misses = 0
        if directory is not None:
            self._disk = self._open(directory)

    @property
    def on_disk(self) -> bool:
        return self._disk is not None

    def _open(self, directory: Path) -> Any:
        import diskcache

        for attempt in range(2):
            try:
                directory.mkdir(parents=True, exist_ok=True)
                disk = diskcache.Cache(str(directory), **disk_settings(self._size_limit))
                disk.get("__probe__")  # a corrupt database fails here, not at first use
                return disk
            except Exception as exc:  # sqlite3, OSError, diskcache errors: all mean "unusable"
                if attempt == 0:
                    log.warning(
                        "completion cache at %s unusable (%s); rebuilding it", directory, exc
                    )
                    shutil.rmtree(directory, ignore_errors=True)
                else:
                    log.warning("completion cache disabled, memory only: %s", exc)
        return None

    def _disable_disk(self, exc: Exception) -> None:
        log.warning("completion cache on disk failed (%s); memory only from now on", exc)
        disk, self._disk = self._disk, None
        with contextlib.suppress(Exception):  # already broken; nothing more to do
            disk.close()

    def get(self, key: str) -> str | None:
        value = self._memory.get(key)
        if value is not None:
            self.hits += 1
            return value
        if self._disk is not None:
            try:
                stored = self._disk.get(key)
            except Exception as exc:
                self._disable_disk(exc)
                stored = None
            if isinstance(stored, str):
                self._memory.put(key, stored)
                self.hits += 1
                return stored
        self.misses += 1
        return None

    def put(self, key: str, value: str) -> None:
        self._memory.put(key, value)
        if self._disk is not None:
            try:
                self._disk.set(key, value)
            except Exception as exc:
                self._disable_disk(exc)

    def volume(self) -> int:
        """Bytes the disk layer uses (0 in memory-only mode)."""
        if self._disk is None:
            return 0
        try:
            return int(self._disk.volume())
        except Exception:
            return 0

    def close(self) -> None:
        if self._disk is not None:
            with contextlib.suppress(Exception):  # a broken cache must not stop a shutdown
                self._disk.close()
            self._disk = None
