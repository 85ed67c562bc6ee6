"""Member names over LSP with the real model: after `helpers.` the suggestion names a function
helpers.py really defines (guided decoding), and never one it lacks (the post-check)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.e2e.conftest import DEFAULT_OPTIONS, capabilities, items, merged, open_doc

pytestmark = pytest.mark.model

HELPERS = '''"""Small helpers for paths and names."""

import os


def normalise_path(path: str) -> str:
    """The path with its separators and dots made canonical."""
    return os.path.normpath(path)


def slug(name: str) -> str:
    return name.lower().replace(" ", "-")
'''
MAIN = "import helpers\n\n\ndef load(raw: str) -> str:\n    return helpers.nor"
DEFINED = {"normalise_path", "slug", "os"}


async def _session(client: LanguageClient, root: Path, **completion: Any) -> str:
    root.mkdir()
    (root / "helpers.py").write_text(HELPERS)
    (root / "main.py").write_text(MAIN)
    options = merged(DEFAULT_OPTIONS, {"completion": {"minConfidence": 0, **completion}})
    await client.initialize_session(
        types.InitializeParams(
            capabilities=capabilities(),
            initialization_options=options,
            root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="ws")],
        )
    )
    uri = (root / "main.py").as_uri()
    open_doc(client, uri, MAIN)
    return uri


async def _suggest(client: LanguageClient, uri: str, line: int, character: int) -> str:
    result = await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=character),
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Invoked
            ),
        )
    )
    found = items(result)
    return str(found[0].insert_text) if found else ""


async def test_guided_names_after_a_module_are_its_members(
    bare_client: LanguageClient, tmp_path: Path
) -> None:
    uri = await _session(bare_client, tmp_path / "ws", guideNames=True, checkNames=True)
    last = MAIN.split("\n")[-1]
    text = await _suggest(bare_client, uri, 4, len(last))
    assert ("nor" + text).startswith("normalise_path"), text
    debug: Any = await bare_client.protocol.send_request_async("pairline/debug/lastPrompt", {})
    # pygls hands an unknown result's objects over as named tuples.
    assert "helpers" in getattr(debug.guided, "_fields", debug.guided)


async def test_checked_suggestions_never_name_a_member_helpers_lacks(
    bare_client: LanguageClient, tmp_path: Path
) -> None:
    uri = await _session(bare_client, tmp_path / "ws", checkNames=True)
    # Asked right after `helpers.` and at the start of a new statement.
    bare_client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                types.TextDocumentContentChangeWholeDocument(
                    text=MAIN.removesuffix("nor") + "\n\n\ndef name(raw: str) -> str:\n    x = "
                )
            ],
        )
    )
    for line, character in ((4, len("    return helpers.")), (8, len("    x = "))):
        text = await _suggest(bare_client, uri, line, character)
        prefix = "helpers." if line == 4 else ""
        named = re.findall(r"(?<![\w.])helpers\.(\w+)", prefix + text)
        assert set(named) <= DEFINED, text


VERSION_RS = """//! Versions and their labels.

pub struct Version {
    pub major: u64,
    pub minor: u64,
}

impl Version {
    pub fn parse_label(label: &str) -> Version {
        Version { major: label.len() as u64, minor: 0 }
    }

    pub fn normalise_label(&self) -> String {
        format!("{}.{}", self.major, self.minor)
    }
}
"""
USE_RS = (
    "use crate::version::Version;\n\n"
    "pub fn show(v: &Version) -> String {\n    v.nor\n}\n\n"
    "pub fn read(raw: &str) -> Version {\n    Version::par\n}\n"
)


async def test_guided_names_in_rust_after_a_value_and_a_type_path(
    bare_client: LanguageClient, tmp_path: Path
) -> None:
    root = tmp_path / "crate"
    (root / "src").mkdir(parents=True)
    (root / "Cargo.toml").write_text('[package]\nname = "demo"\nversion = "0.1.0"\n')
    (root / "src" / "lib.rs").write_text("pub mod version;\npub mod show;\n")
    (root / "src" / "version.rs").write_text(VERSION_RS)
    (root / "src" / "show.rs").write_text(USE_RS)
    options = merged(DEFAULT_OPTIONS, {"completion": {"minConfidence": 0, "guideNames": True}})
    await bare_client.initialize_session(
        types.InitializeParams(
            capabilities=capabilities(),
            initialization_options=options,
            root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="crate")],
        )
    )
    uri = (root / "src" / "show.rs").as_uri()
    open_doc(bare_client, uri, USE_RS, language="rust")
    # `v.` is an instance: the method defined in another file of the crate; `Version::` the
    # type: its associated function. Unguided, the first assertion fails with this model.
    text = await _suggest(bare_client, uri, 3, len("    v.nor"))
    assert ("nor" + text).startswith("normalise_label"), text
    text = await _suggest(bare_client, uri, 7, len("    Version::par"))
    assert ("par" + text).startswith("parse_label"), text
