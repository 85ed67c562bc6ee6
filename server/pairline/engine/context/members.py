"""The member names a Python file defines: its module-level names and each class's members.

Read with tree-sitter, without running anything. A class's members are its methods, its class-
level assignments and annotations, its nested classes and every `self.name` its methods assign;
its bases are kept as written so the name monitor (receivers.py) can follow them. A type is kept
as written too ("Foo", "models.Foo"), from an annotation (`x: Foo`, `Foo | None`,
`Optional["Foo"]`) or an obvious constructor call (`x = Foo(...)`); a module-level function's
return annotation is kept too, so `ctx = get_context()` has the type it names. What could add
names that a reader cannot see (`__getattr__`, a base that is not a plain name) marks the owner
open: its member set is not known, so nothing is constrained there.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import tree_sitter

from pairline.engine.context.imports import ImportRef, extract_imports
from pairline.engine.core import languages, syntax
from pairline.engine.core.lru import Lru

# Names every module has, whatever it defines.
MODULE_DUNDERS = frozenset(
    [
        "__name__",
        "__file__",
        "__doc__",
        "__all__",
        "__path__",
        "__spec__",
        "__loader__",
        "__package__",
        "__dict__",
        "__builtins__",
        "__cached__",
        "__annotations__",
    ]
)
# Names every object has (`object`'s attributes).
OBJECT_DUNDERS = frozenset(dir(object)) | {"__dict__", "__module__", "__weakref__"}
_DYNAMIC = frozenset({"__getattr__", "__getattribute__"})
_SCOPES = ("if_statement", "try_statement", "block", "else_clause", "except_clause", "elif_clause")


@dataclass
class ClassInfo:
    """One class as written: its member names, its bases and its attributes' types."""

    names: set[str] = field(default_factory=set)
    bases: list[str] = field(default_factory=list)
    types: dict[str, str] = field(default_factory=dict)  # attribute → its type as written
    open: bool = False  # members may come from where a reader cannot see them
    trait: bool = False  # Rust: a trait, whose members are its items (no `impl` adds to them)


@dataclass
class FileMembers:
    """What one file defines at module level."""

    names: set[str] = field(default_factory=set)
    classes: dict[str, ClassInfo] = field(default_factory=dict)
    objects: dict[str, str] = field(default_factory=dict)  # module-level name → its type
    # Module-level function → the class its return annotation names ("" where overloads or
    # redefinitions disagree): calling it is an obvious way to get an instance.
    returns: dict[str, str] = field(default_factory=dict)
    imports: list[ImportRef] = field(default_factory=list)
    open: bool = False  # a module `__getattr__`: any name may exist
    # Rust: the `impl` blocks in the file, by their type's name (the crate's are merged).
    impls: dict[str, ClassInfo] = field(default_factory=dict)


def text(node: tree_sitter.Node | None) -> str:
    if node is None or node.text is None:
        return ""
    return node.text.decode("utf-8", errors="replace")


def type_of(node: tree_sitter.Node | None) -> str | None:
    """The class an annotation names, as written ("Foo", "mod.Foo"), or None."""
    if node is None:
        return None
    if node.type == "type" and node.named_children:
        return type_of(node.named_children[0])
    if node.type in ("identifier", "attribute"):
        return text(node)
    if node.type == "string":
        content = text(node).strip("\"'")
        names = content.replace(" ", "").split("|")
        wanted = [name for name in names if name != "None"]
        ok = len(wanted) == 1 and all(part.isidentifier() for part in wanted[0].split("."))
        return wanted[0] if ok else None
    if node.type == "binary_operator":  # `Foo | None`
        sides = [c for c in (node.child_by_field_name(f) for f in ("left", "right")) if c]
        kept = [side for side in sides if side.type != "none"]
        return type_of(kept[0]) if len(kept) == 1 else None
    if node.type in ("subscript", "generic_type"):  # `Optional[Foo]`
        head = text(node.child_by_field_name("value") or node.named_children[0])
        if head.rsplit(".", 1)[-1] == "Optional":
            inner = node.child_by_field_name("subscript") or node.named_children[-1]
            if node.type == "generic_type" and inner.named_children:
                inner = inner.named_children[0]
            return type_of(inner)
    return None


def constructed(node: tree_sitter.Node | None) -> str | None:
    """`Foo(...)` or `mod.Foo(...)`: the callee as written (a class if it resolves to one)."""
    if node is None or node.type != "call":
        return None
    callee = node.child_by_field_name("function")
    if callee is None or callee.type not in ("identifier", "attribute"):
        return None
    return text(callee)


def assigned_type(assignment: tree_sitter.Node) -> str | None:
    """The type an assignment gives its target: its annotation, else its constructor call."""
    annotated = type_of(assignment.child_by_field_name("type"))
    return annotated or constructed(assignment.child_by_field_name("right"))


def targets(node: tree_sitter.Node | None) -> list[str]:
    """The plain names an assignment's left side binds (tuples unpacked)."""
    if node is None:
        return []
    if node.type == "identifier":
        return [text(node)]
    if node.type in ("pattern_list", "tuple_pattern", "list_pattern", "expression_list"):
        return [name for child in node.named_children for name in targets(child)]
    if node.type == "list_splat_pattern" and node.named_children:
        return targets(node.named_children[0])
    return []


