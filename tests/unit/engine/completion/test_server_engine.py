"""The completion engine with `completion.backend = "remote"`: suggestions come from the model
server (a real socket on loopback), never wait for the local model, and are cached per
endpoint and model."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from pairline.engine.completion.engine import CompletionEngine
from pairline.engine.core.config import Settings, load_settings
from pairline.engine.core.types import CompletionRequest, Position
from tests.unit.engine.backends.test_remote import FaultServer, Reply, sse

REQUEST = CompletionRequest(
    uri="file:///w/app.py",
    prefix="def add(a, b):\n    return ",
    suffix="\n",
    position=Position(1, 11),
    language="python",
    automatic=False,
)


def openai_answer(text: str) -> Reply:
    chunk = {"choices": [{"text": text, "finish_reason": "stop"}]}
    return sse([f"data: {json.dumps(chunk)}\n\n", "data: [DONE]\n\n"])


@pytest.fixture
async def fault() -> AsyncIterator[FaultServer]:
    server = FaultServer([openai_answer("a + b\n")])
    await server.start()
    yield server
    await server.stop()


def settings(tmp_path: Path, url: str, **remote: Any) -> Settings:
    loaded, problems = load_settings(
        {
            "cache_dir": str(tmp_path),
            "completion": {"backend": "remote", "speculative": False},
            "completion_remote": {"base_url": url, "api": "openai", **remote},
        }
    )
    assert problems == []
    return loaded


async def test_suggestion_from_the_server_without_a_local_model(
    fault: FaultServer, tmp_path: Path
) -> None:
    engine = CompletionEngine(settings(tmp_path, fault.url, model="coder"))
    try:  # no local model is ever attached: waiting for one would hang
        suggestion = await engine.complete(REQUEST)
    finally:
        engine.close()
    assert suggestion is not None and suggestion.text == "a + b"
    assert suggestion.model == "coder"
    body = fault.seen[0].body
    assert str(body["prompt"]).endswith("def add(a, b):\n    return ")


async def test_cache_is_per_endpoint_and_model(fault: FaultServer, tmp_path: Path) -> None:
    for model, expected_requests in (("one", 1), ("one", 1), ("two", 2)):
        engine = CompletionEngine(settings(tmp_path, fault.url, model=model))
        try:
            assert (await engine.complete(REQUEST)) is not None
        finally:
            engine.close()
        assert len(fault.seen) == expected_requests  # the second run is a cache hit


async def test_a_failing_server_gives_no_suggestion(fault: FaultServer, tmp_path: Path) -> None:
    fault.replies = [Reply(500, body="down")]
    engine = CompletionEngine(settings(tmp_path, fault.url))
    heard: list[tuple[str, str]] = []
    engine.server.on_status = lambda *status: heard.append(status)
    try:
        assert await engine.complete(REQUEST) is None
        assert await engine.complete(REQUEST) is None
    finally:
        engine.close()
    assert [state for state, _ in heard] == ["down"]
