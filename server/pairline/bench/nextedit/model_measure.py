"""Model predictor latency: `python -m pairline.bench.nextedit.model_measure [--rounds 3]`.

Loads the configured local model (the default one unless `--model` names another), then asks
`predict_with_model` for the next edit after each of a few small edits (renames, an argument
added to a call, in several languages), going round the examples so that no prompt follows
itself (llama.cpp would reuse all of it): each request pays for its prompt and generation as
in an editor. Prints the latency of each request, p50 and p95 in milliseconds, and what was
proposed. Whether the proposals are right is the next-edit bench's business.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import dataclass

from pairline.engine.core.config import load_settings
from pairline.engine.core.document import Document
from pairline.engine.core.percentile import percentile
from pairline.engine.models import loading
from pairline.engine.nextedit.history import EditHistory
from pairline.engine.nextedit.model import predict_with_model


@dataclass(frozen=True)
class Example:
    name: str
    language: str
    text: str
    old: str  # replaced (first occurrence) by `new`: the user's edit
    new: str


EXAMPLES = (
    Example(
        "python rename",
        "python",
        "def total(items):\n"
        "    count = 0\n"
        "    for item in items:\n"
        "        if item.size > 0:\n"
        "            count += item.size\n"
        "    return count\n",
        "    count = 0",
        "    amount = 0",
    ),
    Example(
        "python argument",
        "python",
        "def report(rows, out):\n"
        '    write_row(out, "name", rows[0])\n'
        '    write_row(out, "size", rows[1])\n'
        '    write_row(out, "kind", rows[2])\n',
        'write_row(out, "name", rows[0])',
        'write_row(out, "name", rows[0], width=8)',
    ),
    Example(
        "javascript rename",
        "javascript",
        "function render(user) {\n"
        "  const label = user.name;\n"
        "  if (!label) return null;\n"
        "  return `<b>${label}</b>`;\n"
        "}\n",
        "const label = user.name;",
        "const title = user.name;",
    ),
    Example(
        "go attribute",
        "go",
        "package shop\n\n"
        "func price(o Order) int {\n"
        "\ttotal := o.Base\n"
        "\tif o.Base > 100 {\n"
        "\t\ttotal -= o.Base / 10\n"
        "\t}\n"
        "\treturn total\n"
        "}\n",
        "total := o.Base",
        "total := o.Net",
    ),
)


def _edited(example: Example) -> tuple[EditHistory, Document, int]:
    """The history after the example's edit, the document, and the edited line."""
    uri = f"file:///example/{example.name.replace(' ', '_')}"
    at = example.text.index(example.old)
    after = example.text[:at] + example.new + example.text[at + len(example.old) :]
    history = EditHistory()
    history.record(uri, example.text, after, version=1)
    history.settle()
    document = Document(uri, after, language=example.language, version=1)
    return history, document, after.count("\n", 0, at)


async def measure(model: str | None, rounds: int) -> list[float]:
    settings, problems = load_settings({"model": {"name": model}} if model else {})
    if problems:
        raise SystemExit("; ".join(problems))
    backend = await loading.load_local(settings)
    seconds: list[float] = []
    try:
        print(f"model {backend.name}")
        for round_ in range(rounds):
            for example in EXAMPLES:
                history, document, line = _edited(example)
                cursor = document.position_at(document.line_starts[line])
                began = time.perf_counter()
                found = await predict_with_model(backend, history.recent(), document, cursor)
                took = time.perf_counter() - began
                seconds.append(took)
                shown = ", ".join(
                    f"{p.range.start.line}:{p.range.start.character} {p.text!r} ({p.confidence})"
                    for p in found
                )
                print(f"  round {round_ + 1} {example.name:<18} {took * 1000:8.0f} ms  {shown}")
    finally:
        backend.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--model", help="a built-in model name or a GGUF path")
    args = parser.parse_args()
    seconds = asyncio.run(measure(args.model, args.rounds))
    ms = [s * 1000 for s in seconds]
    print(
        f"requests {len(ms)}  p50 {percentile(ms, 50) or 0:.0f} ms"
        f"  p95 {percentile(ms, 95) or 0:.0f} ms"
    )


if __name__ == "__main__":
    main()
