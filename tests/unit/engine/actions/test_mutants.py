"""Small edits of a region: which are tried, in what order, and what is never touched."""

from __future__ import annotations

from pairline.engine.actions.mutants import FAMILIES, mutants
from pairline.engine.core import syntax

MEAN = """def mean(values, label="a < b"):
    # total < count
    total = sum(values)
    return total / (len(values) - 1)
"""


def texts(language: str, text: str, start: int = 0, end: int = 99) -> list[str]:
    return [m.text for m in mutants(language, text, start, end)]


def test_the_off_by_one_fix_is_among_the_edits_and_each_says_what_it_changed() -> None:
    found = mutants("python", MEAN, 0, 4)
    fixed = "    return total / (len(values))\n"
    assert any(m.text.endswith(fixed) for m in found)
    assert any(m.text.endswith("    return total / (len(values) - 0)\n") for m in found)
    what = next(m.what for m in found if m.text.endswith("    return total * (len(values) - 1)\n"))
    assert what == "line 4: `/` → `*`"


def test_strings_comments_and_the_signature_are_left_alone() -> None:
    for text in texts("python", MEAN, 0, 4):
        assert text.startswith('def mean(values, label="a < b"):\n    # total < count\n')


def test_operator_swaps_come_before_variable_swaps_and_line_drops() -> None:
    code = "def f(a, b):\n    c = a\n    if a < b:\n        return a\n    return c\n"
    found = mutants("python", code, 0, 5)
    kinds = [m.what for m in found]
    first_swap = next(i for i, w in enumerate(kinds) if "`a` → `b`" in w)
    assert kinds[0] == "line 3: `<` → `<=`"
    assert first_swap > kinds.index("line 3: `<` → `>`")
    assert kinds[-1].startswith("line 2: dropped")  # the one droppable statement line, last
    dropped = "def f(a, b):\n    if a < b:\n        return a\n    return c\n"
    assert dropped in [m.text for m in found]


def test_every_edit_parses_no_worse_than_the_original() -> None:
    code = "def f(xs):\n    for x in xs:\n        if not x:\n            return 0\n    return 1\n"
    found = texts("python", code)
    assert found and len(found) == len(set(found))
    for text in found:
        assert syntax.error_count("python", text) == 0
    flipped = "def f(xs):\n    for x in xs:\n        if x:\n            return 0\n    return 1\n"
    assert flipped in found


def test_only_the_region_is_edited() -> None:
    code = "def g(a):\n    return a + 1\n\n\ndef f(a):\n    return a - 1\n"
    for text in texts("python", code, 4, 6):
        assert text.startswith("def g(a):\n    return a + 1\n")
    assert "def g(a):\n    return a + 1\n\n\ndef f(a):\n    return a + 1\n" in texts(
        "python", code, 4, 6
    )


def test_javascript_operators_and_function_pairs() -> None:
    code = "function f(a, b) {\n  return a === b && Math.min(a, b) > 0;\n}\n"
    found = texts("javascript", code)
    assert "function f(a, b) {\n  return a !== b && Math.min(a, b) > 0;\n}\n" in found
    assert "function f(a, b) {\n  return a === b || Math.min(a, b) > 0;\n}\n" in found
    assert "function f(a, b) {\n  return a === b && Math.max(a, b) > 0;\n}\n" in found


def test_no_grammar_no_edits_and_the_limit_holds() -> None:
    assert mutants("plaintext", "a < b\n", 0, 1) == []
    code = "def f(a, b, c):\n    return a + b * c - a // b < c and a or b\n"
    assert len(mutants("python", code, 0, 2, limit=5)) == 5


def test_edits_in_a_long_file_are_checked_by_reparsing_only_what_changed() -> None:
    filler = "".join(f"def g{i}(x):\n    return x * {i} + 1\n\n\n" for i in range(2000))
    code = filler + "def f(a, b):\n    return a - b\n"
    start = code.count("\n") - 2
    found = mutants("python", code, start, start + 2)
    assert found and all(m.text.startswith(filler) for m in found)
    assert code.replace("return a - b", "return a + b") in [m.text for m in found]
    # Every edit kept parses, though only the edited part was parsed again.
    assert all(syntax.error_count("python", m.text) == 0 for m in found)


