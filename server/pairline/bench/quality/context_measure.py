"""Context-gathering latency on a tree: `python -m pairline.bench.quality.context_measure ROOT`.

Opens sample files of the tree one at a time (with a few other buffers open, as in an editor)
and gathers context at a cursor in each: cold (the first request in that file), after a
keystroke on the same line (what typing costs), and on another line of the file. Prints p50 and
p95 of each and the index build time. Token counts use the estimate: the real tokenizer's
counts are cached per text.

As the server does on didOpen and didChange, each buffer is warmed up (`ContextGatherer.warm`)
when it opens and after its edit; that work runs on the warm-up thread, off the request path,
so it is timed apart. The keystroke and the cursor move are requested before any warm-up of
the edit, as they come right after it in an editor. `--no-warm` measures without warm-ups;
`--verify` also gathers each context with a fresh gatherer and checks that it is the same.

`--generate N` measures on a generated tree of N Python modules instead of ROOT (words drawn
with a Zipf-like skew, as identifiers are in real code), e.g. 5000 for the retrieval index's
target size; requests are made as for a model without FIM tokens (the built-in models), so
windows of the code after the cursor are ranked too.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from pairline.engine.context import ContextGatherer
from pairline.engine.core.config import ContextConfig
from pairline.engine.core.percentile import percentile
from pairline.engine.core.types import CompletionRequest, Position
from pairline.engine.workspace import Workspace, language_for_path


def _pct(values: list[float], q: float) -> float:
    return (percentile(values, q * 100) or 0.0) * 1000


def generate(root: Path, files: int, seed: int) -> None:
    """`files` Python modules in packages of 50, with shared and rare identifiers."""
    rng = random.Random(seed)
    syllables = ["ka", "to", "ri", "mo", "na", "se", "lu", "pe", "di", "fa", "go", "zu"]
    words = sorted({"".join(rng.choices(syllables, k=rng.randint(2, 4))) for _ in range(20_000)})
    weights = [1 / (rank + 1) for rank in range(len(words))]
    for i in range(files):
        package = root / f"pkg{i // 50}"
        package.mkdir(parents=True, exist_ok=True)
        lines: list[str] = []
        for _ in range(rng.randint(4, 16)):
            name = "_".join(rng.choices(words, weights, k=2))
            args = rng.choices(words, weights, k=3)
            lines.append(f"def {name}({', '.join(dict.fromkeys(args))}):")
            for _ in range(rng.randint(2, 10)):
                a, b, c = rng.choices(words, weights, k=3)
                lines.append(f"    {a} = {b}.{c}({a})")
            lines += [f"    return {args[0]}", "", ""]
        (package / f"mod{i}.py").write_text("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("root", type=Path, nargs="?", default=None)
    parser.add_argument("--generate", type=int, default=0, help="measure on N generated modules")
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--open", type=int, default=4, help="other buffers kept open")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-warm", action="store_true", help="no warm-up on open or edit")
    parser.add_argument("--verify", action="store_true", help="compare with cold gathering")
    parser.add_argument(
        "--no-retrieval",
        action="store_true",
        help="without workspace retrieval (context.retrieval)",
    )
    args = parser.parse_args()
    if args.generate:
        with tempfile.TemporaryDirectory(prefix="pairline-context-measure-") as tmp:
            args.root = Path(tmp)
            generate(args.root, args.generate, args.seed)
            measure(args)
    elif args.root is None:
        parser.error("give ROOT or --generate N")
    else:
        measure(args)


def measure(args: argparse.Namespace) -> None:
    config = ContextConfig(retrieval=not args.no_retrieval)
    ws = Workspace()
    gatherer = ContextGatherer(ws, [args.root.resolve()])
    started = time.perf_counter()
    gatherer.ensure_index(config)
    build = time.perf_counter() - started
    paths = [p for p in gatherer.index.paths() if language_for_path(p) != "plaintext"]
    rng = random.Random(args.seed)
    sample = rng.sample(paths, min(args.files, len(paths)))
    cold: list[float] = []
    typed: list[float] = []
    moved: list[float] = []
    warmups: list[float] = []
    mismatches = 0

    def gather(request: CompletionRequest, times: list[float]) -> None:
        nonlocal mismatches
        started = time.perf_counter()
        context = gatherer.gather(request, config, suffix_windows=True)
        times.append(time.perf_counter() - started)
        if times is cold:
            sizes.append(len(context.snippets))
        if args.verify:
            fresh = ContextGatherer(ws, [args.root.resolve()], index=gatherer.index)
            fresh.ensure_index(config)  # the retrieval index (cheap next to the file walk)
            if fresh.gather(request, config, suffix_windows=True) != context:
                mismatches += 1
                print(f"MISMATCH {request.uri} line {request.position.line}")

    def warm(uri: str) -> None:
        if not args.no_warm:
            started = time.perf_counter()
            gatherer.warm(uri, config)
            warmups.append(time.perf_counter() - started)

    sizes: list[int] = []
    opened: list[str] = []
    for path in sample:
        text = gatherer.index.read_text(path)
        if not text or "\n" not in text:
            continue
        uri = Path(path).as_uri()
        ws.open(uri, text, version=1)
        warm(uri)  # didOpen
        lines = text.split("\n")
        line = rng.randrange(len(lines) // 2, len(lines))
        gather(ws.request_at(uri, Position(line, len(lines[line]))), cold)
        lines[line] += "x"  # a keystroke: the same line gets one more character
        ws.open(uri, "\n".join(lines), version=2)
        gather(ws.request_at(uri, Position(line, len(lines[line]))), typed)
        other = rng.randrange(0, len(lines))  # the cursor moves to another line of the file
        gather(ws.request_at(uri, Position(other, len(lines[other]))), moved)
        warm(uri)  # didChange: done by the time the next file opens
        opened.append(uri)
        if len(opened) > args.open:
            ws.close(opened.pop(0))
    print(f"root {args.root}: {len(gatherer.index)} indexed files, index built in {build:.2f}s")
    print(f"requests: {len(cold)}; snippets per context: mean {statistics.mean(sizes):.1f}")
    for name, values in (
        ("cold (first request in a file)", cold),
        ("warm (a keystroke)", typed),
        ("another line of the same file", moved),
        ("warm-up on open/edit (background thread, not a request)", warmups),
    ):
        if not values:
            continue
        print(f"{name}: p50 {_pct(values, 0.5):.2f} ms, p95 {_pct(values, 0.95):.2f} ms")
    if args.verify:
        print(f"verify: {mismatches} of {3 * len(cold)} contexts differ from cold gathering")


if __name__ == "__main__":
    main()
