"""The settings as JSON Schema, read off config.py: types, choices, rules, defaults, comments.

config.py is the one source. A field's type gives the schema's type (a `Literal` its choices),
its rules (config_base.py) the range or pattern, its default the default, and the comment on it
(the comment lines right above the field and any at the end of its line) the description; a
section's docstring describes the section. Keys are the server's snake_case names; editors may
spell them in camelCase.

`python -m pairline.engine.core.schema` prints the schema; with `--write` it regenerates the
files made from it in the checkout this module lives in (see schema_render.py): VS Code's
`contributes.configuration`, docs/settings.md and the settings list of the Neovim help.
"""

from __future__ import annotations

import argparse
import ast
import io
import json
import sys
import tokenize
from dataclasses import MISSING, Field, fields, is_dataclass
from pathlib import Path
from typing import Any, Literal, get_args, get_origin, get_type_hints

from pairline.engine.core import config
from pairline.engine.core.config_base import field_rules
from pairline.engine.core.schema_render import generated_files

_SCALARS: dict[type, str] = {bool: "boolean", int: "integer", float: "number", str: "string"}


def _comments(source: str) -> dict[tuple[str, str], str]:
    """(class, field) -> the comment on that field in `source`, its lines joined."""
    lines = source.splitlines()
    comments: dict[int, tuple[str, bool]] = {}  # line -> (text, whether it is the whole line)
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            row, column = token.start
            comments[row] = (token.string.lstrip("#").strip(), not lines[row - 1][:column].strip())
    found: dict[tuple[str, str], str] = {}
    for cls in ast.walk(ast.parse(source)):
        if not isinstance(cls, ast.ClassDef):
            continue
        for node in cls.body:
            if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
                continue
            above: list[str] = []
            row = node.lineno - 1
            while row in comments and comments[row][1]:
                above.insert(0, comments[row][0])
                row -= 1
            end = node.end_lineno or node.lineno
            after = [
                comments[row][0]
                for row in range(node.lineno, end + 1)
                if row in comments and not comments[row][1]
            ]
            found[cls.name, node.target.id] = " ".join(above + after)
    return found


def _sentence(text: str) -> str:
    """A comment as a description: capitalised, ending in a full stop."""
    text = " ".join(text.split())
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _type_schema(hint: Any) -> dict[str, Any]:
    """The JSON Schema of a field's type; every type config.py uses is handled here."""
    origin, args = get_origin(hint), get_args(hint)
    if origin is Literal:
        return {"type": _SCALARS[type(args[0])], "enum": list(args)}
    if origin is dict and args[0] is str:
        return {"type": "object", "additionalProperties": _type_schema(args[1])}
    if origin is list:
        return {"type": "array", "items": _type_schema(args[0])}
    if hint in _SCALARS:
        return {"type": _SCALARS[hint]}
    raise TypeError(f"no JSON Schema for the settings type {hint!r}")


def _default(each: Field[Any]) -> Any:
    if each.default is not MISSING:
        return each.default
    assert each.default_factory is not MISSING, each.name
    return each.default_factory()


def _properties(cls: type, notes: dict[tuple[str, str], str]) -> dict[str, Any]:
    """The schema of each field of the dataclass `cls`; sections become nested objects."""
    hints = get_type_hints(cls)
    properties: dict[str, Any] = {}
    for each in fields(cls):
        hint = hints[each.name]
        if isinstance(hint, type) and is_dataclass(hint):
            properties[each.name] = {
                "type": "object",
                "description": _sentence(hint.__doc__ or ""),
                "additionalProperties": False,
                "properties": _properties(hint, notes),
            }
            continue
        schema = _type_schema(hint)
        for rule in field_rules(each):
            schema.update(rule.schema())
        schema["default"] = _default(each)
        schema["description"] = _sentence(notes.get((cls.__name__, each.name), ""))
        properties[each.name] = schema
    return properties


def settings_schema() -> dict[str, Any]:
    """The JSON Schema of `config.Settings`, as editors and settings files write it."""
    notes = _comments(Path(config.__file__).read_text(encoding="utf-8"))
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "pairline settings",
        "description": _sentence(config.Settings.__doc__ or "")
        + " Keys may be written in snake_case (as here) or camelCase (as editors do).",
        "type": "object",
        "additionalProperties": False,
        "properties": _properties(config.Settings, notes),
    }


def checkout_root() -> Path:
    """The checkout this module lives in (server/pairline/engine/core/schema.py)."""
    return Path(__file__).resolve().parents[4]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pairline.engine.core.schema", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument(
        "--write", action="store_true", help="regenerate the files made from the schema"
    )
    parser.add_argument("--root", type=Path, help="the checkout to write into (default: this one)")
    args = parser.parse_args(argv)
    schema = settings_schema()
    if not args.write:
        print(json.dumps(schema, indent=2))
        return 0
    root: Path = args.root or checkout_root()
    try:
        outputs = generated_files(schema, root)
    except FileNotFoundError as exc:
        print(f"pairline: {exc.filename} is missing: --write needs a checkout", file=sys.stderr)
        return 1
    for path, text in outputs.items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(root)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
