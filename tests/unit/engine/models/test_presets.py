"""The preset table, the names `models pull` and `model.name` accept, and resolving a preset."""

from __future__ import annotations

from pathlib import Path

import pytest
from huggingface_hub import constants

from pairline.engine.core.config import Settings
from pairline.engine.models import manifest
from pairline.engine.models.presets import FIM_FAMILIES, Preset, from_table, parse, setting_target

PRESETS = manifest.presets()
QWEN_1_5B = next(p for p in PRESETS if p.name == "qwen2.5-coder-1.5b")


def test_the_table_has_the_models_the_issue_names() -> None:
    names = {p.name for p in PRESETS}
    assert {f"qwen2.5-coder-{size}" for size in ("0.5b", "1.5b", "3b", "7b")} <= names
    assert {"starcoder2-3b", "codestral"} <= names
    assert not names & set(manifest.builtin_names())
    assert len(names) == len(PRESETS)


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.name)
def test_every_preset_is_complete(preset: Preset) -> None:
    assert preset.repo.count("/") == 1 and preset.file.endswith(".gguf")
    assert preset.fim in FIM_FAMILIES and preset.fim not in ("auto", "none")
    assert preset.size_mb > 100 and preset.license and preset.suits and preset.description
    assert "Q8_0" in preset.description or "Q4_K_M" in preset.description
    # A hash is recorded only where it was checked against the file; else the hub's is used.
    assert preset.sha256 is None or len(preset.sha256) == 64


def test_the_family_of_each_model_line() -> None:
    families = {p.name: p.fim for p in PRESETS}
    assert families["qwen2.5-coder-7b"] == "qwen"
    assert families["starcoder2-3b"] == "starcoder"
    assert families["codestral"] == "codestral"


def test_sizes_are_shown_as_people_read_them() -> None:
    assert QWEN_1_5B.size_text == "1.6 GB"
    assert next(p for p in PRESETS if p.name == "qwen2.5-coder-0.5b").size_text == "530 MB"


def test_a_bad_table_entry_is_refused() -> None:
    entry = {
        "description": "d",
        "repo": "o/r",
        "file": "f.gguf",
        "size_mb": 1,
        "license": "l",
        "fim": "qwen",
        "suits": "s",
    }
    assert from_table({"ok": entry})[0].sha256 is None
    with pytest.raises(ValueError, match="unknown FIM family"):
        from_table({"x": entry | {"fim": "qwen2.5"}})
    with pytest.raises(ValueError, match="64 hex"):
        from_table({"x": entry | {"sha256": "abc"}})
    with pytest.raises(ValueError, match="not a hub GGUF"):
        from_table({"x": entry | {"file": "model.bin"}})


@pytest.mark.parametrize(
    ("spec", "repo", "file", "preset"),
    [
        (
            "qwen2.5-coder-1.5b",
            "Qwen/Qwen2.5-Coder-1.5B-GGUF",
            "qwen2.5-coder-1.5b-q8_0.gguf",
            True,
        ),
        ("Qwen/Qwen2.5-Coder-1.5B-GGUF:qwen2.5-coder-1.5b-q8_0.gguf", None, None, True),
        ("someone/some-model-GGUF", "someone/some-model-GGUF", None, False),
        (
            "someone/some-model-GGUF:m.Q4_K_M.gguf",
            "someone/some-model-GGUF",
            "m.Q4_K_M.gguf",
            False,
        ),
    ],
)
def test_pull_names(spec: str, repo: str | None, file: str | None, preset: bool) -> None:
    target = parse(spec, PRESETS)
    assert target is not None
    if repo is not None:
        assert (target.repo, target.file) == (repo, file)
    assert (target.preset is not None) == preset
    if preset:
        assert target.name == "qwen2.5-coder-1.5b"  # the name model.name then takes


@pytest.mark.parametrize(
    "spec", ["qwen", "no-slash", "a/b:c.bin", "a/b:c:d.gguf", "/abs/path.gguf", "a/b/c", ""]
)
def test_what_is_not_a_pull_name(spec: str) -> None:
    assert parse(spec, PRESETS) is None


def test_a_setting_names_a_hub_model_only_with_its_file() -> None:
    assert setting_target("qwen2.5-coder-1.5b", PRESETS) is not None
    assert setting_target("someone/model-GGUF:m.gguf", PRESETS) is not None
    assert setting_target("models/foo", PRESETS) is None  # could be a relative path


def test_a_preset_not_downloaded_says_how_to_get_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    with pytest.raises(manifest.ModelNotDownloaded) as failure:
        manifest.resolve("qwen2.5-coder-1.5b", Settings(cache_dir=str(tmp_path)).cache_path)
    assert "`pairline models pull qwen2.5-coder-1.5b`" in str(failure.value)
    assert "1.6 GB" in str(failure.value)
    assert failure.value.target.preset == QWEN_1_5B


def test_an_unknown_name_lists_the_presets(tmp_path: Path) -> None:
    with pytest.raises(manifest.ModelError, match=r"qwen2\.5-coder-1\.5b") as failure:
        manifest.resolve("qwen9", tmp_path)
    assert not isinstance(failure.value, manifest.ModelNotDownloaded)
