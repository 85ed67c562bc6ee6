"""Inline suggestions from a model server (`completion.backend = "remote"`), as a `Backend`.

The server speaks one of the APIs in `server_llama`, `server_openai` and `server_ollama`; this
module owns what they share. Each generation is one streamed POST, read token by token through
the engine's `is_complete`, so the stream is closed as soon as the suggestion is complete, and
as soon as the request's cancel flag is set (a keystroke): closing the connection is what makes
the server stop generating. A server that fails (unreachable, slow, an HTTP error, a stream cut
short) costs that request its suggestion, never a wait: the next requests get none at once
while a back-off runs (1 s, doubling to 30 s), then one tries again. `on_status` hears of each
change, "down" with the reason and "up" once it answers again, so the user is told once per
outage. The API key comes from the environment and is never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from pairline.engine.backends.base import Generation, GenerationParams, ModelCrashed
from pairline.engine.backends.http import (
    RemoteError,
    api_key,
    redact,
    server_message,
    transport_error,
)
from pairline.engine.backends.server_api import (
    ApiRequest,
    Piece,
    ServerApi,
    StreamParser,
    check_endpoint,
)
from pairline.engine.backends.server_healing import strip_healed
from pairline.engine.backends.server_llama import LlamaServerApi
from pairline.engine.backends.server_ollama import OllamaApi
from pairline.engine.backends.server_openai import OpenAICompletionsApi
from pairline.engine.core.config import CompletionRemoteConfig
from pairline.engine.models.manifest import FimTemplate

log = logging.getLogger(__name__)

_APIS: dict[str, type[ServerApi]] = {
    "llama-server": LlamaServerApi,
    "openai": OpenAICompletionsApi,
    "ollama": OllamaApi,
}
_BACKOFF_FIRST_S = 1.0
_BACKOFF_CAP_S = 30.0
# How often a running generation looks at its cancel flag (a threading.Event, set from any
# thread): the stream is closed within this after a keystroke.
_CANCEL_POLL_S = 0.005

# Called with "down" and why, or "up" and the server's name, when the server's state changes.
StatusCallback = Callable[[str, str], None]


class ServerUnavailable(ModelCrashed):
    """The model server cannot give this suggestion (down, backing off, misconfigured)."""


@dataclass
class _Output:
    """What a stream has given so far."""

    healed: str = ""  # backed off the prompt: the answer spells it first, and it is not shown
    text: str = ""
    reason: str = "cancelled"
    logprobs: list[float] = field(default_factory=list)
    token_ends: list[int] = field(default_factory=list)
    alternatives: list[tuple[tuple[str, float], ...]] = field(default_factory=list)
    exact: bool = True  # every piece came with its tokens' log-probabilities
    tokens: int = 0

    def add(self, piece: Piece) -> None:
        start = len(self.text)
        self.text += piece.text
        self.tokens += max(1, len(piece.logprobs))
        if not piece.logprobs:
            self.exact = False
        self.logprobs.extend(piece.logprobs)
        given = piece.alternatives if len(piece.alternatives) == len(piece.logprobs) else ()
        self.alternatives.extend(given or [()] * len(piece.logprobs))
        self.token_ends.extend(start + end for end in piece.token_ends)

    @property
    def shown(self) -> str:
        """The text after the cursor: the answer less the backed-off text it spells first."""
        healed = self.healed
        return self.text[len(healed) :] if self.text.startswith(healed) else ""


class ServerCompletionBackend:
    """Suggestions from the model server `completion_remote` names."""

    def __init__(
        self, config: CompletionRemoteConfig, on_status: StatusCallback | None = None
    ) -> None:
        self.config = config
        self.api = _APIS[config.api](config)
        self.on_status = on_status
        self._client: httpx.AsyncClient | None = None
        self._probed = False
        self._down: str | None = None  # why the server is not used now
        self._failures = 0
        self._retry_at = 0.0
        self._closing: set[asyncio.Task[None]] = set()

    @property
    def name(self) -> str:
        return self.config.model or self.api.host

    @property
    def identity(self) -> str:
        """The endpoint and model, for the cache key: another server's answers are not these."""
        config = self.config
        return f"{config.api} {config.base_url.rstrip('/')} {config.model} {self.api.described}"

    @property
    def fim(self) -> FimTemplate | None:
        return self.api.fim

    @property
    def heals(self) -> bool:
        """Whether token healing can run here: the API can make an answer begin with the
        backed-off text (llama-server's grammars; the others cannot)."""
        return self.api.heals

    @property
    def down(self) -> str | None:
        """Why the server is not being asked now (None while it answers)."""
        return self._down

    def _headers(self) -> dict[str, str]:
        key = api_key(self.config)
        return {"Authorization": f"Bearer {key}"} if key else {}

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            config = self.config
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(config.timeout_s, connect=config.connect_timeout_s),
                trust_env=False,  # environment proxies would send code where nobody said
            )
        return self._client

    async def prepare(self) -> bool:
        """Whether the server may be asked now: checked once, then again after each back-off."""
        if self._down is not None and time.monotonic() < self._retry_at:
            return False
        if self._probed:
            return True
        try:
            check_endpoint(self.config)
            async with asyncio.timeout(self.config.timeout_s):
                await self.api.probe(self._http(), self._headers())
        except (TimeoutError, httpx.HTTPError) as exc:
            self._failed(self._transport(exc))
            return False
        except RemoteError as exc:
            self._failed(exc)
            return False
        self._probed = True
        return True

    async def generate(
        self, prompt: str, params: GenerationParams, cancel: threading.Event
    ) -> Generation:
        if not await self.prepare():
            raise ServerUnavailable(self._down or "the model server is not available")
        started = time.perf_counter()
        parser = self.api.parser()
        request = self.api.request(prompt, params)
        out = _Output(request.healed)
        task = asyncio.ensure_future(self._stream(request, params, parser, out))
        try:
            while not task.done() and not cancel.is_set():
                await asyncio.wait({task}, timeout=_CANCEL_POLL_S)
        finally:
            if not task.done():
                task.cancel()  # closes the connection: the server stops generating
            with contextlib.suppress(asyncio.CancelledError, RemoteError):
                await task
        failure = None if task.cancelled() else task.exception()
        if cancel.is_set() and out.reason == "cancelled":
            return Generation(out.shown, "cancelled", seconds=time.perf_counter() - started)
        if isinstance(failure, RemoteError) and failure.kind == "grammar":
            # An older server that cannot read the grammar: it answers without healing.
            log.warning("token healing is off for %s: %s", self.api.host, failure)
            self.api.heals = False
            return Generation("", "eos", seconds=time.perf_counter() - started)
        if isinstance(failure, RemoteError):
            raise ServerUnavailable(self._failed(failure)) from None
        if failure is not None:
            raise failure
        self._answered()
        exact = out.exact and bool(out.logprobs)
        logprobs = tuple(out.logprobs) if exact else ()
        ends = tuple(out.token_ends) if exact else ()
        healed = strip_healed(request.healed, out.text, logprobs, ends, tuple(out.alternatives))
        if healed is None:
            log.debug("the model server's answer does not spell the backed-off text: dropped")
            healed = ("", (), ())
        text, logprobs, ends = healed
        return Generation(
            text=text,
            stop_reason=out.reason,
            prompt_tokens=parser.extra.get("prompt_tokens", 0),
            reused_tokens=parser.extra.get("reused_tokens", 0),
            generated_tokens=out.tokens,
            seconds=time.perf_counter() - started,
            logprobs=logprobs,
            token_ends=ends if logprobs else (),
        )

    async def _stream(
        self, request: ApiRequest, params: GenerationParams, parser: StreamParser, out: _Output
    ) -> None:
        """Read the answer into `out`, stopping once `params.is_complete` says it is."""
        url = self.api.url(request.path)
        try:
            async with (
                asyncio.timeout(self.config.timeout_s),
                self._http().stream(
                    "POST", url, headers=self._headers(), json=request.body
                ) as response,
            ):
                if response.status_code >= httpx.codes.BAD_REQUEST:
                    body = (await response.aread()).decode("utf-8", "replace")
                    # A client error to a healed request: the server cannot read the grammar.
                    client_error = response.status_code < httpx.codes.INTERNAL_SERVER_ERROR
                    refused = bool(request.healed) and client_error
                    raise RemoteError(
                        "grammar" if refused else "http",
                        f"{self.api.host} answered HTTP {response.status_code} "
                        f"({server_message(body)})",
                    )
                async for line in response.aiter_lines():
                    for piece in parser.feed(line):
                        out.add(piece)
                        if params.is_complete(out.shown):
                            out.reason = "complete"
                            return  # leaving the block closes the stream
                    if parser.done:
                        out.reason = parser.reason
                        return
        except (TimeoutError, httpx.HTTPError) as exc:
            raise self._transport(exc) from None
        raise RemoteError(
            "truncated",
            f"{self.api.host} ended the stream before the answer was complete "
            f"({len(out.text)} characters received)",
        )

    def _transport(self, exc: TimeoutError | httpx.HTTPError) -> RemoteError:
        config = self.config
        return transport_error(
            exc, self.api.host, config.timeout_s, config.connect_timeout_s, config.section
        )

    def _failed(self, exc: RemoteError) -> str:
        """No suggestions for a while; the first failure of an outage is reported. The
        failure's message, with the key taken out."""
        secret = None
        with contextlib.suppress(RemoteError):
            secret = api_key(self.config)
        message = redact(str(exc), secret)
        first = self._down is None
        self._down = message
        self._probed = self._probed and exc.kind != "unreachable"  # a restart may change it
        wait = min(_BACKOFF_CAP_S, _BACKOFF_FIRST_S * 2.0**self._failures)
        self._failures += 1
        self._retry_at = time.monotonic() + wait
        if first:
            log.warning("no suggestions from the model server: %s", message)
            if self.on_status is not None:
                self.on_status("down", message)
        else:
            log.debug("model server still failing (next try in %.0f s): %s", wait, message)
        return message

    def _answered(self) -> None:
        if self._down is None:
            return
        self._down = None
        self._failures = 0
        log.info("the model server %s answers again", self.api.host)
        if self.on_status is not None:
            self.on_status("up", self.name)

    def close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            task = asyncio.get_running_loop().create_task(client.aclose())
        except RuntimeError:
            return  # no loop any more: the process is ending and takes the sockets with it
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()
