"""The completion cache keeps working when its directory does not."""

from __future__ import annotations

from pathlib import Path

import pytest

from pairline.engine.completion.cache import CompletionCache, cache_key


def test_keys_are_unambiguous() -> None:
    assert cache_key("ab", "c") != cache_key("a", "bc")
    assert cache_key("x") == cache_key("x")


def test_entries_survive_reopening(tmp_path: Path) -> None:
    cache = CompletionCache(tmp_path / "c")
    cache.put("k", "value")
    cache.close()
    again = CompletionCache(tmp_path / "c")
    assert again.on_disk and again.get("k") == "value"
    assert again.get("missing") is None
    assert (again.hits, again.misses) == (1, 1)


def test_corrupt_directory_is_rebuilt(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    directory = tmp_path / "c"
    CompletionCache(directory).close()
    for db in directory.glob("*.db"):
        db.write_bytes(b"this is not sqlite" * 100)
    cache = CompletionCache(directory)
    assert cache.on_disk
    cache.put("k", "v")
    assert cache.get("k") == "v"
    assert any("rebuilding" in r.message for r in caplog.records)


def test_unusable_path_falls_back_to_memory(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache directory should be")
    cache = CompletionCache(blocker / "c")
    assert not cache.on_disk
    cache.put("k", "v")
    assert cache.get("k") == "v"


def test_directory_deleted_while_running(tmp_path: Path) -> None:
    directory = tmp_path / "c"
    cache = CompletionCache(directory)
    cache.put("a", "1")
    for entry in directory.iterdir():
        if entry.is_file():
            entry.unlink()
    cache.put("b", "2")  # whatever the disk layer does, memory keeps serving
    assert cache.get("a") == "1" and cache.get("b") == "2"
