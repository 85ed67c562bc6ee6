"""Outlines of a neighbour file: what a caller needs to know about each top-level symbol.

For each symbol the outline keeps its signature (bodies dropped), the doc comment or
docstring, and for classes, structs, interfaces and traits their members' signatures; short
constants are kept whole. Go methods and Rust `impl` blocks are folded into their type, so
importing a type brings its methods along. Everything is capped so one huge symbol cannot eat
the budget. One outliner per language, keyed by `Language.name` (see `languages`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import tree_sitter

from pairline.engine.context.imports import ImportRef, extract_imports
from pairline.engine.core import languages, syntax

_MAX_LINES = 30
_MAX_LINE_CHARS = 160
_MAX_DOC_LINES = 6
_MAX_MEMBERS = 24
_SHORT = 3  # a definition of up to this many lines is kept whole


@dataclass
class Symbol:
    """One top-level symbol of a file, outlined."""

    name: str
    line: int  # zero-based line where it starts (orders symbols of one file)
    text: str


@dataclass
class Outline:
    symbols: dict[str, Symbol] = field(default_factory=dict)
    imports: list[ImportRef] = field(default_factory=list)


def _cap(text: str, max_lines: int = _MAX_LINES) -> str:
    lines = [
        line if len(line) <= _MAX_LINE_CHARS else line[:_MAX_LINE_CHARS] + "…"
        for line in text.rstrip().split("\n")
    ]
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], "…"]
    return "\n".join(lines)


class _Source:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def text(self, start: int, end: int) -> str:
        return self.data[start:end].decode("utf-8", errors="replace")

    def line_start(self, offset: int) -> int:
        return self.data.rfind(b"\n", 0, offset) + 1

    def node(self, node: tree_sitter.Node) -> str:
        """The node's text from the start of its first line (keeps the indentation)."""
        return self.text(self.line_start(node.start_byte), node.end_byte)

    def head(self, node: tree_sitter.Node, body: tree_sitter.Node | None) -> str:
        """The node's text up to its body: a signature or a class header."""
        end = body.start_byte if body is not None else node.end_byte
        return self.text(self.line_start(node.start_byte), end).rstrip()

    def member(self, node: tree_sitter.Node, body: tree_sitter.Node | None) -> str:
        """A member's signature from its own start (its class may sit on one line)."""
        end = body.start_byte if body is not None else node.end_byte
        return self.text(node.start_byte, end).strip().rstrip(";").rstrip()

    def doc_above(self, node: tree_sitter.Node, kinds: tuple[str, ...]) -> str:
        """Comment lines right above `node` (doc comments, JSDoc)."""
        parts: list[str] = []
        prev = node.prev_sibling
        line = node.start_point.row
        while prev is not None and prev.type in kinds and prev.end_point.row >= line - 1:
            parts.append(self.node(prev).rstrip())
            line = prev.start_point.row
            prev = prev.prev_sibling
        lines = "\n".join(reversed(parts)).split("\n") if parts else []
        return "\n".join(lines[-_MAX_DOC_LINES:])


def outline(language: str, text: str, *, cooperative: bool = False) -> Outline:
    """The outline of a file's source text (empty where pairline has no grammar).

    `cooperative`: parse in chunks that let other threads run (the warm-up thread does).
    """
    data = text.encode("utf-8", "surrogatepass")
    tree = syntax.parse(language, data, cooperative=cooperative)
    if tree is None:
        return Outline()
    root = tree.root_node
    src = _Source(data)
    result = Outline(imports=extract_imports(language, root))
    entry = languages.find(language)
    outliner = OUTLINERS.get(entry.name) if entry is not None else None
    if outliner is not None:
        outliner(root, src, result)
    return result


def _add(result: Outline, name: str, node: tree_sitter.Node, text: str) -> None:
    if name and name not in result.symbols:
        result.symbols[name] = Symbol(name, node.start_point.row, _cap(text))


# -- Python --------------------------------------------------------------------------------


def _py_docstring(body: tree_sitter.Node | None, src: _Source) -> str:
    if body is None or not body.children:
        return ""
    first = body.children[0]
    if first.type == "expression_statement" and first.children[0].type == "string":
        lines = src.node(first).split("\n")
        if len(lines) > _MAX_DOC_LINES:
            indent = lines[0][: len(lines[0]) - len(lines[0].lstrip())]
            lines = [*lines[: _MAX_DOC_LINES - 1], indent + '…"""']
        return "\n".join(lines)
    return ""


def _py_def(node: tree_sitter.Node, src: _Source, *, doc: bool = True) -> str:
    """`def f(...) -> T:` with its docstring; decorators kept."""
    inner = node.child_by_field_name("definition") if node.type == "decorated_definition" else node
    body = inner.child_by_field_name("body") if inner is not None else None
    head = src.text(src.line_start(node.start_byte), body.start_byte if body else node.end_byte)
    head = head.rstrip()
    parts = [head]
    docstring = _py_docstring(body, src) if doc else ""
    if docstring:
        parts.append(docstring)
    indent = " " * (4 + len(head) - len(head.lstrip()))
    parts.append(indent + "...")
    return "\n".join(parts)


