"""The `pairline bench` command line: one subparser per benchmark, loaded on use."""

from __future__ import annotations

import argparse
import importlib
from typing import Any

from pairline.cli_settings import add_model_args, settings_from_args

# Subcommand -> (its module under pairline.bench, its help line).
SUBCOMMANDS = {
    "latency": (
        "typist.latency",
        "replay typing traces through `pairline serve` over stdio (--raw, --peer)",
    ),
    "accept": (
        "typist.accept",
        "a simulated person typing with suggestions: keystrokes saved per arm and peer",
    ),
    "infill": (
        "quality.infill",
        "HumanEval-Infilling: exact match, edit similarity, pass@1, latency",
    ),
    "crossfile": (
        "quality.crossfile",
        "CrossCodeEval-style tasks from a PyPI package, with and without context",
    ),
    "fix": ("quality.fix", "HumanEvalFix through the code-action path (needs the fix engine)"),
    "checks": (
        "quality.checks",
        "Fix this checks per second on HumanEvalFix tasks: cold vs warm pytest",
    ),
    "startup": (
        "typist.startup",
        "time to initialize, model ready and first completion; latency on N positions",
    ),
    "nextedit": (
        "nextedit.releases",
        "next-edit suggestions replayed on the edits between two package releases",
    ),
    "soak": (
        "typist.soak",
        "minutes of busy editing over stdio: RSS growth after warm-up, cache size vs bound",
    ),
}


def add_parser(sub: Any, with_subcommands: bool = True) -> None:
    """Register `bench` and, `with_subcommands`, its subcommands on the CLI's subparsers object.

    Without them `bench` only shows in the command list: each subcommand's options come from
    its module, and importing them all costs memory a `pairline serve` has no use for.
    """
    bench = sub.add_parser("bench", help="measure latency, completion quality and fix rate")
    if not with_subcommands:
        return
    bench_sub = bench.add_subparsers(dest="bench_command", required=True)
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        parser = bench_sub.add_parser(name, help=help_text, description=help_text)
        module = importlib.import_module(f"pairline.bench.{module_name}")
        module.add_arguments(parser)
        parser.add_argument("--json", action="store_true", help="print the report as JSON")
        parser.add_argument(
            "--out", default="build/bench", help="folder for the JSON and PNG (default build/bench)"
        )
        parser.add_argument("--no-plot", action="store_true", help="do not write the PNG")
        add_model_args(parser)
        parser.set_defaults(func=_run, bench_module=module_name, default_level="warning")
    # Not a benchmark (no report, model or --out): it only prepares `latency --peer llama-server`.
    from pairline.bench.harness import llama_server

    build = bench_sub.add_parser(
        "build-peer", help=llama_server.BUILD_HELP, description=llama_server.BUILD_HELP
    )
    llama_server.add_arguments(build)
    build.set_defaults(func=llama_server.main, default_level="warning")


def _run(args: argparse.Namespace) -> int:
    module = importlib.import_module(f"pairline.bench.{args.bench_module}")
    result: int = module.main(args, settings_from_args(args))
    return result
