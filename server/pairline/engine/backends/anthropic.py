"""Anthropic Messages API (`POST /v1/messages`), streamed.

The answer is complete only when `message_stop` arrives; an `error` event mid-stream (e.g.
`overloaded_error`) or a stream that just ends is reported, never used as an answer.
"""

from __future__ import annotations

import threading
from typing import Any

from pairline.engine.backends.edit import GREEDY, EditPrompt, Sampling
from pairline.engine.backends.http import (
    HttpModel,
    RemoteError,
    SseEvent,
    StreamReader,
    api_key,
    parse_json,
)
from pairline.engine.core.config import RemoteConfig

ANTHROPIC_VERSION = "2023-06-01"


class _AnthropicReader(StreamReader):
    def __init__(self, host: str) -> None:
        self._host = host
        self._parts: list[str] = []
        self._done = False

    def feed(self, event: SseEvent) -> None:
        data = parse_json(event.data, self._host)
        if not isinstance(data, dict):
            raise RemoteError("malformed", f"{self._host} sent a malformed event")
        kind = data.get("type", event.event)
        if kind == "error":
            error = data.get("error") or {}
            message = error.get("message", error) if isinstance(error, dict) else error
            raise RemoteError("http", f"{self._host} reported an error: {str(message)[:200]}")
        if kind == "content_block_delta":
            delta = data.get("delta") or {}
            if isinstance(delta, dict) and delta.get("type") == "text_delta":
                text = delta.get("text")
                if not isinstance(text, str):
                    raise RemoteError("malformed", f"{self._host} sent non-text content")
                self._parts.append(text)
        elif kind == "message_stop":
            self._done = True

    def whole(self, data: Any) -> None:
        try:
            blocks = data["content"]
            self._parts = [b["text"] for b in blocks if b.get("type") == "text"]
        except (KeyError, TypeError, AttributeError):
            raise RemoteError(
                "malformed", f"{self._host} sent an answer without content: {str(data)[:200]!r}"
            ) from None
        self._done = True

    @property
    def finished(self) -> bool:
        return self._done

    @property
    def text(self) -> str:
        return "".join(self._parts)


def messages_url(base_url: str) -> str:
    base = base_url.rstrip("/")
    return base + ("/messages" if base.endswith("/v1") else "/v1/messages")


class AnthropicBackend:
    """Edits from Anthropic's Messages API (or a server that speaks it)."""

    def __init__(self, config: RemoteConfig) -> None:
        self._http = HttpModel(config)
        self._config = config

    @property
    def name(self) -> str:
        return self._config.model or "anthropic"

    @property
    def where(self) -> str:
        return "remote"

    async def answer(
        self, prompt: EditPrompt, cancel: threading.Event, sampling: Sampling = GREEDY
    ) -> str:
        config = self._config
        if not config.model:
            raise RemoteError("config", "remote.model must name a model for the Anthropic API")
        key = api_key(config)
        headers = {"anthropic-version": ANTHROPIC_VERSION, "Accept": "text/event-stream"}
        if key:
            headers["x-api-key"] = key
        body: dict[str, Any] = {
            "model": config.model,
            "max_tokens": sampling.limit(config.max_tokens),
            "system": prompt.system,
            "messages": [{"role": "user", "content": prompt.user}],
            # Capped at 1 by the API, which takes no seed and no `n` (candidates are concurrent
            # requests) and, for recent models, no top_p beside a temperature.
            "temperature": min(1.0, sampling.temperature),
            "stream": True,
        }
        host = self._http.host
        return await self._http.post(
            messages_url(config.base_url),
            headers,
            body,
            lambda: _AnthropicReader(host),
            cancel,
            key,
        )

    async def aclose(self) -> None:
        await self._http.aclose()
