"""Block detection from the syntax tree, per language."""

from __future__ import annotations

import pytest

from pairline.engine.core import syntax


@pytest.mark.parametrize(
    ("language", "prefix", "suffix", "block"),
    [
        ("python", "def f(x):", "\n", True),
        ("python", "def f(x):\n    ", "\n", True),  # on the blank first line of the body
        ("python", "class A(Base):  # comment", "\n", True),
        ("python", "for i in range(3):", "", True),
        ("python", "d = {1:", "\n", False),  # a dict, not a block
        ("python", "xs[1:", "]\n", False),  # a slice
        ("python", "f = lambda x:", "\n", False),
        ("python", "def f(x):", "\n    return x\n", False),  # the body exists already
        ("python", "x = 1", "\n", False),
        ("python", "def f(x):", " pass\n", False),  # text right of the cursor
        ("javascript", "function f(a) {", "\n}\n", True),
        ("javascript", "// see {", "\n", False),  # a brace in a comment
        ("javascript", 'const s = "{', "\n", False),  # a brace in a string
        ("typescript", "class A {", "\n}\n", True),
        ("typescriptreact", "function C() {", "\n}\n", True),
        ("go", "func main() {", "\n}\n", True),
        ("rust", "fn main() {", "\n}\n", True),
        ("rust", "fn main() {", "\n    let x = 1;\n}\n", False),
        ("lua", "function f()", "\nend\n", False),  # no grammar: never multi-line
    ],
)
def test_opens_block(language: str, prefix: str, suffix: str, block: bool) -> None:
    assert syntax.opens_block(language, prefix, suffix) is block


def test_error_count() -> None:
    assert syntax.error_count("python", "def f():\n    return 1\n") == 0
    assert (syntax.error_count("python", "def f(:\n") or 0) > 0
    assert syntax.error_count("lua", "x") is None


@pytest.mark.parametrize(
    ("language", "prefix", "text", "suffix", "expected"),
    [
        # Fine as it is.
        ("python", "x = compute(", "a, b", ")\n", "a, b"),
        # The line already closes the call: keep only what fits inside it.
        ("python", "total = sum(", "values) + 1)", ")\n", "values"),
        # Nothing can be saved.
        ("python", "def f():\n    return ", "))((", "\n", None),
        # A block body that dedents into garbage keeps its valid lines.
        (
            "python",
            "def f(x):",
            "\n    y = x * 2\n    return y\n  )]",
            "\n",
            "\n    y = x * 2\n    return y",
        ),
        # No grammar: unchanged.
        ("lua", "local x = ", "))", "\n", "))"),
        ("javascript", "const total = items.reduce((a, b) => ", "a + b, 0);", "\n", "a + b, 0);"),
    ],
)
def test_longest_valid(
    language: str, prefix: str, text: str, suffix: str, expected: str | None
) -> None:
    assert syntax.longest_valid(language, prefix, text, suffix) == expected


@pytest.mark.parametrize(
    ("language", "prefix", "suffix", "inside"),
    [
        ("python", 'msg = "hello ', '"\n', True),
        ("python", 'msg = "hello"', "\n", False),  # just after the closing quote
        ("python", 'def f():\n    """Docs ', '"""\n', True),
        ("python", "x = ", "\n", False),
        ("javascript", "const s = `value ${", "}`;\n", False),  # code inside a template
        ("javascript", "const s = 'abc", "';\n", True),
        ("go", 's := "ab', '"\n', True),
        ("rust", 'let s = "ab', '";\n', True),
    ],
)
def test_inside_string(language: str, prefix: str, suffix: str, inside: bool) -> None:
    assert syntax.inside_string(language, prefix, suffix) is inside


def test_f_string_expression_is_code() -> None:
    assert syntax.inside_string("python", 'msg = f"total: {cou', '}"\n') is False


def test_checks_look_at_a_window_of_a_huge_line() -> None:
    # A 9 MB one-line file: every check parses a bounded window around the cursor.
    huge = "x = [" + "1, " * 3_000_000
    assert syntax.opens_block("python", huge, "") is False
    assert syntax.inside_string("python", huge, "") is False
    assert syntax.longest_valid("python", huge, "2]", "\n") == "2]"


def test_window_never_starts_inside_a_docstring() -> None:
    # 300 lines of docstring-heavy code: a window of the last 200 lines would begin inside
    # the class docstring and read the method below it as text.
    doc = '    """\n' + "    Notes on the cache.\n" * 250 + '    """\n'
    prefix = "class Cache:\n" + doc + "\n    def wait(self):\n        time."
    suffix = "\n\n    def release(self):\n        pass\n"
    assert not syntax.inside_string("python", prefix, suffix)
    assert syntax.inside_string("python", prefix[:-5] + "'tim", "e'\n" + suffix)
    assert syntax.longest_valid("python", prefix, "sleep(0.001)", suffix) == "sleep(0.001)"
    # An empty method body there is a block to fill.
    opener = prefix.rsplit("\n", 1)[0] + "\n        "
    assert syntax.opens_block("python", opener, "\n" + suffix)
