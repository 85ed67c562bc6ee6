"""Context gathering: outlines, ranking, the token budget, stability and what is never read."""

from __future__ import annotations

import builtins
import os
from pathlib import Path
from typing import Any

import pytest

from pairline.engine.context import ContextGatherer
from pairline.engine.context.budget import commented, layout, select
from pairline.engine.context.buffers import best_window, cursor_identifiers, jaccard, windows
from pairline.engine.context.index import FileIndex
from pairline.engine.context.outline import outline
from pairline.engine.context.rank import BUFFER, IMPORTED, NEAR_USE, Snippet, rank
from pairline.engine.core.config import ContextConfig, load_settings
from pairline.engine.core.redact import is_secret_file
from pairline.engine.core.types import CompletionRequest, Position
from pairline.engine.workspace import Workspace
from tests.conftest import FIXTURES

PY_WS = Path(os.path.realpath(FIXTURES / "context" / "python" / "ws"))
MAIN = PY_WS / "app" / "main.py"


def _request(ws: Workspace, path: Path, marker: str) -> CompletionRequest:
    uri = path.as_uri()
    if uri not in ws:
        ws.open(uri, path.read_text())
    lines = ws.get(uri).text.split("\n")
    line = next(i for i, text in enumerate(lines) if text.startswith(marker))
    return ws.request_at(uri, Position(line, len(lines[line])))


def _gatherer(ws: Workspace, root: Path = PY_WS) -> ContextGatherer:
    gatherer = ContextGatherer(ws, [root])
    gatherer.ensure_index(ContextConfig(enable=True))
    return gatherer


def test_python_context_holds_imported_signatures_not_bodies() -> None:
    ws = Workspace()
    config = ContextConfig(
        enable=True, retrieval=False
    )  # the imports alone: no windows of whole files
    context = _gatherer(ws).gather(_request(ws, MAIN, "    return user"), config)
    text = context.text
    assert "# Path: app/models.py" in text
    assert 'def make_user(name: str, email: str = "") -> User:' in text
    assert "def display_name(self) -> str:" in text  # class outline with public methods
    assert "_secret" not in text  # private members left out
    assert "unused_helper" not in text  # not imported
    assert "return User(name or DEFAULT_NAME" not in text  # bodies dropped
    assert 'def slugify(text: str, sep: str = "-") -> str:' in text
    assert "def retry(times: int" in text  # helpers.retry through a module import
    assert "class Engine:" in text  # src layout
    assert 'DEFAULT_NAME = "anonymous"' in text  # through the package's re-export
    assert all(line.startswith("#") for line in text.splitlines())
    assert context.fingerprint and context.tokens > 0


