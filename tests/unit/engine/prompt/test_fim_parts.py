"""The FIM prompt's parts, for servers that lay out the prompt themselves (/infill)."""

from __future__ import annotations

from pairline.engine.backends.server_api import SERVER_LAYOUT
from pairline.engine.core.types import CompletionRequest, Position
from pairline.engine.prompt.fim import build_prompt, context_chunks, fim_parts

CONTEXT = "# Path: util.py\n# def sub(a, b): ...\n# Path: io.py (recent edit)\n# x = 1\n"


def request(context: str = "") -> CompletionRequest:
    return CompletionRequest(
        uri="file:///w/app.py",
        prefix="def add(a, b):\n    return ",
        suffix="\n\nprint(add(1, 2))\n",
        position=Position(1, 11),
        language="python",
        context=context,
    )


def test_context_is_cut_at_its_path_headers() -> None:
    assert context_chunks("python", CONTEXT) == (
        ("util.py", "# Path: util.py\n# def sub(a, b): ...\n"),
        ("io.py", "# Path: io.py (recent edit)\n# x = 1\n"),
    )
    assert context_chunks("python", "") == ()


def test_parts_hold_what_the_prompt_holds() -> None:
    prefix, suffix, extra = fim_parts(request(CONTEXT), budget_tokens=512, suffix_lines=8)
    assert prefix == "# app.py\ndef add(a, b):\n    return "
    assert suffix == "\n\nprint(add(1, 2))\n"
    assert [path for path, _ in extra] == ["util.py", "io.py"]
    # The same pieces as the prompt with empty FIM tokens: context, prefix, suffix.
    whole = build_prompt(request(CONTEXT), budget_tokens=512, suffix_lines=8, fim=SERVER_LAYOUT)
    assert whole == "".join(text for _, text in extra) + prefix + suffix
