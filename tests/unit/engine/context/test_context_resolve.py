"""Import resolution per language against the small workspaces in tests/fixtures/context."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pairline.engine.context.imports import ImportRef, extract_imports
from pairline.engine.context.index import FileIndex
from pairline.engine.context.resolve import Resolver
from pairline.engine.core.syntax import parser_for
from tests.conftest import FIXTURES

CONTEXT = FIXTURES / "context"


def _resolver(lang: str) -> tuple[Resolver, Path]:
    root = Path(os.path.realpath(CONTEXT / lang / "ws"))
    index = FileIndex([root])
    index.build()
    return Resolver(index), root


def _resolve_all(lang: str, language: str, rel: str) -> dict[str, list[str]]:
    """Each import spec of `rel` → the workspace-relative files it resolves to."""
    resolver, root = _resolver(lang)
    path = os.fspath(root / rel)
    parser = parser_for(language)
    assert parser is not None
    tree = parser.parse((root / rel).read_bytes())
    out: dict[str, list[str]] = {}
    for ref in extract_imports(language, tree.root_node):
        key = ref.spec + "".join(f":{name}" for name, _ in ref.names)
        if ref.level:
            key = "." * ref.level + key
        found = resolver.resolve(language, path, ref)
        out[key] = [Path(r.path).relative_to(root).as_posix() for r in found]
    return out


def test_python_absolute_relative_src_layout_and_submodules() -> None:
    found = _resolve_all("python", "python", "app/main.py")
    assert found["os"] == []  # the standard library is not in the workspace
    assert found["app:DEFAULT_NAME"] == ["app/__init__.py"]
    assert found["app.models:User:make_user"] == ["app/models.py"]
    assert found["corelib.engine:Engine"] == ["src/corelib/engine.py"]  # src layout
    assert found[".util:slugify"] == ["app/util.py"]
    assert found[".:helpers"] == ["app/helpers.py"]  # a submodule named by `from . import`


def test_python_imports_leaving_the_root_or_ignored_do_not_resolve() -> None:
    found = _resolve_all("python", "python", "app/main.py")
    assert found["...outside:leak"] == []  # climbs above the root, where outside.py exists
    assert found["ignored.gen:generated"] == []  # the directory is in .gitignore


def test_python_names_and_aliases() -> None:
    parser = parser_for("python")
    assert parser is not None
    source = b"import a.b as m\nimport x.y\nfrom ..p import (A, B as C)\nfrom q import *\n"
    refs = extract_imports("python", parser.parse(source).root_node)
    assert refs == [
        ImportRef("a.b", namespace="m"),
        ImportRef("x.y", namespace="x.y"),
        ImportRef("p", level=2, names=(("A", "A"), ("B", "C"))),
        ImportRef("q", names=(("*", "*"),)),
    ]


def test_typescript_relative_index_paths_and_extensions() -> None:
    found = _resolve_all("ts", "typescript", "src/app.ts")
    assert found["./math:add"] == ["src/math.ts"]
    assert found["./components:Widget"] == ["src/components/index.ts"]  # index file
    assert found["@lib/format:format"] == ["src/lib/format.ts"]  # tsconfig paths
    assert found["./legacy.js:helper"] == ["src/legacy.ts"]  # .js specifier, .ts source
    assert found["./strings"] == ["src/strings.js"]  # import * as strings
    assert found["./tool:tool"] == ["src/tool.js"]  # require()
    assert found["../../outside/leak:leak"] == []  # leaves the root


def test_typescript_reexports_are_read() -> None:
    found = _resolve_all("ts", "typescript", "src/components/index.ts")
    assert found == {"./widget:Widget": ["src/components/widget.tsx"]}


def test_tsconfig_base_url_resolves_bare_specifiers(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "dates.ts").write_text("export function today(): string { return ''; }\n")
    (tmp_path / "main.ts").write_text("import { today } from 'lib/dates';\n")
    (tmp_path / "tsconfig.json").write_text('{"compilerOptions": {"baseUrl": "./"}}')
    found = _resolve_all_at(tmp_path, "typescript", "main.ts")
    assert found == {"lib/dates:today": ["lib/dates.ts"]}


def _resolve_all_at(root: Path, language: str, rel: str) -> dict[str, list[str]]:
    real = Path(os.path.realpath(root))
    index = FileIndex([real])
    index.build()
    resolver = Resolver(index)
    parser = parser_for(language)
    assert parser is not None
    out: dict[str, list[str]] = {}
    for ref in extract_imports(language, parser.parse((real / rel).read_bytes()).root_node):
        key = ref.spec + "".join(f":{name}" for name, _ in ref.names)
        found = resolver.resolve(language, os.fspath(real / rel), ref)
        out[key] = [Path(r.path).relative_to(real).as_posix() for r in found]
    return out


def test_go_module_path_to_package_dir() -> None:
    found = _resolve_all("go", "go", "main.go")
    assert found["fmt"] == []
    assert found["example.com/other/lib"] == []  # another module
    assert found["example.com/shop/store"] == ["store/cart.go"]  # _test.go files left out
    assert found["example.com/shop/internal/util"] == ["internal/util/math.go"]
    assert found["example.com/shop/../outside"] == []  # leaves the root


def test_go_aliases() -> None:
    parser = parser_for("go")
    assert parser is not None
    source = b'package m\nimport (\n u "x.com/m/util"\n "x.com/m/v2"\n _ "x.com/side"\n)\n'
    refs = extract_imports("go", parser.parse(source).root_node)
    assert [(r.spec, r.namespace) for r in refs] == [("x.com/m/util", "u"), ("x.com/m/v2", "m")]


def test_rust_mod_use_crate_and_bare_paths() -> None:
    found = _resolve_all("rust", "rust", "src/main.rs")
    assert found["self:geometry"] == ["src/geometry/mod.rs"]  # mod geometry;
    assert found["self:util"] == ["src/util.rs"]
    assert found["crate::geometry::shapes:Circle"] == ["src/geometry/shapes.rs"]
    assert found["geometry:origin"] == ["src/geometry/mod.rs"]
    assert found["util:clamp"] == ["src/util.rs"]
    assert found["super::secret:Key"] == []  # the crate root has no parent: leaves the crate
    assert found["std:fmt"] == []


def test_rust_super_from_a_submodule() -> None:
    found = _resolve_all("rust", "rust", "src/geometry/shapes.rs")
    assert found == {"super:origin": ["src/geometry/mod.rs"]}


def test_rust_use_lists_and_aliases() -> None:
    parser = parser_for("rust")
    assert parser is not None
    source = b"use crate::a::{B as C, d::E, self};\nuse super::f::*;\n"
    refs = extract_imports("rust", parser.parse(source).root_node)
    assert refs == [
        ImportRef("crate::a", names=(("B", "C"),)),
        ImportRef("crate::a::d", names=(("E", "E"),)),
        ImportRef("crate", names=(("a", "a"),)),
        ImportRef("super::f", names=(("*", "*"),)),
    ]


@pytest.mark.parametrize("lang", ["python", "ts", "go", "rust"])
def test_resolution_never_names_a_file_outside_the_root(lang: str) -> None:
    resolver, root = _resolver(lang)
    assert all(Path(p).is_relative_to(root) for p in resolver.index.paths())
    assert not any("outside" in p for p in resolver.index.paths())
