"""Failing tests as diagnostics, and "Fix this" checked by them, over LSP with a real remote.

A workspace with a bug and a pytest test that catches it (its `.venv` is the interpreter
running these tests, so pytest is there). Trusted, with `actions.testDiagnostics`: saving the
file runs the test, the failure is published on the function the test calls, "Fix this" is
offered there titled with the check, and its edit (from a real `python -m llama_cpp.server` on
loopback) is verified by the same test, so the applied edit makes it pass. Untrusted: nothing
runs (a conftest.py that would leave a mark proves it) and the user is told why.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.e2e.conftest import SERVER, open_doc
from tests.e2e.test_code_actions import capabilities, offset

pytestmark = pytest.mark.model

STATS = '''def add(a, b):
    """Return the sum of a and b."""
    return a - b
'''
TEST = """from stats import add


def test_add():
    assert add(2, 3) == 5
"""
# Loaded by pytest before any test: it leaves a mark whenever the tests run.
CONFTEST = """import pathlib

pathlib.Path(__file__).with_name("ran").write_text("yes")
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / ".venv").symlink_to(Path(sys.prefix))
    (tmp_path / "tests").mkdir()
    (tmp_path / "stats.py").write_text(STATS)
    (tmp_path / "tests" / "test_stats.py").write_text(TEST)
    (tmp_path / "tests" / "conftest.py").write_text(CONFTEST)
    return tmp_path


async def start(client: LanguageClient, root: Path, chat_server: str, trusted: bool) -> None:
    options: dict[str, Any] = {
        "remote": {"baseUrl": chat_server, "maxTokens": 256},
        "actions": {"trusted": trusted, "testDiagnostics": True, "rounds": 3},
        "completion": {"cache": False, "recordStats": False},
    }
    await client.initialize_session(
        types.InitializeParams(
            capabilities=capabilities(),
            root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="project")],
            initialization_options=options,
        )
    )


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def client(lsp_client: LanguageClient) -> AsyncIterator[LanguageClient]:
    yield lsp_client
    await lsp_client.shutdown_session()


async def published_until(client: LanguageClient, done: Callable[[], bool]) -> None:
    """Wait for diagnostics until `done()` (a hang guard of 2 minutes, not a speed check)."""
    while not done():
        await asyncio.wait_for(
            client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), 120
        )


def save(client: LanguageClient, uri: str) -> None:
    client.text_document_did_save(
        types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )


async def actions_at(
    client: LanguageClient, uri: str, line: int, diagnostics: list[types.Diagnostic]
) -> list[types.CodeAction]:
    at = types.Position(line=line, character=4)
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=at, end=at),
            context=types.CodeActionContext(diagnostics=diagnostics),
        )
    )
    return [a for a in result or [] if isinstance(a, types.CodeAction)]


def apply(text: str, edit: types.WorkspaceEdit) -> str:
    assert edit.document_changes
    (change,) = edit.document_changes
    assert isinstance(change, types.TextDocumentEdit)
    for e in sorted(change.edits, key=lambda e: offset(text, e.range.start), reverse=True):
        text = text[: offset(text, e.range.start)] + e.new_text + text[offset(text, e.range.end) :]
    return text


async def test_a_failing_test_becomes_a_diagnostic_that_fix_this_makes_pass(
    client: LanguageClient, project: Path, chat_server: str
) -> None:
    await start(client, project, chat_server, trusted=True)
    uri = (project / "stats.py").as_uri()
    open_doc(client, uri, STATS)
    save(client, uri)
    test_uri = (project / "tests" / "test_stats.py").as_uri()
    # Each file's diagnostics come in a notification of their own: wait for both.
    await published_until(
        client, lambda: bool(client.diagnostics.get(uri)) and test_uri in client.diagnostics
    )
    (diagnostic,) = client.diagnostics[uri]
    assert diagnostic.source == "pairline"
    assert diagnostic.range.start.line == 0  # `def add`: what the failing test calls
    assert diagnostic.message == "test_add failed: assert -1 == 5"
    # The test's own failing line is marked too.
    assert [d.range.start.line for d in client.diagnostics[test_uri]] == [4]

    actions = await actions_at(client, uri, 0, [diagnostic])
    (fix,) = [a for a in actions if "Fix this" in a.title]
    assert "checked by pytest tests/test_stats.py" in fix.title
    assert list(fix.diagnostics or []) == [diagnostic]
    # The failure's text goes to the model with the action.
    assert fix.data["diagnostics"] == [
        "line 1: pairline: test_add failed: assert -1 == 5 — tests/test_stats.py:5: "
        "assert add(2, 3) == 5 | assert -1 == 5 | +  where -1 = add(2, 3)"
    ]

    resolved = await client.code_action_resolve_async(fix)
    assert resolved.edit is not None, resolved.title  # only an edit the test passed with
    fixed = apply(STATS, resolved.edit)
    (project / "stats.py").write_text(fixed)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout

    # Saved with the fix, the check passes and the diagnostics go.
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=fixed)],
        )
    )
    save(client, uri)
    await published_until(
        client, lambda: not client.diagnostics.get(uri) and not client.diagnostics.get(test_uri)
    )


async def test_an_untrusted_workspace_runs_nothing_and_says_why(
    client: LanguageClient, project: Path, chat_server: str
) -> None:
    await start(client, project, chat_server, trusted=False)
    uri = (project / "stats.py").as_uri()
    open_doc(client, uri, STATS)
    save(client, uri)
    await asyncio.wait_for(client.wait_for_notification(types.WINDOW_SHOW_MESSAGE), 60)
    (message,) = client.messages
    assert "not trusted" in message.message and "actions.trusted" in message.message

    selection = types.Diagnostic(
        range=types.Range(
            start=types.Position(line=2, character=4), end=types.Position(line=2, character=16)
        ),
        message="add(2, 3) returns -1, expected 5",
    )
    (fix,) = [a for a in await actions_at(client, uri, 2, [selection]) if "Fix this" in a.title]
    assert "pytest tests/test_stats.py not run: the workspace is not trusted" in fix.title
    await client.code_action_resolve_async(fix)  # verified by parsing only
    assert not (project / "tests" / "ran").exists()
    assert uri not in client.diagnostics
