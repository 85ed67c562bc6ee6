"""`pairline models pull` as a user runs it, against a loopback hub (`HF_ENDPOINT`) serving a
tiny GGUF with Qwen's FIM tokens as the Qwen preset's file; then `model.name = <preset>` loads
it and prompts with Qwen's FIM layout. (The transfers of the real built-in GGUF are tested in
tests/unit/engine/models/test_pull.py.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pairline.engine.models import manifest
from pairline.engine.models.presets import parse
from tests.conftest import FIXTURES
from tests.hub_server import FakeHub, running_hub
from tests.tiny_gguf import QWEN_FIM, write_tiny_gguf

PRESET = "qwen2.5-coder-0.5b"


def pairline(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pairline", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[FakeHub]:
    target = parse(PRESET, manifest.presets())
    assert target is not None and target.file is not None
    served = FakeHub()
    served.add(target.repo, target.file, write_tiny_gguf(tmp_path / "tiny.gguf", QWEN_FIM))
    with running_hub(served) as running:
        yield running


@pytest.fixture
def env(hub: FakeHub, tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    return clean | {"HF_ENDPOINT": hub.url, "HF_HUB_CACHE": str(tmp_path / "hub")}


def test_pull_then_the_preset_loads_by_name(env: dict[str, str], hub: FakeHub) -> None:
    before = pairline("complete", f"{FIXTURES / 'sample.py'}:36:12", "--model", PRESET, env=env)
    assert before.returncode == 1
    assert f"`pairline models pull {PRESET}`" in before.stderr
    assert hub.requests == []  # resolving never downloads

    pulled = pairline("models", "pull", PRESET, env=env)
    assert pulled.returncode == 0, pulled.stderr
    assert "sha256" in pulled.stderr and "checked" in pulled.stderr
    assert f'"name": "{PRESET}"' in pulled.stdout
    listed = pairline("models", env=env)
    assert f"{PRESET}: Qwen2.5-Coder 0.5B base, Q8_0 (downloaded)" in listed.stdout

    done = pairline(
        "complete", f"{FIXTURES / 'sample.py'}:36:12", "--model", PRESET, "--json", env=env
    )
    assert done.returncode in (0, 3), done.stderr  # 3: loaded, but nothing to suggest there
    answer = json.loads(done.stdout)
    assert answer["model"] == PRESET
    # The preset's FIM family, detected from the pulled file: Qwen's layout, suffix included.
    assert answer["prompt"].startswith("<|fim_prefix|>")
    assert answer["prompt"].endswith("<|fim_middle|>")


def test_offline_and_not_downloaded(env: dict[str, str], hub: FakeHub) -> None:
    offline = pairline("models", "pull", PRESET, env=env | {"HF_HUB_OFFLINE": "1"})
    assert offline.returncode == 1
    assert "HF_HUB_OFFLINE is set" in offline.stderr
    assert "Traceback" not in offline.stderr
    assert hub.requests == []