def test_nothing_outside_the_root_ignored_or_secret_is_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    opened: list[str] = []
    real_open = builtins.open

    def spy(file: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(os.fspath(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", spy)
    ws = Workspace()
    context = _gatherer(ws).gather(
        _request(ws, MAIN, "    return user"), ContextConfig(enable=True)
    )
    assert opened, "the spy saw no reads"
    assert all(Path(p).is_relative_to(PY_WS) for p in opened), opened
    assert not any(Path(p).name.startswith(".env") for p in opened)
    assert "leak" not in context.text and "generated" not in context.text


def test_index_skips_secrets_binaries_huge_files_and_escaping_symlinks(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    outside = tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (outside / "stolen.py").write_text("def stolen_secret(): ...\n")
    (outside / "pkg").mkdir()
    (outside / "pkg" / "deep.py").write_text("def deep(): ...\n")
    (root / "link.py").symlink_to(outside / "stolen.py")
    (root / "linkdir").symlink_to(outside / "pkg", target_is_directory=True)
    (root / ".env").write_text("TOKEN=1\n")
    (root / ".env.local.py").write_text("TOKEN=1\n")
    (root / "id_rsa.py").write_text("key\n")
    (root / "blob.py").write_bytes(b"x = 1\0\0\0")
    (root / "huge.py").write_text("x = 1\n" * 300)
    (root / "ok.py").write_text("def ok(): ...\n")
    (root / "inside.py").symlink_to(root / "ok.py")
    index = FileIndex([root], max_file_bytes=1000)
    index.build()
    names = sorted(Path(p).name for p in index.paths())
    assert names == ["blob.py", "inside.py", "ok.py"]
    assert index.read_text(root / "blob.py") is None  # binary
    assert index.read_text(root / "link.py") is None
    assert index.read_text(root / ".env") is None
    assert index.read_text(root / "inside.py") == "def ok(): ...\n"
    assert is_secret_file("credentials.json") and is_secret_file("server.PEM")
    assert not is_secret_file("env.py")


def test_symlink_out_of_the_root_is_never_followed_by_imports(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    outside = tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (outside / "stolen.py").write_text("def stolen_secret(): ...\n")
    (root / "stolen.py").symlink_to(outside / "stolen.py")
    (root / "main.py").write_text("from stolen import stolen_secret\n\nstolen_secret()\n")
    ws = Workspace()
    request = _request(ws, Path(os.path.realpath(root)) / "main.py", "stolen_secret()")
    context = _gatherer(ws, Path(os.path.realpath(root))).gather(
        request, ContextConfig(enable=True)
    )
    assert "stolen_secret(): ..." not in context.text


def test_open_buffer_text_wins_over_disk() -> None:
    ws = Workspace()
    util = PY_WS / "app" / "util.py"
    ws.open(util.as_uri(), 'def slugify(text: str, *, unicode: bool) -> str:\n    """Unsaved."""\n')
    context = _gatherer(ws).gather(
        _request(ws, MAIN, "    return user"), ContextConfig(enable=True)
    )
    assert "def slugify(text: str, *, unicode: bool) -> str:" in context.text


def test_saved_files_update_the_index(tmp_path: Path) -> None:
    root = Path(os.path.realpath(tmp_path))
    (root / "main.py").write_text("from extra import added\n\nadded()\n")
    ws = Workspace()
    gatherer = _gatherer(ws, root)
    request = _request(ws, root / "main.py", "added()")
    assert "def added" not in gatherer.gather(request, ContextConfig(enable=True)).text
    (root / "extra.py").write_text("def added(x: int) -> int: ...\n")
    gatherer.files_changed([os.fspath(root / "extra.py")])
    assert "def added(x: int) -> int:" in gatherer.gather(request, ContextConfig(enable=True)).text
    (root / "extra.py").unlink()
    gatherer.files_changed([os.fspath(root / "extra.py")])
    assert "def added" not in gatherer.gather(request, ContextConfig(enable=True)).text


def test_context_is_stable_while_typing_on_a_line() -> None:
    ws = Workspace()
    gatherer = _gatherer(ws)
    first = gatherer.gather(_request(ws, MAIN, "    return user"), ContextConfig(enable=True))
    uri = MAIN.as_uri()
    doc = ws.get(uri)
    line = doc.text.split("\n").index("    return user")
    ws.open(uri, doc.text.replace("    return user", "    return user.display_"), version=2)
    second = gatherer.gather(ws.request_at(uri, Position(line, 24)), ContextConfig(enable=True))
    assert second.text == first.text and second.fingerprint == first.fingerprint


def test_budget_takes_snippets_by_priority_and_skips_what_does_not_fit() -> None:
    near = Snippet("a.py", 10, "def near(): ...", NEAR_USE, 2.0, "near")
    other = Snippet("b.py", 1, "def other(): ...", IMPORTED, 5.0, "other")
    big = Snippet("c.py", 1, "x" * 300, IMPORTED, 1.0, "big")
    window = Snippet("d.py", 0, "window = 1", BUFFER, 0.5)
    ranked = rank([window, big, other, near])
    assert ranked == [near, other, big, window]
    chosen, used = select(ranked, "python", 40, lambda text: len(text) // 4)
    assert chosen == [near, other, window]  # big skipped, the smaller window still fits
    assert used <= 40
    text = layout("python", chosen)
    # Layout: buffer windows first, then imports by path, each under one header.
    assert text.index("# Path: d.py") < text.index("# Path: a.py") < text.index("# Path: b.py")
    assert commented("go", "a\n\nb") == "// a\n//\n// b\n"


def test_tight_budget_keeps_the_symbols_used_near_the_cursor() -> None:
    ws = Workspace()
    config = ContextConfig(enable=True, budget_tokens=40, buffers=False)
    context = _gatherer(ws).gather(_request(ws, MAIN, "    return user"), config)
    assert context.snippets and all(s.tier == NEAR_USE for s in context.snippets)
    assert context.tokens <= 40


def test_buffer_windows_rank_by_similarity_and_drop_near_copies() -> None:
    cursor = "def total(orders):\n    price = sum(o.price for o in orders)\n    tax = price\n"
    ids = cursor_identifiers(cursor + "    ")
    similar = windows("def subtotal(orders, price):\n    return price * len(orders)\n")
    unrelated = windows("import socket\nserver = socket.create_server(port)\n")
    copy = windows(cursor)
    assert best_window(similar, ids) is not None
    assert best_window(unrelated, ids) is None
    assert best_window(copy, ids) is None  # the cursor's own text again
    assert jaccard(frozenset({"a", "b"}), frozenset({"b", "c"})) == pytest.approx(1 / 3)


def test_other_open_buffers_give_windows() -> None:
    ws = Workspace()
    ws.open(
        "file:///tmp/pairline-ctx/orders.py", "def order_total(order, price):\n    return price\n"
    )
    ws.open("file:///tmp/pairline-ctx/notes.md", "order price total")
    ws.open(
        "file:///tmp/pairline-ctx/cur.py",
        "def invoice(order):\n    price = order.price\n    total = price\n    ",
    )
    request = ws.request_at("file:///tmp/pairline-ctx/cur.py", Position(3, 4))
    context = ContextGatherer(ws).gather(request, ContextConfig(enable=True))
    assert "# Path: orders.py" in context.text
    assert "# def order_total(order, price):" in context.text
    assert "notes.md" not in context.text  # another language
    off = ContextGatherer(ws).gather(request, ContextConfig(enable=True, buffers=False))
    assert off.text == ""


@pytest.mark.parametrize(
    ("language", "source", "expected", "absent"),
    [
        (
            "typescript",
            "/** Docs. */\nexport function f(a: number): number { return a; }\n"
            "export class C { private p = 1; m(x: string): void { go(); } }\n",
            ["/** Docs. */", "export function f(a: number): number", "  m(x: string): void"],
            ["return a", "go()", "private p"],
        ),
        (
            "go",
            "package p\n// New makes one.\nfunc New() *T { return nil }\n"
            "type T struct{ A int }\nfunc (t *T) Run(n int) error { return nil }\n",
            [
                "// New makes one.\nfunc New() *T",
                "type T struct{ A int }",
                "func (t *T) Run(n int) error",
            ],
            ["return nil"],
        ),
        (
            "rust",
            "/// Doc.\npub fn f(x: i32) -> i32 { x + 1 }\npub trait T { fn m(&self); }\n",
            ["/// Doc.\npub fn f(x: i32) -> i32", "pub trait T {\n    fn m(&self);\n}"],
            ["x + 1"],
        ),
    ],
)
def test_outlines_keep_signatures_and_docs(
    language: str, source: str, expected: list[str], absent: list[str]
) -> None:
    result = outline(language, source)
    text = "\n".join(symbol.text for symbol in result.symbols.values())
    for part in expected:
        assert part in text
    for part in absent:
        assert part not in text


def test_context_settings() -> None:
    settings, problems = load_settings(
        {"context": {"budgetTokens": 128, "extraRoots": ["~/lib"], "buffers": False}}
    )
    assert problems == []
    assert settings.context.budget_tokens == 128 and not settings.context.buffers
    assert settings.context.extra_roots == [os.path.expanduser("~/lib")]
    settings, problems = load_settings({"context": {"budget_tokens": -1}})
    assert problems and settings.context.budget_tokens == 384
