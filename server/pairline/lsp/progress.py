"""Work-done progress and the `pairline/status` notification clients show in a status bar."""

from __future__ import annotations

import logging
import uuid

from lsprotocol import types
from pygls.lsp.server import LanguageServer

log = logging.getLogger(__name__)

STATUS_NOTIFICATION = "pairline/status"


def notify_status(ls: LanguageServer, state: str, message: str = "", model: str = "") -> None:
    """Tell the client what the server is doing: loading, ready, error or disabled."""
    ls.protocol.notify(STATUS_NOTIFICATION, {"state": state, "message": message, "model": model})


class Progress:
    """A `$/progress` sequence, or log lines when the client cannot show progress."""

    def __init__(self, ls: LanguageServer, title: str, *, supported: bool) -> None:
        self._ls = ls
        self._title = title
        self._supported = supported  # the client declared window.workDoneProgress
        self._token: str | None = None

    async def begin(self, message: str) -> None:
        if self._supported:
            token = f"pairline-{uuid.uuid4()}"
            try:
                await self._ls.work_done_progress.create_async(token)
                self._token = token
            except Exception as exc:  # the client refused: fall back to log lines
                log.info("progress not available: %s", exc)
        if self._token is not None:
            self._ls.work_done_progress.begin(
                self._token,
                types.WorkDoneProgressBegin(title=self._title, message=message, percentage=0),
            )
        log.info("%s: %s", self._title, message)

    def report(self, message: str, percentage: int) -> None:
        if self._token is not None:
            self._ls.work_done_progress.report(
                self._token, types.WorkDoneProgressReport(message=message, percentage=percentage)
            )
        log.info("%s: %s", self._title, message)

    def end(self, message: str) -> None:
        if self._token is not None:
            self._ls.work_done_progress.end(self._token, types.WorkDoneProgressEnd(message=message))
            self._token = None
        log.info("%s: %s", self._title, message)
