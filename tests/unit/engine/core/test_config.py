"""Settings: camelCase or snake_case, and invalid sections fall back to defaults."""

from __future__ import annotations

import json
import re
from typing import get_args, get_type_hints

from pairline.engine.core.config import Settings, dump_settings, load_settings
from pairline.engine.core.config_base import camel_case
from tests.conftest import ROOT


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
    assert settings.model.n_ctx == 1536
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


# --- One source for defaults: the VS Code extension declares the same ones -------------------
# (generated from the schema; tests/unit/engine/core/test_settings_schema.py checks the rest)

VSCODE = ROOT / "editor-clients" / "vscode"
# Settings of the extension itself, not sent to the server.
CLIENT_ONLY = {
    "server.path",
    "server.pythonPath",
    "server.setupPython",
    "server.installArgs",
    "completions.enable",
}


def snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _python_default(path: str) -> object:
    """The default of `model.nCtx` (any spelling the editors use) in `Settings()`."""
    value: object = dump_settings(Settings())
    for key in path.split("."):
        assert isinstance(value, dict)
        names = {camel_case(name): name for name in value}
        value = value[names[key]]
    return value


def test_vscode_package_json_declares_the_server_defaults() -> None:
    manifest = json.loads((VSCODE / "package.json").read_text(encoding="utf-8"))
    declared = manifest["contributes"]["configuration"]["properties"]
    checked = 0
    for key, spec in declared.items():
        path = key.removeprefix("pairline.")
        if path in CLIENT_ONLY:
            continue
        assert spec["default"] == _python_default(path), key
        if "enum" in spec:
            section, name = path.split(".")
            hints = get_type_hints(type(getattr(Settings(), snake_case(section))))
            assert tuple(spec["enum"]) == get_args(hints[snake_case(name)]), key
        checked += 1
    assert checked >= 20


def test_string_options_take_only_their_choices() -> None:
    settings, problems = load_settings(
        {"completion": {"items": "maybe"}, "remote": {"api": "anthropic"}}
    )
    assert settings.completion.items == "auto" and settings.remote.api == "anthropic"
    assert problems == [
        'invalid completion settings (completion.items must be "auto", "on" or "off", '
        "got 'maybe'); using defaults"
    ]
    _, problems = load_settings({"actions": {"backend": {"fix": "cloud"}}})
    assert "actions.backend.fix must be" in problems[0]


def test_range_checks_name_the_setting() -> None:
    _, problems = load_settings(
        {"remote": {"timeoutS": 0}, "context": {"budget_tokens": -1}, "model": {"nThreads": -1}}
    )
    assert problems == [
        "invalid remote settings (remote.timeout_s must be positive, got 0.0); using defaults",
        "invalid context settings (context.budget_tokens must be within 0..8192, got -1); "
        "using defaults",
        "invalid model settings (model.n_threads must be >= 0, got -1); using defaults",
    ]


def test_unknown_field_and_non_object_section() -> None:
    _, problems = load_settings({"model": {"bogus": 1}, "remote": "x"})
    assert problems == [
        "invalid model settings (model: extra fields found (bogus)); using defaults",
        "invalid remote settings (remote must be an object, got str); using defaults",
    ]
