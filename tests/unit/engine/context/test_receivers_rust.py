"""The name monitor in Rust: modules through `mod` and `use`, `crate::` and `super::`, struct
fields, enum variants, methods from `impl` blocks in any file of the crate, traits (the
workspace's followed, the standard ones known by name), derives, and what stays unknown."""

from __future__ import annotations

from pathlib import Path

import pytest

from pairline.engine.context import ContextGatherer, member_files
from pairline.engine.context.members_rust import TYPE_MEMBERS
from tests.unit.engine.context.monitor_workspace import gatherer_for, members_at

FILES = {
    "Cargo.toml": '[package]\nname = "demo"\nversion = "0.1.0"\n',
    "src/lib.rs": """
        pub mod version;
        mod display;
        pub mod cli;
        pub mod generated;
        mod blanket;

        pub use version::Version;

        pub fn parse(text: &str) -> Version {
            Version::new(0, 0, 0)
        }
    """,
    "src/version.rs": """
        use std::fmt;

        #[derive(Debug, Clone, PartialEq)]
        pub struct Version {
            pub major: u64,
            pub minor: u64,
            pub pre: Prerelease,
        }

        #[derive(Debug)]
        pub struct Prerelease {
            text: String,
        }

        impl Prerelease {
            pub fn is_empty(&self) -> bool {
                self.text.is_empty()
            }
        }

        impl std::ops::Index<usize> for Prerelease {
            type Output = str;
            fn index(&self, _at: usize) -> &str {
                &self.text
            }
        }

        pub enum Op {
            Exact,
            Greater,
        }

        impl Version {
            pub fn new(major: u64, minor: u64, _patch: u64) -> Self {
                Version { major, minor, pre: Prerelease { text: String::new() } }
            }

            pub fn bump(&mut self) {}
        }

        pub trait Describe {
            fn describe(&self) -> String;
            fn short(&self) -> String {
                String::new()
            }
        }

        pub struct Wrapper(Version);

        impl std::ops::Deref for Wrapper {
            type Target = Version;
            fn deref(&self) -> &Version {
                &self.0
            }
        }

        #[derive(Parser)]
        pub struct Shipped(u8);
    """,
    "src/blanket.rs": """
        use crate::version::Describe;

        pub trait Labelled {
            fn label(&self) -> String {
                String::new()
            }
        }

        impl<T: Describe + ?Sized> Labelled for T {}
    """,
    "src/generated.rs": """
        pub struct Generated;

        make_methods!(Generated);
    """,
    "src/display.rs": """
        use std::fmt;

        use crate::version::{Describe, Version};

        impl Describe for Version {
            fn describe(&self) -> String {
                String::new()
            }
        }

        impl fmt::Display for Version {
            fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "{}", self.major)
            }
        }
    """,
}

VERSION = (
    {"major", "minor", "pre", "new", "bump", "describe", "short", "local_helper"}
    | {"fmt", "to_string", "clone", "clone_from", "to_owned", "clone_into", "eq", "ne"}
    | TYPE_MEMBERS
    | {"label"}  # a blanket `impl<T> Labelled for T` gives every type its methods
)
EVERY = TYPE_MEMBERS | {"label"}


@pytest.fixture
def gatherer(tmp_path: Path) -> ContextGatherer:
    return gatherer_for(tmp_path, FILES)


def _at(gatherer: ContextGatherer, source: str, rel: str = "src/cli.rs") -> dict[str, set[str]]:
    return {key: set(names) for key, names in members_at(gatherer, source, rel, "rust").items()}


SOURCE = """
    use crate::version::{self, Op, Prerelease, Version};

    impl Version {
        fn local_helper(&self, other: &Version, w: Wrapper, p: Prerelease) {
            let v = Version::new(1, 2, 3);
            let o: Op = Op::Exact;
            let mut copy = Self::new(0, 0, 0);
            let n = 5;
            for item in [1, 2] {
                <|>
            }
        }
    }
"""


def test_a_type_has_its_fields_its_methods_from_every_file_and_its_traits(
    gatherer: ContextGatherer,
) -> None:
    found = _at(gatherer, SOURCE)
    # `impl` blocks in version.rs, display.rs and this buffer; Describe's provided method;
    # Display, Debug, Clone and PartialEq known by name.
    assert found["Version"] == VERSION
    assert found["self"] == found["Self"] == found["other"] == VERSION
    assert found["v"] == found["copy"] == VERSION
    assert (
        found["p"] == found["Prerelease"] == {"text", "is_empty", "fmt", "index", "Output"} | EVERY
    )


def test_an_enum_has_its_variants(gatherer: ContextGatherer) -> None:
    found = _at(gatherer, SOURCE)
    assert found["Op"] == found["o"] == {"Exact", "Greater"} | EVERY


def test_modules_crate_and_super_have_their_items(gatherer: ContextGatherer) -> None:
    found = _at(gatherer, SOURCE)
    module = {"fmt", "Version", "Prerelease", "Op", "Describe", "Wrapper", "Shipped"}
    assert found["version"] == module
    assert found["crate"] == {
        "version", "display", "cli", "generated", "blanket", "Version", "parse"
    }  # fmt: skip
    nested = _at(gatherer, "use super::Version;\n\n<|>\n", rel="src/version/inner.rs")
    assert nested["super"] == found["version"]


def test_what_a_reader_cannot_see_constrains_nothing(gatherer: ContextGatherer) -> None:
    source = """
        use crate::generated::{self, Generated};
        use crate::version::{Shipped, Wrapper};

        fn run(w: Wrapper, s: Shipped, g: Generated, n: u64) {
            <|>
        }
    """
    found = _at(gatherer, source)
    # Deref adds the target's members; a derive from a crate adds its own; a macro invoked
    # with the type's name may write methods, and items of its module; a primitive is not
    # read at all.
    for name in ("w", "Wrapper", "s", "Shipped", "g", "Generated", "generated", "n"):
        assert name not in found, name
    assert "crate" in found


def test_a_new_impl_block_in_the_buffer_counts_before_it_is_saved(
    gatherer: ContextGatherer,
) -> None:
    source = """
        use crate::version::Op;

        impl Op {
            pub fn flip(&self) -> Op {
                <|>
            }
        }
    """
    found = _at(gatherer, source)
    assert found["self"] == {"Exact", "Greater", "flip"} | EVERY


def test_a_method_added_to_the_buffer_shows_at_the_next_request(gatherer: ContextGatherer) -> None:
    source = """
        use crate::version::Op;

        impl Op {
            pub fn flip(&self) -> Op {
                <|>
            }
        }
    """
    assert "flop" not in _at(gatherer, source)["Op"]
    grown = source.replace("impl Op {", "impl Op {\n    pub fn flop(&self) {}\n")
    assert "flop" in _at(gatherer, grown)["Op"]


def test_in_a_crate_too_large_to_read_whole_types_are_left_unknown(
    gatherer: ContextGatherer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(member_files, "MAX_CRATE_FILES", 2)
    found = _at(gatherer, SOURCE)
    # Modules are still known; a type's methods could be in any file, so no type is.
    assert "crate" in found and "version" in found
    for name in ("Version", "self", "v", "Op", "o", "Prerelease"):
        assert name not in found, name
