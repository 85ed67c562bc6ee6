"""Prompt layout: stable beginnings for KV reuse, FIM where the model has it."""

from __future__ import annotations

from pairline.engine.core.types import CompletionRequest, Position
from pairline.engine.models.manifest import FimTemplate
from pairline.engine.prompt.fim import build_prompt, prefix_window

QWEN = FimTemplate("qwen", "<P>", "<S>", "<M>", (), "psm")
CODESTRAL = FimTemplate("codestral", "[PREFIX]", "[SUFFIX]", "", (), "spm")


def request(prefix: str, suffix: str = "") -> CompletionRequest:
    return CompletionRequest("file:///w/app.py", "python", prefix, suffix, Position(0, 0))


def test_prefix_only_prompt_names_the_file() -> None:
    prompt = build_prompt(request("x = "), budget_tokens=100, suffix_lines=5, fim=None)
    assert prompt == "# app.py\nx = "


def test_window_start_is_stable_while_typing() -> None:
    lines = [f"line_{i} = {i}" for i in range(400)]
    base = "\n".join(lines) + "\n"
    first = prefix_window(base + "val", 300)
    second = prefix_window(base + "value = ", 300)
    # Same starting line: the cached prefix of the previous prompt is reused.
    assert first.split("\n")[0] == second.split("\n")[0]
    assert len(first) <= 900 and first.endswith("val")


def test_fim_layouts() -> None:
    req = request("a = ", "\nb = 2\n")
    psm = build_prompt(req, budget_tokens=100, suffix_lines=5, fim=QWEN)
    assert psm == "<P># app.py\na = <S>\nb = 2\n<M>"
    spm = build_prompt(req, budget_tokens=100, suffix_lines=5, fim=CODESTRAL)
    assert spm == "[SUFFIX]\nb = 2\n[PREFIX]# app.py\na = "


def test_context_leads_the_prompt() -> None:
    req = CompletionRequest(
        "file:///w/app.py",
        "python",
        "x = ",
        "",
        Position(0, 4),
        context="# from util.py:\n# def f(): ...",
    )
    prompt = build_prompt(req, budget_tokens=100, suffix_lines=5, fim=None)
    assert prompt == "# from util.py:\n# def f(): ...\n# app.py\nx = "


def test_a_small_budget_still_gets_the_lines_that_fit() -> None:
    # 95 lines of 40 characters: a budget of 128 tokens (384 characters) holds 9 of them.
    # Moving the start only in steps of 16 lines would leave the cursor line alone.
    lines = [f"    value_{i:03} = compute(value_{i - 1:03}) + 1  #" for i in range(95)]
    window = prefix_window("\n".join(lines) + "\n    self.", 128)
    assert len(window) <= 384
    assert len(window) >= 192 and window.endswith("    self.")  # at least half the budget
    # The same text one character on keeps its start (the KV cache is reused).
    longer = prefix_window("\n".join(lines) + "\n    self.w", 128)
    assert longer.split("\n")[0] == window.split("\n")[0]


def test_the_context_block_comes_on_top_of_the_codes_budget() -> None:
    code = "\n".join(f"line_{i} = {i}" for i in range(200)) + "\nx = "
    context = "# Path: util.py\n" + "# def helper(): ...\n" * 40  # about 260 tokens
    req = CompletionRequest(
        "file:///w/app.py", "python", code, "", Position(200, 4), context=context
    )
    on_top = build_prompt(req, budget_tokens=300, suffix_lines=5, fim=None, context_on_top=True)
    shared = build_prompt(req, budget_tokens=300, suffix_lines=5, fim=None)
    assert on_top.startswith(context) and shared.startswith(context)
    on_top_code = on_top.split("# app.py\n", 1)[1]
    shared_code = shared.split("# app.py\n", 1)[1]
    assert len(on_top_code) > 600 and len(shared_code) <= 300  # a quarter of 900 characters
    assert on_top_code.endswith("x = ") and shared_code.endswith("x = ")
