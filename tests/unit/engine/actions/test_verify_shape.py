"""A fix may change code inside definitions, not which definitions exist."""

from __future__ import annotations

from pathlib import Path

from pairline.engine.actions.verify import WorkspaceVerifier, definitions, shape_verdict
from pairline.engine.core.config import ActionsConfig

ORIGINAL = "def add(a, b):\n    return a + b\n\n\ndef subtract(a, b):\n    return a + b\n"


def test_definitions_are_counted() -> None:
    assert definitions("python", ORIGINAL) == {"add": 1, "subtract": 1}
    assert definitions("lua", "x") is None


def test_a_copy_of_the_neighbour_is_rejected() -> None:
    copied = ORIGINAL.replace("def subtract(a, b):", "def add(a, b):")
    verdict = shape_verdict("python", ORIGINAL, copied)
    assert verdict is not None and not verdict.ok
    assert "subtract()" in verdict.message and "add()" in verdict.message


def test_a_new_helper_is_allowed() -> None:
    helper = ORIGINAL + "\n\ndef _negate(x):\n    return -x\n"
    assert shape_verdict("python", ORIGINAL, helper) is None


def test_a_real_fix_passes() -> None:
    fixed = ORIGINAL.replace("    return a + b\n", "    return a - b\n").replace(
        "def add(a, b):\n    return a - b", "def add(a, b):\n    return a + b"
    )
    assert shape_verdict("python", ORIGINAL, fixed) is None


async def test_the_verifier_applies_it(tmp_path: Path) -> None:
    verifier = WorkspaceVerifier(ActionsConfig(), tmp_path)
    copied = ORIGINAL.replace("def subtract(a, b):", "def add(a, b):")
    verdict = await verifier.verify("python", "calc.py", ORIGINAL, copied)
    assert not verdict.ok and verdict.stage == "parse"
    verifier.close()
