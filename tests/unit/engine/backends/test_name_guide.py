"""Guided member names: finding the member access, the token trie, the mask and its
renormalised log-probabilities, over a small made-up vocabulary."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pairline.engine.backends import decoding, name_guide
from pairline.engine.backends.name_guide import (
    NameGuide,
    Vocabulary,
    code_before,
    member_access,
)
from pairline.engine.models.manifest import FimTemplate

PIECES = [
    "",  # 0: end of generation
    "normal",  # 1
    "ise",  # 2
    "_",  # 3
    "path",  # 4
    "path(",  # 5: the end of the name and the call's bracket in one token
    "(",  # 6
    " ",  # 7
    "nor",  # 8
    "no",  # 9
    "x",  # 10
    "pathology",  # 11: starts like the name's end, goes on with name characters
    "join",  # 12
    "\n",  # 13
    "normalise_path",  # 14: the whole name
    "paths",  # 15
    ".get",  # 16: a dot and the start of a name in one token
    ".join",  # 17
    "().",  # 18
    "nor",  # 19: another token with the same text (byte-level and normal forms)
]
VOCABULARY = Vocabulary(PIECES, ends=[0])
MEMBERS = {"helpers": frozenset({"normalise_path", "join"})}


def spelled(ids: object) -> set[str]:
    assert ids is not None
    return {PIECES[int(t)] for t in ids}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("text", "access"),
    [
        ("import helpers\n\nhelpers.", ("helpers", "")),
        ("x = helpers.norm", ("helpers", "norm")),
        ("        self.items.ap", ("self.items", "ap")),
        ("let p = Path::ne", ("Path", "ne")),
        ("f().items.ap", None),  # the receiver is a call's result
        ("a[0].name", None),
        ("x = 1.5", None),
        ("helpers", None),
        ("helpers.norm(", None),
        ("", None),
    ],
)
def test_the_access_is_the_whole_chain_before_the_last_dot(
    text: str, access: tuple[str, str] | None
) -> None:
    assert member_access(text) == access


def test_after_the_receiver_only_starts_of_its_members_may_come() -> None:
    allowed = VOCABULARY.allowed(MEMBERS["helpers"], "")
    assert spelled(allowed) == {"normal", "nor", "no", "join", "normalise_path"}


def test_every_token_that_spells_an_allowed_piece_is_allowed() -> None:
    allowed = VOCABULARY.allowed(MEMBERS["helpers"], "")
    assert allowed is not None and {8, 19} <= set(allowed.tolist())


def test_the_remembered_sets_stay_within_their_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(name_guide, "_KEPT_IDS", 10)
    vocabulary = Vocabulary(PIECES, ends=[0])
    for partial in ["", "normal", "normalise", "normalise_", "normalise_path", ""]:
        assert vocabulary.allowed(MEMBERS["helpers"], partial) is not None
    assert sum(len(ids) for ids in vocabulary._cache.values()) <= 10


def test_a_name_split_over_several_tokens_is_followed_piece_by_piece() -> None:
    guide = NameGuide(VOCABULARY, MEMBERS, "import helpers\n\nhelpers.")
    assert "normal" in spelled(guide.allowed(""))
    assert spelled(guide.allowed("normal")) == {"ise"}
    assert spelled(guide.allowed("normalise")) == {"_"}
    # The end of the name, or the end of it and a bracket; never a longer made-up name.
    assert spelled(guide.allowed("normalise_")) == {"path", "path("}


def test_a_whole_name_ends_at_any_token_that_cannot_go_on_with_it() -> None:
    guide = NameGuide(VOCABULARY, MEMBERS, "helpers.")
    assert spelled(guide.allowed("normalise_path")) == {"", "(", " ", "\n", ".get", ".join", "()."}
    assert guide.allowed("normalise_path(") is None  # past the name: free again
    assert guide.allowed("normalise_path(x") is None


def test_nothing_is_constrained_where_no_known_receiver_or_member_is_written() -> None:
    guide = NameGuide(VOCABULARY, MEMBERS, "import os\n\n")
    assert guide.allowed("os.pa") is None  # a receiver whose members are not known
    assert guide.allowed("x = 1") is None
    assert guide.allowed("helpers.zz") is None  # what the user wrote names no known member
    assert guide.allowed("helpers.jo") is None  # no piece spells the rest, "in"


def test_a_fill_in_the_middle_prompt_is_read_before_the_suffix() -> None:
    fim = FimTemplate("t", "<P>", "<S>", "<M>", (), "psm")
    assert code_before("<P>a = helpers.<S>\nb = 2\n<M>", fim).endswith("helpers.")
    spm = FimTemplate("t", "<P>", "<S>", "<M>", (), "spm")
    assert code_before("<S>\nb = 2\n<P>a = helpers.<M>", spm).endswith("helpers.")
    assert code_before("a = helpers.", None) == "a = helpers."


def test_the_mask_picks_the_likeliest_allowed_token_and_renormalises_over_the_allowed() -> None:
    row = np.full(len(PIECES), -10.0, dtype=np.float32)
    row[10] = 5.0  # "x": the model's favourite, a made-up name
    row[1], row[12] = 1.0, 1.0 + math.log(3.0)  # "normal" and "join"
    allowed = VOCABULARY.allowed(MEMBERS["helpers"], "")
    assert allowed is not None
    token, norm = decoding.guided_choice(row, allowed, lambda _t: True)
    masked = decoding.fitting_choice(
        decoding.only(row, allowed), lambda scores: int(scores.argmax()), lambda _t: True
    )
    assert masked[0] == token and masked[1] == pytest.approx(norm)
    assert PIECES[token] == "join"
    probabilities = {PIECES[t]: math.exp(float(row[t]) - norm) for t in allowed}
    assert sum(probabilities.values()) == pytest.approx(1.0, abs=1e-4)
    assert probabilities["join"] == pytest.approx(0.75, abs=1e-3)
    sampled = {
        decoding.sample(decoding.only(row, allowed), 1.0, 1.0, np.random.default_rng(seed))
        for seed in range(50)
    }
    assert {PIECES[t] for t in sampled} <= spelled(allowed)


def test_a_token_that_writes_the_dot_and_a_name_must_name_a_member() -> None:
    guide = NameGuide(VOCABULARY, MEMBERS, "import helpers\n\nx = helpers")
    assert guide.allowed("") is None  # no dot yet: nothing to mask
    assert not guide.fits("", 16)  # ".get": helpers has no member starting "get"
    assert guide.fits("", 17)  # ".join"
    assert guide.fits("", 18)  # "()." : a call's result, not a known receiver
    assert NameGuide(VOCABULARY, MEMBERS, "x = os").fits("", 16)  # members of os unknown
    row = np.zeros(len(PIECES), dtype=np.float32)
    row[16], row[17] = 4.0, 1.0
    token, norm = decoding.fitting_choice(
        row, lambda scores: int(scores.argmax()), lambda t: guide.fits("", t)
    )
    assert PIECES[token] == ".join"
    assert norm == pytest.approx(decoding.log_normalizer(np.delete(row, 16)))


def test_after_a_whole_member_a_dotted_token_is_checked_against_the_next_receiver() -> None:
    members = {"self": frozenset({"join"}), "self.join": frozenset({"normalise_path"})}
    guide = NameGuide(VOCABULARY, members, "        self.")
    allowed = guide.allowed("join")
    assert allowed is not None and 16 in allowed.tolist()  # ".get" ends the name "join"...
    row = np.zeros(len(PIECES), dtype=np.float32)
    row[16], row[6] = 5.0, 1.0
    token, _norm = decoding.guided_choice(row, allowed, lambda t: guide.fits("join", t))
    assert PIECES[token] == "("  # ...but self.join has no member "get"


def test_healing_keeps_to_the_typed_text_and_the_names_together() -> None:
    row = np.zeros(len(PIECES), dtype=np.float32)
    row[9] = 3.0  # "no": agrees with the typed "nor" and starts a member
    row[8] = 2.0  # "nor"
    allowed = VOCABULARY.allowed(MEMBERS["helpers"], "")
    choice = decoding.healing_choice(row, "nor", PIECES.__getitem__, [8], allowed)
    assert choice is not None and choice[0] == 9
    assert choice[1] == pytest.approx(decoding.log_normalizer(row[[1, 8, 9, 14, 19]]))
    # Typed characters that start no member: the typed text wins over the names.
    choice = decoding.healing_choice(row, "x", PIECES.__getitem__, [10], allowed)
    assert choice is not None and choice[0] == 10


def test_members_used_nearby_are_the_preferred_among_the_allowed() -> None:
    seen = {"helpers": frozenset({"join"})}
    guide = NameGuide(VOCABULARY, MEMBERS, "x = helpers.", seen)
    preferred, allowed = guide.preferred(""), guide.allowed("")
    assert spelled(preferred) == {"join"}
    assert set(preferred.tolist()) <= set(allowed.tolist())
    assert guide.preferred("nor") is None  # on the way to a member not used nearby
    assert NameGuide(VOCABULARY, MEMBERS, "x = helpers.").preferred("") is None


def test_token_texts_are_held_as_one_string_and_seen_in_any_order() -> None:
    texts = name_guide.Texts.of(["b", "", "ab", "ü"])
    assert list(texts) == ["b", "", "ab", "ü"] and texts[-1] == "ü" and texts[1:3] == ["", "ab"]
    ordered = texts.ordered(np.array([2, 0, 3]))
    assert len(ordered) == 3 and list(ordered) == ["ab", "b", "ü"]
    # The vocabulary's sorted view is in code point order, empty texts left out.
    vocabulary = Vocabulary(["ü", "b", "", "ab", "a"])
    assert list(vocabulary._sorted) == ["a", "ab", "b", "ü"]
    assert vocabulary._ids.tolist() == [4, 3, 1, 0]
