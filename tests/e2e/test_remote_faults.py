"""A misbehaving remote seen from the editor: a clear error, no edit, and the server serves on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.e2e.conftest import SERVER, open_doc
from tests.e2e.test_code_actions import BUGGY, URI, actions_at, diagnostic, initialize
from tests.unit.engine.backends.test_remote import FaultServer, Reply, openai_chunks, sse

FAULTS = {
    "refused": (None, "cannot reach"),
    "500": (Reply(500, body='{"error": {"message": "model crashed"}}'), "HTTP 500"),
    "429": (Reply(429, {"retry-after": "0"}, body="{}"), "rate-limiting"),
    "slow": (Reply(delay_s=5.0, body="{}"), "for 1 s"),
    "malformed": (Reply(headers={"content-type": "application/json"}, body="{oops"), "malformed"),
    "truncated": (sse(openai_chunks("```python\ndef", done=False, finish=False)), "complete"),
}


@pytest.fixture
async def fault() -> AsyncIterator[FaultServer]:
    server = FaultServer([Reply()])
    await server.start()
    yield server
    await server.stop()


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def client(lsp_client: LanguageClient) -> AsyncIterator[LanguageClient]:
    yield lsp_client
    await lsp_client.shutdown_session()


@pytest.mark.parametrize("name", sorted(FAULTS))
async def test_remote_fault_is_reported(
    client: LanguageClient, fault: FaultServer, name: str
) -> None:
    reply, expected = FAULTS[name]
    url = fault.url
    if reply is None:
        await fault.stop()  # nothing listens there now
    else:
        fault.replies = [reply]
    remote = {"baseUrl": url, "timeoutS": 1.0, "connectTimeoutS": 1.0, "maxRetries": 1}
    # Only the remote is under test: no local model is loaded (the path does not exist).
    await initialize(client, {"remote": remote, "model": {"name": "/nonexistent/none.gguf"}})
    open_doc(client, URI, BUGGY)
    actions = await actions_at(client, 2, [diagnostic(2, "wrong result")])
    fix = next(a for a in actions if "Fix this" in a.title)
    with pytest.raises(JsonRpcException) as err:
        await asyncio.wait_for(client.code_action_resolve_async(fix), 20)
    assert err.value.code == -32803  # RequestFailed: no edit comes back
    assert expected in err.value.message
    shown = [m.message for m in client.messages if m.type == types.MessageType.Error]
    assert any(expected in m for m in shown), shown
    # The server still answers.
    assert await actions_at(client, 2, [diagnostic(2, "wrong result")])
