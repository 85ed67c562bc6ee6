"""Ollama as the source of suggestions: `POST /api/generate`, streamed as one JSON per line.

With `completion_remote.fim = "auto"` the code before the cursor goes as `prompt` and the code
after it as `suffix`, and Ollama lays out the FIM prompt with the model's own template (code
models such as qwen2.5-coder have one). With a family named, the prompt carries that family's
tokens as text and goes `raw` (no template); with "none", the prefix-only prompt goes `raw`.
Log-probabilities are asked for; servers that do not give them leave the confidence gate open.
"""

from __future__ import annotations

from typing import Any

from pairline.engine.backends.base import GenerationParams
from pairline.engine.backends.http import RemoteError
from pairline.engine.backends.server_api import (
    SERVER_LAYOUT,
    ApiRequest,
    Piece,
    ServerApi,
    StreamParser,
    token_piece,
)
from pairline.engine.models.manifest import FimTemplate


class OllamaApi(ServerApi):
    """`POST /api/generate`."""

    @property
    def fim(self) -> FimTemplate | None:
        return SERVER_LAYOUT if self.config.fim == "auto" else self.template

    def request(self, prompt: str, params: GenerationParams) -> ApiRequest:
        options: dict[str, Any] = {"temperature": 0.0, "num_predict": params.max_tokens}
        if stop := self.stop():
            options["stop"] = stop
        body: dict[str, Any] = {
            "model": self.config.model,
            "stream": True,
            "options": options,
            "logprobs": True,
        }
        parts = params.parts
        if self.config.fim == "auto" and parts is not None:
            # Context first, as in every prompt: it changes least.
            body["prompt"] = "".join(text for _name, text in parts.extra) + parts.prefix
            body["suffix"] = parts.suffix
        else:
            body["prompt"] = prompt
            body["raw"] = True
        return ApiRequest("/api/generate", body)

    def parser(self) -> StreamParser:
        return _Parser(self.host)


class _Parser(StreamParser):
    """One JSON object per line: `response` text until `done: true`."""

    def feed(self, line: str) -> list[Piece]:
        if not line.strip():
            return []
        event = self.event(line, "line")
        if not isinstance(event, dict):
            raise RemoteError("malformed", f"{self.host} sent a malformed line")
        text = event.get("response") or ""
        if not isinstance(text, str):
            raise RemoteError("malformed", f"{self.host} sent non-text content")
        if event.get("done"):
            self.done = True
            self.reason = "max_tokens" if event.get("done_reason") == "length" else "eos"
            self.extra = {"prompt_tokens": int(event.get("prompt_eval_count") or 0)}
        return [_piece(text, event.get("logprobs"))] if text else []


def _piece(text: str, logprobs: Any) -> Piece:
    if not isinstance(logprobs, list):
        return Piece(text)
    found = [p for p in logprobs if isinstance(p, dict)]
    return token_piece(text, [p.get("token", "") for p in found], [p.get("logprob") for p in found])
