"""The options the typing benchmarks share, defined once: the typist's pace and the peer.

`latency` and `accept` type traces at a human pace (`--cps`, pauses, the client's debounce)
from `--seed`, and compare with a llama.vim-style peer (`--peer-prefix-lines`, `--peer-dir`);
both take these options from here and report them the same way.
"""

from __future__ import annotations

import argparse
from typing import Any

from pairline.bench.harness.peer import LLAMA_SERVER

LLAMA_VIM_PREFIX_LINES = 256  # llama.vim's n_prefix
DEFAULT_PREFIX_LINES = 32


def add_typing_arguments(parser: argparse.ArgumentParser, traces: int, traces_help: str) -> None:
    """`--traces`, `--seed` and the typist's pace: `--cps`, pauses, `--debounce-ms`."""
    parser.add_argument("--traces", type=int, default=traces, help=traces_help)
    parser.add_argument("--seed", type=int, default=0, help="seed for files, lines and timing")
    parser.add_argument("--cps", type=float, default=6.0, help="typing speed, keys per second")
    parser.add_argument("--pause-prob", type=float, default=0.15, help="pause chance per word")
    parser.add_argument("--pause-ms", type=float, default=800.0, help="mean pause length")
    parser.add_argument("--debounce-ms", type=float, default=75.0, help="client debounce")


def add_peer_arguments(parser: argparse.ArgumentParser) -> None:
    """`--peer-prefix-lines` and `--peer-dir` (where `bench build-peer` put llama-server)."""
    parser.add_argument(
        "--peer-prefix-lines",
        type=int,
        help=f"prefix lines sent to the peer (default: {LLAMA_VIM_PREFIX_LINES}, llama.vim's, "
        f"for llama-server; {DEFAULT_PREFIX_LINES} otherwise)",
    )
    parser.add_argument(
        "--peer-dir", help="the folder of `bench build-peer --dir` for the llama-server peer"
    )


def pace(args: argparse.Namespace) -> dict[str, float]:
    """The trace builders' timing keywords: keys per second, pause chance and mean pause."""
    return {"cps": args.cps, "pause_prob": args.pause_prob, "pause_s": args.pause_ms / 1000}


def typing_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The typist's pace as a report's settings give it."""
    return {
        "chars_per_second": args.cps,
        "pause_prob": args.pause_prob,
        "pause_ms": args.pause_ms,
        "debounce_ms": args.debounce_ms,
    }


def peer_prefix_lines(args: argparse.Namespace) -> int:
    """`--peer-prefix-lines`, else llama.vim's 256 for llama-server and 32 for the others."""
    if args.peer_prefix_lines is not None:
        return int(args.peer_prefix_lines)
    # 32 keeps `--peer auto` and URL runs comparable with the figures published before.
    return LLAMA_VIM_PREFIX_LINES if args.peer == LLAMA_SERVER else DEFAULT_PREFIX_LINES
