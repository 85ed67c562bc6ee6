"""Workspace retrieval (ranking, the incremental index) and recent edits in the context block."""

from __future__ import annotations

import os
from pathlib import Path

from pairline.engine.context import ContextGatherer
from pairline.engine.context.buffers import identifiers
from pairline.engine.context.edits import recent_snippets
from pairline.engine.context.index import FileIndex
from pairline.engine.context.retrieval import RetrievalIndex, suffix_snippets
from pairline.engine.core.config import ContextConfig
from pairline.engine.core.types import Position
from pairline.engine.nextedit.history import EditHistory
from pairline.engine.workspace import Workspace

INVOICES = """\
def invoice_total(invoice, tax_rate):
    subtotal = sum(line.price * line.quantity for line in invoice.lines)
    discount = invoice.customer.loyalty_discount(subtotal)
    return round((subtotal - discount) * (1 + tax_rate), 2)
"""

CURSOR = """\
def quote_total(quote, tax_rate):
    subtotal = sum(line.price * line.quantity for line in quote.lines)
    discount = quote.customer.loyalty_discount(subtotal)
    """


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    root = Path(os.path.realpath(tmp_path))
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def _retrieval(root: Path) -> RetrievalIndex:
    index = FileIndex([root])
    index.build()
    retrieval = RetrievalIndex(index)
    retrieval.build()
    return retrieval


def test_ranking_prefers_files_sharing_more_identifiers(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "billing/invoices.py": INVOICES,
            "billing/partial.py": "def tax(subtotal, tax_rate):\n    return subtotal * tax_rate\n",
            "web/views.py": "def index(request):\n    return render(request, 'home.html')\n",
            "billing/invoices.js": INVOICES.replace("def ", "function "),
        },
    )
    retrieval = _retrieval(root)
    cursor = identifiers(CURSOR)
    files = retrieval.candidates(cursor, "python", frozenset())
    assert [Path(p).name for p in files] == ["invoices.py", "partial.py"]  # no .js, no views
    snippets = retrieval.snippets(cursor, "python", frozenset())
    assert snippets[0].path == "billing/invoices.py"
    assert snippets[0].source == "retrieved"
    assert "loyalty_discount" in snippets[0].text
    assert [s.score for s in snippets] == sorted((s.score for s in snippets), reverse=True)
    # An excluded file (the cursor's own) is never offered.
    excluded = frozenset({str(root / "billing" / "invoices.py")})
    assert all(
        s.path != "billing/invoices.py" for s in retrieval.snippets(cursor, "python", excluded)
    )


def test_index_follows_changes_and_deletions(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"a.py": "def alpha_helper(beta_value):\n    return beta_value\n"})
    retrieval = _retrieval(root)
    path = str(root / "a.py")
    assert retrieval.candidates({"beta_value"}, "python", frozenset()) == [path]
    before = retrieval.generation
    Path(path).write_text("def gamma_helper(delta_value):\n    return delta_value\n")
    retrieval.index.update(path)
    assert retrieval.update(path)
    assert retrieval.generation > before
    assert retrieval.candidates({"beta_value"}, "python", frozenset()) == []
    assert retrieval.candidates({"delta_value"}, "python", frozenset()) == [path]
    assert "delta_value" in retrieval.windows_of(path)[0].text  # windows follow the new version
    new = root / "b.py"
    new.write_text("delta_value = 1\n")
    retrieval.index.update(new)
    assert retrieval.update(str(new))
    assert sorted(retrieval.candidates({"delta_value"}, "python", frozenset())) == [path, str(new)]
    Path(path).unlink()
    retrieval.index.update(path)
    assert retrieval.update(path)
    assert retrieval.candidates({"delta_value"}, "python", frozenset()) == [str(new)]
    assert not retrieval.update(path)  # nothing left to change


def test_replaced_entries_are_compacted(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"a.py": "alpha_value = 1\n"})
    retrieval = _retrieval(root)
    path = str(root / "a.py")
    for i in range(200):  # many saves of one file: the dead entries must not pile up
        Path(path).write_text(f"alpha_value = {i}\nname_{i} = 2\n")
        retrieval.index.update(path)
        retrieval.update(path)
    assert len(retrieval) == 1
    assert retrieval.candidates({"alpha_value"}, "python", frozenset()) == [path]
    assert retrieval.candidates({"name_3"}, "python", frozenset()) == []
    assert retrieval.candidates({"name_199"}, "python", frozenset()) == [path]
    assert retrieval._entries < 64  # the postings were rebuilt


