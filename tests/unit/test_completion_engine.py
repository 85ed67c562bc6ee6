"""The completion engine with a scripted backend: routing, superseding, per-language switch."""

from __future__ import annotations

import asyncio
import threading

from pairline.engine.backends.base import Generation, GenerationParams
from pairline.engine.completion import CompletionEngine
from pairline.engine.config import Settings, load_settings
from pairline.engine.models import FimTemplate
from pairline.engine.types import CompletionRequest, Mode, Position


class ScriptedBackend:
    """Answers with fixed text; `hold` keeps a generation running until it is cancelled."""

    def __init__(self, text: str, hold: bool = False) -> None:
        self.text = text
        self.hold = hold
        self.prompts: list[str] = []
        self.started = asyncio.Event()

    @property
    def name(self) -> str:
        return "scripted"

    @property
    def fim(self) -> FimTemplate | None:
        return None

    async def generate(
        self, prompt: str, params: GenerationParams, cancel: threading.Event
    ) -> Generation:
        self.prompts.append(prompt)
        self.started.set()
        if self.hold:
            while not cancel.is_set():
                await asyncio.sleep(0.001)
            return Generation("", "cancelled")
        out = ""
        for ch in self.text:  # stream: stop as soon as the suggestion is complete
            out += ch
            if params.is_complete(out):
                return Generation(out, "complete", generated_tokens=len(out))
        return Generation(out, "max_tokens", generated_tokens=len(out))

    def close(self) -> None:
        pass


def req(prefix: str, suffix: str = "", uri: str = "file:///a.py") -> CompletionRequest:
    return CompletionRequest(uri, "python", prefix, suffix, Position(0, len(prefix)))


async def test_line_suggestion_stops_streaming_at_the_newline() -> None:
    engine = CompletionEngine(Settings())
    backend = ScriptedBackend("total(xs)\nprint('never shown')")
    engine.attach(backend)
    suggestion = await engine.complete(req("result = "))
    assert suggestion is not None
    assert suggestion.text == "total(xs)" and suggestion.mode is Mode.LINE
    assert suggestion.timings["generated_tokens"] == len("total(xs)\n")


async def test_newer_request_supersedes_the_older_one() -> None:
    engine = CompletionEngine(Settings())
    slow = ScriptedBackend("", hold=True)
    engine.attach(slow)
    older = asyncio.create_task(engine.complete(req("a = ")))
    await slow.started.wait()
    engine.backend = ScriptedBackend("2")
    newer = await engine.complete(req("a = 1 + "))
    assert (await older) is None
    assert newer is not None and newer.text == "2"


async def test_other_documents_are_not_superseded() -> None:
    engine = CompletionEngine(Settings())
    engine.attach(ScriptedBackend("x"))
    results = await asyncio.gather(
        engine.complete(req("a = ", uri="file:///a.py")),
        engine.complete(req("b = ", uri="file:///b.py")),
    )
    assert all(r is not None for r in results)


async def test_disabled_language_gets_nothing() -> None:
    settings, _ = load_settings({"completion": {"enable": {"*": True, "python": False}}})
    engine = CompletionEngine(settings)
    backend = ScriptedBackend("x")
    engine.attach(backend)
    assert await engine.complete(req("a = ")) is None
    assert backend.prompts == []


async def test_failed_model_answers_nothing() -> None:
    engine = CompletionEngine(Settings())
    engine.fail("model missing")
    assert await engine.complete(req("a = ")) is None
    assert engine.error == "model missing"


async def test_block_mode_after_def() -> None:
    engine = CompletionEngine(Settings())
    engine.attach(ScriptedBackend("\n    return 1\n\ndef other():\n"))
    suggestion = await engine.complete(req("def one():", "\n"))
    assert suggestion is not None and suggestion.mode is Mode.BLOCK
    assert suggestion.text == "\n    return 1"
