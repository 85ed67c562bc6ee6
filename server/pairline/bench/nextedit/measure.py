"""Propagation latency: `python -m pairline.bench.nextedit.measure [--lines 2000] [--rounds 200]`.

For each language, generates a file of about `--lines` lines made of small functions that
share local names and calls (so a rename has hundreds of candidates to rank and check), then
repeats: one edit in a random function (a rename, or an argument added to a call), recorded in
an `EditHistory`, then `Propagator.propose` timed. The first request parses the whole file
(cold); the next ones reparse incrementally, as in a server that proposes after each edit.
Prints p50 and p95 in milliseconds; the target is p95 ≤ 20 ms.
"""

from __future__ import annotations

import argparse
import random
import time

from pairline.engine.core.document import Document
from pairline.engine.core.percentile import percentile
from pairline.engine.nextedit.history import EditHistory
from pairline.engine.nextedit.propagate import Propagator

# One function per template, `{k}` its number; each holds `count` thrice and one helper call.
_TEMPLATES = {
    "python": (
        "def handler_{k}(items, limit):\n"
        "    count = 0\n"
        "    for item in items:\n"
        "        if item.size > limit:\n"
        "            count += helper(item, limit)\n"
        '    label = "count"  # count the items\n'
        "    return count + value_{k}\n\n"
    ),
    "javascript": (
        "function handler{k}(items, limit) {{\n"
        "  let count = 0;\n"
        "  for (const item of items) {{\n"
        "    if (item.size > limit) count += helper(item, limit);\n"
        "  }}\n"
        '  const label = "count"; // count the items\n'
        "  return count + value{k};\n"
        "}}\n"
    ),
    "go": (
        "func handler{k}(items []Item, limit int) int {{\n"
        "\tcount := 0\n"
        "\tfor _, item := range items {{\n"
        "\t\tif item.size > limit {{ count += helper(item, limit) }}\n"
        "\t}}\n"
        '\tlabel := "count" // count the items\n'
        "\treturn count + value{k} + len(label)\n"
        "}}\n"
    ),
    "rust": (
        "fn handler_{k}(items: &[Item], limit: usize) -> usize {{\n"
        "    let mut count = 0;\n"
        "    for item in items {{\n"
        "        if item.size > limit {{ count += helper(item, limit); }}\n"
        "    }}\n"
        '    let label = "count"; // count the items\n'
        "    count + value_{k}\n"
        "}}\n"
    ),
}
_TEMPLATES["typescript"] = _TEMPLATES["javascript"].replace(
    "(items, limit)", "(items: Item[], limit: number): number"
)
_HEADER = {"go": "package sample\n\n"}
_EDITS = {
    "rename": ("count", "total"),
    "argument": ("helper(item, limit)", "helper(item, limit, strict)"),
}


def generate(language: str, lines: int) -> str:
    template = _TEMPLATES[language]
    functions = max(1, lines // template.count("\n"))
    return _HEADER.get(language, "") + "".join(template.format(k=k) for k in range(functions))


def _ms(values: list[float], q: float) -> float:
    return (percentile(values, q) or 0.0) * 1000


def measure(
    language: str, kind: str, lines: int, rounds: int, seed: int
) -> tuple[float, list[float], int]:
    """(cold seconds, warm seconds per request, proposals made) for one language and edit kind."""
    rng = random.Random(seed)
    text = generate(language, lines)
    old, new = _EDITS[kind]
    history, propagator = EditHistory(), Propagator()
    uri = f"file:///sample.{language}"
    cold, warm, proposed = 0.0, [], 0
    for round_ in range(rounds + 1):
        starts = [i for i in range(len(text)) if text.startswith(old, i)][
            :: 3 if kind == "rename" else 1
        ]
        if not starts:
            break
        at = rng.choice(starts)
        after = text[:at] + new + text[at + len(old) :]
        history.record(uri, text, after)
        history.settle()
        edit = history.last(uri)
        text = after
        if edit is None:
            continue
        document = Document(uri, text, language=language)
        began = time.perf_counter()
        found = propagator.propose(edit, document)
        took = time.perf_counter() - began
        proposed += len(found)
        if round_ == 0:
            cold = took
        else:
            warm.append(took)
    return cold, warm, proposed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--language", action="append", choices=sorted(_TEMPLATES))
    args = parser.parse_args()
    print(
        f"{'language':<12} {'edit':<9} {'cold ms':>8} {'p50 ms':>7} {'p95 ms':>7} {'proposals':>9}"
    )
    for language in args.language or sorted(_TEMPLATES):
        for kind in _EDITS:
            cold, warm, proposed = measure(language, kind, args.lines, args.rounds, args.seed)
            print(
                f"{language:<12} {kind:<9} {cold * 1000:8.1f} {_ms(warm, 50):7.2f}"
                f" {_ms(warm, 95):7.2f} {proposed:9d}"
            )


if __name__ == "__main__":
    main()
