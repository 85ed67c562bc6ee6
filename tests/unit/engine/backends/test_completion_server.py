"""Suggestions from a model server: each API's request shape, and failures that show nothing.

The servers are real sockets on loopback (`FaultServer` plays scripted answers), so the
streaming, the timeouts and the closing of a cancelled stream run as they do against a real
llama-server, vLLM or Ollama; the e2e tests run the same backend against real model servers.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from typing import Any

import pytest

from pairline.engine.backends.base import GenerationParams, PromptParts
from pairline.engine.backends.completion_server import ServerCompletionBackend, ServerUnavailable
from pairline.engine.backends.http import RemoteError
from pairline.engine.backends.server_api import SERVER_LAYOUT, check_endpoint, family_template
from pairline.engine.backends.server_healing import HEAL_ALTERNATIVES
from pairline.engine.core.config import CompletionRemoteConfig
from pairline.engine.core.types import CompletionRequest, Position
from pairline.engine.prompt.fim import build_prompt
from tests.unit.engine.backends.test_remote import FaultServer, Reply, sse

URI = "file:///w/app.py"
PARTS = PromptParts(
    "# app.py\ndef add(a, b):\n    return ",
    "\n\nprint(add(1, 2))\n",
    (("util.py", "# Path: util.py\n# def sub(a, b): ...\n"),),
    URI,
)
PARAMS = GenerationParams(16, parts=PARTS)


def llama_events(pieces: list[str], *, stop: bool = True) -> Reply:
    events = [
        {"content": p, "stop": False, "completion_probabilities": [{"token": p, "logprob": -0.1}]}
        for p in pieces
    ]
    if stop:
        events.append({"content": "", "stop": True, "stop_type": "eos", "tokens_evaluated": 12})
    return sse([f"data: {json.dumps(e)}\n\n" for e in events])


def props(slots: int = 1) -> Reply:
    return Reply(
        headers={"content-type": "application/json"}, body=json.dumps({"total_slots": slots})
    )


def answer(body: Any = None) -> Reply:
    return Reply(headers={"content-type": "application/json"}, body=json.dumps(body or {}))


@pytest.fixture
async def fault() -> AsyncIterator[FaultServer]:
    server = FaultServer([props()])
    await server.start()
    yield server
    await server.stop()


def root(server: FaultServer) -> str:
    return f"http://127.0.0.1:{server.port}"


def backend(url: str, **kw: Any) -> tuple[ServerCompletionBackend, list[tuple[str, str]]]:
    heard: list[tuple[str, str]] = []
    values: dict[str, Any] = {"base_url": url, "timeout_s": 5.0, "connect_timeout_s": 1.0} | kw
    config = CompletionRemoteConfig(**values)
    return ServerCompletionBackend(config, lambda *status: heard.append(status)), heard


async def generate(remote: ServerCompletionBackend, params: GenerationParams = PARAMS) -> Any:
    try:
        return await remote.generate("PROMPT", params, threading.Event())
    finally:
        await remote.aclose()


async def test_llama_server_with_fim_tokens_asks_infill_with_the_parts(fault: FaultServer) -> None:
    fault.replies = [props(4), answer({"content": ""}), llama_events(["a", " + b"])]
    remote, _ = backend(root(fault))
    out = await generate(remote)
    assert [s.path for s in fault.seen] == ["/props", "/infill", "/infill"]
    body = fault.seen[2].body
    assert body["input_prefix"] == PARTS.prefix and body["input_suffix"] == PARTS.suffix
    assert body["input_extra"] == [{"filename": "util.py", "text": PARTS.extra[0][1]}]
    assert body["id_slot"] == -1  # several slots: the server picks by prompt similarity
    assert body["cache_prompt"] is True and body["stream"] is True
    assert body["n_probs"] == 1 and body["n_predict"] == 16
    assert body["t_max_predict_ms"] == 1000
    assert "prompt" not in body
    assert remote.fim is SERVER_LAYOUT
    assert out.text == "a + b" and out.stop_reason == "eos" and out.prompt_tokens == 12
    assert out.logprobs == (-0.1, -0.1) and out.token_ends == (1, 5)


async def test_a_one_slot_server_gets_its_slot(fault: FaultServer) -> None:
    fault.replies = [props(1), answer(), llama_events(["x"])]
    remote, _ = backend(root(fault))
    await generate(remote)
    assert fault.seen[2].body["id_slot"] == 0


async def test_llama_server_without_fim_tokens_uses_completion(fault: FaultServer) -> None:
    fault.replies = [
        props(),
        Reply(501, body='{"error": {"message": "no FIM"}}'),
        llama_events(["1"]),
    ]
    remote, _ = backend(root(fault))
    out = await generate(remote)
    assert remote.fim is None and out.text == "1"
    assert fault.seen[2].path == "/completion"
    assert fault.seen[2].body["prompt"] == "PROMPT" and "stop" not in fault.seen[2].body


async def test_llama_server_with_a_named_family_writes_its_tokens(fault: FaultServer) -> None:
    fault.replies = [props(), llama_events(["1"])]
    remote, _ = backend(root(fault), fim="qwen")
    await generate(remote)
    assert [s.path for s in fault.seen] == ["/props", "/completion"]  # no /infill probe
    assert "<|endoftext|>" in fault.seen[1].body["stop"]  # type: ignore[operator]


@pytest.mark.parametrize(
    ("family", "expected"),
    [
        ("qwen", "<|fim_prefix|>P<|fim_suffix|>S<|fim_middle|>"),
        ("starcoder", "<fim_prefix>P<fim_suffix>S<fim_middle>"),
        (
            "deepseek",
            "<\uff5cfim\u2581begin\uff5c>P<\uff5cfim\u2581hole\uff5c>S<\uff5cfim\u2581end\uff5c>",
        ),
        ("codellama", "<PRE> P <SUF>S <MID>"),
        ("codestral", "[SUFFIX]S[PREFIX]P"),
    ],
)
def test_fim_prompt_per_family(family: str, expected: str) -> None:
    template = family_template(family)
    request = CompletionRequest(
        uri=URI, prefix="P", suffix="S", position=Position(0, 1), language="python"
    )
    prompt = build_prompt(request, budget_tokens=512, suffix_lines=8, fim=template)
    assert prompt.replace("# app.py\n", "") == expected


async def test_openai_completions_request_and_logprobs(fault: FaultServer) -> None:
    chunk = {"choices": [{"text": "a + b", "finish_reason": None,
                          "logprobs": {"tokens": ["a", " +", " b"],
                                       "token_logprobs": [-0.5, -0.25, 0.0]}}]}  # fmt: skip
    end = {"choices": [{"text": "", "finish_reason": "stop"}]}
    fault.replies = [sse([f"data: {json.dumps(chunk)}\n\n", f"data: {json.dumps(end)}\n\n"])]
    remote, _ = backend(root(fault) + "/v1", api="openai", model="coder", fim="starcoder")
    out = await generate(remote)
    seen = fault.seen[0]
    assert seen.path == "/v1/completions"
    assert seen.body["model"] == "coder" and seen.body["logprobs"] == 1
    assert seen.body["prompt"] == "PROMPT" and seen.body["temperature"] == 0.0
    assert "<file_sep>" in seen.body["stop"]  # type: ignore[operator]
    assert out.text == "a + b" and out.logprobs == (-0.5, -0.25, 0.0)
    assert out.token_ends == (1, 3, 5)


async def test_openai_base_without_path_gets_v1(fault: FaultServer) -> None:
    fault.replies = [sse(['data: {"choices": [{"text": "x", "finish_reason": "length"}]}\n\n'])]
    remote, _ = backend(root(fault), api="openai")
    out = await generate(remote)
    assert fault.seen[0].path == "/v1/completions" and out.stop_reason == "max_tokens"
    assert remote.fim is None and out.logprobs == ()  # no log-probabilities: the gate lets it by


async def test_ollama_auto_sends_suffix_for_its_template(fault: FaultServer) -> None:
    lines = [json.dumps({"response": "a + b", "done": False}), json.dumps({"done": True})]
    fault.replies = [Reply(headers={"content-type": "application/x-ndjson"},
                           chunks=[line + "\n" for line in lines])]  # fmt: skip
    remote, _ = backend(root(fault), api="ollama", model="qwen2.5-coder:1.5b")
    out = await generate(remote)
    body = fault.seen[0].body
    assert fault.seen[0].path == "/api/generate" and body["model"] == "qwen2.5-coder:1.5b"
    assert body["prompt"] == PARTS.extra[0][1] + PARTS.prefix and body["suffix"] == PARTS.suffix
    assert "raw" not in body and out.text == "a + b"


async def test_ollama_with_a_family_goes_raw(fault: FaultServer) -> None:
    fault.replies = [Reply(chunks=[json.dumps({"response": "1", "done": True}) + "\n"])]
    remote, _ = backend(root(fault), api="ollama", model="m", fim="codestral")
    await generate(remote)
    body = fault.seen[0].body
    assert body["raw"] is True and body["prompt"] == "PROMPT" and "suffix" not in body
    assert body["options"]["stop"] == ["</s>"]  # type: ignore[index]


async def test_a_500_shows_nothing_and_is_said_once(fault: FaultServer) -> None:
    fault.replies = [props(), answer(), Reply(500, body='{"error": {"message": "boom"}}')]
    remote, heard = backend(root(fault))
    with pytest.raises(ServerUnavailable, match="HTTP 500"):
        await remote.generate("P", PARAMS, threading.Event())
    asked = len(fault.seen)
    # Backing off: the next request gets nothing at once, without asking the server.
    with pytest.raises(ServerUnavailable):
        await generate(remote)
    assert len(fault.seen) == asked
    assert heard == [("down", heard[0][1])] and "boom" in heard[0][1]


async def test_a_truncated_stream_shows_nothing(fault: FaultServer) -> None:
    fault.replies = [props(), answer(), llama_events(["a", "b"], stop=False)]
    remote, heard = backend(root(fault))
    with pytest.raises(ServerUnavailable, match="ended the stream"):
        await generate(remote)
    assert len(heard) == 1


async def test_a_dead_endpoint_shows_nothing_and_is_said_once() -> None:
    server = FaultServer([Reply()])
    await server.start()
    url = root(server)
    await server.stop()  # nothing listens there now
    remote, heard = backend(url)
    for _ in range(3):
        with pytest.raises(ServerUnavailable, match="cannot reach"):
            await remote.generate("P", PARAMS, threading.Event())
    await remote.aclose()
    assert [state for state, _ in heard] == ["down"]
    assert "completion_remote.base_url" in heard[0][1]


async def test_back_after_an_outage_is_said(fault: FaultServer) -> None:
    fault.replies = [props(), answer(), Reply(503, body="busy"), llama_events(["ok"])]
    remote, heard = backend(root(fault))
    with pytest.raises(ServerUnavailable):
        await remote.generate("P", PARAMS, threading.Event())
    remote._retry_at = 0.0  # the back-off has run out
    assert (await generate(remote)).text == "ok"
    assert [state for state, _ in heard] == ["down", "up"]


async def test_complete_suggestion_stops_reading(fault: FaultServer) -> None:
    fault.replies = [props(), answer(), llama_events(["x", "\n", "more", "more"], stop=False)]
    remote, heard = backend(root(fault))
    params = GenerationParams(16, is_complete=lambda text: "\n" in text, parts=PARTS)
    out = await generate(remote, params)
    # Complete before the (truncated) end: no failure, the rest never read.
    assert out.stop_reason == "complete" and out.text == "x\n" and heard == []


class TrickleServer:
    """Streams llama-server events forever, one every few ms, and notes when the client hangs
    up (the closed connection is how a server learns to stop generating)."""

    def __init__(self) -> None:
        self.sent = 0
        self.hung_up = asyncio.Event()
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":")[1]) for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        )  # fmt: skip
        await reader.readexactly(length)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n")
        try:
            while self.sent < 10_000:
                event = {"content": "x", "stop": False}
                writer.write(f"data: {json.dumps(event)}\n\n".encode())
                await writer.drain()
                self.sent += 1
                await asyncio.sleep(0.005)
                if reader.at_eof():
                    break
        except ConnectionError:
            pass
        self.hung_up.set()
        writer.close()

    async def stop(self) -> None:
        self._server.close()


async def test_cancel_mid_generation_closes_the_stream() -> None:
    server = TrickleServer()
    await server.start()
    remote, _ = backend(f"http://127.0.0.1:{server.port}", fim="none")
    remote._probed = True  # /props is not what this server plays
    cancel = threading.Event()

    def stop_after_some(text: str) -> bool:
        if len(text) >= 5:
            cancel.set()  # as a keystroke does, from wherever it happens
        return False

    try:
        out = await remote.generate("P", GenerationParams(100_000, stop_after_some), cancel)
        assert out.stop_reason == "cancelled"
        await asyncio.wait_for(server.hung_up.wait(), 30)
        assert server.sent < 10_000  # the server saw the hang-up long before its end
    finally:
        await remote.aclose()
        await server.stop()


def test_code_goes_only_over_https_or_to_this_machine() -> None:
    def config(url: str, insecure: bool = False) -> CompletionRemoteConfig:
        return CompletionRemoteConfig(base_url=url, allow_insecure=insecure)

    for ok in (
        "https://gpu.example",
        "http://127.0.0.1:8012",
        "http://localhost:1",
        "http://[::1]:8",
    ):
        check_endpoint(config(ok))
    check_endpoint(config("http://gpu-box:8012", insecure=True))
    with pytest.raises(RemoteError, match="allow_insecure") as err:
        check_endpoint(config("http://gpu-box:8012"))
    assert err.value.kind == "config"
    with pytest.raises(RemoteError, match="base_url is empty"):
        check_endpoint(config(""))


async def test_an_insecure_endpoint_is_never_asked() -> None:
    remote, heard = backend("http://192.0.2.1:8012")
    with pytest.raises(ServerUnavailable, match="allow_insecure"):
        await generate(remote)
    assert heard[0][0] == "down"


async def test_the_key_comes_from_the_environment(
    fault: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEAM_KEY", "sk-secret")
    fault.replies = [Reply(401, body="bad key sk-secret")]
    remote, heard = backend(root(fault), api="openai", api_key_env="TEAM_KEY")
    with pytest.raises(ServerUnavailable) as err:
        await generate(remote)
    assert fault.seen[0].headers["authorization"] == "Bearer sk-secret"
    assert "sk-secret" not in str(err.value) and "sk-secret" not in heard[0][1]


def test_cache_identity_names_endpoint_and_model() -> None:
    one, _ = backend("http://127.0.0.1:1", api="openai", model="a")
    other, _ = backend("http://127.0.0.1:1", api="openai", model="b")
    elsewhere, _ = backend("http://127.0.0.1:2", api="openai", model="a")
    assert len({one.identity, other.identity, elsewhere.identity}) == 3


@pytest.mark.parametrize(
    ("api", "separator", "what"),
    [("llama-server", "data: ", "event"), ("openai", "data: ", "event"), ("ollama", "", "line")],
)
def test_each_stream_parser_names_a_malformed_line_and_skips_bookkeeping(
    api: str, separator: str, what: str
) -> None:
    from pairline.engine.backends.completion_server import _APIS
    from pairline.engine.core.config import CompletionRemoteConfig

    config = CompletionRemoteConfig(base_url="http://127.0.0.1:9", api=api)  # type: ignore[arg-type]
    parser = _APIS[api](config).parser()
    assert parser.feed("") == []
    with pytest.raises(RemoteError, match=f"sent a malformed {what}: '{{oops'"):
        parser.feed(separator + "{oops")
    if separator:
        assert parser.feed(": keep-alive") == [] and not parser.done
        assert parser.feed("data: [DONE]") == [] and parser.done


async def test_llama_server_heals_with_a_grammar(fault: FaultServer) -> None:
    fault.replies = [props(), Reply(501, body="{}"), llama_events([" self", ".x", "\n"])]
    remote, _ = backend(root(fault))
    assert remote.heals
    params = GenerationParams(16, is_complete=lambda text: text.endswith("\n"), heal=True)
    try:
        out = await remote.generate("    return sel", params, threading.Event())
    finally:
        await remote.aclose()
    sent = fault.seen[2].body
    assert sent["prompt"] == "    return" and sent["grammar"] == 'root ::= " sel" .*'
    assert sent["n_probs"] == HEAL_ALTERNATIVES  # to score the healed token among its peers
    # The engine sees only what comes after the cursor, with the tokens that reach past it.
    assert out.text == "f.x\n" and out.token_ends == (1, 3, 4) and len(out.logprobs) == 3


async def test_an_answer_that_ignores_the_healing_grammar_shows_nothing(
    fault: FaultServer,
) -> None:
    fault.replies = [props(), Reply(501, body="{}"), llama_events([" other"])]
    remote, _ = backend(root(fault))
    out = await remote.generate("x = sel", GenerationParams(16, heal=True), threading.Event())
    await remote.aclose()
    assert out.text == ""


def test_only_llama_server_heals() -> None:
    for api in ("openai", "ollama"):
        remote, _ = backend("http://127.0.0.1:1", api=api)
        assert not remote.heals


async def test_a_server_that_refuses_the_grammar_answers_without_healing(
    fault: FaultServer,
) -> None:
    refused = Reply(400, body='{"error": {"message": "failed to parse grammar"}}')
    fault.replies = [props(), Reply(501, body="{}"), refused]
    remote, heard = backend(root(fault))
    params = GenerationParams(16, heal=True)
    try:
        out = await remote.generate("x = sel", params, threading.Event())
        assert out.text == "" and not remote.heals and remote.down is None and heard == []
        fault.replies = [llama_events([" selected"])]
        # The engine asks without healing from now on; the server is not counted as down.
        out = await remote.generate("x = sel", GenerationParams(16), threading.Event())
    finally:
        await remote.aclose()
    assert out.text == " selected" and "grammar" not in fault.seen[-1].body


def test_llama_server_parser_reads_the_alternatives() -> None:
    from pairline.engine.backends.server_llama import LlamaServerApi

    api = LlamaServerApi(CompletionRemoteConfig(base_url="http://127.0.0.1:1"))
    top = [{"token": " self", "logprob": -0.2}, {"token": " (", "logprob": -1.9}]
    event = {
        "content": " self",
        "completion_probabilities": [{"logprob": -0.2, "top_logprobs": top}],
    }
    (piece,) = api.parser().feed(f"data: {json.dumps(event)}")
    assert piece.alternatives == (((" self", -0.2), (" (", -1.9)),)
