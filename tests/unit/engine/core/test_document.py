"""Documents: positions in every encoding, all-or-nothing edits."""

from __future__ import annotations

import pytest

from pairline.engine.core.document import Document, column_to_index, index_to_column
from pairline.engine.core.types import (
    InvalidPosition,
    Position,
    PositionEncoding,
    Range,
    TextChange,
)

U16 = PositionEncoding.UTF16
U8 = PositionEncoding.UTF8
U32 = PositionEncoding.UTF32


@pytest.mark.parametrize(
    ("line", "column", "encoding", "index"),
    [
        ("abc", 2, U16, 2),
        ("abc", 99, U16, 3),
        ("a😀b", 1, U16, 1),
        ("a😀b", 3, U16, 2),  # after the surrogate pair
        ("a😀b", 2, U16, 1),  # inside the pair: rounds down to its start
        ("a😀b", 5, U8, 2),  # 1 + 4 bytes
        ("é=1", 2, U8, 1),
        ("a😀b", 2, U32, 2),
    ],
)
def test_column_to_index(line: str, column: int, encoding: PositionEncoding, index: int) -> None:
    assert column_to_index(line, column, encoding) == index


def test_index_to_column_round_trips() -> None:
    line = "x = '😀é' + y"
    for index in range(len(line) + 1):
        for encoding in PositionEncoding:
            column = index_to_column(line, index, encoding)
            assert column_to_index(line, column, encoding) == index


def test_line_breaks_of_every_kind() -> None:
    doc = Document("u", "a\r\nb\rc\nd")
    assert doc.line_count == 4
    assert [doc.line_text(i) for i in range(4)] == ["a", "b", "c", "d"]
    assert doc.offset_at(Position(2, 1)) == doc.text.index("c") + 1


def test_offsets_clamp_columns_and_refuse_lines() -> None:
    doc = Document("u", "one\ntwo")
    assert doc.offset_at(Position(0, 99)) == 3
    assert doc.offset_at(Position(2, 0)) == len(doc.text)  # just after the last line
    with pytest.raises(InvalidPosition):
        doc.offset_at(Position(3, 0))
    with pytest.raises(InvalidPosition):
        doc.offset_at(Position(-1, 0))
    assert doc.clamp(Position(1, 50)) == Position(1, 3)


def test_incremental_edits_apply_in_order() -> None:
    doc = Document("u", "hello world", version=1)
    doc.apply(
        [
            TextChange("big ", Range(Position(0, 6), Position(0, 6))),
            TextChange("HELLO", Range(Position(0, 0), Position(0, 5))),
        ],
        version=2,
    )
    assert doc.text == "HELLO big world"
    assert doc.version == 2


def test_a_bad_edit_in_a_batch_applies_nothing() -> None:
    doc = Document("u", "keep me", version=3)
    with pytest.raises(InvalidPosition):
        doc.apply(
            [
                TextChange("X", Range(Position(0, 0), Position(0, 0))),
                TextChange("Y", Range(Position(7, 0), Position(7, 1))),
            ],
            version=4,
        )
    assert doc.text == "keep me"
    assert doc.version == 3


def test_inverted_range_is_refused() -> None:
    doc = Document("u", "abc")
    with pytest.raises(InvalidPosition):
        doc.apply([TextChange("", Range(Position(0, 2), Position(0, 1)))])


def test_full_replacement() -> None:
    doc = Document("u", "old")
    doc.apply([TextChange("new\ntext")])
    assert doc.line_count == 2


def test_utf16_edit_after_astral_character() -> None:
    doc = Document("u", "s = '😀'\n", encoding=U16)
    # The emoji takes two UTF-16 units: column 8 is just after the closing quote.
    doc.apply([TextChange(" + t", Range(Position(0, 8), Position(0, 8)))])
    assert doc.text == "s = '😀' + t\n"
    assert doc.position_at(len("s = '😀' + t")) == Position(0, 12)
