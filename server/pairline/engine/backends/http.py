"""Shared HTTP plumbing for remote model backends: one streaming POST, retried and explained.

Every failure becomes a `RemoteError` whose message is fit to show the user as is: it names the
host (never the whole URL, which may carry credentials), says what went wrong and what to check,
and never contains the API key, even when a server echoes it back.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import os
import random
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from pairline.engine.backends.edit import Cancelled
from pairline.engine.core.config import CompletionRemoteConfig, RemoteConfig
from pairline.engine.core.redact import Redactor
from pairline.engine.core.types import EngineError

log = logging.getLogger(__name__)

# Waits between attempts without a Retry-After header: 0.5 s, 1 s, 2 s … (with jitter), capped.
_BACKOFF_BASE_S = 0.5
_BACKOFF_CAP_S = 8.0
_SNIPPET = 200  # characters of a server's error text worth showing


class RemoteError(EngineError):
    """A remote model call that failed; `kind` says how, the message says it to the user."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = (
            kind  # unreachable, auth, rate_limited, timeout, malformed, truncated, http, config
        )


@dataclass(frozen=True)
class SseEvent:
    event: str  # "" when the server sends no `event:` line (OpenAI)
    data: str


def host_of(base_url: str) -> str:
    """scheme://host[:port] of a URL, without user info, path or query."""
    try:
        url = httpx.URL(base_url)
    except Exception:
        return "the remote"
    port = f":{url.port}" if url.port else ""
    return f"{url.scheme}://{url.host}{port}"


def api_key(config: RemoteConfig | CompletionRemoteConfig) -> str | None:
    """The key from the environment variable named in settings (None when none is configured)."""
    if not config.api_key_env:
        return None
    key = os.environ.get(config.api_key_env, "").strip()
    if not key:
        raise RemoteError(
            "config",
            f"the environment variable {config.api_key_env} ({config.section}.api_key_env) is "
            "not set or empty, so no API key can be sent",
        )
    return key


def redact(text: str, secret: str | None) -> str:
    if secret:
        text = text.replace(secret, "[redacted]")
    return text


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, float(when.timestamp()) - (time.time() if now is None else now))


def backoff(attempt: int) -> float:
    """Exponential backoff with jitter, so many clients do not retry in lockstep."""
    return min(_BACKOFF_CAP_S, _BACKOFF_BASE_S * 2.0**attempt) * random.uniform(0.5, 1.0)


async def sse_events(response: httpx.Response) -> AsyncIterator[SseEvent]:
    """Server-sent events of a streaming response (one event per blank-line-ended block)."""
    event = ""
    data: list[str] = []
    async for line in response.aiter_lines():
        if not line:
            if data:
                yield SseEvent(event, "\n".join(data))
            event, data = "", []
        elif line.startswith(":"):
            continue  # a comment, sent as a keep-alive
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
    if data:
        yield SseEvent(event, "\n".join(data))


def parse_json(data: str, host: str) -> Any:
    try:
        return json.loads(data)
    except json.JSONDecodeError:
        raise RemoteError(
            "malformed", f"{host} sent a malformed response (not JSON): {data[:_SNIPPET]!r}"
        ) from None


def server_message(body: str) -> str:
    """The error text a server put in its body (OpenAI and Anthropic shapes), shortened."""
    try:
        data = json.loads(body)
    except json.JSONDecodeError:
        return body.strip()[:_SNIPPET]
    if isinstance(data, dict):
        error = data.get("error", data.get("detail", data))
        if isinstance(error, dict):
            return str(error.get("message", error))[:_SNIPPET]
        return str(error)[:_SNIPPET]
    return str(data)[:_SNIPPET]


class StreamReader:
    """Reads one streamed answer; implemented per API (OpenAI-compatible, Anthropic)."""

    def feed(self, event: SseEvent) -> None:
        raise NotImplementedError

    def whole(self, data: Any) -> None:
        """A complete non-streamed JSON body (servers that ignore `stream: true`)."""
        raise NotImplementedError

    @property
    def finished(self) -> bool:
        raise NotImplementedError

    @property
    def text(self) -> str:
        raise NotImplementedError


