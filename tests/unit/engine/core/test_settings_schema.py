"""One settings schema: every setting of config.py is in it, and in each file generated from it.

The schema (pairline.engine.core.schema) is read off config.py; VS Code's package.json, the
Neovim help and docs/settings.md are generated from it by
`python -m pairline.engine.core.schema --write`, and must be what the generator writes now.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any, get_type_hints

import pytest

from pairline.engine.core.config import Settings, dump_settings, load_settings
from pairline.engine.core.schema import main, settings_schema
from pairline.engine.core.schema_render import (
    NVIM_BEGIN,
    NVIM_END,
    NVIM_HELP,
    PACKAGE_JSON,
    SETTINGS_DOC,
    Setting,
    generated_files,
    settings_of,
)
from tests.conftest import ROOT

SCHEMA = settings_schema()
SETTINGS = settings_of(SCHEMA)


def _config_keys(cls: type = Settings, prefix: str = "") -> list[str]:
    """Every setting config.py declares, as `section.field`, found without the schema."""
    keys: list[str] = []
    hints = get_type_hints(cls)
    for each in fields(cls):
        hint = hints[each.name]
        if isinstance(hint, type) and is_dataclass(hint):
            keys += _config_keys(hint, f"{prefix}{each.name}.")
        else:
            keys.append(prefix + each.name)
    return keys


CONFIG_KEYS = _config_keys()


def _nested(key: str, value: Any) -> dict[str, Any]:
    section, _, name = key.rpartition(".")
    return {section: {name: value}} if section else {name: value}


def _default(key: str) -> Any:
    value: Any = dump_settings(Settings())
    for part in key.split("."):
        value = value[part]
    return value


def test_every_setting_is_in_the_schema_with_its_default_and_a_description() -> None:
    assert len(CONFIG_KEYS) >= 60
    assert [setting.key for setting in SETTINGS] == CONFIG_KEYS
    for setting in SETTINGS:
        assert setting.spec["default"] == _default(setting.key), setting.key
        assert len(setting.spec["description"]) > 10, setting.key
        assert setting.spec["type"] in {"boolean", "integer", "number", "string", "object", "array"}
    assert SCHEMA["properties"]["model"]["properties"]["n_ctx"]["description"].startswith(
        "Context window in tokens"
    )


def _outside(setting: Setting) -> list[Any]:
    """Values the schema rules out for `setting`, one per rule it has."""
    spec = setting.spec
    step = 1 if spec["type"] == "integer" else 0.5
    values: list[Any] = []
    if "minimum" in spec:
        values.append(spec["minimum"] - step)
    if "maximum" in spec:
        values.append(spec["maximum"] + step)
    if "exclusiveMinimum" in spec:
        values.append(spec["exclusiveMinimum"])
    if "enum" in spec:
        values.append("not-a-choice")
    if "pattern" in spec:
        values += [text for text in (" ", "ftp://x") if not re.search(spec["pattern"], text)][:1]
    if "propertyNames" in spec:
        values.append({"not-a-key": spec["default"][next(iter(spec["default"]))]})
    return values


def test_the_schema_rules_are_the_ones_the_server_checks() -> None:
    checked = 0
    for setting in SETTINGS:
        for value in _outside(setting):
            _, problems = load_settings(_nested(setting.key, value))
            assert len(problems) == 1 and setting.key.split(".")[0] in problems[0], (
                setting.key,
                value,
            )
            checked += 1
        for bound in ("minimum", "maximum"):
            if bound in setting.spec:
                _, problems = load_settings(_nested(setting.key, setting.spec[bound]))
                assert problems == [], (setting.key, bound)
    assert checked >= 40


def test_every_setting_is_declared_for_vscode() -> None:
    manifest = json.loads((ROOT / PACKAGE_JSON).read_text(encoding="utf-8"))
    declared = manifest["contributes"]["configuration"]["properties"]
    for setting in SETTINGS:
        entry = declared.get(f"pairline.{setting.editor_key}")
        assert entry is not None, setting.key
        assert entry["default"] == setting.spec["default"], setting.key
        assert entry["type"] == setting.spec["type"], setting.key
    # Every other key is one of the extension's own, which settings.ts keeps from the server.
    source = (ROOT / "editor-clients" / "vscode" / "src" / "settings.ts").read_text()
    found = re.search(r"export const CLIENT_ONLY[^=]*= \[([^\]]*)\]", source)
    assert found is not None
    client_only = set(re.findall(r'"(\w+)"', found.group(1)))
    server = {f"pairline.{setting.editor_key}" for setting in SETTINGS}
    others = {key.split(".")[1] for key in declared if key not in server}
    assert others == client_only


def test_every_setting_is_in_the_neovim_help() -> None:
    lines = (ROOT / NVIM_HELP).read_text(encoding="utf-8").split("\n")
    listed = lines[lines.index(NVIM_BEGIN) + 1 : lines.index(NVIM_END)]
    keys = [line.split(" = ")[0] for line in listed if line and not line.startswith(" ")]
    assert keys == CONFIG_KEYS


def test_every_setting_is_in_the_settings_doc() -> None:
    text = (ROOT / SETTINGS_DOC).read_text(encoding="utf-8")
    assert "python -m pairline.engine.core.schema --write" in text.split("\n")[2]
    assert re.findall(r"^\| `([\w.]+)` \|", text, re.M) == CONFIG_KEYS


@pytest.mark.parametrize("path", [PACKAGE_JSON, SETTINGS_DOC, NVIM_HELP], ids=str)
def test_generated_files_are_what_the_generator_writes(path: Path) -> None:
    expected = generated_files(SCHEMA, ROOT)[ROOT / path]
    assert (ROOT / path).read_text(encoding="utf-8") == expected, (
        f"{path} is out of date: run python -m pairline.engine.core.schema --write"
    )


def test_the_command_prints_the_schema_and_writes_the_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads(json.dumps(SCHEMA))
    for path in (PACKAGE_JSON, NVIM_HELP):
        (tmp_path / path).parent.mkdir(parents=True)
        shutil.copy(ROOT / path, tmp_path / path)
    help_text = (tmp_path / NVIM_HELP).read_text(encoding="utf-8")
    start, end = help_text.index(NVIM_BEGIN) + len(NVIM_BEGIN), help_text.index(NVIM_END)
    (tmp_path / NVIM_HELP).write_text(help_text[:start] + "\n" + help_text[end:])
    assert main(["--write", "--root", str(tmp_path)]) == 0
    for path in (PACKAGE_JSON, SETTINGS_DOC, NVIM_HELP):
        assert (tmp_path / path).read_text() == (ROOT / path).read_text(), path
    assert main(["--write", "--root", str(tmp_path / "nothing")]) == 1
