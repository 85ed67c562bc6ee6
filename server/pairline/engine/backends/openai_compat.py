"""OpenAI-compatible model servers: vLLM, Ollama, llama.cpp's server, LM Studio, OpenAI …

Two endpoints: `/chat/completions` for instruct models (the default) and `/completions` for base
models, which have no chat template and need a completion-style prompt
(`remote.prompt_style = "completion"`). `remote.base_url` is the API root, usually ending in
`/v1` (e.g. `http://127.0.0.1:8080/v1`). Answers are streamed; a stream that ends without
`[DONE]` or a finish reason is reported as truncated, never used.
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


class _OpenAIReader(StreamReader):
    def __init__(self, host: str, chat: bool) -> None:
        self._host = host
        self._chat = chat
        self._parts: list[str] = []
        self._done = False
        self.finish_reason: str | None = None

    def _choice(self, data: Any) -> dict[str, Any]:
        if isinstance(data, dict) and "error" in data:
            error = data["error"]
            message = error.get("message", error) if isinstance(error, dict) else error
            raise RemoteError("http", f"{self._host} reported an error: {str(message)[:200]}")
        try:
            choice = data["choices"][0]
        except (KeyError, IndexError, TypeError):
            raise RemoteError(
                "malformed", f"{self._host} sent an answer without choices: {str(data)[:200]!r}"
            ) from None
        if not isinstance(choice, dict):
            raise RemoteError("malformed", f"{self._host} sent a malformed choice")
        return choice

    def feed(self, event: SseEvent) -> None:
        if event.data.strip() == "[DONE]":
            self._done = True
            return
        choice = self._choice(parse_json(event.data, self._host))
        if self._chat:
            delta = choice.get("delta") or {}
            piece = delta.get("content") if isinstance(delta, dict) else None
        else:
            piece = choice.get("text")
        if piece is not None and not isinstance(piece, str):
            raise RemoteError("malformed", f"{self._host} sent non-text content")
        if piece:
            self._parts.append(piece)
        if choice.get("finish_reason"):
            self.finish_reason = str(choice["finish_reason"])

    def whole(self, data: Any) -> None:
        choice = self._choice(data)
        if self._chat:
            message = choice.get("message") or {}
            text = message.get("content") if isinstance(message, dict) else None
        else:
            text = choice.get("text")
        if not isinstance(text, str):
            raise RemoteError("malformed", f"{self._host} sent an answer without text")
        self._parts = [text]
        self._done = True

    @property
    def finished(self) -> bool:
        # Some servers close right after the last chunk's finish reason without "[DONE]".
        return self._done or self.finish_reason is not None

    @property
    def text(self) -> str:
        return "".join(self._parts)


class OpenAICompatBackend:
    """Edits from an OpenAI-compatible server."""

    def __init__(self, config: RemoteConfig) -> None:
        self._http = HttpModel(config)
        self._config = config

    @property
    def name(self) -> str:
        return self._config.model or self._http.host

    @property
    def where(self) -> str:
        return "remote"

    async def answer(
        self, prompt: EditPrompt, cancel: threading.Event, sampling: Sampling = GREEDY
    ) -> str:
        config = self._config
        key = api_key(config)
        headers = {"Accept": "text/event-stream"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        chat = config.prompt_style == "chat"
        body: dict[str, Any] = {
            "stream": True,
            "max_tokens": sampling.limit(config.max_tokens),
            "temperature": sampling.temperature,
        }
        if sampling.temperature > 0:
            # Several candidates for one prompt: each its own request (concurrent), seeded so a
            # rerun draws the same ones where the server honours seeds.
            body["top_p"] = sampling.top_p
            body["seed"] = sampling.seed
        if config.model:
            body["model"] = config.model
        if chat:
            body["messages"] = [
                {"role": "system", "content": prompt.system},
                {"role": "user", "content": prompt.user},
            ]
            url = config.base_url.rstrip("/") + "/chat/completions"
        else:
            body["prompt"] = prompt.completion
            if prompt.stop:
                body["stop"] = list(prompt.stop)
            url = config.base_url.rstrip("/") + "/completions"
        host = self._http.host
        return await self._http.post(
            url, headers, body, lambda: _OpenAIReader(host, chat), cancel, key
        )

    async def aclose(self) -> None:
        await self._http.aclose()
