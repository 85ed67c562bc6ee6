"""Settings from the command line: the model options subcommands share, and a settings file.

`pairline complete | fix | doctor | stats | bench …` accept the same `--config`, `--model`,
`--n-ctx`, `--threads`, `--gpu-layers` and `--cache-dir`; this module declares them and turns
the parsed arguments into `Settings`, so the CLI and the benchmarks read them one way.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from pathlib import Path
from typing import Any

from pairline.engine.core.config import Settings, load_settings


def add_model_args(parser: argparse.ArgumentParser) -> None:
    """The options that choose and size the local model."""
    parser.add_argument("--config", help="settings file (.toml or .json)")
    parser.add_argument("--model", help="built-in model name or path to a .gguf file")
    parser.add_argument("--n-ctx", type=int, help="context window in tokens")
    parser.add_argument("--threads", type=int, help="CPU threads (default: one per core)")
    parser.add_argument("--gpu-layers", type=int, help="layers to offload to a GPU (-1: all)")
    parser.add_argument("--cache-dir", help="where models and caches are kept")


def _read_config(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    data: Any = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    if not isinstance(data, dict):
        raise SystemExit(f"pairline: {path} must hold a table of settings")
    return data


def settings_from_args(args: argparse.Namespace) -> Settings:
    """The settings file (if any) with the command-line options on top; problems go to stderr."""
    data: dict[str, Any] = {}
    if getattr(args, "config", None):
        data = _read_config(Path(args.config))
    model = data.setdefault("model", {})
    if getattr(args, "model", None):
        model["name"] = args.model
    if getattr(args, "n_ctx", None):
        model["n_ctx"] = args.n_ctx
    if getattr(args, "threads", None):
        model["n_threads"] = args.threads
    if getattr(args, "gpu_layers", None) is not None:
        model["n_gpu_layers"] = args.gpu_layers
    if getattr(args, "max_tokens", None):
        data.setdefault("completion", {})["max_tokens"] = args.max_tokens
    if getattr(args, "cache_dir", None):
        data["cache_dir"] = args.cache_dir
    if getattr(args, "remote_url", None):
        data.setdefault("remote", {})["base_url"] = args.remote_url
    settings, problems = load_settings(data)
    for problem in problems:
        print(f"pairline: {problem}", file=sys.stderr)
    return settings
