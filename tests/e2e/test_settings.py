"""Settings pushed by the editor while the server runs."""

from __future__ import annotations

import asyncio
import sys

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.e2e.conftest import inline, items, open_doc

pytestmark = pytest.mark.model

URI = "file:///tmp/pairline-e2e/settings.py"
TEXT = "import math\n\ndef area(r):\n    return math."
AT = (3, len("    return math."))


def _configure(client: LanguageClient, settings: object) -> None:
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=settings))


async def test_language_switch_applies_to_the_next_request(client: LanguageClient) -> None:
    open_doc(client, URI, TEXT)
    assert items(await inline(client, URI, *AT))
    _configure(client, {"pairline": {"completion": {"enable": {"*": True, "python": False}}}})
    assert items(await inline(client, URI, *AT)) == []
    _configure(client, {"completion": {"enable": {"*": True}}})
    assert items(await inline(client, URI, *AT))


async def test_switching_model_reloads_it(client: LanguageClient) -> None:
    open_doc(client, URI, TEXT)
    assert items(await inline(client, URI, *AT))
    before = len(client.progress_reports)
    _configure(client, {"model": {"name": "smollm2-135m"}})
    # The next request waits for the new model, then answers from it.
    await inline(client, URI, *AT)
    assert len(client.progress_reports) == before + 1
    _configure(client, {"model": {"name": "no-such-model"}})
    assert items(await inline(client, URI, *AT)) == []
    assert any("unknown model" in m.message for m in client.messages)


async def test_server_exits_when_the_client_goes_away() -> None:
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pairline",
        "serve",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert server.stdin is not None
    server.stdin.close()  # the editor died without shutdown/exit
    code = await asyncio.wait_for(server.wait(), timeout=60)
    assert code == 0
