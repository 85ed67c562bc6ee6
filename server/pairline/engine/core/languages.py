"""The languages pairline knows: one `Language` entry each, holding every per-language fact.

An entry gives a language's line-comment marker, how its blocks are delimited, the lines where
a definition starts (parse windows begin there), the tree-sitter node types of its definitions
and functions and of what next-edit propagation tells apart (identifiers, literals, calls …),
and the project files that steer its import resolution. Its dialects are the LSP language ids
that share those facts, each with its own file extensions and grammar (`typescriptreact` is
TypeScript with JSX, parsed by the TSX grammar).

Layering: this module (with language_entry.py) is a leaf — data, plus loading a dialect's
grammar — so `syntax`, `postprocess`, `prompt`, `context` and `nextedit` can all read it without
importing one another. The code that is per language (import extraction in
`context/imports.py`, resolution in `context/resolve.py`, outlines in `context/outline.py`) sits
next to its kind and is found through tables keyed by `Language.name`; an entry with
`context=True` has one function in each (a unit test checks that the tables and the entries
agree).

What an entry holds is defined in language_entry.py. Adding a language is one entry in
`LANGUAGES` and its tests; for cross-file context, also its extractor, resolver and outliner
under the entry's name.
"""

from __future__ import annotations

import importlib
import re
from functools import cache
from pathlib import PurePath, PurePosixPath

import tree_sitter

from pairline.engine.core.language_entry import Blocks, Dialect, Grammar, Language

# Directories that are never project source, even where no .gitignore says so.
SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        "__pycache__",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        ".tox",
        ".nox",
        ".venv",
        ".idea",
        ".vscode",
    }
)

__all__ = ["Blocks", "Dialect", "Grammar", "Language"]

_C_LIKE_DEFINITION = re.compile(
    r"\s*(?:export\s+)?(?:default\s+)?(?:async\s+)?(?:function\b|class\s)"
    r"|\s*(?:export\s+)?(?:const|let|var|interface|type|enum)\s+\w"
)
_JS_GRAMMAR = Grammar("tree_sitter_javascript")

