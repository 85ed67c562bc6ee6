"""Token counts of context pieces, kept by text.

A file's candidate snippets barely change from one request to the next, so after the first
request almost nothing goes to the tokenizer (the model's own, on its thread, in the server).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from pairline.engine.context.budget import TokenCounter
from pairline.engine.core.lru import Lru

MAX_TEXTS = 16_384


class TokenCounts:
    """Counts by text, from whichever counter saw the text first."""

    def __init__(self, size: int = MAX_TEXTS) -> None:
        self._counts: Lru[str, int] = Lru(size)

    def counter(self, count: TokenCounter) -> TokenCounter:
        """`count`, answering from the kept counts where it can."""

        def counted(text: str) -> int:
            value = self._counts.get(text)
            if value is None:
                value = count(text)
                self._counts.put(text, value)
            return value

        return counted

    async def fill(self, texts: Iterable[str], count: Callable[[str], Awaitable[int]]) -> None:
        """Count with the async `count` the texts not counted yet."""
        for text in texts:
            if self._counts.get(text) is None:
                self._counts.put(text, await count(text))
