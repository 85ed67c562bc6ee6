"""Post-processing rules, table-driven: what the model wrote → what the user sees."""

from __future__ import annotations

import pytest

from pairline.engine.completion.postprocess import CursorContext, cut, finish
from pairline.engine.core.types import Mode


def ctx(
    prefix: str, suffix: str = "", mode: Mode = Mode.LINE, language: str = "python"
) -> CursorContext:
    return CursorContext.at(prefix, suffix, mode, language, max_lines=8)


@pytest.mark.parametrize(
    ("prefix", "suffix", "raw", "shown"),
    [
        ("x = ", "", "compute(1)\nnext_line()", "compute(1)"),  # stop at the line end
        ("print(", ")\n", "value)", "value"),  # the suffix already closes the call
        ("print(", ")\n", "value))", "value"),
        ("foo(a, ", "c)\n", "b, c)", "b,"),  # overlap with the rest of the line is dropped
        ("x = ", "", "   \n", None),  # whitespace-only: nothing to show
        ("x = ", "", "", None),
        ("return ", "", " value  ", "value"),  # re-typed space at a token boundary
        ("y = 1", "", "\nz = 2", None),  # the line is already complete
        ("s = 'abc", "'\n", "def'", "def"),
    ],
)
def test_line_mode(prefix: str, suffix: str, raw: str, shown: str | None) -> None:
    assert finish(raw, ctx(prefix, suffix)) == shown


@pytest.mark.parametrize(
    ("prefix", "suffix", "raw", "shown"),
    [
        # A Python body stops at the first line that dedents out of the block.
        (
            "def f(x):",
            "\n",
            "\n    y = x + 1\n    return y\n\ndef g():\n    pass",
            "\n    y = x + 1\n    return y",
        ),
        # A body that never indents is not a body.
        ("def f(x):", "\n", "\ndef g():\n    pass", None),
        # Cursor on the blank, already indented first line of the block.
        ("class A:\n    ", "\n", "x = 1\n    y = 2\nz = 3", "x = 1\n    y = 2"),
        # Cursor at column 0 of the blank line under the opener: the model writes the indent.
        ("if ok:\n", "\n", "    run()\n    done()\nelse:", "    run()\n    done()"),
        # Trailing blank lines are dropped.
        ("if ok:", "\n", "\n    run()\n\n\n", "\n    run()"),
    ],
)
def test_python_block_mode(prefix: str, suffix: str, raw: str, shown: str | None) -> None:
    assert finish(raw, ctx(prefix, suffix, Mode.BLOCK)) == shown


def test_brace_block_stops_before_the_closing_brace() -> None:
    c = ctx("function f(a) {", "\n}\n", Mode.BLOCK, "javascript")
    raw = "\n  const b = a * 2;\n  return b;\n}\n\nfunction g() {"
    assert finish(raw, c) == "\n  const b = a * 2;\n  return b;"


def test_block_is_capped_at_max_lines() -> None:
    c = CursorContext.at("def f():", "\n", Mode.BLOCK, "python", max_lines=2)
    assert finish("\n    a()\n    b()\n    c()\n    d()", c) == "\n    a()\n    b()"


def test_cut_reports_completion_for_early_stop() -> None:
    c = ctx("x = ")
    assert cut("abc", c) == ("abc", False)
    assert cut("abc\nmore", c) == ("abc", True)
    b = ctx("def f():", "\n", Mode.BLOCK)
    # While the last line is still streaming, it is not judged yet.
    assert cut("\n    a()\nde", b)[1] is False
    assert cut("\n    a()\ndef g", b) == ("\n    a()\ndef g", False)
    assert cut("\n    a()\ndef g():\n", b) == ("\n    a()", True)