LANGUAGES: tuple[Language, ...] = (
    Language(
        name="python",
        dialects=(Dialect("python", (".py", ".pyi"), Grammar("tree_sitter_python")),),
        comment="#",
        blocks=Blocks.INDENT,
        definition_start=re.compile(r"\s*(?:async\s+def|def|class)\s+\w|\s*@\w"),
        indented_header="class _:\n",
        block_nodes=frozenset(
            {
                "function_definition",
                "class_definition",
                "if_statement",
                "elif_clause",
                "else_clause",
                "for_statement",
                "while_statement",
                "with_statement",
                "try_statement",
                "except_clause",
                "finally_clause",
                "match_statement",
                "case_clause",
            }
        ),
        empty_body="pass",
        definition_nodes=frozenset({"function_definition", "class_definition"}),
        function_nodes=frozenset({"function_definition"}),
        closure_nodes=frozenset({"lambda"}),
        identifier_nodes=frozenset({"identifier"}),
        member_access_nodes=frozenset({"attribute"}),
        literal_nodes=frozenset(
            {"string", "concatenated_string", "integer", "float", "true", "false"}
        ),
        string_part_nodes=frozenset(
            {"string_start", "string_end", "string_content", "escape_sequence"}
        ),
        call_nodes=frozenset({"call"}),
        argument_list_nodes=frozenset({"argument_list"}),
        keyword_argument_nodes=frozenset({"keyword_argument"}),
        test_files=("test_*.py", "*_test.py"),
        context=True,
    ),
    Language(
        name="js",
        dialects=(
            Dialect("javascript", (".js", ".mjs", ".cjs"), _JS_GRAMMAR),
            Dialect("javascriptreact", (".jsx",), _JS_GRAMMAR),
            Dialect(
                "typescript",
                (".ts", ".mts", ".cts"),
                Grammar("tree_sitter_typescript", "language_typescript"),
            ),
            Dialect(
                "typescriptreact", (".tsx",), Grammar("tree_sitter_typescript", "language_tsx")
            ),
        ),
        comment="//",
        blocks=Blocks.BRACES,
        definition_start=_C_LIKE_DEFINITION,
        definition_nodes=frozenset(
            {"function_declaration", "method_definition", "class_declaration"}
        ),
        function_nodes=frozenset(
            {
                "function_declaration",
                "method_definition",
                "arrow_function",
                "function_expression",
                "generator_function_declaration",
            }
        ),
        closure_nodes=frozenset({"generator_function"}),
        # `type_identifier` is TypeScript's.
        identifier_nodes=frozenset(
            {
                "identifier",
                "property_identifier",
                "private_property_identifier",
                "shorthand_property_identifier",
                "shorthand_property_identifier_pattern",
                "type_identifier",
            }
        ),
        member_name_nodes=frozenset({"property_identifier", "private_property_identifier"}),
        member_access_nodes=frozenset({"member_expression"}),
        literal_nodes=frozenset({"string", "template_string", "number", "true", "false", "regex"}),
        string_part_nodes=frozenset({"string_fragment", "escape_sequence"}),
        call_nodes=frozenset({"call_expression", "new_expression"}),
        argument_list_nodes=frozenset({"arguments"}),
        config_files=("tsconfig.json", "jsconfig.json"),
        # What `node --test` and the usual runners (jest, vitest, mocha) pick up.
        test_files=(
            "*.test.*",
            "*.spec.*",
            "*_test.*",
            "*-test.*",
            "test-*.*",
            "test/*.*",
            "tests/*.*",
            "__tests__/*.*",
        ),
        context=True,
    ),
    Language(
        name="go",
        dialects=(Dialect("go", (".go",), Grammar("tree_sitter_go")),),
        comment="//",
        blocks=Blocks.BRACES,
        definition_start=re.compile(r"(?:func|type|var|const|import)\b"),
        definition_nodes=frozenset({"function_declaration", "method_declaration"}),
        function_nodes=frozenset({"function_declaration", "method_declaration"}),
        closure_nodes=frozenset({"func_literal"}),
        identifier_nodes=frozenset(
            {
                "identifier",
                "field_identifier",
                "type_identifier",
                "package_identifier",
                "label_name",
            }
        ),
        member_name_nodes=frozenset({"field_identifier"}),
        member_access_nodes=frozenset({"selector_expression"}),
        literal_nodes=frozenset(
            {
                "interpreted_string_literal",
                "raw_string_literal",
                "int_literal",
                "float_literal",
                "imaginary_literal",
                "rune_literal",
                "true",
                "false",
            }
        ),
        string_part_nodes=frozenset(
            {"interpreted_string_literal_content", "raw_string_literal_content", "escape_sequence"}
        ),
        call_nodes=frozenset({"call_expression"}),
        argument_list_nodes=frozenset({"argument_list"}),
        config_files=("go.mod",),
        test_files=("*_test.go",),
        context=True,
    ),
    Language(
        name="rust",
        dialects=(Dialect("rust", (".rs",), Grammar("tree_sitter_rust")),),
        comment="//",
        blocks=Blocks.BRACES,
        definition_start=re.compile(
            r"\s*(?:pub(?:\([^)]*\))?\s+)?(?:async\s+|unsafe\s+)?(?:fn|impl|struct|enum|mod|trait)\b"
            r"|\s*#\["
        ),
        definition_nodes=frozenset({"function_item", "struct_item", "enum_item", "trait_item"}),
        function_nodes=frozenset({"function_item"}),
        closure_nodes=frozenset({"closure_expression"}),
        identifier_nodes=frozenset(
            {"identifier", "field_identifier", "type_identifier", "shorthand_field_identifier"}
        ),
        member_name_nodes=frozenset({"field_identifier"}),
        member_access_nodes=frozenset({"field_expression"}),
        literal_nodes=frozenset(
            {
                "string_literal",
                "raw_string_literal",
                "char_literal",
                "integer_literal",
                "float_literal",
                "boolean_literal",
            }
        ),
        string_part_nodes=frozenset({"string_content", "escape_sequence"}),
        call_nodes=frozenset({"call_expression"}),
        argument_list_nodes=frozenset({"arguments"}),
        config_files=("Cargo.toml",),
        test_files=("tests/*.rs",),
        context=True,
    ),
    # Known by file name and comment marker only: no grammar, so no parse checks or context.
    Language("lua", (Dialect("lua", (".lua",)),), comment="--", blocks=Blocks.KEYWORDS),
    Language("c", (Dialect("c", (".c", ".h")),), comment="//", blocks=Blocks.BRACES),
    Language("cpp", (Dialect("cpp", (".cpp",)),), comment="//", blocks=Blocks.BRACES),
    Language("java", (Dialect("java", (".java",)),), comment="//", blocks=Blocks.BRACES),
    Language("ruby", (Dialect("ruby", (".rb",)),), comment="#", blocks=Blocks.KEYWORDS),
    Language(
        "shellscript", (Dialect("shellscript", (".sh",)),), comment="#", blocks=Blocks.KEYWORDS
    ),
)