def _py_class(node: tree_sitter.Node, src: _Source) -> str:
    inner = node.child_by_field_name("definition") if node.type == "decorated_definition" else node
    body = inner.child_by_field_name("body") if inner is not None else None
    parts = [src.text(src.line_start(node.start_byte), body.start_byte if body else node.end_byte)]
    parts[0] = parts[0].rstrip()
    docstring = _py_docstring(body, src)
    if docstring:
        parts.append(docstring)
    members = 0
    for member in body.children if body is not None else ():
        if members >= _MAX_MEMBERS:
            break
        definition = member
        if member.type == "decorated_definition":
            definition = member.child_by_field_name("definition") or member
        if definition.type == "function_definition":
            name = src.text(*_span(definition.child_by_field_name("name")))
            if name.startswith("_") and name not in ("__init__", "__call__"):
                continue
            parts.append(_py_def(member, src, doc=False))
            members += 1
        elif member.type == "expression_statement" and member.children[0].type == "assignment":
            line = src.node(member)
            if "\n" not in line.strip():
                parts.append(line)
                members += 1
    return "\n".join(parts)


def _span(node: tree_sitter.Node | None) -> tuple[int, int]:
    return (node.start_byte, node.end_byte) if node is not None else (0, 0)


def _python(root: tree_sitter.Node, src: _Source, result: Outline) -> None:
    for node in root.children:
        inner = (
            node.child_by_field_name("definition") if node.type == "decorated_definition" else node
        )
        if inner is None:
            continue
        if inner.type in ("function_definition", "class_definition"):
            name = src.text(*_span(inner.child_by_field_name("name")))
            text = (
                _py_def(node, src) if inner.type == "function_definition" else _py_class(node, src)
            )
            _add(result, name, node, text)
        elif inner.type == "expression_statement" and inner.children[0].type == "assignment":
            assignment = inner.children[0]
            left = assignment.child_by_field_name("left")
            if left is None or left.type != "identifier":
                continue
            text = src.node(inner)
            if text.count("\n") >= _SHORT:
                text = text.split("\n")[0] + " …"
            _add(result, src.text(*_span(left)), node, text)


# -- JavaScript / TypeScript ---------------------------------------------------------------

_JS_WHOLE = ("interface_declaration", "type_alias_declaration", "enum_declaration")
_JS_FUNCTIONS = (
    "function_declaration",
    "generator_function_declaration",
    "function_signature",
    "function",
    "function_expression",
    "arrow_function",
)
_JS_CLASSES = ("class_declaration", "abstract_class_declaration", "class")


def _js_class(node: tree_sitter.Node, src: _Source, head_node: tree_sitter.Node) -> str:
    body = node.child_by_field_name("body")
    parts = [src.head(head_node, body) + " {"]
    members = 0
    for member in body.children if body is not None else ():
        if members >= _MAX_MEMBERS:
            break
        text = src.text(member.start_byte, member.end_byte).strip()
        if member.type in ("method_definition", "method_signature", "abstract_method_signature"):
            if text.startswith(("private", "#")):
                continue
            parts.append("  " + src.member(member, member.child_by_field_name("body")))
            members += 1
        elif member.type in ("public_field_definition", "field_definition"):
            if text.startswith(("private", "#")):
                continue
            parts.append("  " + text.split("\n")[0])
            members += 1
    parts.append("}")
    return "\n".join(parts)


def _js_declaration(
    decl: tree_sitter.Node, outer: tree_sitter.Node, src: _Source, default: bool
) -> list[tuple[str, str]]:
    """(name, outline) pairs declared by `decl`; `outer` is the export statement if any."""
    name_node = decl.child_by_field_name("name")
    name = "default" if default else src.text(*_span(name_node))
    if decl.type in _JS_FUNCTIONS:
        return [(name, src.head(outer, decl.child_by_field_name("body")))]
    if decl.type in _JS_CLASSES:
        return [(name, _js_class(decl, src, outer))]
    if decl.type in _JS_WHOLE:
        return [(name, src.node(outer))]
    if decl.type in ("lexical_declaration", "variable_declaration"):
        out: list[tuple[str, str]] = []
        for declarator in decl.children:
            if declarator.type != "variable_declarator":
                continue
            target = declarator.child_by_field_name("name")
            if target is None or target.type != "identifier":
                continue
            value = declarator.child_by_field_name("value")
            if value is not None and value.type in _JS_FUNCTIONS:
                text = src.head(outer, value.child_by_field_name("body"))
                text = text.removesuffix("=>").rstrip() + " => …"
            else:
                text = src.node(outer)
                if text.count("\n") >= _SHORT:
                    text = text.split("\n")[0] + " …"
            out.append((src.text(*_span(target)), text))
        return out
    return []


