"""The context warm-up thread: work no completion request should wait for, done ahead.

After a buffer opens or changes, its first parse, its neighbours' outlines and its windows are
prepared on one background thread (`WarmUp.soon`); a request that comes first does the same work
itself, with the same results. Only the latest request per buffer is kept, and the thread ends
after a while without work (a later request starts it again).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable

from pairline.engine.core.config import ContextConfig

log = logging.getLogger(__name__)

WARM_IDLE_S = 30.0  # the warm-up thread ends after this long without work


class WarmUp:
    """A queue of buffers to warm up, served by one daemon thread that runs `work` on each."""

    def __init__(self, work: Callable[[str, ContextConfig], None]) -> None:
        self._work = work
        # uris waiting for `work`, oldest first, each with the latest config
        self._pending: OrderedDict[str, ContextConfig] = OrderedDict()
        self._wake = threading.Condition()
        self._worker: threading.Thread | None = None
        self._busy = False

    def soon(self, uri: str, config: ContextConfig) -> None:
        """Queue `work(uri, config)` on the warm-up thread (after didOpen / didChange)."""
        with self._wake:
            self._pending[uri] = config
            self._pending.move_to_end(uri)
            if self._worker is None:
                self._worker = threading.Thread(
                    target=self._loop, name="pairline-context-warm", daemon=True
                )
                self._worker.start()
            self._wake.notify()

    def drop(self, uri: str) -> None:
        """Forget a queued warm-up of `uri` (its buffer closed)."""
        with self._wake:
            self._pending.pop(uri, None)
            self._wake.notify_all()

    def wait(self, timeout: float = 10.0) -> bool:
        """Wait until queued warm-ups are done (tests, scripts); False on timeout."""
        with self._wake:
            return self._wake.wait_for(lambda: not self._pending and not self._busy, timeout)

    def _loop(self) -> None:
        while True:
            with self._wake:
                if not self._wake.wait_for(lambda: bool(self._pending), WARM_IDLE_S):
                    self._worker = None
                    return
                uri, config = self._pending.popitem(last=False)
                self._busy = True
            try:
                self._work(uri, config)
            except Exception:  # warm-up is an optimisation: a bug there must cost nothing else
                log.exception("context warm-up failed for %s", uri)
            finally:
                with self._wake:
                    self._busy = False
                    self._wake.notify_all()
