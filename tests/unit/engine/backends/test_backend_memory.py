"""The local backend's memory savings: a sliding-window KV cache, memory handed back, the
model host's heap kept to two arenas.

With `model.swa_full` off, Gemma 3's sliding-window layers keep a cache smaller than the
context: only the last window's worth of positions, so a prompt that changes far from its end
cannot reuse what came before the change; typing at the end still reuses everything but the
last few tokens.
"""

from __future__ import annotations

import dataclasses
import mmap
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pairline.engine.backends import heap
from pairline.engine.backends.base import GenerationParams
from pairline.engine.backends.host_process import host_environment
from pairline.engine.backends.local_llama import LocalLlamaBackend
from pairline.engine.core.config import Settings
from pairline.engine.models import manifest

LINE = GenerationParams(max_tokens=8, is_complete=lambda text: "\n" in text)
# About 1,000 tokens: more than the window (512) plus what llama.cpp keeps beyond it.
BODY = "".join(f"def f{i}(x):\n    return x * {i} + {i * 7 % 13}\n\n" for i in range(60))


async def _backend(swa_full: bool) -> LocalLlamaBackend:
    settings = Settings()
    config = dataclasses.replace(settings.model, swa_full=swa_full)
    loaded = LocalLlamaBackend(manifest.resolve(config.name, settings.cache_path), config)
    await loaded.load()
    return loaded


@pytest.fixture(params=[False, True], ids=["window", "full"])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[LocalLlamaBackend]:
    loaded = await _backend(request.param)
    yield loaded
    loaded.close()


@pytest.mark.model
async def test_typing_reuses_the_prompt_and_moving_up_only_what_the_cache_kept(
    backend: LocalLlamaBackend,
) -> None:
    first = await backend.generate(BODY + "def g(", LINE, threading.Event())
    assert first.prompt_tokens > 900
    typed = await backend.generate(BODY + "def g(y", LINE, threading.Event())
    assert typed.prompt_tokens - typed.reused_tokens <= 3  # a keystroke: a token or two
    # The cursor moved up: the prompt is a beginning of the last one, but the window layers
    # of a small cache no longer hold its end, so it is evaluated from its start.
    up = await backend.generate(BODY[: len(BODY) // 2], LINE, threading.Event())
    if backend._config.swa_full:
        assert up.prompt_tokens - up.reused_tokens <= 1
    else:
        assert up.reused_tokens == 0
    # An edit near the top of a prompt the cache holds from its start (the half evaluated
    # last is shorter than the window cache): the text before the edit is reused.
    edited = BODY.replace("def f5(", "def h5(") + "def g(y"
    far = await backend.generate(edited, LINE, threading.Event())
    assert 0 < far.reused_tokens < 100
    again = await backend.generate(edited, LINE, threading.Event())
    assert again.text == far.text


def test_heap_release_runs_where_glibc_has_it() -> None:
    assert heap.release() in (True, False)
    assert heap.release() == heap.release()  # the library is looked up once


def test_dropping_a_files_pages_leaves_its_mapping_readable(tmp_path: Path) -> None:
    path = tmp_path / "weights.bin"
    path.write_bytes(bytes(range(256)) * 4096)
    with path.open("rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as view:
        assert view[1000] == 1000 % 256
        dropped = heap.drop_file_pages(path)
        assert dropped in (0, len(view))  # all of it where the platform allows
        assert view[1000] == 1000 % 256 and view[-1] == 255
    assert heap.drop_file_pages(tmp_path / "absent.bin") == 0


def test_idle_release_waits_for_idleness() -> None:
    submitted = threading.Event()
    idle = [False]

    def submit(work: object) -> None:
        assert work is heap.release
        submitted.set()

    waiting = heap.IdleRelease(submit, lambda: idle[0], delay_s=0.01)
    waiting.idle()
    assert not submitted.wait(0.2)  # busy again when the delay ran out: nothing to do
    idle[0] = True
    waiting.idle()
    assert submitted.wait(5)
    waiting.cancel()


def test_the_model_host_keeps_two_heap_arenas_unless_the_user_says_otherwise() -> None:
    assert host_environment({"PATH": "/bin"}) == {"MALLOC_ARENA_MAX": "2", "PATH": "/bin"}
    assert host_environment({"MALLOC_ARENA_MAX": "8"})["MALLOC_ARENA_MAX"] == "8"
