"""The evidence behind propagation's confidence: repeats of a change, common text, own values."""

from __future__ import annotations

from pairline.engine.nextedit.evidence import count, makes


def test_whole_tokens_only() -> None:
    assert count("str", "a: str, b: string, c: my_str, d: str") == 2
    assert count("$el", "$el + $elem") == 1


def test_a_change_that_extends_its_old_text() -> None:
    assert makes("t.IO", "t.IO[t.Any]", "f: t.IO, g: t.IO", "f: t.IO[t.Any], g: t.IO")
    # The new text already there, the old one left as it was: another edit.
    assert not makes("t.IO", "t.IO[t.Any]", "f: t.IO[t.Any], x", "f: t.IO[t.Any], y")


def test_a_change_needs_both_sides() -> None:
    assert makes("value", "value_str", "x = value", "x = value_str")
    assert not makes("value", "value_str", "x = value", "x = value\ny = value_str")  # gained only
    assert makes("", "stacklevel=2", "warn(m)", "warn(m, stacklevel=2)")  # an argument added
    assert makes("err=True", "", "echo(m, err=True)", "echo(m)")
    assert not makes("", "", "a", "b")


def test_counting_stops_at_most() -> None:
    assert count("a", "a a a a", most=2) == 2