def whats(code: str, families: frozenset[str] = FAMILIES) -> list[str]:
    return [m.what for m in mutants("python", code, 0, 99, families=families)]


def test_a_name_or_call_assigned_or_returned_gets_one_more_or_less() -> None:
    code = "def f(lo, hi):\n    mid = half(lo, hi)\n    lo = mid\n    return hi\n"
    found = texts("python", code)
    assert code.replace("lo = mid\n", "lo = mid + 1\n") in found
    assert code.replace("lo = mid\n", "lo = mid - 1\n") in found
    assert code.replace("return hi", "return hi + 1") in found
    assert code.replace("half(lo, hi)\n", "half(lo, hi) - 1\n") in found
    assert "line 3: `mid` → `mid + 1`" in whats(code)
    # A call passed on, as in `range(2, min(int(root(p)), p))` for `int(root(p)) + 1`.
    passed = "def f(p):\n    return range(2, min(int(p), p))\n"
    assert passed.replace("min(int(p), p)", "min(int(p) + 1, p)") in texts("python", passed)


def test_the_off_by_one_values_leave_the_called_name_and_the_left_side_alone() -> None:
    code = "def f(xs):\n    n = count\n    return total(xs)\n"
    found = texts("python", code)
    assert "def f(xs):\n    n + 1 = count\n    return total(xs)\n" not in found
    assert "def f(xs):\n    n = count\n    return total + 1(xs)\n" not in found
    assert "def f(xs):\n    n = count\n    return total(xs) + 1\n" in found


def test_two_arguments_items_or_operands_trade_places() -> None:
    code = (
        "def f(s, a, b):\n    day, month = s.split('-')\n    t = s.replace(' ', ',')\n"
        "    return [a, b], s[a:] + s[:a], a - b\n"
    )
    found = texts("python", code)
    assert code.replace("day, month =", "month, day =") in found
    assert code.replace("replace(' ', ',')", "replace(',', ' ')") in found
    assert code.replace("[a, b],", "[b, a],") in found
    assert code.replace("s[a:] + s[:a]", "s[:a] + s[a:]") in found
    assert code.replace("a - b\n", "b - a\n") in found
    assert "line 3: `' ', ','` → `',', ' '`" in whats(code)


def test_keyword_arguments_commutative_operators_and_signatures_keep_their_order() -> None:
    code = "def f(a, b):\n    return g(a, key=b) or a * b\n"
    found = texts("python", code)
    assert "def f(a, b):\n    return g(key=b, a) or a * b\n" not in found
    assert "def f(a, b):\n    return g(a, key=b) or b * a\n" not in found
    assert not any(text.startswith("def f(b, a):") for text in found)


def test_each_optional_family_can_be_left_out() -> None:
    code = "def f(s, lo, hi):\n    lo = hi\n    return s.replace(lo, hi)\n"
    every = whats(code)
    assert "line 2: `hi` → `hi + 1`" in every and "line 3: `lo, hi` → `hi, lo`" in every
    no_offsets = whats(code, frozenset({"swap"}))
    # (A name passed on, `lo + 1` on line 3, is the older off-by-one edit's.)
    assert not any(w.startswith("line 2") and w.endswith(("+ 1`", "- 1`")) for w in no_offsets)
    assert "line 3: `lo, hi` → `hi, lo`" in no_offsets
    no_swaps = whats(code, frozenset({"offset"}))
    assert "line 2: `hi` → `hi + 1`" in no_swaps and "line 3: `lo, hi` → `hi, lo`" not in no_swaps
    # Without either, the edits are the older list's, in its order.
    none = whats(code, frozenset())
    assert set(none) == set(no_offsets) & set(no_swaps)
    assert none == [w for w in every if w in none]
