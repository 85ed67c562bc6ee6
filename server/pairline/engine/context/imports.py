"""Import statements read with tree-sitter: what each file imports, as written.

One extractor per language (keyed by `Language.name`, see `languages`); `resolve.py` turns the
`ImportRef`s into files of the workspace.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import tree_sitter

from pairline.engine.core import languages

WILDCARD = "*"


@dataclass(frozen=True)
class ImportRef:
    """One import as written in a file."""

    spec: str  # Python dotted module, JS specifier, Go import path, Rust path ("crate::a")
    level: int = 0  # Python: the leading dots of a relative import
    # (name in the imported module, local name); a name may also be a submodule (Python, Rust).
    names: tuple[tuple[str, str], ...] = ()
    namespace: str = ""  # local name bound to the module itself (`import m`, `* as m`)


def _text(node: tree_sitter.Node | None) -> str:
    if node is None or node.text is None:
        return ""
    return node.text.decode("utf-8", errors="replace")


def _unquote(node: tree_sitter.Node | None) -> str:
    return _text(node).strip("\"'`")


# -- extraction ----------------------------------------------------------------------------


def extract_imports(language: str, root: tree_sitter.Node) -> list[ImportRef]:
    """The imports of a parsed file (top level, plus `require` calls at the top level)."""
    entry = languages.find(language)
    extractor = EXTRACTORS.get(entry.name) if entry is not None else None
    return extractor(root) if extractor is not None else []


def _python_imports(root: tree_sitter.Node) -> list[ImportRef]:
    refs: list[ImportRef] = []
    stack = list(reversed(root.children))
    while stack:
        node = stack.pop()
        if node.type in ("if_statement", "try_statement", "block", "else_clause", "except_clause"):
            # Imports guarded by `if TYPE_CHECKING:` or `try:` still name real neighbours.
            stack.extend(reversed(node.children))
            continue
        if node.type == "import_statement":
            for child in node.children_by_field_name("name"):
                if child.type == "aliased_import":
                    module = _text(child.child_by_field_name("name"))
                    refs.append(
                        ImportRef(module, namespace=_text(child.child_by_field_name("alias")))
                    )
                else:
                    module = _text(child)
                    refs.append(ImportRef(module, namespace=module))
        elif node.type == "import_from_statement":
            module_node = node.child_by_field_name("module_name")
            level = 0
            module = _text(module_node)
            if module_node is not None and module_node.type == "relative_import":
                prefix = next((c for c in module_node.children if c.type == "import_prefix"), None)
                level = len(_text(prefix))
                dotted = next((c for c in module_node.children if c.type == "dotted_name"), None)
                module = _text(dotted)
            names: list[tuple[str, str]] = []
            if any(c.type == "wildcard_import" for c in node.children):
                names.append((WILDCARD, WILDCARD))
            for child in node.children_by_field_name("name"):
                if child.type == "aliased_import":
                    name = _text(child.child_by_field_name("name"))
                    names.append((name, _text(child.child_by_field_name("alias"))))
                else:
                    names.append((_text(child), _text(child)))
            refs.append(ImportRef(module, level=level, names=tuple(names)))
    return refs


def _js_imports(root: tree_sitter.Node) -> list[ImportRef]:
    refs: list[ImportRef] = []
    for node in root.children:
        source = node.child_by_field_name("source")
        if node.type == "import_statement" and source is not None:
            names: list[tuple[str, str]] = []
            namespace = ""
            clause = next((c for c in node.children if c.type == "import_clause"), None)
            for part in clause.children if clause is not None else ():
                if part.type == "identifier":
                    names.append(("default", _text(part)))
                elif part.type == "namespace_import":
                    ident = next((c for c in part.children if c.type == "identifier"), None)
                    namespace = _text(ident)
                elif part.type == "named_imports":
                    for spec in part.children:
                        if spec.type == "import_specifier":
                            name = _text(spec.child_by_field_name("name"))
                            alias = _text(spec.child_by_field_name("alias")) or name
                            names.append((name, alias))
            refs.append(ImportRef(_unquote(source), names=tuple(names), namespace=namespace))
        elif node.type == "export_statement" and source is not None:
            names = []
            clause = next((c for c in node.children if c.type == "export_clause"), None)
            if clause is None:
                names.append((WILDCARD, WILDCARD))
            else:
                for spec in clause.children:
                    if spec.type == "export_specifier":
                        name = _text(spec.child_by_field_name("name"))
                        alias = _text(spec.child_by_field_name("alias")) or name
                        names.append((name, alias))
            refs.append(ImportRef(_unquote(source), names=tuple(names)))
        elif node.type in ("lexical_declaration", "variable_declaration"):
            for decl in node.children:
                if decl.type != "variable_declarator":
                    continue
                value = decl.child_by_field_name("value")
                if value is None or value.type != "call_expression":
                    continue
                if _text(value.child_by_field_name("function")) != "require":
                    continue
                args = value.child_by_field_name("arguments")
                arg = next((c for c in args.children if c.type == "string"), None) if args else None
                if arg is None:
                    continue
                target = decl.child_by_field_name("name")
                if target is not None and target.type == "identifier":
                    refs.append(ImportRef(_unquote(arg), namespace=_text(target)))
                elif target is not None and target.type == "object_pattern":
                    names = []
                    for prop in target.children:
                        if prop.type == "shorthand_property_identifier_pattern":
                            names.append((_text(prop), _text(prop)))
                        elif prop.type == "pair_pattern":
                            key = _text(prop.child_by_field_name("key"))
                            value_node = prop.child_by_field_name("value")
                            names.append((key, _text(value_node) or key))
                    refs.append(ImportRef(_unquote(arg), names=tuple(names)))
    return refs


_GO_VERSION = re.compile(r"^v\d+$")


def _go_imports(root: tree_sitter.Node) -> list[ImportRef]:
    refs: list[ImportRef] = []
    specs: list[tree_sitter.Node] = []
    for node in root.children:
        if node.type != "import_declaration":
            continue
        for child in node.children:
            if child.type == "import_spec":
                specs.append(child)
            elif child.type == "import_spec_list":
                specs.extend(c for c in child.children if c.type == "import_spec")
    for spec in specs:
        path = _unquote(spec.child_by_field_name("path"))
        alias_node = spec.child_by_field_name("name")
        alias = _text(alias_node)
        if alias == "_":
            continue
        if alias == ".":
            refs.append(ImportRef(path, names=((WILDCARD, WILDCARD),)))
            continue
        if not alias:
            parts = [p for p in path.split("/") if p]
            while len(parts) > 1 and _GO_VERSION.match(parts[-1]):
                parts.pop()
            alias = parts[-1] if parts else path
        refs.append(ImportRef(path, namespace=alias))
    return refs


def _rust_use(node: tree_sitter.Node, base: str, out: list[ImportRef]) -> None:
    """Flatten a `use` tree into (module path, name, alias) refs."""
    kind = node.type
    if kind in ("scoped_identifier", "identifier", "crate", "super", "self"):
        full = _join(base, _text(node))
        module, _, name = full.rpartition("::")
        if name == "self":
            module, _, name = module.rpartition("::")
        if name:
            out.append(ImportRef(module or "self", names=((name, name),)))
    elif kind == "use_as_clause":
        full = _join(base, _text(node.child_by_field_name("path")))
        alias = _text(node.child_by_field_name("alias"))
        module, _, name = full.rpartition("::")
        if name and alias != "_":
            out.append(ImportRef(module or "self", names=((name, alias),)))
    elif kind == "scoped_use_list":
        prefix = _join(base, _text(node.child_by_field_name("path")))
        inner = node.child_by_field_name("list")
        for child in inner.children if inner is not None else ():
            if child.type == "self":
                module, _, name = prefix.rpartition("::")
                if name:
                    out.append(ImportRef(module or "self", names=((name, name),)))
            else:
                _rust_use(child, prefix, out)
    elif kind == "use_list":
        for child in node.children:
            _rust_use(child, base, out)
    elif kind == "use_wildcard":
        path = next((c for c in node.children if c.type != "*" and c.type != "::"), None)
        out.append(ImportRef(_join(base, _text(path)), names=((WILDCARD, WILDCARD),)))


def _join(base: str, path: str) -> str:
    return f"{base}::{path}" if base and path else base or path


def _rust_imports(root: tree_sitter.Node) -> list[ImportRef]:
    refs: list[ImportRef] = []
    for node in root.children:
        if node.type == "mod_item" and node.child_by_field_name("body") is None:
            name = _text(node.child_by_field_name("name"))
            refs.append(ImportRef("self", names=((name, name),)))
        elif node.type == "use_declaration":
            argument = node.child_by_field_name("argument")
            if argument is not None:
                _rust_use(argument, "", refs)
    return refs


EXTRACTORS: dict[str, Callable[[tree_sitter.Node], list[ImportRef]]] = {
    "python": _python_imports,
    "js": _js_imports,
    "go": _go_imports,
    "rust": _rust_imports,
}
