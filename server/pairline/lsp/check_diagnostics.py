"""Failing tests as diagnostics (`actions.test_diagnostics`, trusted workspaces only).

On each save the file's check (configured, else detected, `engine/checks/detect.py`) runs in the
background (`engine/checks/runs.py`); each failure is published as a diagnostic (source
"pairline") on the workspace line its traceback points at, so "Fix this" is offered there with
the failure's text. One check runs at a time; saving a file again cancels its run. A passing
check, or closing the file, clears what its runs published.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from lsprotocol import types
from pygls import uris

from pairline.engine.checks import runs
from pairline.engine.checks.failures import Spot
from pairline.engine.core.config import Settings
from pairline.engine.core.document import index_to_column
from pairline.engine.core.types import EngineError
from pairline.lsp.code_actions import relative
from pairline.lsp.server import Feature, PairlineServer

log = logging.getLogger(__name__)

SOURCE = "pairline"
NOT_TRUSTED = (
    "pairline: failing tests are not shown as diagnostics: the workspace is not trusted "
    "(actions.trusted), so no test runs"
)


class CheckDiagnostics(Feature):
    """Runs the saved file's check and publishes its failures."""

    def __init__(self, server: PairlineServer) -> None:
        self._server = server
        self._runs: dict[str, asyncio.Task[None]] = {}  # saved uri -> its running check
        self._lock = asyncio.Lock()  # one check at a time: they compete for the same cores
        self._published: dict[str, dict[str, list[types.Diagnostic]]] = {}  # saved -> target
        self._told_untrusted = False

    def document_saved(self, uri: str) -> None:
        ls = self._server
        actions = ls.settings.actions
        if not actions.test_diagnostics:
            return
        if not actions.trusted:
            if not self._told_untrusted:
                self._told_untrusted = True
                ls.window_show_message(
                    types.ShowMessageParams(type=types.MessageType.Warning, message=NOT_TRUSTED)
                )
            return
        self._cancel(uri)
        self._runs[uri] = ls.run_task(self._run(uri), f"tests after saving {uri}")

    def document_closed(self, uri: str) -> None:
        self._cancel(uri)
        self._clear(uri)

    def settings_changed(self, old: Settings) -> None:
        actions = self._server.settings.actions
        if not (actions.test_diagnostics and actions.trusted):
            for uri in list(self._runs):
                self._cancel(uri)
            for uri in list(self._published):
                self._clear(uri)

    async def shutdown(self) -> None:
        for uri in list(self._runs):
            self._cancel(uri)

    def _cancel(self, uri: str) -> None:
        task = self._runs.pop(uri, None)
        if task is not None:
            task.cancel()

    async def _run(self, uri: str) -> None:
        ls = self._server
        root_path = ls.workspace.root_path
        try:
            doc = ls.documents.get(uri)
        except EngineError:
            return
        _name, rel_path = relative(uri, root_path)
        if root_path is None or rel_path is None:
            return
        root = Path(root_path)
        check = ls.checks.get(ls.settings.actions, root, rel_path, doc.language)
        if check is None:
            self._clear(uri)
            return
        try:
            async with self._lock:
                outcome = await runs.failures_after_save(
                    check,
                    root,
                    rel_path,
                    doc.language,
                    doc.text,
                    ls.settings.actions.check_timeout_s,
                )
        finally:
            if self._runs.get(uri) is asyncio.current_task():
                del self._runs[uri]
        if outcome.message:
            ls.window_log_message(
                types.LogMessageParams(type=types.MessageType.Warning, message=outcome.message)
            )
        targets: dict[str, list[types.Diagnostic]] = {}
        for spot in outcome.spots:
            same = spot.rel_path == rel_path
            target = uri if same else uris.from_fs_path(str(root / spot.rel_path)) or uri
            targets.setdefault(target, []).append(self._diagnostic(spot))
        self._publish(uri, targets)

    def _diagnostic(self, spot: Spot) -> types.Diagnostic:
        encoding = self._server.documents.encoding
        start = index_to_column(spot.text, spot.start, encoding)
        end = index_to_column(spot.text, spot.end, encoding)
        return types.Diagnostic(
            range=types.Range(
                start=types.Position(line=spot.line, character=start),
                end=types.Position(line=spot.line, character=end),
            ),
            message=spot.message,
            severity=types.DiagnosticSeverity.Error,
            source=SOURCE,
            data={"failure": spot.detail},
        )

    def _clear(self, uri: str) -> None:
        self._publish(uri, {})

    def _publish(self, saved: str, targets: dict[str, list[types.Diagnostic]]) -> None:
        """Replace what `saved`'s runs published; each target gets every run's diagnostics."""
        before = self._published.pop(saved, {})
        if targets:
            self._published[saved] = targets
        for target in set(before) | set(targets):
            merged = [d for runs in self._published.values() for d in runs.get(target, [])]
            self._server.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=target, diagnostics=merged)
            )


def setup(server: PairlineServer) -> CheckDiagnostics:
    return server.add_feature(CheckDiagnostics(server))
