"""Cross-file context over LSP: the prompt carries signatures from files the editor never opened."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.conftest import FIXTURES
from tests.e2e.conftest import DEFAULT_OPTIONS, capabilities, merged, open_doc

pytestmark = pytest.mark.model


async def _prompt_at(client: LanguageClient, uri: str, line: int, character: int) -> str:
    await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=character),
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Invoked
            ),
        )
    )
    result: Any = await client.protocol.send_request_async("pairline/debug/lastPrompt", {})
    return str(result.prompt)


async def _start_in(client: LanguageClient, root: Path, options: dict[str, Any]) -> None:
    """Initialize with `root` as the one workspace folder and `options` over the defaults."""
    await client.initialize_session(
        types.InitializeParams(
            capabilities=capabilities(),
            # Context is off by default (the built-in model does better without it): on here.
            initialization_options=merged(
                merged(DEFAULT_OPTIONS, {"context": {"enable": True}}), options
            ),
            root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
        )
    )


async def test_prompt_has_imported_signatures_from_unopened_files(
    bare_client: LanguageClient, tmp_path: Path
) -> None:
    root = (tmp_path / "ws").resolve()
    shutil.copytree(FIXTURES / "context" / "python" / "ws", root)
    # The imports alone: retrieval would show whole windows of models.py too.
    await _start_in(bare_client, root, {"context": {"retrieval": False}})
    main = root / "app" / "main.py"
    text = main.read_text()
    open_doc(bare_client, main.as_uri(), text)
    lines = text.split("\n")
    line = lines.index("    return user")
    prompt = await _prompt_at(bare_client, main.as_uri(), line, len(lines[line]))
    # models.py was never opened: the server resolved the import and read its outline.
    assert "# Path: app/models.py" in prompt
    assert '# def make_user(name: str, email: str = "") -> User:' in prompt
    assert "SECRET_TOKEN" not in prompt  # .env is never read
    assert "unused_helper" not in prompt  # only what the file imports
    assert prompt.index("# def make_user") < prompt.index("def register(name: str) -> User:")

    # A file created on disk and announced by the client becomes a neighbour.
    (root / "app" / "audit.py").write_text(
        "def record(event: str, *, level: int = 1) -> None: ...\n"
    )
    bare_client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[
                types.FileEvent(
                    uri=(root / "app" / "audit.py").as_uri(), type=types.FileChangeType.Created
                )
            ]
        )
    )
    edited = text.replace("import os\n", "import os\nfrom app.audit import record\n")
    edited = edited.replace("    return user", "    record(slug)\n    return user")
    bare_client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=main.as_uri(), version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=edited)],
        )
    )
    lines = edited.split("\n")
    line = lines.index("    return user")
    prompt = await _prompt_at(bare_client, main.as_uri(), line, len(lines[line]))
    assert "# def record(event: str, *, level: int = 1) -> None:" in prompt


SIMILAR = """\
def invoice_total(invoice, tax_rate):
    subtotal = sum(line.price * line.quantity for line in invoice.lines)
    discount = invoice.customer.loyalty_discount(subtotal)
    return round((subtotal - discount) * (1 + tax_rate), 2)
"""


async def test_prompt_has_similar_window_from_an_unopened_file(
    bare_client: LanguageClient, tmp_path: Path
) -> None:
    root = (tmp_path / "ws").resolve()
    (root / "billing").mkdir(parents=True)
    (root / "billing" / "invoices.py").write_text(SIMILAR)
    current = root / "billing" / "quotes.py"
    text = (
        "def quote_total(quote, tax_rate):\n"
        "    subtotal = sum(line.price * line.quantity for line in quote.lines)\n"
        "    discount = quote.customer.loyalty_discount(subtotal)\n"
        "    \n"
    )
    current.write_text(text)
    await _start_in(bare_client, root, {"context": {"imports": False, "retrieval": True}})
    open_doc(bare_client, current.as_uri(), text)
    prompt = await _prompt_at(bare_client, current.as_uri(), 3, 4)
    # invoices.py was never opened: the retrieval index found it by its identifiers.
    assert "# Path: billing/invoices.py" in prompt
    assert "#     return round((subtotal - discount) * (1 + tax_rate), 2)" in prompt
    assert prompt.index("invoice_total") < prompt.index("def quote_total")

    # A file written later and announced by the client is retrieved too.
    (root / "billing" / "orders.py").write_text(
        SIMILAR.replace("invoice", "order").replace("round(", "order_rounding(")
    )
    bare_client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[
                types.FileEvent(
                    uri=(root / "billing" / "orders.py").as_uri(),
                    type=types.FileChangeType.Created,
                )
            ]
        )
    )
    # An edit, so that the request is answered afresh (not from the suggestion just shown).
    bare_client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=current.as_uri(), version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text + "\n")],
        )
    )
    prompt = await _prompt_at(bare_client, current.as_uri(), 3, 4)
    assert "# Path: billing/orders.py" in prompt
    assert "order_rounding((subtotal - discount)" in prompt


REPORT = (
    '"""A report over the totals."""\n\nfrom totals import area, total\n\n\n'
    'def report(items, x, y):\n    """Return the total of items and the area of x by y."""\n'
    "    return "
)


async def test_switching_context_on_reaches_the_next_prompt_at_the_same_place(
    bare_client: LanguageClient, tmp_path: Path
) -> None:
    # Asked again at the same place with the same text, the server would type through the
    # suggestion it showed under the old settings and never build a prompt with context.
    root = (tmp_path / "workspace").resolve()
    root.mkdir()
    (root / "totals.py").write_text(
        "def total(items):\n    return 0\n\n\ndef area(x, y):\n    return 0\n"
    )
    (root / "report.py").write_text(REPORT)
    await _start_in(bare_client, root, {"context": {"enable": False}})
    uri = (root / "report.py").as_uri()
    open_doc(bare_client, uri, REPORT)
    end = (7, len("    return "))
    assert "totals.py" not in await _prompt_at(bare_client, uri, *end)
    bare_client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings=merged(DEFAULT_OPTIONS, {"context": {"enable": True}})
        )
    )
    # The workspace index is built once context is on; until then the prompt has none.
    for _ in range(600):
        if "# Path: totals.py" in await _prompt_at(bare_client, uri, *end):
            break
        await asyncio.sleep(0.05)
    assert "# Path: totals.py" in await _prompt_at(bare_client, uri, *end)