def test_gathered_context_has_a_window_of_an_unopened_file_but_not_its_own(tmp_path: Path) -> None:
    # The file being edited is on disk with the line the cursor is about to write: only the
    # other file may appear.
    answer = "    return round((subtotal - discount) * (1 + tax_rate), 4)\n"
    root = _tree(tmp_path, {"billing/invoices.py": INVOICES, "billing/quotes.py": CURSOR + answer})
    ws = Workspace()
    gatherer = ContextGatherer(ws, [root])
    config = ContextConfig(enable=True, imports=False, retrieval=True)
    gatherer.ensure_index(config)
    uri = (root / "billing" / "quotes.py").as_uri()
    ws.open(uri, CURSOR + "\n\ndef later(quote):\n    return quote.customer.loyalty_discount(0)\n")
    request = ws.request_at(uri, Position(3, 4))
    context = gatherer.gather(request, config)
    assert "# Path: billing/invoices.py" in context.text
    assert "round((subtotal - discount) * (1 + tax_rate), 2)" in context.text
    assert ", 4)" not in context.text
    assert "def later" not in context.text  # the code after the cursor: only without FIM
    with_suffix = gatherer.gather(request, config, suffix_windows=True)
    assert "# Path: billing/quotes.py" in with_suffix.text
    assert "def later(quote):" in with_suffix.text
    off = gatherer.gather(request, ContextConfig(enable=True, imports=False, retrieval=False))
    assert "invoices" not in off.text

    # Typing on the cursor line keeps the context as it was (the prompt's head stays).
    ws.open(uri, CURSOR + "ret", version=2)
    typed = gatherer.gather(ws.request_at(uri, Position(3, 7)), config)
    assert typed.text == context.text


def test_suffix_windows_start_after_the_cursor_line() -> None:
    suffix = "rest of the cursor line\nalpha_one = beta_two\n"
    (snippet,) = suffix_snippets(suffix, 10, "m.py", frozenset({"alpha_one", "beta_two", "x1"}))
    assert snippet.line == 11
    assert snippet.text == "alpha_one = beta_two"


def test_recent_edits_elsewhere_become_before_after_snippets() -> None:
    history = EditHistory()
    history.record("file:///w/a.py", "def f(x):\n    return x\n", "def f(x, y):\n    return x\n")
    history.settle()
    far = "\n" * 60
    history.record("file:///w/b.py", "value = 1\n" + far, "value = 2\n" + far)
    history.settle()
    history.record("file:///w/b.py", "value = 2\n" + far, "value = 2\n" + far + "new = 3\n")

    def shown(uri: str) -> str | None:
        return None if uri.endswith("secret.py") else uri.rsplit("/", 1)[1]

    # The cursor is in b.py next to its last edit: that one is the edit being typed.
    snippets = recent_snippets(history, "file:///w/b.py", 61, shown)
    assert [(s.path, s.line) for s in snippets] == [("b.py", 0), ("a.py", 0)]
    assert snippets[0].text == "before:\nvalue = 1\nafter:\nvalue = 2"
    assert snippets[1].text == "before:\ndef f(x):\nafter:\ndef f(x, y):"
    assert snippets[0].score > snippets[1].score  # newest first
    assert all(s.source == "edit" for s in snippets)


def test_gatherer_shows_recent_edits_from_the_workspace_history(tmp_path: Path) -> None:
    ws = Workspace()
    gatherer = ContextGatherer(ws, [])
    ws.open("file:///w/a.py", "def f(x, y):\n    return x\n")
    ws.history.record("file:///w/a.py", "def f(x):\n    return x\n", "def f(x, y):\n    return x\n")
    uri = "file:///w/b.py"
    ws.open(uri, "import a\n\na.f(")
    request = ws.request_at(uri, Position(2, 4))
    context = gatherer.gather(request, ContextConfig(enable=True, recent_edits=True))
    assert "# Path: a.py (recent edit)\n# before:\n# def f(x):\n# after:\n# def f(x, y):" in (
        context.text
    )
    assert "recent edit" not in gatherer.gather(request, ContextConfig(enable=True)).text


def test_a_large_batch_of_file_events_rebuilds_retrieval_off_the_request_path(
    tmp_path: Path,
) -> None:
    root = _tree(tmp_path, {"billing/invoices.py": INVOICES})
    ws = Workspace()
    gatherer = ContextGatherer(ws, [root])
    config = ContextConfig(enable=True, imports=False, retrieval=True)
    gatherer.ensure_index(config)
    assert not gatherer.needs_index(config)
    new = [root / "gen" / f"m{i}.py" for i in range(70)]
    for path in new:
        path.parent.mkdir(exist_ok=True)
        path.write_text(INVOICES.replace("invoice", f"bill{path.stem}"))
    gatherer.files_changed([str(p) for p in new])
    assert gatherer.needs_index(config)  # the server then rebuilds it in a thread
    gatherer.ensure_index(config)
    uri = (root / "billing" / "quotes.py").as_uri()
    ws.open(uri, CURSOR)
    context = gatherer.gather(ws.request_at(uri, Position(3, 4)), config)
    assert "# Path: billing/invoices.py" in context.text


def test_a_large_file_is_searched_around_the_rarest_identifiers(tmp_path: Path) -> None:
    filler = "".join(f"def filler_{i}(value):\n    return value + {i}\n\n" for i in range(600))
    root = _tree(tmp_path, {"big.py": filler + INVOICES + filler.replace("filler", "more")})
    retrieval = _retrieval(root)
    path = str(root / "big.py")
    assert len(Path(path).read_text()) > 16_000
    cursor = identifiers(CURSOR)
    anchored = retrieval.windows_of(path, ["loyalty_discount"])
    assert 0 < len(anchored) <= 3  # only the windows around the rare name, not the whole file
    (snippet,) = retrieval.snippets(cursor, "python", frozenset())
    assert "return round((subtotal - discount) * (1 + tax_rate), 2)" in snippet.text
