""" "Fix this" on the user's default path: the real server over stdio, the embedded model, a
trusted workspace whose own pytest file is the check (found, not configured), default settings.

One workspace's function loops forever: its fix must come well within the budget, with its
docstring and comments kept. Another's tests already pass: nothing is applied, and the user is
told why.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.e2e.conftest import SERVER
from tests.e2e.test_check_diagnostics import apply
from tests.e2e.test_code_actions import capabilities
from tests.unit.engine.checks.test_timeouts import TESTS

pytestmark = pytest.mark.model

HANGS = '''"""Small sums."""


def total(n):
    """The sum 1 + 2 + ... + n."""
    s, i = 0, 1
    # count up to n
    while i <= n:
        s += i
        i -= 1
    return s
'''


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def client(lsp_client: LanguageClient) -> AsyncIterator[LanguageClient]:
    yield lsp_client
    await lsp_client.shutdown_session()


def project(root: Path, source: str) -> Path:
    (root / ".venv").symlink_to(Path(sys.prefix))  # the project's venv, with pytest
    (root / "total.py").write_text(source)
    (root / "tests").mkdir()
    (root / "tests" / "test_total.py").write_text(TESTS)
    return root


async def fix_this(client: LanguageClient, root: Path, source: str) -> types.CodeAction:
    """Open total.py in a trusted workspace with nothing else set; resolve "Fix this" on total."""
    await client.initialize_session(
        types.InitializeParams(
            capabilities=capabilities(),
            root_uri=root.as_uri(),
            initialization_options={"actions": {"trusted": True}},
        )
    )
    uri = (root / "total.py").as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="python", version=1, text=source
            )
        )
    )
    at = types.Position(line=9, character=8)
    failing = types.Diagnostic(
        range=types.Range(start=at, end=types.Position(line=9, character=14)),
        message="test_three hangs",
        source="tests",
    )
    offered = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=at, end=at),
            context=types.CodeActionContext(diagnostics=[failing]),
        )
    )
    assert offered is not None
    action = next(a for a in offered if isinstance(a, types.CodeAction) and "Fix this" in a.title)
    # However slow the machine, the loop's own 60 s budget ends it: the wait is only a guard.
    return await asyncio.wait_for(client.code_action_resolve_async(action), 300)


def progress_ends(client: LanguageClient) -> list[str]:
    return [
        r.message
        for reports in client.progress_reports.values()
        for r in reports
        if isinstance(r, types.WorkDoneProgressEnd) and r.message
    ]


# The same loop with its step missing: no one-token edit fixes it, the loop-step edit does.
NO_STEP = HANGS.replace("        i -= 1\n", "")


@pytest.mark.parametrize(
    ("source", "want"),
    [(HANGS, HANGS.replace("i -= 1", "i += 1")), (NO_STEP, HANGS.replace("i -= 1", "i += 1"))],
    ids=["wrong-step", "missing-step"],
)
async def test_an_endless_loop_is_fixed_with_its_docstring_and_comments_kept(
    client: LanguageClient, tmp_path: Path, source: str, want: str
) -> None:
    root = project(tmp_path, source)
    resolved = await fix_this(client, root, source)
    assert resolved.edit is not None, (resolved.title, progress_ends(client), client.messages)
    fixed = apply(source, resolved.edit)
    assert fixed == want, fixed
    (root / "total.py").write_text(fixed)
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=root,
        capture_output=True,
        check=False,
        timeout=120,
    )
    assert tests.returncode == 0, tests.stdout
    ends = progress_ends(client)
    # Verified by the project's tests, and said so: well inside the budget, never out of it.
    assert any("3 tests pass (2 failed before)" in m for m in ends), ends
    assert not any("budget" in m for m in ends), ends


async def test_tests_that_pass_already_get_no_edit_and_a_reason(
    client: LanguageClient, tmp_path: Path
) -> None:
    working = HANGS.replace("i -= 1", "i += 1")
    root = project(tmp_path, working)
    resolved = await fix_this(client, root, working)
    assert resolved.edit is None
    warnings = [m.message for m in client.messages if m.type == types.MessageType.Warning]
    assert any("passes on the code as it is" in m for m in warnings), warnings
    assert (root / "total.py").read_text() == working
