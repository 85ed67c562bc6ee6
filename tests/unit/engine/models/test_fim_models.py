"""FIM detection and prompting through llama.cpp, on tiny generated GGUF manifest."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from pairline.engine.backends.local_llama import LocalLlamaBackend
from pairline.engine.completion.engine import CompletionEngine
from pairline.engine.core.config import ModelConfig, load_settings
from pairline.engine.core.types import CompletionRequest, Position
from pairline.engine.models import manifest
from tests.tiny_gguf import CODEGEMMA_FIM, QWEN_FIM, STARCODER_FIM, write_tiny_gguf


async def _loaded(tmp_path: Path, special: Sequence[str]) -> LocalLlamaBackend:
    path = write_tiny_gguf(tmp_path / "tiny.gguf", special)
    backend = LocalLlamaBackend(manifest.resolve(str(path), tmp_path), ModelConfig(n_ctx=512))
    await backend.load()
    return backend


@pytest.mark.parametrize(
    ("special", "family"),
    [
        (QWEN_FIM, "qwen2.5-coder"),
        (STARCODER_FIM, "starcoder2"),
        (CODEGEMMA_FIM, "codegemma"),  # same FIM tokens as Qwen, told apart by its own
        ((), None),
    ],
)
async def test_family_detected_from_the_vocabulary(
    tmp_path: Path, special: Sequence[str], family: str | None
) -> None:
    backend = await _loaded(tmp_path, special)
    try:
        assert (backend.fim.family if backend.fim else None) == family
    finally:
        backend.close()


async def test_fim_prompt_reaches_the_model_as_special_tokens(tmp_path: Path) -> None:
    backend = await _loaded(tmp_path, QWEN_FIM)
    settings, _ = load_settings({"cache_dir": str(tmp_path), "completion": {"cache": False}})
    engine = CompletionEngine(settings)
    engine.attach(backend)
    try:
        request = CompletionRequest(
            "file:///w/calc.py", "python", "total = ", "\nprint(total)\n", Position(0, 8)
        )
        await engine.complete(request)
        prompt = engine.last_prompt
        assert prompt is not None
        assert prompt.startswith("<|fim_prefix|>") and prompt.endswith("<|fim_middle|>")
        assert "<|fim_suffix|>\nprint(total)\n" in prompt
        # Each FIM marker is one control token, not text spelled out in bytes.
        ids = backend.tokenize_special(prompt)
        marker_ids = {backend.tokenize_special(m)[0] for m in QWEN_FIM[:3]}
        assert marker_ids <= set(ids)
    finally:
        engine.close()
