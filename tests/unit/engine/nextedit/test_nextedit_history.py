"""Edit history: hunk extraction, coalescing of keystrokes into edits, and the memory bounds."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pairline.engine.core.types import Position, PositionEncoding, Range, TextChange
from pairline.engine.nextedit.history import EditHistory
from pairline.engine.nextedit.hunks import changed_span, extract

URI = "file:///a.py"
TEXT = "def f(count):\n    total = count + 1\n    return total\n"


def type_text(history: EditHistory, text: str, offset: int, typed: str, uri: str = URI) -> str:
    """Type `typed` at `offset` one character at a time; the text afterwards."""
    for index, ch in enumerate(typed):
        at = offset + index
        history.record_change(uri, text, at, at, ch)
        text = text[:at] + ch + text[at:]
    return text


def delete_back(history: EditHistory, text: str, offset: int, count: int) -> str:
    """Press backspace `count` times with the cursor at `offset`."""
    for _ in range(count):
        new = text[: offset - 1] + text[offset:]
        history.record(URI, text, new)
        text, offset = new, offset - 1
    return text


@given(st.text("ab\n", max_size=12), st.text("ab\n", max_size=12))
def test_changed_span_rebuilds_the_new_text(before: str, after: str) -> None:
    start, end_before, end_after = changed_span(before, after)
    assert before[:start] + after[start:end_after] + before[end_before:] == after
    assert start <= end_before and start <= end_after


def test_changed_span_of_long_texts() -> None:
    before = "x" * 5000 + "abc" + "y" * 5000
    after = "x" * 5000 + "aXc" + "y" * 5000
    assert changed_span(before, after) == (5001, 5002, 5002)


def test_hunk_has_the_touched_lines_between_context_lines() -> None:
    before = "a\nb\nc\nd\ne\nf\ng\n"
    after = before.replace("d", "D")
    start = after.index("D")
    hunk = extract(after, start, start + 1, "d", context=2)
    assert hunk.line == 1
    assert hunk.above == ("b", "c")
    assert hunk.removed == ("d",)
    assert hunk.added == ("D",)
    assert hunk.below == ("e", "f")
    assert hunk.before == "b\nc\nd\ne\nf"
    assert hunk.after == "b\nc\nD\ne\nf"
    assert hunk.unified() == "@@ -2,5 +2,5 @@\n b\n c\n-d\n+D\n e\n f"


def test_hunk_without_context() -> None:
    after = "a\nb\nc\n"
    hunk = extract(after, 2, 3, "x", context=0)
    assert (hunk.line, hunk.above, hunk.removed, hunk.added, hunk.below) == (
        1,
        (),
        ("x",),
        ("b",),
        (),
    )


def test_hunk_of_deleted_lines() -> None:
    after = "a\nd\n"
    hunk = extract(after, 2, 2, "b\nc\n", context=1)
    assert (hunk.line, hunk.above, hunk.removed, hunk.added, hunk.below) == (
        0,
        ("a",),
        ("b", "c"),
        (),
        ("d",),
    )


def test_hunk_of_an_inserted_line_at_the_end() -> None:
    before = "a\nb\n"
    after = "a\nb\nc\n"
    hunk = extract(after, 4, 6, "", context=3)
    assert hunk.line == 0
    assert hunk.above == ("a", "b")
    assert hunk.removed == ()
    assert hunk.added == ("c",)
    assert hunk.below == ()
    assert hunk.unified() == "@@ -1,2 +1,3 @@\n a\n b\n+c"
    assert before == hunk.before + "\n"


def test_typing_a_word_char_by_char_is_one_edit() -> None:
    history = EditHistory()
    at = TEXT.index("+ 1") + 3
    text = type_text(history, TEXT, at, " * scale")
    [edit] = history.edits(URI)
    assert (edit.removed, edit.inserted) == ("", " * scale")
    assert text[edit.start : edit.end] == " * scale"
    assert edit.hunk.added == ("    total = count + 1 * scale",)
    assert edit.hunk.removed == ("    total = count + 1",)


def test_retyping_a_selected_word_is_one_rename() -> None:
    history = EditHistory()
    at = TEXT.index("count")
    text = TEXT[:at] + "n" + TEXT[at + 5 :]  # the selection replaced by the first key
    history.record(URI, TEXT, text)  # the diff alone reads it as "coun" deleted
    type_text(history, text, at + 1, "umber")
    [edit] = history.edits(URI)
    assert (edit.start, edit.removed, edit.inserted) == (at, "count", "number")


def test_backspacing_a_typo_stays_in_the_edit() -> None:
    history = EditHistory()
    at = TEXT.index("+ 1") + 3
    text = type_text(history, TEXT, at, " * scsl")
    text = delete_back(history, text, at + 7, 2)
    type_text(history, text, at + 5, "al")
    [edit] = history.edits(URI)
    assert edit.inserted == " * scal"


def test_typing_then_deleting_it_leaves_no_edit() -> None:
    history = EditHistory()
    at = TEXT.index("+ 1") + 3
    text = type_text(history, TEXT, at, "xy")
    assert delete_back(history, text, at + 2, 2) == TEXT
    assert history.edits(URI) == []
    assert history.last() is None


def test_two_distant_edits_are_two_edits() -> None:
    history = EditHistory()
    text = type_text(history, TEXT, TEXT.index("(count)") + 6, ", step")
    type_text(history, text, text.index("return total") + 12, " * 2")
    first, second = history.edits(URI)
    assert (first.inserted, second.inserted) == (", step", " * 2")
    assert second.sequence > first.sequence
    assert history.last(URI) == second


def test_an_edit_elsewhere_in_between_starts_a_new_edit() -> None:
    history = EditHistory()
    at = TEXT.index("+ 1") + 3
    text = type_text(history, TEXT, at, " *")
    type_text(history, "x = 1\n", 5, "0", uri="file:///b.py")
    type_text(history, text, at + 2, " 2")
    assert [edit.inserted for edit in history.edits(URI)] == [" *", " 2"]
    assert [edit.uri for edit in history.recent()] == [URI, "file:///b.py", URI]


def test_settle_starts_a_new_edit() -> None:
    history = EditHistory()
    at = TEXT.index("+ 1") + 3
    text = type_text(history, TEXT, at, " *")
    history.settle()
    type_text(history, text, at + 2, " 2")
    assert [edit.inserted for edit in history.edits(URI)] == [" *", " 2"]


def test_a_pause_starts_a_new_edit_when_asked_for() -> None:
    now = [0.0]
    history = EditHistory(pause=2.0, clock=lambda: now[0])
    at = TEXT.index("+ 1") + 3
    text = type_text(history, TEXT, at, " *")
    now[0] = 1.0
    text = type_text(history, text, at + 2, " 2")
    now[0] = 5.0
    type_text(history, text, at + 4, "0")
    assert [edit.inserted for edit in history.edits(URI)] == [" * 2", "0"]


def test_record_changes_applies_lsp_ranges() -> None:
    history = EditHistory()
    text = "s = '😀'\nx = count\n"
    # In UTF-16 the emoji is two columns: line 1 is unaffected, but check a range after it.
    start, end = Position(1, 4), Position(1, 9)
    new = history.record_changes(
        URI,
        text,
        [TextChange("n", Range(start, end)), TextChange("", Range(Position(0, 5), Position(0, 7)))],
        version=3,
        encoding=PositionEncoding.UTF16,
    )
    assert new == "s = ''\nx = n\n"
    rename, emptied = history.edits(URI)
    assert (rename.removed, rename.inserted, rename.version) == ("count", "n", 3)
    assert (emptied.removed, emptied.inserted) == ("😀", "")


def test_record_changes_with_a_whole_text() -> None:
    history = EditHistory()
    new = history.record_changes(URI, TEXT, [TextChange(TEXT.replace("+ 1", "+ 2"))])
    [edit] = history.edits(URI)
    assert new == TEXT.replace("+ 1", "+ 2")
    assert (edit.removed, edit.inserted) == ("1", "2")


def test_edits_per_document_are_bounded() -> None:
    history = EditHistory(per_document=3)
    text = "\n".join(f"line {i}" for i in range(10))
    for line in range(6):
        history.settle()
        at = text.index(f"line {line}")
        text = type_text(history, text, at, "#")
    assert len(history.edits(URI)) == 3
    assert history.edits(URI)[0].hunk.added == ("#line 3",)


def test_documents_are_bounded_dropping_the_least_recently_edited() -> None:
    history = EditHistory(documents=2)
    for name in ("a", "b", "c"):
        type_text(history, "x\n", 1, "y", uri=f"file:///{name}")
    assert history.edits("file:///a") == []
    assert [edit.uri for edit in history.recent()] == ["file:///c", "file:///b"]
    history.forget("file:///c")
    assert history.last() == history.last("file:///b")


def test_a_big_paste_is_clipped_and_not_extended() -> None:
    history = EditHistory(max_hunk_chars=200)
    paste = "".join(f"value_{i} = {i}\n" for i in range(100))
    text = TEXT + "\n".join(f"# {i}" for i in range(20))
    history.record_change(URI, text, 0, 0, paste)
    edit = history.last()
    assert edit is not None and edit.clipped and edit.hunk.clipped
    assert len(edit.inserted) <= 100
    assert edit.end == len(paste)  # where the pasted text really ends
    assert len(edit.hunk.before) + len(edit.hunk.after) <= 210
    assert edit.hunk.above == edit.hunk.below == ()
    history.record_change(URI, paste + text, len(paste), len(paste), "x")
    assert len(history.edits(URI)) == 2


def test_context_lines_are_dropped_before_the_hunk_is_cut() -> None:
    history = EditHistory(context_lines=3, max_hunk_chars=60)
    text = "\n".join("x" * 10 for _ in range(9))
    at = text.index("\n", 40)
    type_text(history, text, at, "y")
    edit = history.last()
    assert edit is not None and not edit.hunk.clipped
    assert len(edit.hunk.above) + len(edit.hunk.below) < 6
    assert sum(len(line) + 1 for line in edit.hunk.before.split("\n")) <= 60
