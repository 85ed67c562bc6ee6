"""Presets: code models known by name that live on the Hugging Face hub, not in a package.

A preset names one GGUF file of a hub repository (`[preset.*]` in the models manifest). A hub
model is asked for by a preset's name or as `owner/repo[:file.gguf]`; `Target` is what such a
name means. Nothing here touches the network: `cached_file` looks in the hub's own cache (where
`pairline models pull` and `huggingface-cli download` put files), and `pull.py` downloads.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pairline.engine.core.config import FimFamily

# A hub repository id: owner/name, letters, digits, `-`, `_` and `.` (the hub's own rule).
_REPO = re.compile(r"[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*")
_SHA256 = re.compile(r"[0-9a-f]{64}")
FIM_FAMILIES = typing.get_args(FimFamily)


@dataclass(frozen=True)
class Preset:
    """A code model pairline knows by name, and where on the hub its file is."""

    name: str
    description: str
    repo: str
    file: str
    size_mb: int  # approximate: what the download offer shows
    license: str
    fim: str  # the FIM family as `completion_remote.fim` names it
    suits: str  # which machine runs it at typing speed
    sha256: str | None = None  # None: checked against the hub's published sha256 instead

    @property
    def size_text(self) -> str:
        return size_text(self.size_mb * 1_000_000)


@dataclass(frozen=True)
class Target:
    """A hub model a setting or `models pull` names: a preset, or a repository and file."""

    repo: str
    file: str | None  # None: the repository's one GGUF file, found when pulling
    preset: Preset | None = None

    @property
    def name(self) -> str:
        """What `model.name` says to use it once it is downloaded."""
        if self.preset is not None:
            return self.preset.name
        return f"{self.repo}:{self.file}" if self.file else self.repo

    @property
    def sha256(self) -> str | None:
        return self.preset.sha256 if self.preset else None

    def with_file(self, file: str) -> Target:
        return Target(self.repo, file, self.preset)


def size_text(size: int) -> str:
    """`1.6 GB`, `530 MB`: sizes as the download offer and listings show them."""
    if size >= 1_000_000_000:
        return f"{size / 1e9:.1f} GB"
    return f"{max(1, round(size / 1e6))} MB"


def from_table(table: Mapping[str, Mapping[str, Any]]) -> list[Preset]:
    """The presets of the manifest's `[preset.*]` tables; a bad entry raises ValueError."""
    out = []
    for name, spec in table.items():
        preset = Preset(
            name=name,
            description=str(spec["description"]),
            repo=str(spec["repo"]),
            file=str(spec["file"]),
            size_mb=int(spec["size_mb"]),
            license=str(spec["license"]),
            fim=str(spec["fim"]),
            suits=str(spec["suits"]),
            sha256=str(spec["sha256"]).lower() if spec.get("sha256") else None,
        )
        if not _REPO.fullmatch(preset.repo) or not preset.file.endswith(".gguf"):
            raise ValueError(f"preset {name}: {preset.repo}:{preset.file} is not a hub GGUF")
        if preset.fim not in FIM_FAMILIES:
            raise ValueError(f"preset {name}: unknown FIM family {preset.fim!r}")
        if preset.sha256 is not None and not _SHA256.fullmatch(preset.sha256):
            raise ValueError(f"preset {name}: sha256 must be 64 hex digits")
        out.append(preset)
    return out


def parse(spec: str, presets: list[Preset]) -> Target | None:
    """What `spec` names on the hub: a preset name or `owner/repo[:file.gguf]`; None if neither.

    A repository and file that a preset names is that preset (so its sha256 is checked).
    """
    spec = spec.strip()
    by_name = {p.name: p for p in presets}
    if spec in by_name:
        preset = by_name[spec]
        return Target(preset.repo, preset.file, preset)
    repo, _, file = spec.partition(":")
    if not _REPO.fullmatch(repo) or (file and not file.endswith(".gguf")) or ":" in file:
        return None
    for preset in presets:
        if (preset.repo, preset.file) == (repo, file):
            return Target(repo, file, preset)
    return Target(repo, file or None)


def setting_target(name: str, presets: list[Preset]) -> Target | None:
    """The hub model a `model.name` setting names: a preset, or `owner/repo:file.gguf`.

    Only with the file spelled out: a bare `owner/name` could be a relative path.
    """
    target = parse(name, presets)
    return target if target is not None and target.file else None


def cached_file(target: Target, cache_dir: Path | None = None) -> Path | None:
    """The target's file in the hub cache (`HF_HUB_CACHE`, or `cache_dir`); None if absent."""
    if target.file is None:
        return None
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(target.repo, target.file, cache_dir=cache_dir)
    return Path(found) if isinstance(found, str) else None


def hub_cache_dir() -> Path:
    """Where the hub cache is (`HF_HUB_CACHE`, `HF_HOME`, else ~/.cache/huggingface/hub)."""
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)
