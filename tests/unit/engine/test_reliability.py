"""Faults below the server: a cache disk that fills up or fails, and bounds that must hold."""

from __future__ import annotations

import errno
import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from pairline.engine.completion import cache as cache_module
from pairline.engine.completion.cache import CompletionCache


def _failing(exc: Exception) -> Any:
    def fail(*_args: Any, **_kwargs: Any) -> Any:
        raise exc

    return fail


@pytest.mark.parametrize(
    "exc",
    [
        sqlite3.OperationalError("database or disk is full"),
        OSError(errno.ENOSPC, "No space left on device"),
        sqlite3.OperationalError("attempt to write a readonly database"),
    ],
    ids=["sqlite-full", "enospc", "read-only"],
)
def test_failing_writes_leave_memory_serving_with_one_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, exc: Exception
) -> None:
    cache = CompletionCache(tmp_path / "c")
    assert cache.on_disk
    cache._disk.set = _failing(exc)
    with caplog.at_level(logging.WARNING, logger="pairline.engine.completion.cache"):
        for i in range(50):
            cache.put(f"k{i}", f"v{i}")
    assert not cache.on_disk
    assert all(cache.get(f"k{i}") == f"v{i}" for i in range(50))  # served from memory
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "memory only" in warnings[0].getMessage()
    cache.close()


def test_failing_reads_leave_memory_serving(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache = CompletionCache(tmp_path / "c")
    cache.put("k", "v")
    cache._memory.clear()  # force the next get to the disk
    cache._disk.get = _failing(OSError(errno.EIO, "Input/output error"))
    assert cache.get("k") is None
    cache.put("k2", "v2")
    assert cache.get("k2") == "v2" and not cache.on_disk
    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) == 1


def test_disk_and_memory_stay_within_their_bounds(tmp_path: Path) -> None:
    bound = 256 * 1024
    cache = CompletionCache(tmp_path / "c", size_limit=bound)
    value = "x" * 2000
    largest = 0
    for i in range(1000):  # ~2 MB written through a 256 kB bound
        cache.put(f"key-{i}", value + str(i))
        # What the user's disk sees: the database, its write-ahead log and its index.
        files = [f for f in (tmp_path / "c").rglob("*") if f.is_file()]
        largest = max(largest, sum(f.stat().st_size for f in files))
    assert cache.on_disk
    assert cache.volume() <= bound
    assert 0 < largest <= bound
    assert len(cache._memory) <= cache_module._MEMORY_ENTRIES
    assert cache.get("key-999") == value + "999"
    cache.close()
