"""The post-check of member names: a suggestion is cut before its first made-up member."""

from __future__ import annotations

from pairline.engine.completion.names_check import check, first_made_up

MEMBERS = {
    "helpers": frozenset({"normalise_path", "LIMIT"}),
    "self": frozenset({"items", "grow"}),
    "self.items": frozenset({"append"}),
}


def test_real_members_pass() -> None:
    text = "x = helpers.normalise_path(p) + helpers.LIMIT"
    assert check(text, "    ", "", MEMBERS) == text


def test_cut_before_the_first_made_up_member() -> None:
    text = "x = helpers.normalise_path(helpers.make_path(p))"
    assert first_made_up(text, "    ", "", MEMBERS) == text.index("helpers.make_path")
    assert check(text, "    ", "", MEMBERS) == "x = helpers.normalise_path("


def test_a_suggestion_that_starts_with_a_made_up_member_is_dropped() -> None:
    assert check("get_items()", "    self.", "", MEMBERS) is None
    assert check("helpers.make_path(p)", "    return ", "", MEMBERS) is None
    assert check("(helpers.make_path(p))", "    return ", "", MEMBERS) is None


def test_the_name_being_typed_is_judged_with_what_the_suggestion_adds() -> None:
    # `helpers.nor` typed, the suggestion finishes the name.
    assert check("malise_path(p)", "    helpers.nor", "", MEMBERS) == "malise_path(p)"
    assert check("mal(p)", "    helpers.nor", "", MEMBERS) is None


def test_nested_receivers_are_judged_at_each_step() -> None:
    assert check("self.items.append(1)", "    ", "", MEMBERS) == "self.items.append(1)"
    assert check("self.items.push(1)", "    ", "", MEMBERS) is None
    assert check("y = self.items.push(1)", "    ", "", MEMBERS) == "y ="


def test_unknown_receivers_strings_and_comments_are_not_judged() -> None:
    text = 'os.anything(helpers) + "helpers.nothing"  # helpers.nope'
    assert check(text, "    ", "", MEMBERS) == text


def test_the_users_own_text_is_not_judged() -> None:
    assert check(" + 1", "    x = helpers.typo", "", MEMBERS) == " + 1"


def test_a_name_cut_short_at_the_end_may_still_become_a_member() -> None:
    assert check("x = helpers.normal", "    ", "", MEMBERS) == "x = helpers.normal"
    assert check("x = helpers.normal", "    ", ")", MEMBERS) == "x ="


def test_no_members_no_check() -> None:
    assert check("helpers.whatever()", "    ", "", {}) == "helpers.whatever()"


def test_an_assigned_member_is_created_not_made_up() -> None:
    assert check("self.count = 0", "    ", "", MEMBERS) == "self.count = 0"
    assert check("self.count: int = 0", "    ", "", MEMBERS) == "self.count: int = 0"
    assert check("x = self.count == 0", "    ", "", MEMBERS) == "x ="


def test_in_a_block_the_lines_before_the_made_up_one_stay() -> None:
    text = "\n        x = helpers.normalise_path(p)\n        y = helpers.nope(x)\n        return y"
    assert check(text, "    if p:", "", MEMBERS) == "\n        x = helpers.normalise_path(p)"


RUST = {"Version": frozenset({"parse", "new"}), "self": frozenset({"major", "bump"})}


def test_rust_paths_are_checked_and_comments_are_not() -> None:
    text = "let v = Version::parse(s)?.max(Version::make(1));"
    assert check(text, "    ", "", RUST, "rust") == "let v = Version::parse(s)?.max("
    # A lifetime is not a quote; `//` starts a comment, `#[...]` does not.
    assert first_made_up("fn f<'a>(x: &'a str) { self.grow() }", "", "", RUST, "rust") == 23
    assert check("self.bump(); // self.grow() later", "    ", "", RUST, "rust") is not None
    assert check("/* self.grow() */ self.bump()", "    ", "", RUST, "rust") is not None


def test_comments_and_strings_per_language() -> None:
    members = {"helpers": frozenset({"normalise_path"})}
    # In Python `//` divides: what follows is code; in JavaScript it is a comment.
    assert first_made_up("n // helpers.size", "x = ", "", members, "python") == 5
    assert check("n; // helpers.size", "x = ", "", members, "javascript") == "n; // helpers.size"
    assert check("`${helpers.size}`", "x = ", "", members, "javascript") is not None
    # Python has no `::` paths: `a[b::c]` is a slice.
    assert check("items[helpers::size]", "x = ", "", members, "python") is not None
