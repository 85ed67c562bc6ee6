"""Settings: camelCase or snake_case, and invalid sections fall back to defaults."""

from __future__ import annotations

from pairline.engine.config import Settings, dump_settings, load_settings


def test_defaults() -> None:
    settings, problems = load_settings(None)
    assert settings == Settings()
    assert problems == []
    assert settings.model.name == "gemma3-270m"


def test_camel_case_from_editors() -> None:
    settings, problems = load_settings(
        {"pairline": {"model": {"nCtx": 4096, "nGpuLayers": -1}, "cacheDir": "~/x"}}
    )
    assert problems == []
    assert settings.model.n_ctx == 4096 and settings.model.n_gpu_layers == -1
    assert not settings.cache_dir.startswith("~")


def test_invalid_section_falls_back_and_says_why() -> None:
    settings, problems = load_settings({"model": {"n_ctx": 10}, "completion": {"max_tokens": 5}})
    assert settings.model.n_ctx == 2048
    assert settings.completion.max_tokens == 5
    assert len(problems) == 1 and "model.n_ctx" in problems[0]


def test_unknown_keys_and_wrong_types_are_reported() -> None:
    settings, problems = load_settings({"modle": {}, "remote": {"base_url": "ftp://x"}})
    assert settings.remote.base_url == ""
    assert any("modle" in p for p in problems)
    assert any("remote.base_url" in p for p in problems)
    assert load_settings([1, 2])[1] == ["settings must be an object, got list"]


def test_language_switch_keeps_language_ids() -> None:
    settings, _ = load_settings({"completion": {"enable": {"*": False, "typescriptReact": True}}})
    assert settings.completion.enabled_for("typescriptReact")
    assert not settings.completion.enabled_for("python")


def test_dump_round_trips() -> None:
    settings, _ = load_settings({"model": {"n_threads": 3}})
    again, problems = load_settings(dump_settings(settings))
    assert again == settings and problems == []
