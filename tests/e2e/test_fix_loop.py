"""The best-of-N "Fix this" loop over LSP: cancelled mid-way, and with a remote that fails.

The server runs over stdio with its temporary files in a folder of this module's own, so what
a loop leaves behind there can be counted. No local model is loaded (the path does not exist):
only the remote answers.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.e2e.conftest import SERVER
from tests.e2e.test_check_diagnostics import apply
from tests.e2e.test_code_actions import BUGGY, capabilities, diagnostic
from tests.unit.engine.actions.test_fix_loop import alive
from tests.unit.engine.backends.test_remote import FaultServer, Reply, openai_chunks, sse

SCRATCH = Path(tempfile.mkdtemp(prefix="pairline-e2e-loop-"))
CONFIG = ClientServerConfig(
    server_command=SERVER, server_env={**os.environ, "TMPDIR": str(SCRATCH)}
)
NO_LOCAL_MODEL = {"name": "/nonexistent/none.gguf"}


@pytest.fixture(scope="module", autouse=True)
def scratch() -> Iterator[Path]:
    yield SCRATCH
    shutil.rmtree(SCRATCH, ignore_errors=True)


@pytest_lsp.fixture(config=CONFIG)
async def client(lsp_client: LanguageClient) -> AsyncIterator[LanguageClient]:
    yield lsp_client
    await lsp_client.shutdown_session()


def workspace(tmp_path: Path, check: str) -> Path:
    (tmp_path / "calc.py").write_text(BUGGY)
    (tmp_path / "check.py").write_text(check)
    return tmp_path


async def start(client: LanguageClient, root: Path, options: dict[str, Any]) -> str:
    await client.initialize_session(
        types.InitializeParams(
            capabilities=capabilities(),
            root_uri=root.as_uri(),
            initialization_options=options,
        )
    )
    uri = (root / "calc.py").as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="python", version=1, text=BUGGY
            )
        )
    )
    return uri


async def fix_action(client: LanguageClient, uri: str) -> types.CodeAction:
    at = types.Position(line=2, character=6)
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=at, end=at),
            context=types.CodeActionContext(diagnostics=[diagnostic(2, "wrong result")]),
        )
    )
    assert result is not None
    return next(a for a in result if isinstance(a, types.CodeAction) and "Fix this" in a.title)


def loop_options(base_url: str, **remote: Any) -> dict[str, Any]:
    return {
        "model": NO_LOCAL_MODEL,
        "remote": {"baseUrl": base_url, "maxTokens": 96, **remote},
        "actions": {
            "trusted": True,
            "checkCommands": {"python": f"{sys.executable} check.py"},
            "candidates": 3,
            "rounds": 3,
            # The model's loop alone; `test_a_small_edit_fixes_…` turns them on.
            "smallEdits": False,
        },
    }


@pytest.mark.model
async def test_a_cancelled_loop_leaves_no_copies_and_no_processes(
    client: LanguageClient, chat_server: str, tmp_path: Path
) -> None:
    pids = tmp_path / "pids"
    pids.mkdir()
    (tmp_path / "ws").mkdir()
    # Every check (the baseline first) starts a child and both sleep: a loop stuck mid-way.
    check = (
        "import os, subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
        f"open(os.path.join({str(pids)!r}, str(os.getpid())), 'w').write(str(child.pid))\n"
        "time.sleep(120)\n"
    )
    root = workspace(tmp_path / "ws", check)
    options = loop_options(chat_server)
    # The check's run on the code as it is then starts before any candidate, whatever the
    # model answers (an answer that copies the code back is never checked).
    options["actions"]["baselineFeedback"] = True
    uri = await start(client, root, options)
    action = await fix_action(client, uri)
    request = client.protocol.send_request(types.CODE_ACTION_RESOLVE, action, msg_id="the-loop")
    for _ in range(600):
        if any(pids.iterdir()):
            break
        await asyncio.sleep(0.1)
    started = [int(p.name) for p in pids.iterdir()] + [int(p.read_text()) for p in pids.iterdir()]
    assert started, "no check started"
    assert any(SCRATCH.glob("pairline-check-*"))  # the workspace copy the check runs in
    client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="the-loop"))
    with pytest.raises((JsonRpcException, asyncio.CancelledError)):
        await asyncio.wait_for(asyncio.wrap_future(request), 60)
    # The answer may come before the clean-up ends: wait for it, however long it takes.
    for _ in range(600):
        if not [p for p in started if alive(p)] and not any(SCRATCH.glob("pairline-check-*")):
            break
        await asyncio.sleep(0.1)
    assert not [p for p in started if alive(p)]
    assert not any(SCRATCH.glob("pairline-check-*"))
    # The server serves on.
    assert await fix_action(client, uri)


async def test_remote_fault_mid_loop_says_why_and_applies_nothing(
    client: LanguageClient, tmp_path: Path
) -> None:
    # Round 1: three wrong answers the check rejects; from round 2 on the server fails.
    wrong = [
        sse(openai_chunks(f"```python\ndef add_numbers(a, b):\n    return a * b + {i}\n```"))
        for i in range(3)
    ]
    fault = FaultServer([*wrong, Reply(500, body='{"error": {"message": "model crashed"}}')])
    await fault.start()
    try:
        check = "import sys\nsys.exit(0 if 'a + b' in open('calc.py').read() else 1)\n"
        root = workspace(tmp_path, check)
        uri = await start(client, root, loop_options(fault.url, maxRetries=0, timeoutS=5.0))
        action = await fix_action(client, uri)
        with pytest.raises(JsonRpcException) as err:
            await asyncio.wait_for(client.code_action_resolve_async(action), 60)
    finally:
        await fault.stop()
    assert err.value.code == -32803  # RequestFailed: no edit comes back
    assert "HTTP 500" in err.value.message and "model crashed" in err.value.message
    shown = [m.message for m in client.messages if m.type == types.MessageType.Error]
    assert any("HTTP 500" in m for m in shown), shown
    assert len(fault.seen) >= 4  # the loop got past its first round
    assert (root / "calc.py").read_text() == BUGGY


async def test_a_small_edit_fixes_what_the_model_copies_back(
    client: LanguageClient, tmp_path: Path
) -> None:
    # A model that answers with the code as it is, as a small one mostly does.
    function = BUGGY.split("\n\n\n")[0]
    copied = sse(openai_chunks(f"```python\n{function}\n```"))
    server = FaultServer([copied])
    await server.start()
    try:
        check = (
            "import sys\nsys.path.insert(0, '.')\nfrom calc import add_numbers\n"
            "assert add_numbers(2, 3) == 5, add_numbers(2, 3)\n"
        )
        root = workspace(tmp_path, check)
        options = loop_options(server.url, maxRetries=0)
        options["actions"]["smallEdits"] = True
        uri = await start(client, root, options)
        action = await fix_action(client, uri)
        resolved = await asyncio.wait_for(client.code_action_resolve_async(action), 120)
    finally:
        await server.stop()
    assert resolved.edit is not None, resolved.title
    fixed = apply(BUGGY, resolved.edit)
    assert "    return a + b\n" in fixed and fixed.replace("a + b", "a - b") == BUGGY
    (root / "calc.py").write_text(fixed)
    assert subprocess.run([sys.executable, "check.py"], cwd=root, check=False).returncode == 0
    ends = [
        r.message
        for reports in client.progress_reports.values()
        for r in reports
        if isinstance(r, types.WorkDoneProgressEnd) and r.message
    ]
    assert any("small edit, line 3: `-` → `+`" in m for m in ends), ends
