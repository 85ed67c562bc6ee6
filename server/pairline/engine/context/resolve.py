"""Imports (as `imports.py` reads them) resolved to files of the workspace index.

Resolution never leaves the index, so it never names a file outside the roots, a gitignored
file or a secret. Supported:

- Python: `import a.b`, `from a.b import c` (c may be a submodule), relative imports,
  package roots found from `__init__.py` chains, the workspace roots and `src/` layouts.
- JavaScript / TypeScript / TSX: relative specifiers with extensions or index files, `.js`
  specifiers that name `.ts` sources, `require()`, `export … from`, and `tsconfig.json` /
  `jsconfig.json` `baseUrl` and `paths`.
- Go: import paths under the module path of the nearest `go.mod` → that package directory.
- Rust: `mod x;`, `use crate::…`, `use super::…`, `use self::…` through the module files of
  the nearest `Cargo.toml` crate (`src/lib.rs` / `src/main.rs`).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath

from pairline.engine.context.imports import WILDCARD, ImportRef
from pairline.engine.context.index import FileIndex
from pairline.engine.core import languages


@dataclass(frozen=True)
class Resolved:
    """An import resolved to one file of the index."""

    path: str
    names: tuple[tuple[str, str], ...]
    namespace: str


_JS_EXTENSIONS = (".ts", ".tsx", ".d.ts", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts")
_JS_SOURCE_FOR = {".js": (".ts", ".tsx"), ".jsx": (".tsx",), ".mjs": (".mts",), ".cjs": (".cts",)}
_JSON_COMMENT = re.compile(r'("(?:\\.|[^"\\])*")|//[^\n]*|/\*.*?\*/', re.S)
_JSON_TRAILING_COMMA = re.compile(r",(\s*[}\]])")


def _loads_jsonc(text: str) -> object:
    """tsconfig.json allows comments and trailing commas."""
    stripped = _JSON_COMMENT.sub(lambda m: m.group(1) or "", text)
    return json.loads(_JSON_TRAILING_COMMA.sub(r"\1", stripped))


@dataclass(frozen=True)
class _TsConfig:
    base_url: str | None
    paths: tuple[tuple[str, tuple[str, ...]], ...]


class Resolver:
    """Resolves ImportRefs of one file to indexed files; memoises project config per directory."""

    def __init__(self, index: FileIndex) -> None:
        self.index = index
        self._config_cache: dict[tuple[str, str], str | None] = {}
        self._tsconfig: dict[str, _TsConfig | None] = {}
        self._gomod: dict[str, str | None] = {}

    def resolve(self, language: str, path: str, ref: ImportRef) -> list[Resolved]:
        entry = languages.find(language)
        method = RESOLVERS.get(entry.name) if entry is not None else None
        return method(self, path, ref) if method is not None else []

    # -- helpers -------------------------------------------------------------------------

    def _file(self, path: str) -> str | None:
        path = os.path.normpath(path)
        return path if self.index.has(path) else None

    def _nearest(self, start_dir: str, name: str) -> str | None:
        """The nearest `name` file in `start_dir` or above it, inside the file's root."""
        key = (start_dir, name)
        if key in self._config_cache:
            return self._config_cache[key]
        root = self.index.root_of(start_dir)
        found: str | None = None
        directory = start_dir
        while root is not None:
            candidate = os.path.join(directory, name)
            if self.index.has(candidate):
                found = candidate
                break
            if directory == os.fspath(root):
                break
            parent = os.path.dirname(directory)
            if parent == directory:
                break
            directory = parent
        self._config_cache[key] = found
        return found

    # -- Python ---------------------------------------------------------------------------

    def _python_roots(self, path: str) -> list[str]:
        roots: list[str] = []
        directory = os.path.dirname(path)
        # Climb out of the package the file belongs to: its parent is an import root.
        while self.index.has(os.path.join(directory, "__init__.py")):
            parent = os.path.dirname(directory)
            if parent == directory or not self.index.contains(parent):
                break
            directory = parent
        roots.append(directory)
        for root in self.index.roots:
            for candidate in (os.fspath(root), os.path.join(root, "src")):
                if candidate not in roots:
                    roots.append(candidate)
        return roots

    def _python_module(self, base: str, dotted: str) -> str | None:
        rel = dotted.replace(".", os.sep) if dotted else ""
        stem = os.path.join(base, rel) if rel else base
        if rel:
            for suffix in (".py", ".pyi"):
                found = self._file(stem + suffix)
                if found:
                    return found
        for init in ("__init__.py", "__init__.pyi"):
            found = self._file(os.path.join(stem, init))
            if found:
                return found
        return None

    def _python(self, path: str, ref: ImportRef) -> list[Resolved]:
        if ref.level:
            base = os.path.dirname(path)
            for _ in range(ref.level - 1):
                base = os.path.dirname(base)
            if not self.index.contains(base):
                return []  # the relative import climbs out of the roots
            bases = [base]
        else:
            bases = self._python_roots(path)
        for base in bases:
            module = self._python_module(base, ref.spec)
            if module is None and not (ref.level and not ref.spec):
                continue
            out: list[Resolved] = []
            symbols: list[tuple[str, str]] = []
            for name, local in ref.names:
                # `from pkg import sub` may name a submodule rather than a symbol.
                dotted = f"{ref.spec}.{name}" if ref.spec else name
                sub = self._python_module(base, dotted) if name != WILDCARD else None
                if sub is not None:
                    out.append(Resolved(sub, (), local))
                else:
                    symbols.append((name, local))
            if module is not None and (symbols or ref.namespace):
                out.insert(0, Resolved(module, tuple(symbols), ref.namespace))
            if out:
                return out
        return []

    # -- JavaScript / TypeScript ---------------------------------------------------------

    def _tsconfig_for(self, path: str) -> tuple[str, _TsConfig] | None:
        directory = os.path.dirname(path)
        for name in ("tsconfig.json", "jsconfig.json"):
            config_path = self._nearest(directory, name)
            if config_path is None:
                continue
            if config_path not in self._tsconfig:
                self._tsconfig[config_path] = self._read_tsconfig(config_path)
            config = self._tsconfig[config_path]
            if config is not None:
                return os.path.dirname(config_path), config
        return None

    def _read_tsconfig(self, config_path: str) -> _TsConfig | None:
        text = self.index.read_text(config_path)
        if text is None:
            return None
        try:
            data = _loads_jsonc(text)
        except ValueError:
            return None
        options = data.get("compilerOptions") if isinstance(data, dict) else None
        if not isinstance(options, dict):
            return None
        base_url = options.get("baseUrl")
        paths = options.get("paths")
        pairs: list[tuple[str, tuple[str, ...]]] = []
        if isinstance(paths, dict):
            for pattern, targets in paths.items():
                if isinstance(targets, list):
                    pairs.append((str(pattern), tuple(str(t) for t in targets)))
        return _TsConfig(str(base_url) if isinstance(base_url, str) else None, tuple(pairs))

    def _js_file(self, stem: str) -> str | None:
        found = self._file(stem)
        if found and not found.endswith(".json"):
            return found
        ext = PurePosixPath(stem).suffix
        for source_ext in _JS_SOURCE_FOR.get(ext, ()):
            found = self._file(stem[: -len(ext)] + source_ext)
            if found:
                return found
        for suffix in _JS_EXTENSIONS:
            found = self._file(stem + suffix)
            if found:
                return found
        for suffix in _JS_EXTENSIONS:
            found = self._file(os.path.join(stem, "index" + suffix))
            if found:
                return found
        return None

    def _js(self, path: str, ref: ImportRef) -> list[Resolved]:
        spec = ref.spec
        candidates: list[str] = []
        if spec.startswith(("./", "../")) or spec in (".", ".."):
            candidates.append(os.path.join(os.path.dirname(path), spec))
        else:
            found = self._tsconfig_for(path)
            if found is not None:
                config_dir, config = found
                base = os.path.join(config_dir, config.base_url or ".")
                for pattern, targets in config.paths:
                    if pattern.endswith("*"):
                        head = pattern[:-1]
                        if not spec.startswith(head):
                            continue
                        rest = spec[len(head) :]
                    elif pattern == spec:
                        rest = ""
                    else:
                        continue
                    candidates.extend(os.path.join(base, t.replace("*", rest)) for t in targets)
                if config.base_url is not None:
                    candidates.append(os.path.join(base, spec))
        for candidate in candidates:
            normal = os.path.normpath(candidate)
            if not self.index.contains(normal):
                continue  # the specifier leaves the roots
            resolved = self._js_file(normal)
            if resolved is not None:
                return [Resolved(resolved, ref.names, ref.namespace)]
        return []

    # -- Go -------------------------------------------------------------------------------

    def _go_module(self, gomod: str) -> str | None:
        if gomod not in self._gomod:
            module: str | None = None
            text = self.index.read_text(gomod)
            for line in (text or "").splitlines():
                parts = line.split("//")[0].split()
                if len(parts) >= 2 and parts[0] == "module":
                    module = parts[1].strip('"')
                    break
            self._gomod[gomod] = module
        return self._gomod[gomod]

    def _go(self, path: str, ref: ImportRef) -> list[Resolved]:
        gomod = self._nearest(os.path.dirname(path), "go.mod")
        if gomod is None:
            return []
        module = self._go_module(gomod)
        if module is None:
            return []
        if ref.spec == module:
            rest = ""
        elif ref.spec.startswith(module + "/"):
            rest = ref.spec[len(module) + 1 :]
        else:
            return []  # the standard library or another module: not in this workspace
        directory = os.path.normpath(os.path.join(os.path.dirname(gomod), rest))
        if not self.index.contains(directory):
            return []
        names = sorted(
            n
            for n in self.index.names_in(directory)
            if n.endswith(".go") and not n.endswith("_test.go")
        )
        return [Resolved(os.path.join(directory, n), ref.names, ref.namespace) for n in names]

    # -- Rust -----------------------------------------------------------------------------

    def rust_crate_root(self, path: str) -> str | None:
        """The crate root (`src/lib.rs` or `src/main.rs`) of the Rust file `path`."""
        cargo = self._nearest(os.path.dirname(path), "Cargo.toml")
        if cargo is None:
            return None
        src = os.path.join(os.path.dirname(cargo), "src")
        for name in ("lib.rs", "main.rs"):
            if self.index.has(os.path.join(src, name)):
                return os.path.join(src, name)
        return None

    @staticmethod
    def _rust_module_dir(file: str) -> str:
        """Where the children of the module defined by `file` live."""
        head, name = os.path.split(file)
        if name in ("lib.rs", "main.rs", "mod.rs"):
            return head
        return os.path.join(head, name[: -len(".rs")])

    def _rust_child(self, module_file: str, name: str) -> str | None:
        directory = self._rust_module_dir(module_file)
        return self._file(os.path.join(directory, name + ".rs")) or self._file(
            os.path.join(directory, name, "mod.rs")
        )

    def _rust_parent(self, module_file: str) -> str | None:
        head, name = os.path.split(module_file)
        directory = head
        if name in ("lib.rs", "main.rs"):
            return None  # the crate root has no parent module
        if name == "mod.rs":
            directory = os.path.dirname(head)
        parent_name = os.path.basename(directory)
        grand = os.path.dirname(directory)
        for candidate in (
            os.path.join(directory, "lib.rs"),
            os.path.join(directory, "main.rs"),
            os.path.join(directory, "mod.rs"),
            os.path.join(grand, parent_name + ".rs"),
        ):
            if self.index.has(candidate):
                return candidate
        return None

    def _rust(self, path: str, ref: ImportRef) -> list[Resolved]:
        segments = [s for s in ref.spec.split("::") if s]
        if not segments:
            return []
        head = segments[0]
        current: str | None
        if head == "crate":
            current, rest = self.rust_crate_root(path), segments[1:]
        elif head == "self":
            current, rest = path, segments[1:]
        elif head == "super":
            current, rest = path, segments
            while rest and rest[0] == "super":
                current = self._rust_parent(current) if current else None
                rest = rest[1:]
        else:
            # 2018 paths: a bare first segment names a module of this one or of the crate
            # root (external crates and std resolve to nothing here).
            current = path if self._rust_child(path, head) else self.rust_crate_root(path)
            if current is None or self._rust_child(current, head) is None:
                return []
            rest = segments
        if current is None:
            return []
        for segment in rest:
            child = self._rust_child(current, segment)
            if child is None:
                # `crate::a::Type::Variant`: the rest names items inside `current`.
                return [Resolved(current, ((segment, segment),), "")]
            current = child
        out: list[Resolved] = []
        symbols: list[tuple[str, str]] = []
        for name, local in ref.names:
            sub = self._rust_child(current, name) if name != WILDCARD else None
            if sub is not None:
                out.append(Resolved(sub, (), local))
            else:
                symbols.append((name, local))
        if symbols:
            out.insert(0, Resolved(current, tuple(symbols), ref.namespace))
        if ref.namespace and not ref.names:  # `crate`, `super`: the module itself
            out.append(Resolved(current, (), ref.namespace))
        return out


RESOLVERS: dict[str, Callable[[Resolver, str, ImportRef], list[Resolved]]] = {
    "python": Resolver._python,
    "js": Resolver._js,
    "go": Resolver._go,
    "rust": Resolver._rust,
}
