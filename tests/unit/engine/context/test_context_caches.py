"""The context caches: one bounded LRU for all of them, and `forget` for a closed buffer."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pairline.engine.context import ContextGatherer
from pairline.engine.context.buffers import BufferWindows
from pairline.engine.core.config import ContextConfig
from pairline.engine.core.lru import Lru
from pairline.engine.core.types import Position
from pairline.engine.workspace import Workspace
from tests.conftest import FIXTURES

PY_WS = Path(os.path.realpath(FIXTURES / "context" / "python" / "ws"))
MAIN = PY_WS / "app" / "main.py"
MODELS = PY_WS / "app" / "models.py"


def test_lru_drops_the_least_recently_used_entry() -> None:
    cache: Lru[str, int] = Lru(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # a is now the most recent
    cache.put("c", 3)
    assert "b" not in cache and cache.get("a") == 1 and cache.get("c") == 3
    assert len(cache) == 2
    assert cache.pop("a") == 1 and cache.pop("a") is None
    cache.put("d", 4)
    cache.discard_if(lambda key: key == "c")
    assert "c" not in cache and cache.get("d") == 4
    cache.clear()
    assert len(cache) == 0
    with pytest.raises(ValueError):
        Lru(0)


def test_lru_membership_is_not_a_use() -> None:
    cache: Lru[str, int] = Lru(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert "a" in cache
    cache.put("c", 3)  # a stayed the oldest, so it goes
    assert "a" not in cache and "b" in cache


def test_window_cache_is_bounded() -> None:
    ws = Workspace()
    held = BufferWindows(size=2)
    for n in range(5):
        uri = f"file:///tmp/pairline-ctx/b{n}.py"
        ws.open(uri, f"def f{n}(x):\n    return x\n")
        assert held.of(ws.get(uri))
    assert len(held._held) == 2
    assert "file:///tmp/pairline-ctx/b4.py" in held._held


def _gatherer(ws: Workspace) -> ContextGatherer:
    gatherer = ContextGatherer(ws, [PY_WS])
    gatherer.ensure_index(ContextConfig(enable=True))
    return gatherer


def _held_for(gatherer: ContextGatherer, uri: str, path: str) -> list[str]:
    """What the gatherer still holds for the buffer `uri` of the file `path`."""
    held = []
    if gatherer._analyses.parsed(uri) is not None:
        held.append("parse")
    if any(key[0] == uri for key in gatherer._analyses._texts._data):
        held.append("analysis")
    if uri in gatherer._windows._held:
        held.append("windows")
    if uri in gatherer._paths._real:
        held.append("path")
    if any(key[0] == uri for key in gatherer._last._data):
        held.append("context")
    outline = gatherer._imports._outlines.get(path)
    if outline is not None and outline.key[:2] == ("buffer", uri):
        held.append("outline")
    return held


def test_forget_drops_everything_held_for_a_closed_buffer() -> None:
    ws = Workspace()
    gatherer = _gatherer(ws)
    main, models = MAIN.as_uri(), MODELS.as_uri()
    ws.open(models, MODELS.read_text(), version=1)
    ws.open(main, MAIN.read_text(), version=1)
    for uri in (models, main):
        gatherer.warm(uri, ContextConfig(enable=True))
        lines = ws.get(uri).text.split("\n")
        gatherer.gather(ws.request_at(uri, Position(3, len(lines[3]))), ContextConfig(enable=True))
    # main.py imports models.py, so models' open buffer was outlined too.
    assert set(_held_for(gatherer, models, os.fspath(MODELS))) == {
        "parse",
        "analysis",
        "windows",
        "path",
        "context",
        "outline",
    }
    ws.close(models)
    gatherer.forget(models)
    assert _held_for(gatherer, models, os.fspath(MODELS)) == []
    assert "parse" in _held_for(gatherer, main, os.fspath(MAIN))  # the others stay
    # After the close the file on disk is what main.py sees, as for a fresh gatherer.
    lines = ws.get(main).text.split("\n")
    request = ws.request_at(main, Position(11, len(lines[11])))
    assert gatherer.gather(request, ContextConfig(enable=True)) == _gatherer(ws).gather(
        request, ContextConfig(enable=True)
    )
    gatherer.forget("file:///never/opened.py")  # nothing held: nothing to do
    gatherer.forget("untitled:Untitled-1")


def test_forget_drops_a_queued_warm_up() -> None:
    ws = Workspace()
    gatherer = _gatherer(ws)
    uri = MAIN.as_uri()
    ws.open(uri, MAIN.read_text(), version=1)
    gatherer._warm_up._pending[uri] = ContextConfig(enable=True)  # queued, thread not started yet
    gatherer.forget(uri)
    assert not gatherer._warm_up._pending
    assert gatherer.wait_warm(timeout=1.0)


def test_secret_buffers_are_never_quoted_as_windows() -> None:
    ws = Workspace()
    body = "def order_total(order, price):\n    return price\n"
    for name in ("orders.py", "client_secret.py", ".env.py", "aws_credentials.py"):
        ws.open(f"file:///tmp/pairline-ctx/{name}", body)
    ws.open(
        "file:///tmp/pairline-ctx/cur.py",
        "def invoice(order):\n    price = order.price\n    total = price\n    ",
    )
    request = ws.request_at("file:///tmp/pairline-ctx/cur.py", Position(3, 4))
    context = ContextGatherer(ws).gather(request, ContextConfig(enable=True))
    assert [snippet.path for snippet in context.snippets] == ["orders.py"]
