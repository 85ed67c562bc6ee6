"""llama.cpp's `llama-server` as the source of suggestions (what llama.vim and llama.vscode use).

Asked once (`probe`): `/props` for its number of slots, and a one-token `/infill` for whether
its model has FIM tokens (it answers 501 when not). With them, a suggestion comes from
`/infill`: the code before and after the cursor as `input_prefix` and `input_suffix`, the
cross-file context as `input_extra` chunks, laid out by the server with the model's own tokens.
Without them, from `/completion` with the prefix-only prompt (or a FIM prompt written with the
tokens of the family `completion_remote.fim` names); a prefix-only prompt ending inside a word
is healed with a `grammar` (`server_healing`). Every request keeps its prompt cached
(`cache_prompt`) in the slot that already holds most of it (`id_slot`: the only one, or the
server's choice by prompt similarity), so the server's KV cache is reused across keystrokes;
it asks for the chosen token's log-probability (`n_probs`) for the confidence gate and bounds
its time (`t_max_predict_ms`).
"""

from __future__ import annotations

from typing import Any

import httpx

from pairline.engine.backends.base import GenerationParams
from pairline.engine.backends.http import RemoteError, parse_json
from pairline.engine.backends.server_api import (
    SERVER_LAYOUT,
    ApiRequest,
    Piece,
    ServerApi,
    StreamParser,
)
from pairline.engine.backends.server_healing import HEAL_ALTERNATIVES, backed_off, grammar
from pairline.engine.models.manifest import FimTemplate

NOT_SUPPORTED = 501  # /infill on a model without FIM tokens


class LlamaServerApi(ServerApi):
    """llama-server's native API: /infill, /completion, /props."""

    slots = 1
    infill = False  # the model has FIM tokens: /infill lays out the prompt
    heals = True  # `grammar` constrains the answer's start (the engine asks only prefix-only)

    @property
    def fim(self) -> FimTemplate | None:
        return SERVER_LAYOUT if self.infill else self.template

    async def probe(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        response = await client.get(self.url("/props"), headers=headers)
        if response.status_code == httpx.codes.OK:
            props = parse_json(response.text, self.host)
            self.slots = (
                max(1, int(props.get("total_slots") or 1)) if isinstance(props, dict) else 1
            )
        elif response.status_code != httpx.codes.NOT_FOUND:  # older servers have no /props
            raise RemoteError(
                "http", f"{self.host} answered /props with HTTP {response.status_code}"
            )
        if self.config.fim != "auto":
            return  # the user said which tokens (or none): no need to ask
        body = {"input_prefix": "", "input_suffix": "", "n_predict": 1, "cache_prompt": False}
        response = await client.post(self.url("/infill"), headers=headers, json=body)
        if response.status_code not in (httpx.codes.OK, NOT_SUPPORTED):
            raise RemoteError(
                "http", f"{self.host} answered /infill with HTTP {response.status_code}; "
                "is it llama-server? (completion_remote.api)",
            )  # fmt: skip
        self.infill = response.status_code == httpx.codes.OK

    def slot(self, document: str) -> int:
        """The slot for a document's requests: 0 on a one-slot server; -1 (the server picks
        the slot whose cached prompt shares most with this one, which keeps a document on its
        slot) on a server of several. Pinning each document to a slot by hash was measured to
        stall a shared server: two people's documents on one slot made llama-server re-queue
        the waiting request in a loop (hundreds of thousands of tasks) and nobody got an
        answer (bench accept --typists 4)."""
        return 0 if self.slots == 1 else -1

    def request(self, prompt: str, params: GenerationParams) -> ApiRequest:
        parts = params.parts
        body: dict[str, Any] = {
            "n_predict": params.max_tokens,
            "t_max_predict_ms": self.config.max_predict_ms,
            "cache_prompt": True,
            "stream": True,
            "n_probs": 1,  # more when healing: see below
            "temperature": 0.0,
            "top_k": 1,
            "id_slot": self.slot(parts.document if parts is not None else ""),
        }
        if self.infill and parts is not None:
            body["input_prefix"] = parts.prefix
            body["input_suffix"] = parts.suffix
            body["input_extra"] = [{"filename": name, "text": text} for name, text in parts.extra]
            return ApiRequest("/infill", body)
        healed = backed_off(prompt) if params.heal else ""
        body["prompt"] = prompt[: len(prompt) - len(healed)]
        if healed:
            body["grammar"] = grammar(healed)
            body["n_probs"] = HEAL_ALTERNATIVES
        if stop := self.stop():
            body["stop"] = stop
        return ApiRequest("/completion", body, healed)

    def parser(self) -> StreamParser:
        return _Parser(self.host)


class _Parser(StreamParser):
    """Server-sent events, one object per token: `content`, its `completion_probabilities`,
    and `stop: true` on the last."""

    def feed(self, line: str) -> list[Piece]:
        data = self.sse_data(line)
        if data is None:
            return []
        event = self.event(data)
        if not isinstance(event, dict):
            raise RemoteError("malformed", f"{self.host} sent a malformed event")
        text = event.get("content") or ""
        if not isinstance(text, str):
            raise RemoteError("malformed", f"{self.host} sent non-text content")
        if event.get("stop"):
            self.done = True
            self.reason = "max_tokens" if event.get("stop_type") == "limit" else "eos"
            self.extra = {
                "prompt_tokens": int(event.get("tokens_evaluated") or 0),
                "reused_tokens": int(event.get("tokens_cached") or 0),
            }
        probs = [p for p in event.get("completion_probabilities") or [] if isinstance(p, dict)]
        logprobs = tuple(float(p["logprob"]) for p in probs if "logprob" in p)
        if not text:
            return []
        if len(logprobs) == 1:  # one token per event when streaming
            return [Piece(text, logprobs, (len(text),), (_alternatives(probs[0]),))]
        return [Piece(text)]


def _alternatives(prob: dict[str, Any]) -> tuple[tuple[str, float], ...]:
    """The likeliest tokens at this step, as `n_probs` > 1 lists them (`top_logprobs`)."""
    found = prob.get("top_logprobs")
    if not isinstance(found, list):
        return ()
    return tuple(
        (str(t["token"]), float(t["logprob"]))
        for t in found
        if isinstance(t, dict) and isinstance(t.get("logprob"), int | float) and "token" in t
    )