# For a language id pairline has no entry for. Completion prompts and context blocks have
# always used `//` there, and C-like syntax is the most common among the languages an editor
# may send without an entry (C#, Kotlin, Swift, PHP, Dart, Scala …).
DEFAULT_COMMENT = "//"

# What a file without a known extension is.
PLAINTEXT = "plaintext"

_BY_ID = {d.id: (lang, d) for lang in LANGUAGES for d in lang.dialects}
_BY_EXTENSION = {ext: d.id for lang in LANGUAGES for d in lang.dialects for ext in d.extensions}


def find(language_id: str) -> Language | None:
    """The entry for an LSP language id, or None where pairline has none."""
    found = _BY_ID.get(language_id)
    return found[0] if found is not None else None


def comment_marker(language_id: str) -> str:
    """The line-comment marker of a language (`DEFAULT_COMMENT` for an unknown one)."""
    language = find(language_id)
    return language.comment if language is not None else DEFAULT_COMMENT


def family(language_id: str) -> str:
    """The entry's name (buffers of one family give each other context); else the id itself."""
    language = find(language_id)
    return language.name if language is not None else language_id


def language_for_path(path: str) -> str:
    """The LSP language id for a file name, or "plaintext"."""
    return _BY_EXTENSION.get(PurePath(path).suffix.lower(), PLAINTEXT)


def is_test_file(language_id: str, rel_path: str) -> bool:
    """Whether the language's test tools would take `rel_path` (relative to a root) for tests."""
    language = find(language_id)
    if language is None or PurePosixPath(rel_path).suffix.lower() not in language.extensions:
        return False
    path = PurePosixPath(rel_path)
    return any(path.match(pattern) for pattern in language.test_files)


def with_grammar() -> list[str]:
    """Every language id pairline has a grammar for, sorted."""
    return sorted(d.id for lang in LANGUAGES for d in lang.dialects if d.grammar is not None)


@cache
def grammar(language_id: str) -> tree_sitter.Language | None:
    """The tree-sitter language of an id, loaded once (None: pairline has no grammar for it)."""
    found = _BY_ID.get(language_id)
    if found is None or found[1].grammar is None:
        return None
    spec = found[1].grammar
    return tree_sitter.Language(getattr(importlib.import_module(spec.module), spec.function)())


def source_suffixes() -> frozenset[str]:
    """Extensions of the files cross-file context reads (what the workspace index holds)."""
    return frozenset(ext for lang in LANGUAGES if lang.context for ext in lang.extensions)


def config_files() -> frozenset[str]:
    """Project files that steer import resolution (the index holds them too)."""
    return frozenset(name for lang in LANGUAGES if lang.context for name in lang.config_files)


def watch_patterns() -> list[str]:
    """Glob alternatives for the files the index holds: `*.py`, …, `tsconfig.json`, …"""
    suffixes = [ext for lang in LANGUAGES if lang.context for ext in lang.extensions]
    return [f"*{ext}" for ext in suffixes] + [
        name for lang in LANGUAGES if lang.context for name in lang.config_files
    ]
