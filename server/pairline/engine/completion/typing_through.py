"""Typing-through: the user types the first characters of a suggestion already shown.

The last few suggestions shown in each document are remembered; a request whose prefix is one
of theirs plus the start of what it suggested (at least one character), with the same suffix,
gets the rest of that suggestion without asking the model.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from pairline.engine.core.types import CompletionRequest

# Suggestions remembered per document for typing-through, and how far one may be typed into.
_SHOWN_PER_DOCUMENT = 8
_TYPING_THROUGH_CHARS = 128


@dataclass(frozen=True)
class _Shown:
    prefix: str
    suffix: str
    text: str


class ShownSuggestions:
    """The suggestions recently shown, per document."""

    def __init__(self) -> None:
        self._shown: dict[str, deque[_Shown]] = {}

    def remember(self, request: CompletionRequest, text: str) -> None:
        shown = self._shown.setdefault(request.uri, deque(maxlen=_SHOWN_PER_DOCUMENT))
        shown.append(_Shown(request.prefix, request.suffix, text))

    def rest(self, request: CompletionRequest) -> str | None:
        """What is left of a shown suggestion the request's prefix has typed into, if any."""
        for shown in reversed(self._shown.get(request.uri, ())):
            if request.suffix != shown.suffix or not request.prefix.startswith(shown.prefix):
                continue
            typed = request.prefix[len(shown.prefix) :]
            # Asked again where it was made, the engine asks anew (the completion cache answers
            # an unchanged prompt at once): the prompt may have changed since (context found).
            if not typed or len(typed) > _TYPING_THROUGH_CHARS or not shown.text.startswith(typed):
                continue
            rest = shown.text[len(typed) :]
            if rest.strip():
                return rest
        return None

    def forget(self, uri: str) -> None:
        self._shown.pop(uri, None)

    def clear(self) -> None:
        self._shown.clear()
