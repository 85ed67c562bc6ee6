"""Candidates cut down to the fix: prose put back before any check, hunks the check does not
need dropped after it passed; and the same through the loop with a real check."""

from __future__ import annotations

from pathlib import Path

from pairline.engine.actions import fix
from pairline.engine.actions.hunks import applied, hunks, keep_prose, minimal
from pairline.engine.actions.verify import WorkspaceVerifier
from tests.unit.engine.actions.test_fix_loop import Sampler, by_index, checking, request
from tests.unit.engine.actions.test_fix_loop import workspace as workspace  # the fixture

ORIGINAL = '''def add(a, b):
    """Add two numbers."""
    # the sum
    total = a - b
    return total
'''


def test_a_deleted_docstring_and_comment_are_put_back_the_code_change_kept() -> None:
    candidate = "def add(a, b):\n    total = a + b\n    return total\n"
    assert keep_prose("python", ORIGINAL, candidate) == ORIGINAL.replace("a - b", "a + b")


def test_a_docstring_rewritten_as_comments_is_no_change_at_all() -> None:
    candidate = ORIGINAL.replace(
        '    """Add two numbers."""\n', "    # Add\n    # two\n    # numbers\n"
    )
    assert keep_prose("python", ORIGINAL, candidate) == ORIGINAL


def test_comment_only_hunks_in_braced_languages_are_put_back() -> None:
    original = "function f(a) {\n  // keep me\n  return a - 1;\n}\n"
    candidate = "function f(a) {\n  return a + 1;\n}\n"
    assert keep_prose("javascript", original, candidate) == original.replace("a - 1", "a + 1")


def test_hunks_applied_in_any_subset_give_whole_documents() -> None:
    candidate = ORIGINAL.replace("a - b", "a + b").replace("return total", "return (total)")
    found = hunks(ORIGINAL, candidate)
    assert len(found) == 2
    assert applied(ORIGINAL, found) == candidate
    assert applied(ORIGINAL, []) == ORIGINAL
    assert applied(ORIGINAL, found[:1]) == ORIGINAL.replace("a - b", "a + b")


async def test_a_fix_with_two_rewritten_lines_comes_back_as_the_one_line() -> None:
    original = "def f(xs):\n    n = len(xs)\n    m = n - 1\n    return xs[m] * 2\n"
    candidate = "def f(items):\n    n = len(items)\n    m = n - 2\n    return items[m] * 2\n"
    asked: list[str] = []

    async def passes(text: str) -> bool:  # the check: only `m = n - 2` matters
        asked.append(text)
        return "m = n - 2" in text and "def f(xs)" in text.replace("items", "xs")

    # `items` for `xs` in one line but not its neighbours breaks the code: those hunks
    # alone fail, the fix alone passes.
    result = await minimal(original, candidate, passes)
    assert result == original.replace("n - 1", "n - 2")
    assert len(asked) <= 3


async def test_minimal_keeps_every_hunk_the_check_needs() -> None:
    original = "a = 1\nb = 2\nc = 3\n"
    candidate = "a = 10\nb = 2\nc = 30\n"

    async def passes(text: str) -> bool:
        return "a = 10" in text and "c = 30" in text

    assert await minimal(original, candidate, passes) == candidate


async def fix_once(workspace: Path, text: str, answer: str) -> fix.FixResult:
    """One round, one candidate: `answer` to "Fix this" on calc.py holding `text`."""
    (workspace / "calc.py").write_text(text)
    model = Sampler(by_index([answer]))
    verifier = WorkspaceVerifier(checking(), workspace)
    asked = fix.FixRequest(
        **{**request().__dict__, "text": text, "region": fix.Region(0, 3, "add")}
    )
    try:
        return await fix.fix(asked, model, verifier, 1, loop=fix.Loop(candidates=1))
    finally:
        verifier.close()


async def test_the_loop_applies_only_the_fix_of_a_rewriting_answer(workspace: Path) -> None:
    # The model fixes the operator, renames the parameters and drops a comment: the user gets
    # the operator alone.
    buggy = "def add(a, b):\n    # sum them\n    return a - b\n"
    rewrite = "```python\ndef add(a, b):\n    return (a + b)\n```"
    result = await fix_once(workspace, buggy, rewrite)
    assert result.verified and result.text == "def add(a, b):\n    # sum them\n    return (a + b)\n"


async def test_an_answer_that_only_touches_the_docstring_is_never_checked(workspace: Path) -> None:
    documented = 'def add(a, b):\n    """Add."""\n    return a - b\n'
    answer = "```python\ndef add(a, b):\n    # Add.\n    return a - b\n```"
    result = await fix_once(workspace, documented, answer)
    assert not result.verified and result.checked == 0
    assert "only comments, docstrings or blank lines" in result.attempts[0].verdict.message
