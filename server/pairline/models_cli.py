"""`pairline models` (what models there are, which are downloaded) and `pairline models pull`."""

from __future__ import annotations

import argparse
import sys

from pairline.engine.core.config import Settings
from pairline.engine.models import manifest
from pairline.engine.models import presets as hub


def run_list(settings: Settings) -> int:
    table = manifest.manifest()["builtin"]
    print("Built in (installed with pairline, no download):")
    for name in manifest.builtin_names():
        default = " (default)" if name == manifest.default_model_name() else ""
        print(f"  {name}{default}: {table[name]['description']}")
        print(f"      package: {table[name]['package']}")
    print()
    print("Presets (downloaded only on request: pairline models pull NAME):")
    for preset in manifest.presets():
        there = hub.cached_file(hub.Target(preset.repo, preset.file, preset))
        state = "downloaded" if there is not None else f"not downloaded, {preset.size_text}"
        print(f"  {preset.name}: {preset.description} ({state})")
        print(f"      file: {preset.repo}:{preset.file}")
        print(f"      size: about {preset.size_text}; license: {preset.license}")
        print(f"      FIM family: {preset.fim}; suits {preset.suits}")
        check = preset.sha256 or "the sha256 the hub publishes for the file"
        print(f"      checked against: {check}")
    print()
    print(f"hub cache: {hub.hub_cache_dir()}")
    print(f"cache dir: {settings.cache_path}")
    print(
        "Any other GGUF: pairline models pull owner/repo[:file.gguf], then"
        ' model.name = "owner/repo:file.gguf"; or model.name = "/path/to/model.gguf".'
        " FIM tokens are detected from the file."
    )
    return 0


def run_pull(args: argparse.Namespace) -> int:
    from pairline.engine.models import pull

    target = hub.parse(args.spec, manifest.presets())
    if target is None:
        known = ", ".join(p.name for p in manifest.presets())
        print(
            f"pairline: {args.spec!r} is neither a preset ({known}) nor owner/repo[:file.gguf]",
            file=sys.stderr,
        )
        return 2
    if target.preset is not None:
        preset = target.preset
        print(
            f"pairline: {preset.name}: {preset.repo}:{preset.file}, about {preset.size_text},"
            f" license: {preset.license}",
            file=sys.stderr,
        )
    try:
        pulled = pull.pull(target)
    except pull.PullError as exc:
        print(f"pairline: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("pairline: download stopped", file=sys.stderr)
        return 130
    print(
        f"pairline: {pulled.path} ({hub.size_text(pulled.size)}, sha256 {pulled.sha256} checked)",
        file=sys.stderr,
    )
    print(f'use it with the setting  "model": {{"name": "{pulled.target.name}"}}')
    return 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """`models` and its `pull` subcommand."""
    models_cmd = sub.add_parser(
        "models", help="list the built-in models and presets; `models pull NAME` downloads one"
    )
    models_cmd.add_argument("--cache-dir", help="where models and caches are kept")
    actions = models_cmd.add_subparsers(dest="models_command")
    pull_cmd = actions.add_parser(
        "pull", help="download a preset or a hub GGUF into the Hugging Face cache"
    )
    pull_cmd.add_argument("spec", metavar="NAME|HF-REPO[:FILE]", help="a preset name or a hub file")
    return models_cmd
