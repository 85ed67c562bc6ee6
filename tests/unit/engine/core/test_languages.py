"""The language table: grammars load, markers and extensions agree, per-language code is wired."""

from __future__ import annotations

import dataclasses
import threading

import pytest
import tree_sitter

from pairline.engine.context.imports import EXTRACTORS
from pairline.engine.context.outline import OUTLINERS
from pairline.engine.context.resolve import RESOLVERS
from pairline.engine.core import languages, syntax
from pairline.engine.core.types import CompletionRequest, Position
from pairline.engine.prompt.edit import EditTask, completion_prompt
from pairline.engine.prompt.fim import build_prompt

SNIPPETS = {
    "python": "def f(x):\n    return x + 1\n",
    "javascript": "function f(x) {\n  return x + 1;\n}\n",
    "javascriptreact": "const C = () => <div>{1}</div>;\n",
    "typescript": "function f(x: number): number {\n  return x + 1;\n}\n",
    "typescriptreact": "const C = (p: { n: number }) => <div>{p.n}</div>;\n",
    "go": "package main\n\nfunc f(x int) int {\n\treturn x + 1\n}\n",
    "rust": "fn f(x: i32) -> i32 {\n    x + 1\n}\n",
}

DIALECTS = [(lang, d) for lang in languages.LANGUAGES for d in lang.dialects]
NODE_FIELDS = [f.name for f in dataclasses.fields(languages.Language) if f.name.endswith("_nodes")]
# Node types that every dialect's grammar has. The other fields may name a type of one dialect
# only (TypeScript's `type_identifier`): it just never occurs in the others.
IN_EVERY_DIALECT = ("block_nodes", "definition_nodes", "function_nodes")


def _node_types(grammar: tree_sitter.Language) -> set[str]:
    return {grammar.node_kind_for_id(i) for i in range(grammar.node_kind_count)}


def test_every_grammar_has_a_snippet() -> None:
    assert sorted(SNIPPETS) == languages.with_grammar()


@pytest.mark.parametrize("language_id", sorted(SNIPPETS))
def test_grammar_loads_and_parses(language_id: str) -> None:
    tree = syntax.parse(language_id, SNIPPETS[language_id].encode())
    assert tree is not None
    assert not tree.root_node.has_error
    assert syntax.error_count(language_id, SNIPPETS[language_id]) == 0


@pytest.mark.parametrize(("language", "dialect"), DIALECTS, ids=[d.id for _, d in DIALECTS])
def test_node_types_exist_in_the_grammar(
    language: languages.Language, dialect: languages.Dialect
) -> None:
    grammar = languages.grammar(dialect.id)
    if grammar is None:
        assert not any(getattr(language, field) for field in NODE_FIELDS)
        return
    kinds = _node_types(grammar)
    for field in IN_EVERY_DIALECT:
        assert getattr(language, field) <= kinds, field
    in_some_dialect: set[str] = set()
    for other in language.dialects:
        found = languages.grammar(other.id)
        in_some_dialect |= _node_types(found) if found is not None else set()
    for field in NODE_FIELDS:
        assert getattr(language, field) <= in_some_dialect, field


def test_no_grammar_means_no_parser() -> None:
    assert languages.grammar("lua") is None
    assert languages.grammar("no-such-language") is None
    assert syntax.parser_for("lua") is None
    assert syntax.parse("lua", b"x = 1") is None


def test_each_thread_gets_its_own_parser() -> None:
    mine = syntax.parser_for("python")
    assert mine is syntax.parser_for("python")
    theirs: list[object] = []
    thread = threading.Thread(target=lambda: theirs.append(syntax.parser_for("python")))
    thread.start()
    thread.join()
    assert theirs[0] is not None and theirs[0] is not mine


def test_cooperative_parse_gives_the_same_tree() -> None:
    data = ("def f(x):\n    return x\n" * 2000).encode()
    plain = syntax.parse("python", data)
    chunked = syntax.parse("python", data, cooperative=True)
    assert plain is not None and chunked is not None
    assert str(plain.root_node) == str(chunked.root_node)


def test_names_and_ids_are_unique() -> None:
    names = [lang.name for lang in languages.LANGUAGES]
    ids = [d.id for _, d in DIALECTS]
    assert len(set(names)) == len(names)
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize(
    ("language_id", "marker"),
    [
        ("python", "#"),
        ("javascript", "//"),
        ("typescriptreact", "//"),
        ("go", "//"),
        ("rust", "//"),
        ("lua", "--"),
        ("ruby", "#"),
        ("shellscript", "#"),
        ("c", "//"),
        ("java", "//"),
        ("plaintext", languages.DEFAULT_COMMENT),
        ("no-such-language", "//"),
    ],
)
def test_comment_markers(language_id: str, marker: str) -> None:
    assert languages.comment_marker(language_id) == marker


@pytest.mark.parametrize("language_id", [*(d.id for _, d in DIALECTS), "plaintext"])
def test_completion_and_edit_prompts_use_one_marker(language_id: str) -> None:
    mark = languages.comment_marker(language_id)
    request = CompletionRequest("file:///w/a.x", language_id, "x", "", Position(0, 0))
    fim = build_prompt(request, budget_tokens=100, suffix_lines=2, fim=None)
    assert fim.startswith(f"{mark} a.x\n")
    task = EditTask("fix", language_id, "a.x", "x\n", "", "")
    assert completion_prompt(task).startswith(f"{mark} File: a.x\n")


def test_extension_map_round_trips() -> None:
    extensions = [ext for _, d in DIALECTS for ext in d.extensions]
    assert len(set(extensions)) == len(extensions)  # one language per extension
    for _, dialect in DIALECTS:
        for ext in dialect.extensions:
            assert languages.language_for_path(f"/w/name{ext}") == dialect.id
            assert languages.language_for_path(f"NAME{ext.upper()}") == dialect.id
    assert languages.language_for_path("/w/notes.txt") == languages.PLAINTEXT
    assert languages.language_for_path("/w/Makefile") == languages.PLAINTEXT


def test_families_group_dialects() -> None:
    assert languages.family("typescriptreact") == languages.family("javascript") == "js"
    assert languages.family("python") == "python"
    assert languages.family("no-such-language") == "no-such-language"


def test_per_language_context_code_matches_the_entries() -> None:
    with_context = {lang.name for lang in languages.LANGUAGES if lang.context}
    assert set(EXTRACTORS) == with_context
    assert set(RESOLVERS) == with_context
    assert set(OUTLINERS) == with_context
    for lang in languages.LANGUAGES:
        if lang.context:
            assert all(d.grammar is not None for d in lang.dialects)


def test_index_and_watcher_cover_the_same_files() -> None:
    assert languages.source_suffixes() == frozenset(
        {".py", ".pyi", ".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".mts", ".cts", ".go", ".rs"}
    )
    assert languages.config_files() == frozenset(
        {"tsconfig.json", "jsconfig.json", "go.mod", "Cargo.toml"}
    )
    patterns = languages.watch_patterns()
    assert len(set(patterns)) == len(patterns)
    assert set(patterns) == {f"*{ext}" for ext in languages.source_suffixes()} | set(
        languages.config_files()
    )
