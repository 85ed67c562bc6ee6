"""Tasks of bench crossfile --names from a Rust crate: statements that use a name brought in from
another module of the crate, asked at their first `.` or `::` with --at-member."""

from __future__ import annotations

import textwrap
from pathlib import Path

from pairline.bench.quality import crossfile_rust
from pairline.bench.quality.names import at_member, first_member, identifier_match

LIB = "pub mod version;\npub mod show;\n"
VERSION = """
    pub struct Version { pub major: u64 }

    impl Version {
        pub fn new() -> Self { Version { major: 0 } }
    }
"""
SHOW = """
    use crate::version::Version;

    pub fn show(v: &Version) -> String {
        let fresh = Version::new();
        let label = format!("{}", v.major);
        let n = 1;
        label
    }
"""


def _crate(root: Path) -> Path:
    (root / "src").mkdir(parents=True)
    (root / "Cargo.toml").write_text('[package]\nname = "demo"\nversion = "0.3.1"\n')
    (root / "src" / "lib.rs").write_text(LIB)
    (root / "src" / "version.rs").write_text(textwrap.dedent(VERSION).lstrip())
    (root / "src" / "show.rs").write_text(textwrap.dedent(SHOW).lstrip())
    return root


def test_statements_that_use_a_name_from_another_module_are_tasks(tmp_path: Path) -> None:
    root = _crate(tmp_path / "demo")
    assert crossfile_rust.is_crate(root) and not crossfile_rust.is_crate(tmp_path)
    assert crossfile_rust.crate_version(root) == "0.3.1"
    tasks = crossfile_rust.build_tasks(root)
    # Only the first statement names `Version` itself (as the Python tasks, a statement must
    # use the imported name); `label` alone is too short.
    assert [(t.path, t.line, t.target) for t in tasks] == [
        ("src/show.rs", 3, "let fresh = Version::new();"),
    ]
    task = tasks[0]
    assert task.text.split("\n")[3] == "    " and task.column == 4


def test_a_rust_path_is_a_member_access(tmp_path: Path) -> None:
    task = crossfile_rust.build_tasks(_crate(tmp_path / "demo"))[0]
    moved = at_member(task)
    assert moved is not None and moved.typed == "let fresh = Version::" and moved.target == "new();"
    assert first_member("Version::new()", "rust") == "new"
    assert first_member("Version::new()") is None  # Python has no `::` paths
    assert identifier_match("Version::new()", "let x = Version::new();", "rust") is True
