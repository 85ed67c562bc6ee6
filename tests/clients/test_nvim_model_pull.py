"""The download offer in real Neovim: a preset not downloaded yet is offered through
vim.ui.select (Neovim's handler for window/showMessageRequest), downloaded from a loopback hub
(`HF_ENDPOINT`) with progress, then loaded. The hub serves a tiny GGUF with Qwen's FIM tokens
as the Qwen preset's file, so no real model runs."""

from __future__ import annotations

from pathlib import Path

from pairline.engine.models import manifest
from pairline.engine.models.presets import parse
from tests.clients.test_nvim import _env, _run_spec, nvim
from tests.hub_server import FakeHub, running_hub
from tests.tiny_gguf import QWEN_FIM, write_tiny_gguf

__all__ = ["nvim"]  # the fixture, shared with the other Neovim tests


def test_model_pull_spec(nvim: Path, tmp_path: Path) -> None:
    target = parse("qwen2.5-coder-0.5b", manifest.presets())
    assert target is not None and target.file is not None
    hub = FakeHub()
    hub.add(target.repo, target.file, write_tiny_gguf(tmp_path / "tiny.gguf", QWEN_FIM))
    with running_hub(hub):
        env = {k: v for k, v in _env(tmp_path).items() if not k.startswith("HF_")}
        env |= {"HF_ENDPOINT": hub.url, "HF_HUB_CACHE": str(tmp_path / "hub")}
        _run_spec(nvim, "model_pull", tmp_path, env=env)
    assert len(hub.gets()) == 1
