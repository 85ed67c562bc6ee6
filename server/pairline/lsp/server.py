"""The language server object: what every feature shares, and the lifecycle they follow.

`PairlineServer` holds the local model, the engines that use it, the open buffers, the settings
and what the client can do; it knows no handler. Features (`lsp/app.py` sets them up) are small
objects that own their state, hear about new settings and are shut down with the server. Every
background task starts through `run_task`, which keeps it alive and logs how it failed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from pairline import __version__
from pairline.engine.checks.detect import CheckCache
from pairline.engine.completion.engine import CompletionEngine
from pairline.engine.context import ContextGatherer
from pairline.engine.core.config import Settings
from pairline.engine.models.local import LocalModel
from pairline.engine.nextedit.engine import NextEditEngine
from pairline.engine.usage import UsageRecorder
from pairline.engine.workspace import Workspace
from pairline.lsp.client import ClientFeatures
from pairline.lsp.protocol import PairlineProtocol

log = logging.getLogger(__name__)

T = TypeVar("T")
F = TypeVar("F", bound="Feature")


class Feature:
    """A group of handlers and the state they own."""

    def settings_changed(self, old: Settings) -> None:
        """The server now uses new settings (`old` were in force until now)."""

    def document_saved(self, uri: str) -> None:
        """The client saved an open document."""

    def document_closed(self, uri: str) -> None:
        """The client closed a document (its buffer is gone)."""

    async def shutdown(self) -> None:
        """Release what the feature holds (connections, tasks); the server is stopping."""


class PairlineServer(LanguageServer):
    """pygls server holding the engine, the open buffers, the settings and the client's features."""

    def __init__(self) -> None:
        super().__init__(
            "pairline",
            __version__,
            protocol_cls=PairlineProtocol,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
        )
        self.settings = Settings()
        self.client = ClientFeatures()  # until `initialize` says what the client can do
        self.documents = Workspace()
        # One local model for completion, next edits and code actions: a reload swaps it for all.
        self.model = LocalModel()
        self.engine = CompletionEngine(self.settings, self.model)
        self.context = ContextGatherer(self.documents)
        self.checks = CheckCache()  # the check command of each file, for actions and diagnostics
        self.engine.context = self.context
        self.usage = UsageRecorder(lambda: self.settings)
        self.nextedit = NextEditEngine(
            lambda: self.settings,
            self.model,
            usage=self.usage,
            history=self.documents.history,  # one history: completion context reads it too
        )
        self.features: list[Feature] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self.stopping = False

    def add_feature(self, feature: F) -> F:
        self.features.append(feature)
        return feature

    def advertise(self, experimental: dict[str, Any]) -> None:
        """Add to the `experimental` capabilities of the InitializeResult (before initialize)."""
        protocol = self.protocol
        assert isinstance(protocol, PairlineProtocol)
        protocol.experimental_capabilities.update(experimental)

    def run_task(self, coro: Coroutine[Any, Any, T], name: str) -> asyncio.Task[T]:
        """Start `coro` in the background; its failure is logged, never lost."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        # The loop keeps only weak references to tasks: hold one until it ends.
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        if (exc := task.exception()) is not None:
            log.error("background task %s failed: %s", task.get_name(), exc, exc_info=exc)

    def apply_settings(self, settings: Settings) -> None:
        """Use new settings and let every feature react to the change."""
        old = self.settings
        self.settings = settings
        self.engine.settings = settings
        sections = ("completion", "completion_remote", "context")
        if any(getattr(old, name) != getattr(settings, name) for name in sections):
            # What was shown came from the old settings: typing on through it would keep
            # showing what they made (another gate, another server, no context).
            self.engine.forget_shown()
        for feature in self.features:
            feature.settings_changed(old)

    def stop_work(self) -> None:
        """Stop loading and generating: the client asked to shut down or went away."""
        self.stopping = True
        for task in list(self._tasks):
            task.cancel()
        self.engine.close()
        self.model.close()
        self.nextedit.close()
        self.usage.close()

    async def stop_features(self) -> None:
        """The `shutdown` request: stop work, then let every feature release what it holds."""
        self.stop_work()
        for feature in self.features:
            try:
                await feature.shutdown()
            except Exception:  # one feature failing to clean up must not keep the others
                log.exception("shutting down %s failed", type(feature).__name__)

    def shutdown(self) -> None:
        self.stop_work()
        super().shutdown()  # type: ignore[no-untyped-call]
