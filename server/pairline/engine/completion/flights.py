"""Generations in flight, one per document, and the ones the user goes on typing into.

A keystroke makes the request before it out of date, and the editor cancels that request. But
when the keystroke only types on at the request's cursor (the buffer is now the request's
prefix, what was typed, and its suffix), the suggestion being generated may well start with
what was typed, and then the rest of it is what the next request would show. With
`completion.finish_typed_into` such a generation runs on to its end (a line's worth of tokens)
and its suggestion is remembered for typing-through; the next request in that document waits
for it instead of starting one of its own, and asks the model only if it does not agree. Any
other edit, and any other request, stops it at its next token.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from typing import Any

from pairline.engine.core.types import CompletionRequest

# Typed further than this, a generation is no longer worth waiting for.
_TYPED_INTO_CHARS = 32
# An editor cancels the request of a keystroke and sends the keystroke's edit in the same
# breath, in either order: a request cancelled with no edit within this is stopped.
_EDIT_GRACE_S = 0.05


@dataclass
class Flight:
    """One document's generation: what it was asked, its cancel flag and its task."""

    request: CompletionRequest
    cancel: threading.Event
    task: asyncio.Future[Any]
    typed_into: bool = False  # the user typed on at its cursor since: it runs to its end


def typed_at(request: CompletionRequest, text: str) -> str | None:
    """What was typed at `request`'s cursor, when the buffer's `text` is its prefix, that, and
    its suffix (one line's worth at most); None for any other edit."""
    extra = len(text) - len(request.prefix) - len(request.suffix)
    if not 0 < extra <= _TYPED_INTO_CHARS:
        return None
    if not (text.startswith(request.prefix) and text.endswith(request.suffix)):
        return None
    inserted = text[len(request.prefix) : len(request.prefix) + extra]
    return None if "\n" in inserted else inserted


def halt(flight: Flight) -> None:
    """Stop a generation: its flag for the model's loop, and its task, so a request still
    queued for the model is withdrawn at once instead of waiting its turn to be refused."""
    flight.cancel.set()
    flight.task.cancel()


class Flights:
    """The generation in flight per document."""

    def __init__(self) -> None:
        self._by_uri: dict[str, Flight] = {}

    def start(
        self, request: CompletionRequest, cancel: threading.Event, task: asyncio.Future[Any]
    ) -> Flight:
        """Track `task`, the generation for `request`, in place of its document's last."""
        self.stop(request.uri)
        flight = self._by_uri[request.uri] = Flight(request, cancel, task)
        task.add_done_callback(lambda done: self.ended(flight, done))
        return flight

    def ended(self, flight: Flight, task: asyncio.Future[Any]) -> None:
        if not task.cancelled():
            task.exception()  # retrieved: one nobody waits for any more is not logged as lost
        if self._by_uri.get(flight.request.uri) is flight:
            del self._by_uri[flight.request.uri]

    def stop(self, uri: str) -> None:
        flight = self._by_uri.pop(uri, None)
        if flight is not None:
            halt(flight)

    def stop_all(self) -> None:
        for flight in self._by_uri.values():
            halt(flight)
        self._by_uri.clear()

    def given_up(self, flight: Flight) -> None:
        """The editor cancelled the flight's request: unless an edit types into it, it stops."""
        if not flight.typed_into:
            asyncio.get_running_loop().call_later(_EDIT_GRACE_S, self._expire, flight)

    def _expire(self, flight: Flight) -> None:
        if not flight.typed_into:
            halt(flight)  # its task ends, and `ended` forgets it

    def edited(self, uri: str, text: str, *, keep: bool) -> None:
        """The buffer `uri` is now `text`: its generation goes on (with `keep`) only if the
        user typed on at its cursor."""
        flight = self._by_uri.get(uri)
        if flight is None:
            return
        if keep and typed_at(flight.request, text) is not None:
            flight.typed_into = True
        else:
            self.stop(uri)

    def typed_into(self, request: CompletionRequest) -> Flight | None:
        """The running generation `request` types into, if there is one to wait for."""
        flight = self._by_uri.get(request.uri)
        if flight is None or not flight.typed_into:
            return None
        if request.suffix != flight.request.suffix:
            return None  # the cursor is not right after what was typed
        return flight if typed_at(flight.request, request.prefix + request.suffix) else None
