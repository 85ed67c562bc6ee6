"""Usage stats over LSP: a suggestion shown, its command executed as an editor does on accept,
then `pairline stats --json` on the same cache dir. Real server, real model."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.e2e.conftest import inline, items, open_doc, start

pytestmark = pytest.mark.model

URI = "file:///tmp/pairline-e2e/stats.py"
TEXT = "import os\n\n\ndef config_path(name):\n    return os.path."
AT = (4, len("    return os.path."))


async def debug_stats(client: LanguageClient) -> dict[str, Any]:
    result = await asyncio.wrap_future(client.protocol.send_request("pairline/debug/stats", {}))
    return {key: getattr(result, key) for key in result._fields}


async def test_accept_command_is_recorded_and_reported(
    bare_client: LanguageClient, tmp_path: Path
) -> None:
    result = await start(
        bare_client, {"cacheDir": str(tmp_path), "completion": {"recordStats": True}}
    )
    provider = result.capabilities.execute_command_provider
    assert provider is not None and "pairline.accepted" in provider.commands
    open_doc(bare_client, URI, TEXT)
    (item,) = items(await inline(bare_client, URI, *AT))
    command = item.command
    assert command is not None and command.command == "pairline.accepted"
    assert command.arguments and isinstance(command.arguments[0], str)
    # What VS Code and Neovim send when the user accepts the item.
    await bare_client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command.command, arguments=command.arguments)
    )
    counters = await debug_stats(bare_client)
    assert counters["accept_commands"] == 1 and counters["usage_accepted"] == 1

    proc = subprocess.run(
        [sys.executable, "-m", "pairline", "stats", "--json", "--cache-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    python = report["languages"]["python"]
    assert python["shown"] >= 1
    assert python["accepted"] == 1
    assert python["chars_accepted"] == len(str(item.insert_text))
    assert Path(report["png"]).is_file()
