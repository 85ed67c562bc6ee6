"""Suggestions from a model server (`completion.backend = "remote"`), over stdio, as an editor
asks for them: served by llama-cpp-python's `python -m llama_cpp.server` (OpenAI-compatible)
and by llama.cpp's own `llama-server` (`pairline bench build-peer`), both on the built-in model;
a server that is down, errs or cuts its stream short gives no suggestion and one message; a
request cancelled mid-generation closes the stream, so the server stops working on it.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import platformdirs
import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from pairline.engine.core.types import EngineError
from pairline.engine.models import manifest
from tests.e2e.conftest import SERVER, inline, items, open_doc, start
from tests.e2e.test_completion_cache import stats
from tests.unit.engine.backends.test_remote import FaultServer, Reply, sse

pytestmark = pytest.mark.model

SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "sample.py"
WARNING = "no suggestions from the model server"
GUARD_S = 300  # only a guard against a hang: every wait ends on an event long before


def builtin_model() -> Path:
    try:
        return manifest.resolve("gemma3-270m", Path(platformdirs.user_cache_dir("pairline"))).path
    except EngineError as exc:
        pytest.skip(f"the built-in model is not available: {exc}")


@pytest.fixture(scope="module")
def python_server() -> Iterator[str]:
    """`python -m llama_cpp.server` on the built-in model; its base URL."""
    from pairline.bench.harness.peer import start_local_peer

    model = builtin_model()
    with (
        tempfile.TemporaryDirectory(prefix="pairline-remote-") as folder,
        start_local_peer(model, 2048, 2, 256, Path(folder) / "server.log") as url,
    ):
        yield url


def llama_server_binary() -> Path:
    from pairline.bench.harness import llama_server

    version = llama_server.installed_version()
    binary = llama_server.binary_path(llama_server.default_dir(version))
    if llama_server.binary_version(binary) is None:
        pytest.skip(f"llama-server is not built for {version}: run `pairline bench build-peer`")
    return binary


@pytest.fixture(scope="module")
def native_server() -> Iterator[str]:
    """llama.cpp's `llama-server` on the built-in model, with its metrics on; its base URL."""
    from pairline.bench.harness import llama_server

    binary = llama_server_binary()
    model = builtin_model()
    with tempfile.TemporaryDirectory(prefix="pairline-llama-server-") as folder:
        log = Path(folder) / "server.log"
        extra = ("--metrics", "--slots")
        with llama_server.start_llama_server(binary, model, 4096, 2, 256, log, extra=extra) as url:
            yield url


def remote(url: str, api: str, **settings: Any) -> dict[str, Any]:
    """Settings for suggestions from `url`; code actions go remote too, so no feature needs
    the local model and none is loaded."""
    return {
        "completion": {"backend": "remote", "minConfidence": 0, "speculative": False},
        "completionRemote": {"baseUrl": url, "api": api, **settings},
        "actions": {"backend": {"*": "remote"}},
    }


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def client(lsp_client: LanguageClient) -> AsyncIterator[LanguageClient]:
    yield lsp_client
    await lsp_client.shutdown_session()


def at_return() -> tuple[str, int, int]:
    text = SAMPLE.read_text()
    lines = text.split("\n")
    line = next(i for i, line in enumerate(lines) if line == "    return ")
    return text, line, len(lines[line])


async def suggestion_at_return(client: LanguageClient) -> str:
    text, line, column = at_return()
    open_doc(client, SAMPLE.as_uri(), text)
    found = items(await inline(client, SAMPLE.as_uri(), line, column))
    assert len(found) == 1
    return str(found[0].insert_text)


def warnings(client: LanguageClient) -> list[str]:
    return [m.message for m in client.messages if WARNING in m.message]


async def test_suggestions_from_llama_cpp_server(
    client: LanguageClient, python_server: str
) -> None:
    await start(client, remote(python_server + "/v1", "openai"))
    assert (await suggestion_at_return(client)).strip()
    assert (await stats(client)).get("model_host_pid") is None  # no local model was loaded
    assert warnings(client) == []


async def test_suggestions_from_llama_server(client: LanguageClient, native_server: str) -> None:
    await start(client, remote(native_server, "llama-server"))
    assert (await suggestion_at_return(client)).strip()
    assert warnings(client) == []


async def test_llama_server_heals_a_word_being_typed(
    client: LanguageClient, native_server: str
) -> None:
    # The prompt ends inside a word: the word goes to the server as a grammar the answer must
    # begin with (a server that refused the grammar would answer HTTP 400: no suggestion), and
    # the suggestion shows only what comes after the cursor.
    await start(client, remote(native_server, "llama-server"))
    uri = SAMPLE.with_name("healing.py").as_uri()
    text = (
        "def total(values):\n    result = 0\n    for value in values:\n"
        "        result += value\n    return res"
    )
    open_doc(client, uri, text)
    found = items(await inline(client, uri, 4, len("    return res")))
    assert len(found) == 1 and str(found[0].insert_text).startswith("ult"), found
    assert warnings(client) == []


