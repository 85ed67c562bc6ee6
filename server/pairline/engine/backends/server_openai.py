"""OpenAI-compatible servers as the source of suggestions: `/v1/completions` (vLLM, llama-server,
`llama_cpp.server`, LM Studio, …).

The API has no fill-in-the-middle of its own: with `completion_remote.fim` naming a family, the
prompt carries that family's FIM tokens as text; otherwise it is the prefix-only prompt. The
chosen token's log-probability (`logprobs: 1`) feeds the confidence gate. `base_url` is the API
root (`http://host:8000/v1`); a bare `http://host:8000` gets `/v1`.
"""

from __future__ import annotations

from typing import Any

import httpx

from pairline.engine.backends.base import GenerationParams
from pairline.engine.backends.http import RemoteError
from pairline.engine.backends.server_api import (
    ApiRequest,
    Piece,
    ServerApi,
    StreamParser,
    token_piece,
)


class OpenAICompletionsApi(ServerApi):
    """`POST /completions`, streamed."""

    def request(self, prompt: str, params: GenerationParams) -> ApiRequest:
        body: dict[str, Any] = {
            "prompt": prompt,
            "max_tokens": params.max_tokens,
            "temperature": 0.0,
            "stream": True,
            "logprobs": 1,
        }
        if self.config.model:
            body["model"] = self.config.model
        if stop := self.stop():
            body["stop"] = stop
        root = "" if httpx.URL(self.config.base_url).path.strip("/") else "/v1"
        return ApiRequest(f"{root}/completions", body)

    def parser(self) -> StreamParser:
        return _Parser(self.host)


class _Parser(StreamParser):
    """Server-sent events of `choices[0]` chunks, ended by a finish reason and `[DONE]`."""

    def feed(self, line: str) -> list[Piece]:
        data = self.sse_data(line)
        if data is None:
            return []
        event = self.event(data)
        try:
            choice = event["choices"][0]
        except (KeyError, IndexError, TypeError):
            if isinstance(event, dict) and "usage" in event:
                return []  # a usage-only chunk (stream_options)
            raise RemoteError("malformed", f"{self.host} sent an event without choices") from None
        text = choice.get("text") or ""
        if not isinstance(text, str):
            raise RemoteError("malformed", f"{self.host} sent non-text content")
        if choice.get("finish_reason"):
            self.done = True
            self.reason = "max_tokens" if choice["finish_reason"] == "length" else "eos"
        return [_piece(text, choice.get("logprobs"))] if text else []


def _piece(text: str, logprobs: Any) -> Piece:
    if not isinstance(logprobs, dict):
        return Piece(text)
    return token_piece(text, logprobs.get("tokens") or [], logprobs.get("token_logprobs") or [])
