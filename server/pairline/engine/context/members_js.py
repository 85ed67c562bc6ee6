"""The member names a JavaScript or TypeScript file defines, and the scope at a cursor in one.

A module's members are what it exports (declarations, `export { a as b }`, re-exports from
other files, `export default` as "default"); a class's are its methods and fields (private `#`
ones left out: they cannot be named from outside anyway), every `this.name` it assigns, and its
`extends` base's. Types as written come from TypeScript annotations (`x: Foo`) or `new Foo()`.
The scope is found by position: the functions and the class around the cursor, with their
parameters and the names they declare above it. Same shapes as the Python side (members.py,
scope.py), so the name monitor (receivers.py) follows both alike.
"""

from __future__ import annotations

import tree_sitter

from pairline.engine.context.imports import extract_imports
from pairline.engine.context.members import ClassInfo, FileMembers, text
from pairline.engine.context.scope import Scope, bind, enclosing_at, nodes_before

# Names every object has (Object.prototype's).
OBJECT_MEMBERS = frozenset(
    {"constructor", "hasOwnProperty", "isPrototypeOf", "propertyIsEnumerable"}
    | {"toLocaleString", "toString", "valueOf"}
)
BUILTIN_BASES = {"Error": frozenset(["message", "name", "stack", "cause"])}
CREATORS = frozenset({"constructor"})
_CLASSES = ("class_declaration", "abstract_class_declaration", "class")
_FUNCTIONS = (
    "function_declaration",
    "function_expression",
    "arrow_function",
    "method_definition",
    "generator_function_declaration",
    "function",
)


def type_of(node: tree_sitter.Node | None) -> str | None:
    """The class a type annotation or a `new` expression names, as written, or None."""
    if node is None:
        return None
    if node.type == "type_annotation" and node.named_children:
        return type_of(node.named_children[0])
    if node.type in ("type_identifier", "identifier", "nested_type_identifier"):
        return text(node)
    if node.type == "member_expression":
        return text(node)
    if node.type == "generic_type" and node.named_children:
        return type_of(node.named_children[0])
    if node.type == "new_expression":
        return type_of(node.child_by_field_name("constructor"))
    if node.type == "union_type":  # `Foo | undefined`
        kept = [c for c in node.named_children if text(c) not in ("undefined", "null")]
        return type_of(kept[0]) if len(kept) == 1 else None
    return None


def _declared(declaration: tree_sitter.Node) -> list[tuple[str, str | None]]:
    """(name, type as written) for each plain name a `const`/`let`/`var` declares."""
    out: list[tuple[str, str | None]] = []
    for declarator in declaration.named_children:
        if declarator.type != "variable_declarator":
            continue
        name = declarator.child_by_field_name("name")
        if name is None or name.type != "identifier":
            continue
        kind = type_of(declarator.child_by_field_name("type"))
        out.append((text(name), kind or type_of(declarator.child_by_field_name("value"))))
    return out


def class_info(node: tree_sitter.Node) -> ClassInfo:
    info = ClassInfo()
    for heritage in (c for c in node.children if c.type == "class_heritage"):
        for clause in heritage.named_children:
            if clause.type == "extends_clause" and clause.named_children:
                base = clause.named_children[0]
                kind = type_of(base)
                if kind is None:
                    info.open = True  # `extends mixin(Base)`: its members cannot be read
                else:
                    info.bases.append(kind)
    body = node.child_by_field_name("body")
    stack = list(body.named_children) if body is not None else []
    while stack:
        member = stack.pop()
        if member.type in _CLASSES:
            continue
        name = member.child_by_field_name("name") or member.child_by_field_name("property")
        if member.type in ("method_definition", "public_field_definition", "field_definition"):
            if name is not None and name.type != "private_property_identifier":
                info.names.add(text(name))
                kind = type_of(member.child_by_field_name("type"))
                kind = kind or type_of(member.child_by_field_name("value"))
                if kind:
                    info.types.setdefault(text(name), kind)
        elif member.type == "assignment_expression":
            left = member.child_by_field_name("left")
            if left is not None and left.type == "member_expression":
                owner, prop = (
                    left.child_by_field_name("object"),
                    left.child_by_field_name("property"),
                )
                if owner is not None and owner.type == "this" and prop is not None:
                    info.names.add(text(prop))
                    kind = type_of(member.child_by_field_name("right"))
                    if kind:
                        info.types.setdefault(text(prop), kind)
        stack.extend(member.named_children)
    return info


