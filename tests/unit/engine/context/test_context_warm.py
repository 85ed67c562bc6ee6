"""Context off the request path: warm-up on open/change, and incremental analysis of edits.

Every test compares against a fresh gatherer (cold caches): warm-ups and incremental updates
must only make gathering cheaper, never change what it finds.
"""

from __future__ import annotations

import os
import random
from collections import Counter
from pathlib import Path

import pytest
from lsprotocol import types

from pairline.engine.context import ContextGatherer, analysis
from pairline.engine.core.config import ContextConfig
from pairline.engine.core.types import CompletionRequest, Position
from pairline.engine.workspace import Workspace
from tests.conftest import FIXTURES

CONTEXT = Path(os.path.realpath(FIXTURES / "context"))
PY_WS = CONTEXT / "python" / "ws"
MAIN = PY_WS / "app" / "main.py"
SOURCES = (".py", ".ts", ".tsx", ".js", ".go", ".rs")


def _gatherer(ws: Workspace, root: Path) -> ContextGatherer:
    gatherer = ContextGatherer(ws, [root])
    gatherer.ensure_index(ContextConfig(enable=True))
    return gatherer


def _cold(ws: Workspace, root: Path, request: CompletionRequest) -> str:
    return _gatherer(ws, root).gather(request, ContextConfig(enable=True)).text


def _request_at_end_of(ws: Workspace, uri: str, line: int) -> CompletionRequest:
    lines = ws.get(uri).text.split("\n")
    return ws.request_at(uri, Position(line, len(lines[line])))


def _workspaces() -> list[Path]:
    return sorted(p for p in CONTEXT.glob("*/*") if p.is_dir())


def test_changed_lines_are_whole_lines_around_the_edit() -> None:
    assert analysis.changed_lines("a\nb\nc", "a\nbx\nc") == ("b", "bx")
    assert analysis.changed_lines("x\ny", "x\nz\ny") == ("y", "z\ny")
    assert analysis.changed_lines("a\nb\nc", "a\nc") == ("b\nc", "c")
    assert analysis.changed_lines("same", "same") == ("same", "same")


def test_incremental_analysis_counts_what_a_full_read_counts() -> None:
    rng = random.Random(5)
    text = MAIN.read_text() + "\nimport app.helpers\napp.helpers.retry(app.helpers.x)\n"
    old = analysis.analyse(text, [])
    analysis.dotted(old, "app.helpers")
    for _ in range(200):
        lines = text.split("\n")
        at = rng.randrange(len(lines))
        kind = rng.choice(("insert", "delete", "type", "join"))
        if kind == "insert":
            lines.insert(at, rng.choice(("x = user.name", "app.helpers.retry(2)", "", "a::b")))
        elif kind == "delete" and len(lines) > 1:
            del lines[at]
        elif kind == "type":
            lines[at] += rng.choice(("x", ".", " y.z", "::w"))
        elif at + 1 < len(lines):
            lines[at : at + 2] = [lines[at] + lines[at + 1]]
        text = "\n".join(lines)
        lazy = rng.random() < 0.5
        new = analysis.advance(old, text, [], lazy=lazy)
        fresh = analysis.analyse(text, [])
        assert new.counts == fresh.counts
        assert new.attributes == fresh.attributes
        assert analysis.dotted(new, "app.helpers") == Counter(
            analysis.dotted_pattern("app.helpers").findall(text)
        )
        assert 0 not in new.counts.values()
        if not lazy:
            old = new


@pytest.mark.parametrize("root", _workspaces(), ids=lambda p: f"{p.parent.name}-{p.name}")
def test_warm_then_gather_equals_cold_gathering_on_every_line(root: Path) -> None:
    ws = Workspace()
    warmed = _gatherer(ws, root)
    files = sorted(p for p in root.rglob("*") if p.suffix in SOURCES)
    assert files
    for path in files:
        uri = path.as_uri()
        ws.open(uri, path.read_text(), version=1)
        warmed.warm(uri, ContextConfig(enable=True))
        for line in range(len(ws.get(uri).text.split("\n"))):
            request = _request_at_end_of(ws, uri, line)
            assert warmed.gather(request, ContextConfig(enable=True)).text == _cold(
                ws, root, request
            )


def test_edits_and_cursor_moves_give_what_cold_gathering_gives() -> None:
    rng = random.Random(7)
    ws = Workspace()
    gatherer = _gatherer(ws, PY_WS)
    uri = MAIN.as_uri()
    ws.open(uri, MAIN.read_text(), version=1)
    gatherer.warm(uri, ContextConfig(enable=True))
    found_any = False
    for version in range(2, 40):
        lines = ws.get(uri).text.split("\n")
        at = rng.randrange(len(lines))
        edit = rng.choice(("type", "insert", "delete"))
        if edit == "type":
            lines[at] += rng.choice(("x", " make_user(", ".display_name", " slugify"))
        elif edit == "insert":
            lines.insert(at, rng.choice(("from app.util import slugify", "    u = make_user()")))
        elif len(lines) > 2:
            del lines[at]
        ws.open(uri, "\n".join(lines), version=version)
        if rng.random() < 0.3:
            gatherer.warm(uri, ContextConfig(enable=True))  # sometimes the warm-up wins the race
        line = rng.randrange(len(lines))
        request = _request_at_end_of(ws, uri, line)
        text = gatherer.gather(request, ContextConfig(enable=True)).text
        assert text == _cold(ws, PY_WS, request)
        found_any |= bool(text)
    assert found_any


def test_warm_up_fills_the_caches_a_request_needs() -> None:
    ws = Workspace()
    gatherer = _gatherer(ws, PY_WS)
    uri = MAIN.as_uri()
    ws.open(uri, MAIN.read_text(), version=1)
    gatherer.warm_soon(uri, ContextConfig(enable=True))
    assert gatherer.wait_warm()
    parsed = gatherer._analyses.parsed(uri)
    assert parsed is not None and parsed.analysis.text == ws.get(uri).text
    assert os.fspath(PY_WS / "app" / "models.py") in gatherer._imports._outlines
    windows = gatherer._windows._held.get(uri)
    assert windows is not None and windows[0] == 1


def test_warm_up_is_a_no_op_when_context_is_off_or_the_buffer_closed() -> None:
    ws = Workspace()
    gatherer = _gatherer(ws, PY_WS)
    uri = MAIN.as_uri()
    gatherer.warm(uri, ContextConfig(enable=True))  # not open: nothing to do, no error
    ws.open(uri, MAIN.read_text(), version=1)
    gatherer.warm(uri, ContextConfig(enable=False))
    assert not gatherer._analyses._parsed and not gatherer._windows._held


def test_did_open_and_did_change_warm_the_buffer_in_the_background() -> None:
    from pairline.lsp.app import create_server

    server = create_server()
    server.settings.context.enable = True
    server.context.set_roots([PY_WS])
    server.context.ensure_index(server.settings.context)
    uri = MAIN.as_uri()
    features = server.protocol.fm.features
    features[types.TEXT_DOCUMENT_DID_OPEN](
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="python", version=1, text=MAIN.read_text()
            )
        )
    )
    assert server.context.wait_warm()
    parsed = server.context._analyses.parsed(uri)
    assert parsed is not None and parsed.analysis.text == MAIN.read_text()
    features[types.TEXT_DOCUMENT_DID_CHANGE](
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                types.TextDocumentContentChangeWholeDocument(text=MAIN.read_text() + "\nx = 1\n")
            ],
        )
    )
    assert server.context.wait_warm()
    parsed = server.context._analyses.parsed(uri)
    assert parsed is not None and parsed.analysis.text.endswith("\nx = 1\n")
