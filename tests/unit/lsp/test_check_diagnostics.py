"""The test-diagnostics feature on a real workspace and a real pytest run, without a client:
what it publishes after a save, what closing the file clears, what an untrusted workspace
gets (no run, a message)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.workspace import Workspace

from pairline.engine.core.config import load_settings
from pairline.lsp.app import create_server
from pairline.lsp.check_diagnostics import NOT_TRUSTED, CheckDiagnostics
from pairline.lsp.server import PairlineServer

STATS = "def add(a, b):\n    return a - b\n"
TEST = "from stats import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"


def server_for(root: Path, trusted: bool) -> tuple[PairlineServer, CheckDiagnostics, list[Any]]:
    (root / ".venv").symlink_to(Path(sys.prefix))
    (root / "stats.py").write_text(STATS)
    (root / "test_stats.py").write_text(TEST)
    server = create_server()
    server.protocol._workspace = Workspace(root.as_uri())
    settings, problems = load_settings({"actions": {"trusted": trusted, "testDiagnostics": True}})
    assert not problems
    server.settings = settings
    sent: list[Any] = []
    server.text_document_publish_diagnostics = sent.append  # type: ignore[method-assign]
    server.window_show_message = sent.append  # type: ignore[method-assign]
    server.window_log_message = sent.append  # type: ignore[method-assign]
    (feature,) = [f for f in server.features if isinstance(f, CheckDiagnostics)]
    return server, feature, sent


def test_save_publishes_failures_and_close_clears_them(tmp_path: Path) -> None:
    server, feature, sent = server_for(tmp_path, trusted=True)
    uri = (tmp_path / "stats.py").as_uri()
    test_uri = (tmp_path / "test_stats.py").as_uri()
    server.documents.open(uri, STATS, language="python", version=1)

    async def save_and_wait() -> None:
        feature.document_saved(uri)
        await feature._runs[uri]

    asyncio.run(save_and_wait())
    published = {p.uri: p.diagnostics for p in sent}
    assert [(d.range.start.line, d.message) for d in published[uri]] == [
        (0, "test_add failed: assert -1 == 5")
    ]
    assert [d.range.start.line for d in published[test_uri]] == [4]
    assert published[uri][0].data["failure"].startswith("test_stats.py:5: assert add(2, 3) == 5")

    sent.clear()
    feature.document_closed(uri)
    assert {p.uri: p.diagnostics for p in sent} == {uri: [], test_uri: []}


def test_untrusted_runs_nothing_and_says_why(tmp_path: Path) -> None:
    server, feature, sent = server_for(tmp_path, trusted=False)
    uri = (tmp_path / "stats.py").as_uri()
    server.documents.open(uri, STATS, language="python", version=1)
    feature.document_saved(uri)
    feature.document_saved(uri)  # told once
    assert sent == [types.ShowMessageParams(type=types.MessageType.Warning, message=NOT_TRUSTED)]
    assert feature._runs == {}
