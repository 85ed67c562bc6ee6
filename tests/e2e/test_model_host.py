"""The model host dying under the real server: requests are answered, the user told, work goes on.

The real `pairline serve` runs the real model in its host process; the tests kill that process
with a signal while a completion is being generated, as a native fault in llama.cpp would, and
check what the editor sees: the request answered, one `window/showMessage` naming the signal,
the status, and suggestions again after the restart. Three crashes turn local completions off
for the session while "Fix this" with a remote model (a real `llama_cpp.server`) still works.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.e2e.conftest import DEFAULT_OPTIONS, SERVER, inline, items, merged, open_doc, start
from tests.e2e.test_code_actions import (
    BUGGY,
    URI,
    actions_at,
    apply,
    capabilities,
    diagnostic,
    llama_server,
    remote_options,
)
from tests.e2e.test_completion_cache import stats

pytestmark = pytest.mark.model

__all__ = ["llama_server"]  # the remote model's fixture, shared with the code action tests

SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "sample.py"
STATUS = "pairline/status"
# Only a guard against a hang: every wait below ends on an event, long before this.
GUARD_S = 300


def record_status(client: LanguageClient) -> list[dict[str, Any]]:
    """Every `pairline/status` the server sends, in order."""
    seen: list[dict[str, Any]] = []

    @client.feature(STATUS)
    def status(params: Any) -> None:
        seen.append({"state": params.state, "message": params.message})

    return seen


async def until(condition: Callable[[], bool]) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(poll(), GUARD_S)


async def host_pid(client: LanguageClient, other_than: int | None = None) -> int:
    """The model host's pid once a loaded host runs (a new one when `other_than` is given)."""
    while True:
        pid = (await stats(client)).get("model_host_pid")
        if isinstance(pid, int) and pid != other_than:
            return pid
        await asyncio.sleep(0.05)


def sample_at_return() -> tuple[str, int, int]:
    text = SAMPLE.read_text()
    lines = text.split("\n")
    line = next(i for i, line in enumerate(lines) if line == "    return ")
    return text, line, len(lines[line])


async def kill_while_generating(client: LanguageClient, uri: str, fault: signal.Signals) -> Any:
    """Ask for a completion, kill the host once the model works on it, return the answer."""
    text, line, column = sample_at_return()
    open_doc(client, uri, text)
    pid = await asyncio.wait_for(host_pid(client), GUARD_S)
    request = asyncio.ensure_future(inline(client, uri, line, column))

    async def generating() -> None:
        while not request.done() and (await stats(client))["generations_pending"] < 1:
            await asyncio.sleep(0.005)

    await asyncio.wait_for(generating(), GUARD_S)
    os.kill(pid, fault)
    return await asyncio.wait_for(request, GUARD_S)


def shown(client: LanguageClient, words: str) -> list[str]:
    return [m.message for m in client.messages if words in m.message]


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def client(lsp_client: LanguageClient) -> Any:
    lsp_client.statuses = record_status(lsp_client)  # type: ignore[attr-defined]
    await start(lsp_client)
    yield lsp_client
    await lsp_client.shutdown_session()


@pytest.mark.parametrize("fault", [signal.SIGSEGV, signal.SIGKILL], ids=lambda s: s.name)
async def test_a_host_killed_mid_completion_costs_that_request_only(
    client: LanguageClient, fault: signal.Signals
) -> None:
    uri = "file:///tmp/pairline-e2e-host/a.py"
    first = await kill_while_generating(client, uri, fault)
    assert isinstance(first, types.InlineCompletionList | list)  # answered, not an error
    await until(lambda: bool(shown(client, f"crashed ({fault.name})")))
    (message,) = shown(client, "crashed")  # told once
    assert message.endswith("restarting")
    statuses: list[dict[str, Any]] = client.statuses  # type: ignore[attr-defined]
    await until(lambda: "restarted" in statuses[-1]["message"])
    assert any(fault.name in s["message"] for s in statuses)
    # A new host, and a suggestion from it for the same request (the crashed one showed
    # nothing to type through, and the cache is off in these tests).
    _, line, column = sample_at_return()
    before = (await stats(client))["generations"]
    after = items(await inline(client, uri, line, column))
    assert len(after) == 1 and str(after[0].insert_text).strip(), str(await stats(client))
    after_stats = await stats(client)
    assert after_stats["generations"] > before
    # Memory is reported as both processes' (the model's now lives in the host).
    assert after_stats["rss_model_host_mb"] > 0 and after_stats["rss_server_mb"] > 0
    both = after_stats["rss_server_mb"] + after_stats["rss_model_host_mb"]
    assert after_stats["rss_mb"] == pytest.approx(both, abs=0.2)


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def remote_client(lsp_client: LanguageClient, llama_server: str) -> Any:
    """A client with a remote model for code actions and the local one for completions."""
    caps = capabilities()
    assert caps.text_document is not None
    caps.text_document.inline_completion = types.InlineCompletionClientCapabilities()
    options = merged(DEFAULT_OPTIONS, remote_options(llama_server))
    await lsp_client.initialize_session(
        types.InitializeParams(capabilities=caps, initialization_options=options)
    )
    yield lsp_client
    await lsp_client.shutdown_session()


async def test_three_crashes_turn_local_completions_off_but_remote_fixes_go_on(
    remote_client: LanguageClient,
) -> None:
    client = remote_client
    pid = None
    for _ in range(3):
        pid = await asyncio.wait_for(host_pid(client, other_than=pid), GUARD_S)
        os.kill(pid, signal.SIGSEGV)
    await until(lambda: bool(shown(client, "off for this session")))
    (off,) = shown(client, "off for this session")
    assert "SIGSEGV" in off and "pairline doctor" in off
    assert any("safe configuration" in m for m in shown(client, "crashed again"))
    # Completions answer at once, empty.
    text, line, column = sample_at_return()
    uri = "file:///tmp/pairline-e2e-host/off.py"
    open_doc(client, uri, text)
    assert items(await inline(client, uri, line, column)) == []
    # "Fix this" with the remote model still applies its edit.
    open_doc(client, URI, BUGGY)
    diag = diagnostic(2, "add_numbers(2, 3) returns -1, expected 5")
    (fix,) = [a for a in await actions_at(client, 2, [diag]) if "Fix this" in a.title]
    resolved = await client.code_action_resolve_async(fix)
    assert resolved.edit is not None, resolved.title
    assert apply(BUGGY, resolved.edit, version=1) != BUGGY
