"""What inline suggestions from a model server share, whichever API the server speaks.

Each API (`server_llama` for llama-server, `server_openai` for OpenAI-compatible servers,
`server_ollama` for Ollama) says how a completion is asked for (`ServerApi.request`) and how
one line of its streamed answer reads (`StreamParser.feed`); `completion_server` does the
rest: the connection, cancellation, failures and back-off. Also here: the FIM tokens of the
families `completion_remote.fim` names, written into prompts as text, and the rule that code
goes only to https or to this machine unless the user allows otherwise.
"""

from __future__ import annotations

import ipaddress
import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import httpx

from pairline.engine.backends.base import GenerationParams
from pairline.engine.backends.http import RemoteError, host_of
from pairline.engine.core.config import CompletionRemoteConfig
from pairline.engine.models.manifest import FimTemplate, fim_templates

# `completion_remote.fim` → the family's name in the models manifest.
_FAMILIES = {
    "qwen": "qwen2.5-coder",
    "starcoder": "starcoder2",
    "deepseek": "deepseek-coder",
    "codestral": "codestral",
}
# CodeLlama's FIM tokens as text: the manifest has them as vocabulary pieces (`▁<PRE>`).
_CODELLAMA = FimTemplate("codellama", "<PRE> ", " <SUF>", " <MID>", ("<EOT>",), "psm")

# The server lays out the FIM prompt itself from the prompt's parts (llama-server's /infill,
# Ollama's `suffix`): the model sees the code after the cursor, with the server's own tokens.
SERVER_LAYOUT = FimTemplate("server", "", "", "", (), "psm")


def family_template(family: str) -> FimTemplate | None:
    """The FIM tokens of a `completion_remote.fim` family (None for "auto" and "none")."""
    if family == "codellama":
        return _CODELLAMA
    name = _FAMILIES.get(family)
    return next((t for t in fim_templates() if t.family == name), None)


def is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_endpoint(config: CompletionRemoteConfig) -> None:
    """RemoteError("config") unless code may go to `config.base_url`: https, or plain http to
    this machine, or `allow_insecure` set."""
    if not config.base_url:
        raise RemoteError(
            "config", 'completion.backend is "remote" but completion_remote.base_url is empty'
        )
    url = httpx.URL(config.base_url)
    if url.scheme == "https" or config.allow_insecure or is_loopback(url.host):
        return
    raise RemoteError(
        "config",
        f"{host_of(config.base_url)} is plain http on another machine, so code would travel "
        "unencrypted: use https, or set completion_remote.allow_insecure",
    )


@dataclass(frozen=True)
class Piece:
    """A stretch of generated text, with the log-probability of each of its tokens when the
    server gave them (empty when it did not)."""

    text: str
    logprobs: tuple[float, ...] = ()
    token_ends: tuple[int, ...] = ()  # where each token ends in `text`
    # Per token, the likeliest tokens the server saw there (text, log-probability), when asked
    # for (token healing renormalises the backed-off text's tokens over them).
    alternatives: tuple[tuple[tuple[str, float], ...], ...] = ()


def token_piece(text: str, tokens: list[Any], values: list[Any]) -> Piece:
    """`text` with its tokens' log-probabilities, where the tokens spell it (else without)."""
    if len(tokens) != len(values) or "".join(map(str, tokens)) != text:
        return Piece(text)
    if not values or not all(isinstance(v, int | float) for v in values):
        return Piece(text)
    ends, end = [], 0
    for token in tokens:
        end += len(str(token))
        ends.append(end)
    return Piece(text, tuple(float(v) for v in values), tuple(ends))


@dataclass(frozen=True)
class ApiRequest:
    path: str  # appended to the base URL
    body: dict[str, Any]
    healed: str = ""  # backed off the prompt: the answer spells it first (`server_healing`)


@dataclass
class StreamParser(ABC):
    """Reads a streamed answer one line at a time."""

    host: str
    done: bool = False  # the answer is complete
    reason: str = "eos"  # why it ended: "eos" or "max_tokens"
    extra: dict[str, int] = field(default_factory=dict)  # prompt_tokens, reused_tokens

    @abstractmethod
    def feed(self, line: str) -> list[Piece]:
        """The text one line of the body adds (empty for keep-alives and bookkeeping)."""

    def sse_data(self, line: str) -> str | None:
        """The payload of a server-sent `data:` line; None for any other line and for
        `[DONE]`, which ends the answer."""
        if not line.startswith("data:"):
            return None  # blank separators, comments, `event:` lines
        data = line[5:].strip()
        if data == "[DONE]":
            self.done = True
            return None
        return data

    def event(self, text: str, what: str = "event") -> Any:
        """`text` parsed as JSON; RemoteError when it is malformed or reports an error."""
        try:
            event = json.loads(text)
        except json.JSONDecodeError:
            raise RemoteError(
                "malformed", f"{self.host} sent a malformed {what}: {text[:200]!r}"
            ) from None
        self.error(event)
        return event

    def error(self, data: Any) -> None:
        """RemoteError when a streamed object reports an error instead of text."""
        if isinstance(data, dict) and data.get("error"):
            error = data["error"]
            message = error.get("message", error) if isinstance(error, dict) else error
            raise RemoteError("http", f"{self.host} reported an error: {str(message)[:200]}")


class ServerApi(ABC):
    """One model server's completion API."""

    heals = False  # whether it can make an answer begin with given text (token healing)

    def __init__(self, config: CompletionRemoteConfig) -> None:
        self.config = config
        self.host = host_of(config.base_url)
        self.template = family_template(config.fim)

    @property
    def fim(self) -> FimTemplate | None:
        """How the prompt is laid out: a family's tokens, the server's own, or prefix only."""
        return self.template

    @property
    def described(self) -> str:
        """What the cache key must tell apart besides the endpoint and the model."""
        return f"fim={self.fim.family if self.fim else 'none'}"

    async def probe(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """Ask the server once what it can do (raises RemoteError when it cannot be asked).

        Servers with nothing to ask answer at once."""
        return None

    @abstractmethod
    def request(self, prompt: str, params: GenerationParams) -> ApiRequest: ...

    @abstractmethod
    def parser(self) -> StreamParser: ...

    def url(self, path: str) -> str:
        return self.config.base_url.rstrip("/") + path

    def stop(self) -> list[str]:
        return list(self.template.stop) if self.template is not None else []
