"""The simulated person of `pairline bench accept`, and the two kinds of completer it types into.

The person types a trace at the seeded pace. Before each key press they look at the latest
suggestion that has arrived: when it is exactly what they would type next they take all of it
with Tab; otherwise they take it word by word (one key press per word, as Ctrl+Right in VS
Code) as far as its whole words match, and type on after what they took. Each key press
cancels the request still in flight, as an editor does, and once they pause for the debounce
time the next request goes out. The same person types into pairline (`LspAsker`: the real
server over stdio) and into the peer (`PeerAsker`: llama.cpp's server driven as llama.vim
drives it), so both see the same traces, the same pace and the same choices.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from pairline.bench.harness import common
from pairline.bench.harness.lspclient import LspClient, Pending
from pairline.bench.harness.peer import Peer, llama_vim_prompt
from pairline.bench.typist.accept_sources import Trace

# One word of a partial accept: a run of word characters or of punctuation, with the blanks
# before it (what VS Code's "accept next word" takes).
_WORD = re.compile(r"\s*(\w+|[^\w\s]+)")
# RequestCancelled and ContentModified: the server's word for "superseded".
_OUT_OF_DATE = (-32800, -32801)


def accepted_part(text: str, remaining: str) -> tuple[str, int, bool]:
    """What the person takes of suggestion `text`: (the text, key presses, all of it)."""
    if text and remaining.startswith(text):
        return text, 1, True
    taken = 0
    words = 0
    for match in _WORD.finditer(text):
        end = match.end()
        if match.start() != taken or not remaining.startswith(text[:end]):
            break
        if text[end - 1].isalnum() and remaining[end : end + 1].isalnum():
            break  # `value` is not a whole word of `values`
        taken = match.end()
        words += 1
    return text[:taken], words, False


@dataclass
class Ask:
    """One request for a suggestion and its fate."""

    sent_at: float
    answered_at: float | None = None
    text: str | None = None
    cancelled: bool = False

    @property
    def shown(self) -> bool:
        return not self.cancelled and self.answered_at is not None and bool(self.text)


@dataclass
class Tally:
    """What happened in one arm, summed over its traces."""

    target_chars: int = 0
    typed_keys: int = 0
    accept_keys: int = 0
    chars_typed: int = 0
    chars_accepted: int = 0
    requests: int = 0
    cancelled: int = 0
    full: int = 0
    partial: int = 0
    shown_latency_s: list[float] = field(default_factory=list)
    per_trace: list[dict[str, Any]] = field(default_factory=list)


class Asker(Protocol):
    """A completer the person types into."""

    async def open(self, trace: Trace, uri: str) -> None: ...
    def change(self, text: str, offset: int, insert: str) -> None: ...
    def ask(self, text: str, offset: int) -> Ask: ...
    def cancel(self) -> None: ...
    async def close(self) -> None: ...


def _position(text: str, offset: int) -> dict[str, int]:
    line_start = text.rfind("\n", 0, offset) + 1
    return {
        "line": text.count("\n", 0, offset),
        "character": common.utf16_len(text[line_start:offset]),
    }


async def type_trace(asker: Asker, trace: Trace, uri: str, tally: Tally, debounce: float) -> None:
    """Type `trace` into `asker` as the person does, adding what happened to `tally`."""
    await asker.open(trace, uri)
    text = trace.text
    offset = sum(len(line) + 1 for line in text.split("\n")[: trace.line]) + trace.column
    target = trace.target
    tally.target_chars += len(target)
    before = (tally.chars_accepted, len(tally.shown_latency_s))
    position = 0
    waited = 0.0
    latest: Ask | None = None
    while position < len(target):
        await asyncio.sleep(max(trace.intervals[position] - waited, 0.0))
        remaining = target[position:]
        insert = ""
        if latest is not None and latest.shown and latest.text:
            assert latest.answered_at is not None
            tally.shown_latency_s.append(latest.answered_at - latest.sent_at)
            insert, keys, whole = accepted_part(latest.text, remaining)
            if insert:
                tally.full += whole
                tally.partial += not whole
                tally.accept_keys += keys
                tally.chars_accepted += len(insert)
        if not insert:
            insert = target[position]
            if insert == "\n":
                # Enter: the editor indents the new line (one key press for both).
                rest = target[position + 1 :]
                insert += rest[: len(rest) - len(rest.lstrip(" \t"))]
            tally.typed_keys += 1
            tally.chars_typed += len(insert)
        asker.cancel()  # the key press outdates whatever is in flight
        asker.change(text, offset, insert)
        text = text[:offset] + insert + text[offset:]
        offset += len(insert)
        position += len(insert)
        latest = None
        waited = 0.0
        if position < len(target) and trace.intervals[position] > debounce:
            await asyncio.sleep(debounce)
            waited = debounce
            latest = asker.ask(text, offset)
            tally.requests += 1
    asker.cancel()
    await asker.close()
    tally.per_trace.append(
        {
            "base": trace.base,
            "path": trace.path,
            "line": trace.line + 1,
            "chars": len(target),
            "chars_accepted": tally.chars_accepted - before[0],
            "shown": len(tally.shown_latency_s) - before[1],
        }
    )


class LspAsker:
    """pairline over stdio: didOpen / didChange / inlineCompletion / $/cancelRequest."""

    def __init__(self, client: LspClient, tally: Tally) -> None:
        self.client = client
        self.tally = tally
        self.uri = ""
        self.version = 0
        self._latest: tuple[Pending, Ask] | None = None

    async def open(self, trace: Trace, uri: str) -> None:
        self.uri, self.version = uri, 1
        document = {"uri": uri, "languageId": trace.language, "version": 1, "text": trace.text}
        self.client.notify("textDocument/didOpen", {"textDocument": document})
        await self.client.drain()

    def change(self, text: str, offset: int, insert: str) -> None:
        at = _position(text, offset)
        self.version += 1
        self.client.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": self.uri, "version": self.version},
                "contentChanges": [{"range": {"start": at, "end": at}, "text": insert}],
            },
        )

    def ask(self, text: str, offset: int) -> Ask:
        ask = Ask(sent_at=time.perf_counter())

        def answered(pending: Pending) -> None:
            if ask.cancelled:
                return
            if (pending.error or {}).get("code") in _OUT_OF_DATE:
                ask.cancelled = True
                return
            ask.answered_at = pending.answered_at
            result = pending.result
            items = result.get("items", []) if isinstance(result, dict) else result or []
            if items and isinstance(items[0].get("insertText"), str):
                ask.text = items[0]["insertText"]

        pending = self.client.request(
            "textDocument/inlineCompletion",
            {
                "textDocument": {"uri": self.uri},
                "position": _position(text, offset),
                "context": {"triggerKind": 2},  # Automatic: typing, not an explicit command
            },
            on_answer=answered,
        )
        ask.sent_at = pending.sent_at
        self._latest = (pending, ask)
        return ask

    def cancel(self) -> None:
        if self._latest is None:
            return
        pending, ask = self._latest
        self._latest = None
        if ask.answered_at is None and not ask.cancelled:
            ask.cancelled = True
            self.tally.cancelled += 1
            self.client.cancel(pending)

    async def close(self) -> None:
        self.client.notify("textDocument/didClose", {"textDocument": {"uri": self.uri}})
        await self.client.drain()


class PeerAsker:
    """llama.cpp's server as llama.vim drives it: the last lines before the cursor, per key.

    Like llama.vim, it first looks in its cache of earlier suggestions: when the user has
    typed the beginning of one, the rest is shown at once, with no request.
    """

    def __init__(self, peer: Peer, prefix_lines: int, tally: Tally) -> None:
        self.peer = peer
        self.prefix_lines = prefix_lines
        self.tally = tally
        self.http = httpx.AsyncClient(timeout=httpx.Timeout(120.0, connect=10.0))
        # Fitting a prompt to the context asks the server's tokenizer over the blocking
        # client, off the event loop and one at a time.
        self._fit_lock = threading.Lock()
        self._latest: tuple[asyncio.Task[None], Ask] | None = None
        # (prefix, suggestion) of answered requests, newest last; llama.vim keeps 250.
        self._cache: deque[tuple[str, str]] = deque(maxlen=250)

    async def open(self, trace: Trace, uri: str) -> None:
        return None

    def change(self, text: str, offset: int, insert: str) -> None:
        return None  # llama.vim sends the text with every request

    def _fit(self, prompt: str) -> str:
        with self._fit_lock:
            return self.peer.fit(prompt)

    def _cached(self, prefix: str) -> str | None:
        """llama.vim's cache: the rest of an earlier suggestion the user has been typing."""
        for earlier, suggestion in reversed(self._cache):
            typed = prefix[len(earlier) :]
            if (
                prefix.startswith(earlier)
                and len(typed) < len(suggestion)
                and suggestion.startswith(typed)
            ):
                return suggestion[len(typed) :]
        return None

    def ask(self, text: str, offset: int) -> Ask:
        ask = Ask(sent_at=time.perf_counter())
        prefix = text[:offset]
        hit = self._cached(prefix)
        if hit is not None:
            ask.text, ask.answered_at = hit, time.perf_counter()
            return ask
        prompt = llama_vim_prompt(prefix, self.prefix_lines)

        async def run() -> None:
            fitted = await asyncio.to_thread(self._fit, prompt)
            path, body = self.peer.request(fitted)
            ask.sent_at = time.perf_counter()  # fitting stands in for the server's own trim
            response = await self.http.post(f"{self.peer.url}{path}", json=body)
            response.raise_for_status()
            if not ask.cancelled:
                ask.text = self.peer.suggestion(response.json())
                ask.answered_at = time.perf_counter()
                if ask.text:
                    self._cache.append((prefix, ask.text))

        task = asyncio.get_running_loop().create_task(run())
        self._latest = (task, ask)
        return ask

    def cancel(self) -> None:
        if self._latest is None:
            return
        task, ask = self._latest
        self._latest = None
        if task.done() and not task.cancelled() and task.exception() is not None:
            raise SystemExit(f"pairline: the peer failed: {task.exception()!r}")
        if ask.answered_at is None and not ask.cancelled:
            ask.cancelled = True
            self.tally.cancelled += 1
            task.cancel()  # closes the connection: llama-server drops the request

    async def close(self) -> None:
        return None

    async def aclose(self) -> None:
        with contextlib.suppress(Exception):
            await self.http.aclose()
