"""The one local model: loaded once, asked by every feature that runs it.

`LocalModel` holds the loaded backend: None while it loads, and after a failed load (`error`
says why). Completion, next edits and the code actions' edit router all ask it for the model,
so a reload swaps it for all three at once. Calling the object gives the backend, so a feature
that takes any `() -> Backend | None` takes the model itself.

The load ends either way (`attach` or `fail`), so `wait_ready` never waits for a model that will
not come. A feature that keeps state per model (completion's cache and shown suggestions)
`watch`es it: it hears of each backend attached, and of the old one dropped before it closes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from pairline.engine.backends.base import Backend

# Backend gauges reported by `gauges()` (backends without them report 0).
_GAUGES = ("generations_pending", "generations_running")
_PEAKS = ("peak_generations_pending", "peak_generations_running")

# Called with the backend just attached, or None when the current one is dropped.
Watcher = Callable[[Backend | None], None]


class LocalModel:
    """The local backend the features share, and where its load stands."""

    def __init__(self) -> None:
        self.backend: Backend | None = None
        self.error: str | None = None  # why no backend could be loaded
        self._ready = asyncio.Event()  # set once a load ended, either way
        self._peaks: dict[str, int] = {}
        self._watchers: list[Watcher] = []

    def __call__(self) -> Backend | None:
        """The loaded backend; None while loading or after a failed load."""
        return self.backend

    @property
    def ready(self) -> bool:
        return self._ready.is_set() and self.backend is not None

    def watch(self, watcher: Watcher) -> None:
        """Tell `watcher` of every backend attached and every one dropped."""
        self._watchers.append(watcher)

    def attach(self, backend: Backend) -> None:
        """Use `backend` (already loaded) from now on."""
        self.backend = backend
        self.error = None
        for watcher in self._watchers:
            watcher(backend)
        self._ready.set()

    def reset(self) -> None:
        """Drop the current backend (another loads); requests wait until `attach` or `fail`."""
        self.gauges()  # keep the old backend's peaks
        self._ready.clear()
        for watcher in self._watchers:
            watcher(None)
        if self.backend is not None:
            self.backend.close()
        self.backend = None
        self.error = None

    def fail(self, message: str) -> None:
        """Record that no backend can be loaded; requests answer with nothing."""
        self.error = message
        self._ready.set()

    async def wait_ready(self) -> bool:
        """Wait until the load ends; whether a backend is there."""
        await self._ready.wait()
        return self.backend is not None

    def gauges(self) -> dict[str, int]:
        """Model work now and at its peak since start (peaks survive a model reload)."""
        backend = self.backend
        now = {name: int(getattr(backend, name, 0)) for name in _GAUGES}
        for name in _PEAKS:
            self._peaks[name] = max(self._peaks.get(name, 0), int(getattr(backend, name, 0)))
        return now | self._peaks

    def close(self) -> None:
        """Stop the backend's work (the server is stopping)."""
        if self.backend is not None:
            self.backend.close()
