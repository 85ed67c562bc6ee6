"""The real server over stdio offers to download a preset the settings name but the hub cache
lacks: `window/showMessageRequest` with a "Download (size)" action, then the download with
`$/progress` from a loopback hub (`HF_ENDPOINT`), then the model loads and prompts with the
preset's FIM layout. The hub serves a tiny GGUF with Qwen's FIM tokens as the Qwen preset's
file (the transfers of the real built-in GGUF are tested in test_pull.py). Declined, nothing is
fetched and the user is told how to pull it later.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from pairline.engine.models import manifest
from pairline.engine.models.presets import Target, cached_file, parse
from tests.e2e.conftest import SERVER, inline, open_doc, start
from tests.hub_server import FakeHub, running_hub
from tests.tiny_gguf import QWEN_FIM, write_tiny_gguf

PRESET = "qwen2.5-coder-0.5b"
GUARD_S = 300  # a hang guard only: every wait ends on an event long before


@pytest.fixture
def target() -> Target:
    found = parse(PRESET, manifest.presets())
    assert found is not None and found.file is not None
    return found


@pytest.fixture
def hub(target: Target, tmp_path: Path) -> Iterator[FakeHub]:
    assert target.file is not None
    served = FakeHub()
    served.add(target.repo, target.file, write_tiny_gguf(tmp_path / "tiny.gguf", QWEN_FIM))
    with running_hub(served) as running:
        yield running


class Editor:
    """A client that answers the download offer with `answer` and records what it saw."""

    def __init__(self, client: LanguageClient, answer: str) -> None:
        self.client = client
        self.asked: list[types.ShowMessageRequestParams] = []
        self.statuses: list[Any] = []

        @client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
        def offer(params: types.ShowMessageRequestParams) -> types.MessageActionItem | None:
            self.asked.append(params)
            return next((a for a in params.actions or [] if a.title.startswith(answer)), None)

        @client.feature("pairline/status")
        def status(params: Any) -> None:
            self.statuses.append(params)

    async def until_status(self, state: str) -> Any:
        async def poll() -> Any:
            while not any(s.state == state for s in self.statuses):
                await asyncio.sleep(0.05)
            return next(s for s in self.statuses if s.state == state)

        return await asyncio.wait_for(poll(), GUARD_S)


@asynccontextmanager
async def editor(hub: FakeHub, hub_cache: Path, answer: str) -> AsyncIterator[Editor]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env |= {"HF_ENDPOINT": hub.url, "HF_HUB_CACHE": str(hub_cache)}
    client = await ClientServerConfig(server_command=SERVER, server_env=env).start()
    assert isinstance(client, LanguageClient)
    user = Editor(client, answer)
    await start(client, {"model": {"name": PRESET}})
    try:
        yield user
    finally:
        await client.shutdown_session()
        await client.stop()


def progress_messages(client: LanguageClient, accept: Callable[[str], bool]) -> list[Any]:
    """The progress sequence whose begin message `accept`s."""
    for reports in client.progress_reports.values():
        begin = reports[0] if reports else None
        if isinstance(begin, types.WorkDoneProgressBegin) and accept(begin.message or ""):
            return reports
    return []


async def test_accepted_offer_downloads_with_progress_then_loads(
    hub: FakeHub, target: Target, tmp_path: Path
) -> None:
    async with editor(hub, tmp_path / "hub", "Download") as user:
        ready = await user.until_status("ready")
        assert ready.model == PRESET
        (asked,) = user.asked
        assert [a.title for a in asked.actions or []] == ["Download (530 MB)", "Not now"]
        assert PRESET in asked.message and target.repo in asked.message
        download = progress_messages(user.client, lambda m: m.startswith("downloading"))
        assert isinstance(download[-1], types.WorkDoneProgressEnd)
        assert "sha256 checked" in (download[-1].message or "")
        percents = [r.percentage for r in download[1:-1]]
        assert percents and percents == sorted(percents) and percents[-1] == 100
        assert len(hub.gets()) == 1
        assert cached_file(target, tmp_path / "hub") is not None
        # The model that loaded is asked, with the Qwen preset's FIM layout.
        open_doc(user.client, "file:///w/calc.py", "total = \nprint(total)\n")
        await inline(user.client, "file:///w/calc.py", 0, 8)
        asked_model = await user.client.protocol.send_request_async("pairline/debug/lastPrompt", {})
        prompt = asked_model.prompt
        assert prompt.startswith("<|fim_prefix|>") and prompt.endswith("<|fim_middle|>")


async def test_declined_offer_fetches_nothing_and_says_how_to_pull(
    hub: FakeHub, tmp_path: Path
) -> None:
    async with editor(hub, tmp_path / "hub", "Not now") as user:
        failed = await user.until_status("error")
        assert f"pairline models pull {PRESET}" in failed.message
        assert len(user.asked) == 1
        assert hub.requests == []
        assert any(f"pairline models pull {PRESET}" in m.message for m in user.client.messages)
