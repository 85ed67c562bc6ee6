"""Cross-file context over LSP: the prompt carries signatures from files the editor never opened."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.conftest import FIXTURES
from tests.e2e.conftest import DEFAULT_OPTIONS, capabilities, open_doc

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


async def test_prompt_has_imported_signatures_from_unopened_files(
    bare_client: LanguageClient, tmp_path: Path
) -> None:
    root = (tmp_path / "ws").resolve()
    shutil.copytree(FIXTURES / "context" / "python" / "ws", root)
    await bare_client.initialize_session(
        types.InitializeParams(
            capabilities=capabilities(),
            initialization_options=DEFAULT_OPTIONS,
            root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="ws")],
        )
    )
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
