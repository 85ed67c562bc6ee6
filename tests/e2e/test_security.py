"""Security over the real server: what reaches a remote model, what is logged, where it listens.

A planted API key and planted secrets in the edited file, a real loopback HTTP server playing
the remote model and recording every request: the secrets never arrive there, the key only in
its header, and neither shows up in logs, LSP messages, errors or `pairline doctor` output.
A `.env` file is never sent at all, and a model that cannot load does not stop code actions
from the remote.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_reliability import RawServer
from tests.unit.engine.backends.test_remote import FaultServer, Reply, openai_chunks, sse

KEY_ENV = "PAIRLINE_PLANTED_KEY"
KEY = "sk-planted-" + "Zq7" * 12  # never a real key; its shape is what redaction looks for
AWS_ID = "AKIA" + "PLANTED0EXAMPLE0"
GITHUB = "ghp_" + "Pl4nted" * 6
URI = "file:///tmp/pairline-security/settings.py"
SOURCE = f'''import boto3

AWS_KEY_ID = "{AWS_ID}"
GITHUB_TOKEN = "{GITHUB}"


def add(a, b):
    return a - b
'''
# The model's fix; the region it rewrites holds no secret, the lines above it do.
DOCTOR = [sys.executable, "-m", "pairline", "doctor", "--no-load", "--config"]
ANSWER = "```python\ndef add(a, b):\n    return a + b\n```"


def _bad_model(tmp_path: Path) -> str:
    """A file that is not a GGUF model: completions are off, code actions go remote."""
    path = tmp_path / "broken.gguf"
    path.write_bytes(b"not a gguf file at all" * 100)
    return str(path)


async def _call(server: RawServer, method: str, params: Any) -> Any:
    return await asyncio.to_thread(server.request, method, params)


async def _fix_action(server: RawServer, uri: str, line: int) -> dict[str, Any]:
    where = {"line": line, "character": 0}
    diagnostic = {"range": {"start": where, "end": where}, "message": "wrong sum", "severity": 1}
    answer = await _call(
        server,
        "textDocument/codeAction",
        {
            "textDocument": {"uri": uri},
            "range": {"start": where, "end": {"line": line, "character": 1}},
            "context": {"diagnostics": [diagnostic]},
        },
    )
    actions = answer["result"]
    return next(a for a in actions if "Fix this" in a["title"])


@pytest.fixture
async def remote() -> Any:
    fault = FaultServer([sse(openai_chunks(ANSWER))])
    await fault.start()
    yield fault
    await fault.stop()


async def test_secrets_stay_home_and_the_key_is_never_echoed(
    remote: FaultServer, tmp_path: Path
) -> None:
    log = tmp_path / "server.log"
    server = RawServer(log, env={KEY_ENV: KEY}, args=("--log-level", "debug"))
    try:
        options = {
            "remote": {"baseUrl": remote.url, "apiKeyEnv": KEY_ENV, "maxRetries": 0},
            "model": {"name": _bad_model(tmp_path)},
            "actions": {"rounds": 1},
        }
        await asyncio.to_thread(server.initialize, options)
        # The broken model is reported at start; code actions via the remote still work.
        assert await asyncio.to_thread(server.wait_ready) == "error"
        server.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": URI, "languageId": "python", "version": 1, "text": SOURCE}},
        )
        action = await _fix_action(server, URI, 7)
        assert "(remote:" in action["title"]
        resolved = await _call(server, "codeAction/resolve", action)
        assert "result" in resolved, resolved
        edits = resolved["result"]["edit"]["changes"][URI]
        assert any("return a + b" in e["newText"] for e in edits)

        sent = json.dumps(remote.seen[0].body)
        for secret in (AWS_ID, GITHUB, KEY):
            assert secret not in sent
        assert "REDACTED_SECRET_" in sent  # the code around them still went
        assert remote.seen[0].headers["authorization"] == f"Bearer {KEY}"

        # A server that echoes the key in its error: the user sees the error, not the key.
        remote.replies = [Reply(401, body=json.dumps({"error": {"message": f"bad key {KEY}"}}))]
        refused = await _call(server, "codeAction/resolve", action)
        assert refused["error"]["code"] == -32803
        assert "401" in refused["error"]["message"] and KEY not in json.dumps(refused)

        # A .env file is never sent, even on request.
        env_uri = "file:///tmp/pairline-security/.env"
        server.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": env_uri,
                    "languageId": "dotenv",
                    "version": 1,
                    "text": f"AWS_ACCESS_KEY_ID={AWS_ID}\nDEBUG=1\n",
                }
            },
        )
        seen_before = len(remote.seen)
        env_action = await _fix_action(server, env_uri, 0)
        env_answer = await _call(server, "codeAction/resolve", env_action)
        assert "never sent to a remote model" in env_answer["error"]["message"]
        assert len(remote.seen) == seen_before
        assert KEY not in json.dumps(server.notifications)
    finally:
        assert await asyncio.to_thread(server.close) == 0
    text = log.read_text(encoding="utf-8", errors="replace")
    assert "Sending data" in text  # debug logging was on: everything was logged
    assert KEY not in text


async def test_doctor_never_prints_the_key(remote: FaultServer, tmp_path: Path) -> None:
    config = tmp_path / "pairline.json"
    config.write_text(json.dumps({"remote": {"base_url": remote.url, "api_key_env": KEY_ENV}}))
    for reply in (Reply(200, body="{}"), Reply(401, body=json.dumps({"error": KEY}))):
        remote.replies = [reply]
        for extra in ([], ["--json"]):
            done = await asyncio.to_thread(
                subprocess.run,
                [*DOCTOR, str(config), *extra],
                capture_output=True,
                text=True,
                timeout=300,
                env={**os.environ, KEY_ENV: KEY},
            )
            output = done.stdout + done.stderr
            assert "remote" in output
            assert KEY not in output
    # The key did go where it belongs.
    assert remote.seen and remote.seen[0].headers["authorization"] == f"Bearer {KEY}"


def _listening(port: int) -> list[str]:
    """Local addresses (hex, as /proc/net/tcp writes them) listening on `port`."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                address, state = fields[1], fields[3]
                if state == "0A" and int(address.rsplit(":", 1)[1], 16) == port:
                    found.append(address.rsplit(":", 1)[0])
    return found


def test_tcp_listens_on_loopback_unless_told_otherwise(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "pairline", "serve", "--tcp", "--port", str(port)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(3000):  # a guard against a hang, not a timing requirement
            if _listening(port):
                break
            assert proc.poll() is None, "the server exited"
            time.sleep(0.1)
        assert _listening(port) == ["0100007F"]  # 127.0.0.1 only, no 0.0.0.0, no [::]
    finally:
        proc.terminate()
        proc.wait(timeout=60)
