"""Context-gathering latency on a real tree: `python -m pairline.engine.context.measure ROOT`.

Opens sample files of the tree one at a time (with a few other buffers open, as in an editor)
and gathers context at a cursor in each: cold (the first request in that file), after a
keystroke on the same line (what typing costs), and on another line of the file. Prints p50 and
p95 of each and the index build time. Token counts use the estimate: the real tokenizer's
counts are cached per text.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path

from pairline.engine.config import ContextConfig
from pairline.engine.context import ContextGatherer
from pairline.engine.types import Position
from pairline.engine.workspace import Workspace, language_for_path


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("root", type=Path)
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--open", type=int, default=4, help="other buffers kept open")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    config = ContextConfig()
    ws = Workspace()
    gatherer = ContextGatherer(ws, [args.root.resolve()])
    started = time.perf_counter()
    gatherer.ensure_index(config)
    build = time.perf_counter() - started
    paths = [p for p in gatherer.index.paths() if language_for_path(p) != "plaintext"]
    rng = random.Random(args.seed)
    sample = rng.sample(paths, min(args.files, len(paths)))
    cold: list[float] = []
    warm: list[float] = []
    moved: list[float] = []
    sizes: list[int] = []
    opened: list[str] = []
    for path in sample:
        text = gatherer.index.read_text(path)
        if not text or "\n" not in text:
            continue
        uri = Path(path).as_uri()
        ws.open(uri, text, version=1)
        lines = text.split("\n")
        line = rng.randrange(len(lines) // 2, len(lines))
        request = ws.request_at(uri, Position(line, len(lines[line])))
        started = time.perf_counter()
        context = gatherer.gather(request, config)
        cold.append(time.perf_counter() - started)
        sizes.append(len(context.snippets))
        lines[line] += "x"  # a keystroke: the same line gets one more character
        ws.open(uri, "\n".join(lines), version=2)
        request = ws.request_at(uri, Position(line, len(lines[line])))
        started = time.perf_counter()
        gatherer.gather(request, config)
        warm.append(time.perf_counter() - started)
        other = rng.randrange(0, len(lines))  # the cursor moves to another line of the file
        request = ws.request_at(uri, Position(other, len(lines[other])))
        started = time.perf_counter()
        gatherer.gather(request, config)
        moved.append(time.perf_counter() - started)
        opened.append(uri)
        if len(opened) > args.open:
            ws.close(opened.pop(0))
    print(f"root {args.root}: {len(gatherer.index)} indexed files, index built in {build:.2f}s")
    print(f"requests: {len(cold)}; snippets per context: mean {statistics.mean(sizes):.1f}")
    for name, values in (
        ("cold (first request in a file)", cold),
        ("warm (a keystroke)", warm),
        ("another line of the same file", moved),
    ):
        print(f"{name}: p50 {_pct(values, 0.5):.2f} ms, p95 {_pct(values, 0.95):.2f} ms")


if __name__ == "__main__":
    main()