class HttpModel:
    """One httpx.AsyncClient per remote configuration, with the retry loop around each call."""

    def __init__(self, config: RemoteConfig) -> None:
        self.config = config
        self.host = host_of(config.base_url)
        self._client: httpx.AsyncClient | None = None

    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(
                    self.config.timeout_s, connect=min(self.config.connect_timeout_s, 60.0)
                ),
                # Environment proxies could send code somewhere the user did not configure.
                trust_env=False,
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def post(
        self,
        url: str,
        headers: dict[str, str],
        body: dict[str, Any],
        reader_factory: Callable[[], StreamReader],
        cancel: threading.Event,
        secret: str | None,
    ) -> str:
        """POST `body` and read the streamed answer, retrying 429 and 5xx answers.

        Secrets in the body (tokens, private keys, passwords) are replaced by placeholders
        before it leaves, and put back in the answer.
        """
        redactor = Redactor()
        body = redactor.value(body)
        if redactor.count:
            log.info("redacted %d secret(s) before sending to %s", redactor.count, self.host)
        attempts = self.config.max_retries + 1
        for attempt in range(attempts):
            if cancel.is_set():
                raise Cancelled("cancelled")
            try:
                answer = await self._attempt(url, headers, body, reader_factory(), cancel, secret)
                return redactor.restore(answer)
            except _Retryable as exc:
                last = attempt + 1 == attempts
                wait = exc.wait if exc.wait is not None else backoff(attempt)
                if last or wait > self.config.timeout_s:
                    raise RemoteError(exc.kind, redact(exc.final_message(wait), secret)) from None
                log.info(
                    "remote %s answered HTTP %d; retry %d/%d in %.1fs",
                    self.host,
                    exc.status,
                    attempt + 1,
                    attempts - 1,
                    wait,
                )
                await asyncio.sleep(wait)
        raise AssertionError("unreachable")

    async def _attempt(
        self,
        url: str,
        headers: dict[str, str],
        body: dict[str, Any],
        reader: StreamReader,
        cancel: threading.Event,
        secret: str | None,
    ) -> str:
        host = self.host
        timeout = self.config.timeout_s
        try:
            # The read timeout bounds each wait for bytes; this bounds a trickling stream too.
            async with (
                asyncio.timeout(timeout + self.config.connect_timeout_s),
                self.client().stream("POST", url, headers=headers, json=body) as response,
            ):
                if response.status_code >= 400:
                    text = (await response.aread()).decode("utf-8", "replace")
                    self._raise_for_status(response, text)
                kind = response.headers.get("content-type", "")
                if "text/event-stream" in kind:
                    async for event in sse_events(response):
                        if cancel.is_set():
                            raise Cancelled("cancelled")
                        reader.feed(event)
                        if reader.finished:
                            break
                else:
                    data = (await response.aread()).decode("utf-8", "replace")
                    reader.whole(parse_json(data, host))
        except RemoteError as exc:
            raise RemoteError(exc.kind, redact(str(exc), secret)) from None
        except (TimeoutError, httpx.HTTPError) as exc:
            raise transport_error(exc, host, timeout, self.config.connect_timeout_s) from None
        if not reader.finished:
            raise RemoteError(
                "truncated",
                f"{host} ended the stream before the answer was complete "
                f"({len(reader.text)} characters received)",
            )
        return reader.text

    def _raise_for_status(self, response: httpx.Response, body: str) -> None:
        status = response.status_code
        host = self.host
        detail = server_message(body)
        if status in (401, 403):
            which = (
                f"the key in {self.config.api_key_env}"
                if self.config.api_key_env
                else "no API key (set remote.api_key_env to the name of a variable holding one)"
            )
            raise RemoteError(
                "auth", f"{host} refused the request (HTTP {status}, {detail}); it was sent {which}"
            )
        if status == 429:
            raise _Retryable(
                "rate_limited",
                status,
                detail,
                host,
                retry_after(response.headers.get("retry-after")),
            )
        if status >= 500:
            raise _Retryable(
                "http", status, detail, host, retry_after(response.headers.get("retry-after"))
            )
        if status == 404:
            raise RemoteError(
                "http",
                f"{host} has no such endpoint or model (HTTP 404, {detail}); "
                "check remote.base_url and remote.model",
            )
        raise RemoteError("http", f"{host} rejected the request (HTTP {status}, {detail})")


class _Retryable(Exception):
    def __init__(self, kind: str, status: int, detail: str, host: str, wait: float | None) -> None:
        super().__init__(detail)
        self.kind = kind
        self.status = status
        self.detail = detail
        self.host = host
        self.wait = wait

    def final_message(self, wait: float) -> str:
        if self.kind == "rate_limited":
            return (
                f"{self.host} is rate-limiting requests (HTTP 429); try again in "
                f"{max(1, round(wait))} s"
            )
        return f"{self.host} had a server error (HTTP {self.status}, {self.detail})"


def transport_error(
    exc: TimeoutError | httpx.HTTPError,
    host: str,
    timeout_s: float,
    connect_timeout_s: float,
    section: str = "remote",
) -> RemoteError:
    """What a failed exchange with `host` means to the user; `section` names the settings."""
    if isinstance(exc, TimeoutError):
        return RemoteError(
            "timeout",
            f"{host} did not finish answering within {timeout_s:g} s ({section}.timeout_s)",
        )
    if isinstance(exc, httpx.ConnectTimeout):
        return RemoteError("timeout", f"could not connect to {host} within {connect_timeout_s:g} s")
    if isinstance(exc, httpx.ReadTimeout):
        return RemoteError(
            "timeout", f"{host} sent nothing for {timeout_s:g} s ({section}.timeout_s)"
        )
    if isinstance(exc, httpx.ConnectError):
        return RemoteError(
            "unreachable",
            f"cannot reach {host} ({_reason(exc)}): is the model server running? "
            f"Check {section}.base_url",
        )
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
        return RemoteError("truncated", f"{host} closed the connection mid-answer ({_reason(exc)})")
    return RemoteError("http", f"request to {host} failed: {_reason(exc)}")


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return text[:_SNIPPET] if text else type(exc).__name__
