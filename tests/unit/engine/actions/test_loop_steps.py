"""The step a loop is missing: which loops get one, what it is in each language, where it goes."""

from __future__ import annotations

import subprocess
import sys

from pairline.engine.actions.mutants import mutants

ROMAN = """def to_roman(number):
    num = [1, 4, 5, 9, 10]
    sym = ["I", "IV", "V", "IX", "X"]
    i = 4
    res = ""
    while number:
        div = number // num[i]
        number %= num[i]
        while div:
            res += sym[i]
        i -= 1
    return res
"""


def steps(language: str, code: str, families: frozenset[str] = frozenset({"step"})) -> list[str]:
    return [m.what for m in mutants(language, code, 0, 99, families=families) if "added" in m.what]


def test_a_loop_whose_counter_never_moves_gets_its_step_first_and_the_fix_runs() -> None:
    found = mutants("python", ROMAN, 0, 13)
    assert found[0].what == "line 11: added `div -= 1`"
    # Only the inner loop: the outer one's condition name is written in its body.
    assert steps("python", ROMAN) == ["line 11: added `div -= 1`"]
    fixed = found[0].text
    assert "            res += sym[i]\n            div -= 1\n        i -= 1\n" in fixed
    run = [sys.executable, "-c", fixed + "print(to_roman(19))"]
    assert subprocess.run(run, capture_output=True, text=True, timeout=10).stdout == "XIX\n"


def test_the_step_follows_the_condition() -> None:
    code = (
        "def f(xs, n, x):\n    while i < len(xs):\n        print(i)\n    while n >= x:\n        n\n"
    )
    assert steps("python", code) == [
        "line 4: added `i += 1`",
        "line 6: added `n -= 1`",
        "line 6: added `n -= x`",
        "line 6: added `x += 1`",
    ]
    digits = "def f(n):\n    s = 0\n    while n > 0:\n        s += n % 10\n    return s\n"
    assert steps("python", digits) == [
        "line 5: added `n -= 1`",
        "line 5: added `n %= 10`",
        "line 5: added `n //= 10`",
    ]


def test_each_language_spells_the_step_its_way() -> None:
    js = "function f(num) {\n  let s = 0;\n  while (num > 0) {\n    s += num % 10;\n  }\n}\n"
    assert "line 5: added `num = Math.floor(num / 10);`" in steps("javascript", js)
    go = "package m\n\nfunc f(n int) int {\n\tfor n > 0 {\n\t\t_ = n % 10\n\t}\n\treturn n\n}\n"
    assert steps("go", go) == [
        "line 6: added `n -= 1`",
        "line 6: added `n %= 10`",
        "line 6: added `n /= 10`",
    ]
    rust = (
        "fn f(mut number: i32, num: Vec<i32>, pos: usize) {\n"
        '    while number >= num[pos] {\n        println!("x");\n    }\n}\n'
    )
    assert steps("rust", rust) == [
        "line 4: added `number -= 1;`",
        "line 4: added `number -= num[pos];`",
    ]


def test_a_remainder_taken_in_the_body_is_also_tried_right_after_it() -> None:
    code = (
        "def to_roman(number, num, sym):\n    i, res = 12, ''\n"
        "    while number:\n        div = number // num[i]\n"
        "        while div:\n            res += sym[i]\n            div -= 1\n"
        "        i -= 1\n    return res\n"
    )
    found = steps("python", code)
    assert found[:2] == ["line 9: added `number -= 1`", "line 5: added `number %= num[i]`"]
    assert "line 9: added `number %= num[i]`" in found


def test_loops_that_move_their_names_or_end_by_themselves_are_left_alone() -> None:
    code = (
        "def f(xs, stack, node):\n"
        "    for x in xs:\n        print(x)\n"
        "    while stack:\n        stack.pop()\n"
        "    while node:\n        node = node.next\n"
        "    while True:\n        break\n"
        "    while i < 3: i += 1\n"
    )
    assert steps("python", code) == []
    js = "function f(n) {\n  for (let i = 0; i < n; ) {\n    g();\n  }\n"
    js += "  while (n--) {\n    g();\n  }\n}\n"
    assert steps("javascript", js) == []


def test_the_family_can_be_left_out() -> None:
    assert steps("python", ROMAN, frozenset()) == []
