"""The peer: a llama.cpp-compatible HTTP server driven the way llama.vim drives one.

For a model without FIM tokens llama.vim sends the last lines before the cursor as a plain
completion prompt with prompt caching on, asks for a few tokens and stops at the newline. The
native llama.cpp server takes that at `/completion`; llama-cpp-python's `llama_cpp.server`
only has the OpenAI-style `/v1/completions`, which is used when `/completion` is missing.
A prompt longer than a native server's context loses lines from its top until it fits.
`start_local_peer` runs `python -m llama_cpp.server` on the same model file for `--peer auto`;
`serve` starts whichever peer a run names (`auto`, `llama-server`) or takes its URL.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from pairline.bench.harness import llama_server, servers
from pairline.engine.core.config import ModelConfig

N_PREDICT = 32
AUTO = "auto"  # --peer value: llama_cpp.server on the same model
LLAMA_SERVER = "llama-server"  # --peer value: llama.cpp's own server, built from the sdist


def llama_vim_prompt(prefix: str, lines: int) -> str:
    """The last `lines` lines before the cursor, the cursor line's beginning included."""
    return "\n".join(prefix.split("\n")[-(lines + 1) :])


@dataclass
class Peer:
    """An HTTP completion endpoint and which dialect it speaks."""

    url: str
    client: httpx.Client
    native: bool = False  # llama.cpp's /completion; else /v1/completions
    n_ctx: int | None = None  # the slot's context as a native server reports it in /props

    def fit(self, prompt: str) -> str:
        """`prompt` less whole lines from its top until it fits in the server's context.

        llama.vim's /infill is trimmed by the server, but /completion refuses a prompt longer
        than the context (HTTP 400), and 256 lines often are. Counted with the server's own
        tokenizer, before the timed request.
        """
        if not self.native or self.n_ctx is None:
            return prompt
        budget = self.n_ctx - N_PREDICT - 1  # the server adds BOS

        def fits(text: str) -> bool:
            response = self.client.post(f"{self.url}/tokenize", json={"content": text})
            response.raise_for_status()
            return len(response.json()["tokens"]) <= budget

        if fits(prompt):
            return prompt
        lines = prompt.split("\n")
        low, high = 1, len(lines) - 1  # the fewest lines to drop lies in [low, high]
        while low < high:
            middle = (low + high) // 2
            if fits("\n".join(lines[middle:])):
                high = middle
            else:
                low = middle + 1
        return "\n".join(lines[low:])

    def request(self, prompt: str) -> tuple[str, dict[str, Any]]:
        """The endpoint path and JSON body that ask for the completion of `prompt`."""
        if self.native:
            return "/completion", {
                "prompt": prompt,
                "n_predict": N_PREDICT,
                "cache_prompt": True,
                "stop": ["\n"],
                "temperature": 0.0,
                "top_k": 1,
            }
        return "/v1/completions", {
            "prompt": prompt,
            "max_tokens": N_PREDICT,
            "cache_prompt": True,
            "stop": ["\n"],
            "temperature": 0.0,
            "top_k": 1,
            "repeat_penalty": 1.0,
        }

    def suggestion(self, data: Any) -> str:
        """The suggestion in a JSON answer to `request`: its first line."""
        text = str(data.get("content", "")) if self.native else str(data["choices"][0]["text"])
        return text.split("\n", 1)[0]

    def complete(self, prompt: str) -> tuple[str, float]:
        """The completion for `prompt` and the seconds the round trip took."""
        started = time.perf_counter()
        path, body = self.request(prompt)
        response = self.client.post(f"{self.url}{path}", json=body)
        response.raise_for_status()
        return self.suggestion(response.json()), time.perf_counter() - started


def connect(url: str, timeout_s: float = 120.0) -> Peer:
    """A Peer for `url`, probing which endpoint it serves."""
    url = url.rstrip("/")
    client = httpx.Client(timeout=httpx.Timeout(timeout_s, connect=10.0))
    peer = Peer(url, client)
    try:
        probe = client.post(
            f"{url}/completion", json={"prompt": "a", "n_predict": 1, "cache_prompt": True}
        )
        peer.native = probe.status_code == 200 and "content" in probe.json()
    except (httpx.HTTPError, ValueError):
        peer.native = False
    if peer.native:
        try:
            n_ctx = client.get(f"{url}/props").json()["default_generation_settings"]["n_ctx"]
            peer.n_ctx = int(n_ctx) if n_ctx else None
        except (httpx.HTTPError, ValueError, KeyError, TypeError):
            peer.n_ctx = None  # then prompts go as they are
    return peer


def _models_listed(url: str) -> bool:
    return httpx.get(f"{url}/v1/models", timeout=2.0).status_code == 200


def start_local_peer(
    model: Path, n_ctx: int, threads: int, n_batch: int, log_path: Path
) -> contextlib.AbstractContextManager[str]:
    """Run `python -m llama_cpp.server` on `model` on loopback; yields its base URL."""
    try:
        import llama_cpp.server  # noqa: F401  # only to fail early with a helpful message
    except ImportError as exc:
        raise SystemExit(
            f"pairline: --peer auto needs llama-cpp-python[server] ({exc.name} is missing): "
            "pip install 'pairline[bench]'"
        ) from None
    port = servers.free_port()
    command: list[str] = [
        sys.executable,
        "-m",
        # llama_cpp.server itself, loading weights as the engine does on this CPU.
        "pairline.bench.harness.llama_cpp_server",
        "--model",
        str(model),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        str(n_ctx),
        "--n_threads",
        str(threads),
        "--n_threads_batch",
        str(threads),
        "--n_batch",
        str(n_batch),
        "--verbose",
        "False",
    ]
    return servers.http_server("the peer server", command, port, _models_listed, log_path)


def ensure_binary(peer_dir: str | None) -> Path:
    """llama-server for the peer, built first where there is none (`--peer-dir` or the cache)."""
    return llama_server.ensure_llama_server(Path(peer_dir).expanduser() if peer_dir else None)


@contextlib.contextmanager
def serve(
    spec: str,
    model: Path,
    config: ModelConfig,
    log_path: Path,
    binary: Path | None = None,
    parallel: int = 1,
) -> Iterator[tuple[str, str]]:
    """The peer `spec` names, running until the block ends: yields its URL and a description.

    `auto`: llama_cpp.server on `model`; `llama-server`: `binary` on `model`; anything else is
    the URL of a server that is already running. Started peers get the engine's context size,
    threads and batch, so that they compare like for like; a started llama-server has
    `parallel` slots.
    """
    sizes = (config.n_ctx, config.threads, config.n_batch)
    if spec == AUTO:
        with start_local_peer(model, *sizes, log_path) as url:
            yield url, f"auto: python -m llama_cpp.server ({model.name})"
    elif spec == LLAMA_SERVER:
        if binary is None:
            raise ValueError("the llama-server peer needs its binary (ensure_binary)")
        started = llama_server.start_llama_server(
            binary, model, *sizes, log_path, parallel=parallel
        )
        with started as url:
            yield url, f"llama-server ({llama_server.binary_version(binary)}, {model.name})"
    else:
        yield spec, spec
