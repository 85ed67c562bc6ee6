"""A pulled preset loads by its name alone, with the FIM layout of its family.

A tiny GGUF with the family's FIM tokens stands in for each preset's file on a loopback hub;
it is pulled as the preset, then `model.name = <preset>` is resolved from the hub cache and
loaded by llama.cpp, which detects the family from the vocabulary.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from huggingface_hub import constants

from pairline.engine.backends.local_llama import LocalLlamaBackend
from pairline.engine.backends.server_api import family_template
from pairline.engine.core.config import ModelConfig
from pairline.engine.models import manifest, pull
from pairline.engine.models.presets import parse
from tests.hub_server import FakeHub, running_hub
from tests.tiny_gguf import QWEN_FIM, STARCODER_FIM, write_tiny_gguf

CODESTRAL_FIM = ("[PREFIX]", "[SUFFIX]")

# Each preset's family as settings name it → the manifest's FIM table llama.cpp's vocabulary
# must select, for a file with that family's tokens.
CASES = [
    ("qwen2.5-coder-0.5b", QWEN_FIM, "qwen2.5-coder"),
    ("starcoder2-3b", STARCODER_FIM, "starcoder2"),
    ("codestral", CODESTRAL_FIM, "codestral"),
]


@pytest.fixture
def hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty hub cache that resolving and pulling both use, as HF_HUB_CACHE would set."""
    cache = tmp_path / "hub"
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    return cache


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    with running_hub(FakeHub()) as running:
        yield running


@pytest.mark.parametrize(("name", "tokens", "family"), CASES, ids=[c[0] for c in CASES])
async def test_pulled_preset_loads_by_name_with_its_fim_family(
    name: str,
    tokens: Sequence[str],
    family: str,
    hub: FakeHub,
    hub_cache: Path,
    tmp_path: Path,
) -> None:
    target = parse(name, manifest.presets())
    assert target is not None and target.file is not None and target.preset is not None
    hub.add(target.repo, target.file, write_tiny_gguf(tmp_path / "tiny.gguf", tokens))
    with pytest.raises(manifest.ModelNotDownloaded):
        manifest.resolve(name, tmp_path)

    pulled = pull.pull(target, endpoint=hub.url)

    resolved = manifest.resolve(name, tmp_path)
    assert resolved.path == pulled.path and resolved.path.is_relative_to(hub_cache)
    assert resolved.name == name
    backend = LocalLlamaBackend(resolved, ModelConfig(n_ctx=512))
    await backend.load()
    try:
        assert backend.fim is not None
        assert backend.fim.family == family
        # The family the preset's table names is the one its file turns out to have.
        named = family_template(target.preset.fim)
        assert named is not None and named.family == family
    finally:
        backend.close()


async def test_a_repository_file_pulled_by_name_loads_as_owner_repo_file(
    hub: FakeHub, hub_cache: Path, tmp_path: Path
) -> None:
    hub.add("someone/tiny-GGUF", "tiny.gguf", write_tiny_gguf(tmp_path / "t.gguf", QWEN_FIM))
    target = parse("someone/tiny-GGUF", manifest.presets())
    assert target is not None
    pulled = pull.pull(target, endpoint=hub.url)
    assert pulled.target.name == "someone/tiny-GGUF:tiny.gguf"
    resolved = manifest.resolve(pulled.target.name, tmp_path)
    assert resolved.path == pulled.path
