"""A bounded least-recently-used map: the one eviction scheme of pairline's in-memory caches.

Locked, as the request path and the context warm-up thread share caches. A stored value of
None reads as absent, so caches store only values worth keeping.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Lru(Generic[K, V]):
    """At most `size` entries; putting one more drops the least recently used."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"an LRU cache holds at least one entry, not {size}")
        self.size = size
        self._data: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def pop(self, key: K) -> V | None:
        with self._lock:
            return self._data.pop(key, None)

    def discard_if(self, doomed: Callable[[K], bool]) -> None:
        """Drop every entry whose key `doomed` accepts."""
        with self._lock:
            for key in [key for key in self._data if doomed(key)]:
                del self._data[key]

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __contains__(self, key: object) -> bool:
        """Whether `key` is held (without counting as a use)."""
        with self._lock:
            return key in self._data

    def __len__(self) -> int:
        return len(self._data)