def definition(node: tree_sitter.Node) -> tree_sitter.Node:
    """The function or class a decorated definition decorates (else the node itself)."""
    if node.type == "decorated_definition":
        return node.child_by_field_name("definition") or node
    return node


def _assignment(node: tree_sitter.Node) -> tree_sitter.Node | None:
    if node.type == "expression_statement" and node.named_children:
        first = node.named_children[0]
        if first.type in ("assignment", "augmented_assignment"):
            return first
    return None


def _import_names(ref: ImportRef) -> list[str]:
    if ref.namespace:
        return [ref.namespace.split(".")[0]]
    return [local for _, local in ref.names if local != "*"]


def file_members(data: bytes) -> FileMembers:
    """The module-level names and classes of Python source `data`."""
    tree = syntax.parse("python", data)
    if tree is None:
        return FileMembers(open=True)
    return module_members(tree.root_node)


def module_members(root: tree_sitter.Node) -> FileMembers:
    """As `file_members`, from a parsed module."""
    found = FileMembers(imports=extract_imports("python", root))
    for ref in found.imports:
        found.names.update(_import_names(ref))
    stack = list(reversed(root.children))
    while stack:
        node = stack.pop()
        if node.type in _SCOPES:
            stack.extend(reversed(node.children))
            continue
        inner = definition(node)
        name = text(inner.child_by_field_name("name"))
        if inner.type == "function_definition":
            found.names.add(name)
            found.open = found.open or name == "__getattr__"
            made = type_of(inner.child_by_field_name("return_type"))
            if made is not None:
                returned(found, name, made)
        elif inner.type == "class_definition":
            found.names.add(name)
            found.classes.setdefault(name, class_info(inner))
        elif (assignment := _assignment(node)) is not None:
            names = targets(assignment.child_by_field_name("left"))
            found.names.update(names)
            kind = assigned_type(assignment)
            if kind and len(names) == 1:
                found.objects[names[0]] = kind
        elif node.type in ("for_statement", "with_statement"):
            left = node.child_by_field_name("left")
            found.names.update(targets(left))
    return found


def returned(found: FileMembers, name: str, kind: str) -> None:
    """Record that the function `name` returns a `kind` (unless another definition differs)."""
    found.returns[name] = kind if found.returns.get(name, kind) == kind else ""


def _bases(node: tree_sitter.Node, info: ClassInfo) -> None:
    superclasses = node.child_by_field_name("superclasses")
    for base in superclasses.named_children if superclasses is not None else ():
        if base.type == "keyword_argument":
            continue  # metaclass=...: its members are the class's, not its instances'
        if base.type in ("identifier", "attribute"):
            info.bases.append(text(base))
        elif base.type == "subscript":  # Generic[T], Base[int]
            info.bases.append(text(base.child_by_field_name("value")))
        else:
            info.open = True  # a computed base: its members cannot be read


_CLASSES: Lru[bytes, ClassInfo] = Lru(1024)


def class_info(node: tree_sitter.Node) -> ClassInfo:
    """The members of one class definition (not those of its bases); kept per source text, so
    a keystroke re-reads only the class it lands in. Callers must not change the result."""
    source = node.text or b""
    found = _CLASSES.get(source)
    if found is None:
        found = _class_info(node)
        _CLASSES.put(source, found)
    return found


def _class_info(node: tree_sitter.Node) -> ClassInfo:
    info = ClassInfo()
    _bases(node, info)
    body = node.child_by_field_name("body")
    for member in body.named_children if body is not None else ():
        inner = definition(member)
        if inner.type in ("function_definition", "class_definition"):
            info.names.add(text(inner.child_by_field_name("name")))
        elif (assignment := _assignment(member)) is not None:
            names = targets(assignment.child_by_field_name("left"))
            info.names.update(names)
            kind = assigned_type(assignment)
            if kind and len(names) == 1:
                info.types.setdefault(names[0], kind)
    info.open = info.open or bool(info.names & _DYNAMIC)
    _self_attributes(body, info)
    return info


_SELF = '(attribute object: (identifier) @owner (#eq? @owner "self") attribute: (identifier) @name)'
_queries: dict[str, tree_sitter.Query] = {}


def _self_query() -> tree_sitter.Query | None:
    if "self" not in _queries:
        grammar = languages.grammar("python")
        if grammar is None:
            return None
        _queries["self"] = tree_sitter.Query(grammar, _SELF)
    return _queries["self"]


def _self_attributes(body: tree_sitter.Node | None, info: ClassInfo) -> None:
    """`self.name = ...` anywhere in the class's methods (a query: walking in Python costs a
    millisecond per class)."""
    query = _self_query()
    if body is None or query is None:
        return
    for _, captures in tree_sitter.QueryCursor(query).matches(body):
        name_node = captures["name"][0]
        target = name_node.parent
        holder = target.parent if target is not None else None
        if holder is not None and holder.type == "pattern_list":
            holder = holder.parent
        if holder is None or holder.type not in ("assignment", "augmented_assignment"):
            continue
        left = holder.child_by_field_name("left")
        if left is None or left.end_byte < name_node.end_byte:
            continue  # `self.x` read on the right-hand side
        name = text(name_node)
        info.names.add(name)
        kind = assigned_type(holder) if left == target else None
        if kind:
            info.types.setdefault(name, kind)
