"""A generation the user types into runs on, and its suggestion is typed through."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from pathlib import Path

from pairline.engine.backends.base import Generation, GenerationParams
from pairline.engine.completion.engine import CompletionEngine
from pairline.engine.completion.flights import typed_at
from pairline.engine.core.types import CompletionRequest, Position
from tests.unit.engine.completion.test_engine import ScriptedBackend, fresh


class GatedBackend(ScriptedBackend):
    """Answers `text` once `release` is set (or nothing, once stopped either way)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.release = asyncio.Event()
        self.cancelled = 0

    async def generate(
        self, prompt: str, params: GenerationParams, cancel: threading.Event
    ) -> Generation:
        self.prompts.append(prompt)
        self.started.set()
        try:
            while not self.release.is_set():
                if cancel.is_set():
                    self.cancelled += 1
                    return Generation("", "cancelled")
                await asyncio.sleep(0.001)
        except asyncio.CancelledError:  # withdrawn, as a queued request to the model is
            self.cancelled += 1
            raise
        return Generation(self.text, "complete", generated_tokens=len(self.text))


def gated(tmp_path: Path, **completion: object) -> tuple[CompletionEngine, GatedBackend]:
    """An engine on a gated backend answering `sum(values)`, no cache, no speculation."""
    engine = CompletionEngine(fresh(tmp_path, cache=False, speculative=False, **completion))
    backend = GatedBackend("sum(values)")
    engine.attach(backend)
    return engine, backend


def req(prefix: str, suffix: str = "\n") -> CompletionRequest:
    return CompletionRequest("file:///a.py", "python", prefix, suffix, Position(0, len(prefix)))


async def _cancelled_request(engine: CompletionEngine, backend: GatedBackend) -> None:
    """A request whose generation has started, cancelled by the editor (a keystroke)."""
    task = asyncio.create_task(engine.complete(req("total = ")))
    await backend.started.wait()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def test_typed_at_accepts_only_typing_on_at_the_cursor() -> None:
    request = req("total = ", "\nprint(total)\n")
    assert typed_at(request, "total = su\nprint(total)\n") == "su"
    assert typed_at(request, "total = \nprint(total)\n") is None  # nothing typed
    assert typed_at(request, "total =\nprint(total)\n") is None  # a deletion
    assert typed_at(request, "x = 1\ntotal = su\nprint(total)\n") is None  # elsewhere too
    assert typed_at(request, "total = s\n\nprint(total)\n") is None  # a new line


async def test_a_generation_typed_into_finishes_and_is_typed_through(tmp_path: Path) -> None:
    engine, backend = gated(tmp_path)
    await _cancelled_request(engine, backend)
    engine.edited("file:///a.py", "total = su\n")  # the keystroke the editor cancelled it for
    backend.release.set()
    suggestion = await engine.complete(req("total = su"))
    assert suggestion is not None and suggestion.text == "m(values)"
    assert suggestion.source == "typing" and len(backend.prompts) == 1
    assert backend.cancelled == 0 and engine.stats["waited_typed_into"] == 1


async def test_the_next_request_waits_for_it_rather_than_asking_again(tmp_path: Path) -> None:
    engine, backend = gated(tmp_path)
    await _cancelled_request(engine, backend)
    engine.edited("file:///a.py", "total = s\n")
    asking = asyncio.create_task(engine.complete(req("total = s")))
    await asyncio.sleep(0.01)
    assert not asking.done() and len(backend.prompts) == 1  # waiting, not generating
    backend.release.set()
    suggestion = await asking
    assert suggestion is not None and suggestion.text == "um(values)"
    assert len(backend.prompts) == 1


async def test_any_other_edit_stops_it(tmp_path: Path) -> None:
    engine, backend = gated(tmp_path)
    await _cancelled_request(engine, backend)
    engine.edited("file:///a.py", "totals = \n")  # typed somewhere else
    await asyncio.sleep(0.01)
    assert backend.cancelled == 1


async def test_switched_off_the_editors_cancel_stops_it(tmp_path: Path) -> None:
    engine, backend = gated(tmp_path, finish_typed_into=False)
    await _cancelled_request(engine, backend)
    await asyncio.sleep(0.01)
    assert backend.cancelled == 1
    engine.edited("file:///a.py", "total = su\n")
    backend.release.set()
    suggestion = await engine.complete(req("total = su"))
    assert suggestion is not None and suggestion.source == "model" and len(backend.prompts) == 2


async def test_cancelled_with_no_edit_it_stops(tmp_path: Path) -> None:
    engine, backend = gated(tmp_path)
    await _cancelled_request(engine, backend)
    await asyncio.sleep(0.2)  # the editor's cancel and no keystroke after it
    assert backend.cancelled == 1


async def test_the_edit_may_come_before_the_cancel(tmp_path: Path) -> None:
    engine, backend = gated(tmp_path)
    task = asyncio.create_task(engine.complete(req("total = ")))
    await backend.started.wait()
    engine.edited("file:///a.py", "total = s\n")
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await asyncio.sleep(0.2)
    assert backend.cancelled == 0
    backend.release.set()
    suggestion = await engine.complete(req("total = s"))
    assert suggestion is not None and suggestion.source == "typing"


async def test_a_request_typed_past_and_not_cancelled_answers_nothing(tmp_path: Path) -> None:
    engine, backend = gated(tmp_path)
    older = asyncio.create_task(engine.complete(req("total = ")))
    await backend.started.wait()
    engine.edited("file:///a.py", "total = s\n")  # an editor that does not cancel it
    backend.release.set()
    assert await older is None  # its cursor moved: the old place gets nothing
    typed = await engine.complete(req("total = s"))
    assert typed is not None and typed.text == "um(values)" and typed.source == "typing"
