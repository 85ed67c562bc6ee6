"""Remote backends against a real HTTP server on loopback that misbehaves on purpose.

`FaultServer` speaks just enough HTTP/1.1 to play one scripted answer per request: a good
stream, an error status, a stall, a malformed body, a stream cut short. The backends talk to
it over real sockets with httpx, so timeouts, retries and stream parsing are exercised as they
run against a real model server.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from pairline.engine.backends.anthropic import AnthropicBackend
from pairline.engine.backends.edit import EditPrompt
from pairline.engine.backends.http import RemoteError, retry_after
from pairline.engine.backends.openai_compat import OpenAICompatBackend
from pairline.engine.core.config import RemoteConfig

PROMPT = EditPrompt(system="s", user="fix it", completion="# fixed:\n", stop=("\n```",))
ANSWER = "```python\ndef add(a, b):\n    return a + b\n```"


def openai_chunks(text: str, *, done: bool = True, finish: bool = True) -> list[str]:
    pieces = [text[i : i + 7] for i in range(0, len(text), 7)]
    events = [
        json.dumps({"choices": [{"index": 0, "delta": {"content": p}, "finish_reason": None}]})
        for p in pieces
    ]
    if finish:
        events.append(json.dumps({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}))
    if done:
        events.append("[DONE]")
    return [f"data: {e}\n\n" for e in events]


def anthropic_chunks(text: str, *, stop: bool = True) -> list[str]:
    events: list[tuple[str, dict[str, object]]] = [
        ("message_start", {"type": "message_start", "message": {"id": "m"}}),
        ("content_block_start", {"type": "content_block_start", "index": 0}),
    ]
    for i in range(0, len(text), 9):
        delta = {"type": "text_delta", "text": text[i : i + 9]}
        events.append(("content_block_delta", {"type": "content_block_delta", "delta": delta}))
    if stop:
        events.append(("message_stop", {"type": "message_stop"}))
    return [f"event: {name}\ndata: {json.dumps(data)}\n\n" for name, data in events]


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    chunks: list[str] = field(default_factory=list)  # sent one by one, then the socket closes
    body: str = ""  # a plain body with Content-Length (used when there are no chunks)
    delay_s: float = 0.0  # wait before answering at all


def sse(chunks: list[str]) -> Reply:
    return Reply(headers={"content-type": "text/event-stream"}, chunks=chunks)


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: dict[str, object]
    at: float


class FaultServer:
    """Plays `replies` in order (the last one repeats) and records every request."""

    def __init__(self, replies: list[Reply]) -> None:
        self.replies = list(replies)
        self.seen: list[Seen] = []
        self._server: asyncio.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            path = lines[0].split(" ")[1]
            headers = {
                k.strip().lower(): v.strip()
                for k, v in (ln.split(":", 1) for ln in lines[1:] if ":" in ln)
            }
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.seen.append(Seen(path, headers, json.loads(body or b"{}"), time.monotonic()))
            reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
            if reply.delay_s:
                await asyncio.sleep(reply.delay_s)
            out = [f"HTTP/1.1 {reply.status} X", "connection: close"]
            out += [f"{k}: {v}" for k, v in reply.headers.items()]
            if not reply.chunks:
                out.append(f"content-length: {len(reply.body.encode())}")
                writer.write(("\r\n".join(out) + "\r\n\r\n" + reply.body).encode())
            else:
                writer.write(("\r\n".join(out) + "\r\n\r\n").encode())
                for chunk in reply.chunks:
                    writer.write(chunk.encode())
                    await writer.drain()
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def fault() -> AsyncIterator[FaultServer]:
    server = FaultServer([sse(openai_chunks(ANSWER))])
    await server.start()
    yield server
    await server.stop()


def config(url: str, **kw: object) -> RemoteConfig:
    values: dict[str, object] = {"base_url": url, "timeout_s": 5.0, "max_retries": 2}
    values.update(kw)
    return RemoteConfig(**values)  # type: ignore[arg-type]


async def ask(cfg: RemoteConfig) -> str:
    backend = OpenAICompatBackend(cfg)
    try:
        return await backend.answer(PROMPT, threading.Event())
    finally:
        await backend.aclose()


async def test_streamed_chat_answer(fault: FaultServer) -> None:
    assert await ask(config(fault.url, model="m")) == ANSWER
    seen = fault.seen[0]
    assert seen.path == "/v1/chat/completions"
    assert seen.body["stream"] is True and seen.body["model"] == "m"
    assert "authorization" not in seen.headers  # no key configured, none sent


async def test_completion_style_uses_completions_endpoint(fault: FaultServer) -> None:
    text = json.dumps({"choices": [{"text": "    return a + b\n", "finish_reason": "stop"}]})
    fault.replies = [sse([f"data: {text}\n\n", "data: [DONE]\n\n"])]
    assert await ask(config(fault.url, prompt_style="completion")) == "    return a + b\n"
    assert fault.seen[0].path == "/v1/completions"
    assert fault.seen[0].body["prompt"] == PROMPT.completion


async def test_connection_refused_is_a_clear_error() -> None:
    server = FaultServer([Reply()])
    await server.start()
    url = server.url
    await server.stop()  # nothing listens on that port any more
    with pytest.raises(RemoteError) as err:
        await ask(config(url))
    assert err.value.kind == "unreachable"
    assert "cannot reach http://127.0.0.1" in str(err.value)


async def test_server_error_is_retried_then_reported(fault: FaultServer) -> None:
    fault.replies = [Reply(500, body='{"error": {"message": "boom"}}')]
    with pytest.raises(RemoteError) as err:
        await ask(config(fault.url, max_retries=1))
    assert len(fault.seen) == 2  # one retry
    assert err.value.kind == "http"
    assert "HTTP 500" in str(err.value) and "boom" in str(err.value)


async def test_server_error_then_success(fault: FaultServer) -> None:
    fault.replies = [Reply(503, body="busy"), sse(openai_chunks(ANSWER))]
    assert await ask(config(fault.url)) == ANSWER
    assert len(fault.seen) == 2


async def test_rate_limit_honours_retry_after(fault: FaultServer) -> None:
    fault.replies = [Reply(429, {"retry-after": "1"}, body="slow down"), sse(openai_chunks(ANSWER))]
    assert await ask(config(fault.url)) == ANSWER
    assert len(fault.seen) == 2
    assert fault.seen[1].at - fault.seen[0].at >= 0.95


async def test_rate_limit_that_persists_says_so(fault: FaultServer) -> None:
    fault.replies = [Reply(429, {"retry-after": "0"}, body="slow down")]
    with pytest.raises(RemoteError) as err:
        await ask(config(fault.url, max_retries=2))
    assert len(fault.seen) == 3
    assert err.value.kind == "rate_limited"
    assert "rate-limiting" in str(err.value)


async def test_retry_after_longer_than_timeout_gives_up_at_once(fault: FaultServer) -> None:
    fault.replies = [Reply(429, {"retry-after": "3600"})]
    with pytest.raises(RemoteError) as err:
        await ask(config(fault.url))
    assert len(fault.seen) == 1
    assert "try again in 3600 s" in str(err.value)


async def test_slow_answer_times_out(fault: FaultServer) -> None:
    fault.replies = [Reply(delay_s=3.0, body="{}")]
    started = time.monotonic()
    with pytest.raises(RemoteError) as err:
        await ask(config(fault.url, timeout_s=0.5))
    assert err.value.kind == "timeout"
    assert "0.5 s" in str(err.value)
    assert time.monotonic() - started < 2.5


async def test_malformed_json_body(fault: FaultServer) -> None:
    fault.replies = [Reply(headers={"content-type": "application/json"}, body="{not json")]
    with pytest.raises(RemoteError) as err:
        await ask(config(fault.url))
    assert err.value.kind == "malformed"


async def test_malformed_stream_event(fault: FaultServer) -> None:
    fault.replies = [sse(['data: {"choices": [\n\n'])]
    with pytest.raises(RemoteError) as err:
        await ask(config(fault.url))
    assert err.value.kind == "malformed"


async def test_truncated_stream(fault: FaultServer) -> None:
    fault.replies = [sse(openai_chunks(ANSWER, done=False, finish=False)[:3])]
    with pytest.raises(RemoteError) as err:
        await ask(config(fault.url))
    assert err.value.kind == "truncated"
    assert "before the answer was complete" in str(err.value)


async def test_auth_failure_names_the_variable_not_the_key(
    fault: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "sk-test-0123456789abcdef"
    monkeypatch.setenv("PAIRLINE_TEST_KEY", secret)
    # A server that echoes the key back in its error must not get it into our message.
    fault.replies = [Reply(401, body=json.dumps({"error": {"message": f"bad key {secret}"}}))]
    with pytest.raises(RemoteError) as err:
        await ask(config(fault.url, api_key_env="PAIRLINE_TEST_KEY"))
    assert fault.seen[0].headers["authorization"] == f"Bearer {secret}"
    assert err.value.kind == "auth"
    assert "PAIRLINE_TEST_KEY" in str(err.value)
    assert secret not in str(err.value)


async def test_missing_key_variable(fault: FaultServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PAIRLINE_NO_SUCH_KEY", raising=False)
    with pytest.raises(RemoteError) as err:
        await ask(config(fault.url, api_key_env="PAIRLINE_NO_SUCH_KEY"))
    assert err.value.kind == "config"
    assert not fault.seen  # nothing was sent


async def test_anthropic_stream(fault: FaultServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAIRLINE_TEST_KEY", "ant-key")
    fault.replies = [sse(anthropic_chunks(ANSWER))]
    backend = AnthropicBackend(
        config(
            fault.url.removesuffix("/v1"),
            api="anthropic",
            model="claude-x",
            api_key_env="PAIRLINE_TEST_KEY",
        )
    )
    try:
        assert await backend.answer(PROMPT, threading.Event()) == ANSWER
    finally:
        await backend.aclose()
    seen = fault.seen[0]
    assert seen.path == "/v1/messages"
    assert seen.headers["x-api-key"] == "ant-key"
    assert seen.headers["anthropic-version"]
    assert seen.body["system"] == "s" and seen.body["model"] == "claude-x"


async def test_anthropic_truncated_and_error_event(fault: FaultServer) -> None:
    fault.replies = [
        sse(anthropic_chunks(ANSWER, stop=False)),
        sse(['event: error\ndata: {"type": "error", "error": {"message": "overloaded"}}\n\n']),
    ]
    backend = AnthropicBackend(config(fault.url, api="anthropic", model="claude-x"))
    try:
        with pytest.raises(RemoteError) as first:
            await backend.answer(PROMPT, threading.Event())
        with pytest.raises(RemoteError) as second:
            await backend.answer(PROMPT, threading.Event())
    finally:
        await backend.aclose()
    assert first.value.kind == "truncated"
    assert "overloaded" in str(second.value)


def test_retry_after_forms() -> None:
    assert retry_after("7") == 7.0
    assert retry_after(None) is None
    assert retry_after("soon") is None
    date = "Wed, 21 Oct 2015 07:28:10 GMT"
    assert retry_after(date, now=1445412490.0 - 60) == pytest.approx(60.0)