async def test_dead_endpoint_gives_nothing_and_says_so_once(client: LanguageClient) -> None:
    fault = FaultServer([Reply()])
    await fault.start()
    url = f"http://127.0.0.1:{fault.port}"
    await fault.stop()  # nothing listens there now
    await start(client, remote(url, "llama-server"))
    text, line, column = at_return()
    open_doc(client, SAMPLE.as_uri(), text)
    for _ in range(4):
        assert items(await inline(client, SAMPLE.as_uri(), line, column)) == []
    said = warnings(client)
    assert len(said) == 1 and "cannot reach" in said[0], said


@pytest.mark.parametrize("fault_name", ["500", "truncated"])
async def test_server_error_or_cut_stream_shows_nothing(
    client: LanguageClient, fault_name: str
) -> None:
    events = [{"choices": [{"text": "a + b", "finish_reason": None}]}]
    reply = {
        "500": Reply(500, body='{"error": {"message": "model crashed"}}'),
        "truncated": sse([f"data: {json.dumps(e)}\n\n" for e in events]),
    }[fault_name]
    fault = FaultServer([reply])
    await fault.start()
    try:
        await start(client, remote(fault.url, "openai"))
        text, line, column = at_return()
        open_doc(client, SAMPLE.as_uri(), text)
        assert items(await inline(client, SAMPLE.as_uri(), line, column)) == []
        assert items(await inline(client, SAMPLE.as_uri(), line, column)) == []
    finally:
        await fault.stop()
    assert fault.seen[0].path == "/v1/completions"
    assert len(warnings(client)) == 1


def metric(url: str, name: str) -> float:
    found = re.search(rf"^llamacpp:{name} (\S+)$", httpx.get(f"{url}/metrics").text, re.M)
    assert found, f"llama-server has no metric {name}"
    return float(found.group(1))


async def until_slots(url: str, processing: bool) -> None:
    async def poll() -> None:
        async with httpx.AsyncClient() as http:
            while True:
                slots = (await http.get(f"{url}/slots")).json()
                if any(slot.get("is_processing") for slot in slots) == processing:
                    return
                await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), GUARD_S)


async def test_cancel_mid_generation_closes_the_stream(
    client: LanguageClient, native_server: str
) -> None:
    if "llamacpp:tokens_predicted_total" not in httpx.get(f"{native_server}/metrics").text:
        pytest.skip("this llama-server has no metrics")
    if httpx.get(f"{native_server}/slots").status_code != httpx.codes.OK:
        pytest.skip("this llama-server does not list its slots")
    # A long prompt, whose next line is long too: the server spends a while evaluating it,
    # and, left alone, many tokens writing the line.
    options = remote(native_server, "llama-server")
    options["completion"]["promptTokens"] = 3000
    await start(client, options | {"context": {"enable": False}})
    step = "def step_{0}(value):\n    return value * {0} + value // {1} - {2} * value + {0}\n\n"
    body = "".join(step.format(i, i % 7 + 1, i * 3) for i in range(300))
    text = body + "def last(value):\n    return "
    uri = "file:///tmp/pairline-e2e/long.py"
    open_doc(client, uri, text)
    lines = text.split("\n")
    params = types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=len(lines) - 1, character=len(lines[-1])),
        context=types.InlineCompletionContext(
            trigger_kind=types.InlineCompletionTriggerKind.Invoked
        ),
    )

    async def tokens_for(request_id: str, cancel: bool) -> float:
        """Tokens the server generated for the request (cancelled once its slot works)."""
        before = metric(native_server, "tokens_predicted_total")
        future = asyncio.wrap_future(
            client.protocol.send_request(
                types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id=request_id
            )
        )
        if cancel:
            await until_slots(native_server, processing=True)
            client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=request_id))
            with pytest.raises(Exception) as caught:
                await future
            assert getattr(caught.value, "code", None) == types.LSPErrorCodes.RequestCancelled
        else:
            assert items(await future)  # the whole suggestion, read to its end
        await until_slots(native_server, processing=False)
        return metric(native_server, "tokens_predicted_total") - before

    cancelled = await tokens_for("cancelled", cancel=True)
    whole = await tokens_for("whole", cancel=False)
    # The cancelled stream was closed before the suggestion was: the server stopped early.
    assert cancelled < whole, (cancelled, whole)
    assert warnings(client) == []


def test_complete_command_uses_the_server(python_server: str, tmp_path: Path) -> None:
    _text, line, column = at_return()
    config = tmp_path / "pairline.json"
    config.write_text(json.dumps(remote(python_server + "/v1", "openai")))
    done = subprocess.run(
        [sys.executable, "-m", "pairline", "complete", f"{SAMPLE}:{line + 1}:{column + 1}",
         "--config", str(config), "--json", "-q"],
        capture_output=True, text=True, timeout=GUARD_S,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["completion"].strip()
    assert report["model"] == python_server  # no model named: the server's address