def _js(root: tree_sitter.Node, src: _Source, result: Outline) -> None:
    for node in root.children:
        decl: tree_sitter.Node | None = node
        default = False
        if node.type == "export_statement":
            decl = node.child_by_field_name("declaration") or node.child_by_field_name("value")
            default = any(c.type == "default" for c in node.children)
        if decl is None:
            continue
        doc = src.doc_above(node, ("comment",))
        for name, text in _js_declaration(decl, node, src, default):
            _add(result, name, node, f"{doc}\n{text}" if doc.startswith("/**") else text)


# -- Go ------------------------------------------------------------------------------------


def _go(root: tree_sitter.Node, src: _Source, result: Outline) -> None:
    methods: dict[str, list[str]] = {}
    for node in root.children:
        doc = src.doc_above(node, ("comment",))
        prefix = doc + "\n" if doc else ""
        if node.type == "function_declaration":
            name = src.text(*_span(node.child_by_field_name("name")))
            _add(result, name, node, prefix + src.head(node, node.child_by_field_name("body")))
        elif node.type == "method_declaration":
            receiver = node.child_by_field_name("receiver")
            types = (
                [n for n in receiver.children if n.type == "parameter_declaration"]
                if receiver is not None
                else []
            )
            type_node = types[0].child_by_field_name("type") if types else None
            type_name = src.text(*_span(type_node)).lstrip("*").split("[")[0]
            name = src.text(*_span(node.child_by_field_name("name")))
            if name[:1].isupper():
                methods.setdefault(type_name, []).append(
                    src.head(node, node.child_by_field_name("body"))
                )
        elif node.type == "type_declaration":
            for spec in node.children:
                if spec.type in ("type_spec", "type_alias"):
                    name = src.text(*_span(spec.child_by_field_name("name")))
                    _add(result, name, node, prefix + "type " + src.node(spec).strip())
        elif node.type in ("const_declaration", "var_declaration"):
            keyword = "const" if node.type == "const_declaration" else "var"
            for spec in node.children:
                if spec.type not in ("const_spec", "var_spec"):
                    continue
                line = src.node(spec).strip().split("\n")[0]
                for name_node in spec.children_by_field_name("name"):
                    _add(result, src.text(*_span(name_node)), spec, f"{keyword} {line}")
    for type_name, heads in methods.items():
        symbol = result.symbols.get(type_name)
        if symbol is not None:
            symbol.text = _cap(symbol.text + "\n" + "\n".join(heads[:_MAX_MEMBERS]), _MAX_LINES)


# -- Rust ----------------------------------------------------------------------------------

_RUST_DOC = ("line_comment", "block_comment", "attribute_item")


def _rust_members(body: tree_sitter.Node | None, src: _Source, public_only: bool) -> list[str]:
    heads: list[str] = []
    for member in body.children if body is not None else ():
        if member.type not in ("function_item", "function_signature_item"):
            continue
        text = src.text(member.start_byte, member.end_byte).strip()
        if public_only and not text.startswith("pub"):
            continue
        heads.append("    " + src.member(member, member.child_by_field_name("body")) + ";")
    return heads[:_MAX_MEMBERS]


def _rust(root: tree_sitter.Node, src: _Source, result: Outline) -> None:
    impls: dict[str, list[str]] = {}
    for node in root.children:
        doc = src.doc_above(node, _RUST_DOC)
        prefix = doc + "\n" if doc else ""
        name = src.text(*_span(node.child_by_field_name("name")))
        if node.type == "function_item":
            _add(result, name, node, prefix + src.head(node, node.child_by_field_name("body")))
        elif node.type in ("struct_item", "enum_item", "union_item", "type_item"):
            _add(result, name, node, prefix + src.node(node))
        elif node.type in ("const_item", "static_item"):
            text = src.node(node)
            if text.count("\n") >= _SHORT:
                text = text.split("\n")[0] + " …"
            _add(result, name, node, prefix + text)
        elif node.type == "trait_item":
            body = node.child_by_field_name("body")
            heads = _rust_members(body, src, public_only=False)
            _add(result, name, node, "\n".join([prefix + src.head(node, body) + " {", *heads, "}"]))
        elif node.type == "impl_item":
            type_name = src.text(*_span(node.child_by_field_name("type"))).split("<")[0]
            trait = node.child_by_field_name("trait")
            body = node.child_by_field_name("body")
            heads = _rust_members(body, src, public_only=trait is None)
            if heads:
                block = [src.head(node, body) + " {", *heads, "}"]
                impls.setdefault(type_name, []).extend(block)
        elif node.type == "macro_definition":
            _add(result, name, node, prefix + f"macro_rules! {name} {{ … }}")
    for type_name, lines in impls.items():
        symbol = result.symbols.get(type_name)
        if symbol is not None:
            symbol.text = _cap(symbol.text + "\n" + "\n".join(lines), _MAX_LINES)


OUTLINERS: dict[str, Callable[[tree_sitter.Node, _Source, Outline], None]] = {
    "python": _python,
    "js": _js,
    "go": _go,
    "rust": _rust,
}