def _export(node: tree_sitter.Node, found: FileMembers) -> None:
    default = any(c.type == "default" for c in node.children)
    decl = node.child_by_field_name("declaration") or node.child_by_field_name("value")
    if decl is None:
        clause = next((c for c in node.children if c.type == "export_clause"), None)
        for spec in clause.named_children if clause is not None else ():
            alias = spec.child_by_field_name("alias") or spec.child_by_field_name("name")
            found.names.add(text(alias))
        return
    _declare(decl, found, "default" if default else "")


def _declare(decl: tree_sitter.Node, found: FileMembers, exported_as: str) -> None:
    """Record a top-level declaration; `exported_as`: the export name it also gets."""
    name = text(decl.child_by_field_name("name"))
    if decl.type in _CLASSES:
        info = class_info(decl)
        for key in {name, exported_as} - {""}:
            found.classes.setdefault(key, info)
    elif decl.type in ("lexical_declaration", "variable_declaration"):
        for declared, kind in _declared(decl):
            found.names.add(declared)
            if kind:
                found.objects[declared] = kind
        return
    if exported_as or name:
        found.names.add(exported_as or name)


def module_members(root: tree_sitter.Node, language: str) -> FileMembers:
    """A JS/TS module's exports and top-level classes."""
    found = FileMembers(imports=extract_imports(language, root))
    local = FileMembers()
    for node in root.children:
        if node.type == "export_statement":
            if node.child_by_field_name("source") is not None:
                clause = next((c for c in node.children if c.type == "export_clause"), None)
                for spec in clause.named_children if clause is not None else ():
                    alias = spec.child_by_field_name("alias") or spec.child_by_field_name("name")
                    found.names.add(text(alias))
                continue
            _export(node, found)
        elif node.type in _CLASSES or node.type in ("lexical_declaration", "variable_declaration"):
            _declare(node, local, "")
    # Classes and objects declared without `export` still type names inside the file.
    for key, info in local.classes.items():
        found.classes.setdefault(key, info)
    for key, kind in local.objects.items():
        found.objects.setdefault(key, kind)
    return found


def _parameters(function: tree_sitter.Node, out: dict[str, str | None]) -> None:
    params = function.child_by_field_name("parameters") or function.child_by_field_name("parameter")
    if params is None:
        return
    for param in params.named_children if params.type == "formal_parameters" else [params]:
        pattern = param.child_by_field_name("pattern") if param.type != "identifier" else param
        if pattern is not None and pattern.type == "identifier":
            out[text(pattern)] = type_of(param.child_by_field_name("type"))


def _locals(function: tree_sitter.Node, offset: int, out: dict[str, str | None]) -> None:
    for node in nodes_before(function, offset, _FUNCTIONS + _CLASSES):
        if node.type in ("lexical_declaration", "variable_declaration"):
            for name, kind in _declared(node):
                bind(out, name, kind)


def scope_at(root: tree_sitter.Node, lines: list[str], line: int, _indent: int) -> Scope:
    """The scope at the start of `line` (the cursor line, blanked)."""
    offset, chain = enclosing_at(root, lines, line, _FUNCTIONS + _CLASSES)
    scope = Scope()
    for node in chain:  # outermost first
        if node.type in _CLASSES:
            continue
        _parameters(node, scope.locals)
        _locals(node, offset, scope.locals)
        body = node.parent
        owner = body.parent if body is not None else None
        if node.type == "method_definition" and owner is not None and owner.type in _CLASSES:
            scope.cls = class_info(owner)
            scope.first = "this"
            scope.method = text(node.child_by_field_name("name"))
        elif node.type != "arrow_function":
            scope.cls, scope.first = None, ""  # a plain function has a `this` of its own
    return scope
