"""Find the GGUF file for a model setting: a built-in model name, a preset, or a path.

Built-in models come from Python packages, never from the network. A preset (or an
`owner/repo:file.gguf` name) is found in the Hugging Face hub's cache, where `pairline models
pull` put it; resolving never downloads. The default one is shipped
in chunks and assembled, sha256-verified, into the cache dir on first use; a marker next to it
records the verified size so later starts skip the hash, and a file that no longer matches is
assembled again rather than loaded half-written.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from pairline.engine.core.types import EngineError
from pairline.engine.models import presets as hub

GGUF_MAGIC = b"GGUF"


class ModelError(EngineError):
    """The model cannot be found or is not usable."""


class ModelNotDownloaded(ModelError):
    """The setting names a hub model that is not in the hub's cache yet."""

    def __init__(self, target: hub.Target) -> None:
        self.target = target
        size = f", {target.preset.size_text}" if target.preset else ""
        super().__init__(
            f"model {target.name} is not downloaded: run `pairline models pull {target.name}`"
            f" (from huggingface.co/{target.repo}{size})"
        )


@dataclass(frozen=True)
class FimTemplate:
    """The special tokens of a fill-in-the-middle family."""

    family: str
    prefix: str
    suffix: str
    middle: str
    stop: tuple[str, ...]
    order: str  # "psm" or "spm"
    detect: tuple[str, ...] = ()


@dataclass(frozen=True)
class ResolvedModel:
    """A model file ready to load."""

    name: str  # the built-in name, or the file name for a path
    path: Path
    builtin: bool
    chat: bool = False


@cache
def manifest() -> dict[str, Any]:
    """The models manifest (models/models.toml, shipped inside the package when installed)."""
    packaged = resources.files("pairline").joinpath("models.toml")
    if packaged.is_file():
        return tomllib.loads(packaged.read_text(encoding="utf-8"))
    # Running from a source checkout: the manifest lives at the repository root.
    source = Path(__file__).resolve().parents[4] / "models" / "models.toml"
    return tomllib.loads(source.read_text(encoding="utf-8"))


def builtin_names() -> list[str]:
    return list(manifest()["builtin"])


def presets() -> list[hub.Preset]:
    """The code models known by name that `pairline models pull` downloads from the hub."""
    return hub.from_table(manifest().get("preset", {}))


def default_model_name() -> str:
    return str(manifest()["default"])


def fim_templates() -> list[FimTemplate]:
    return [
        FimTemplate(
            family=family,
            prefix=spec["prefix"],
            suffix=spec["suffix"],
            middle=spec["middle"],
            stop=tuple(spec.get("stop", ())),
            order=spec.get("order", "psm"),
            detect=tuple(spec.get("detect", ())),
        )
        for family, spec in manifest()["fim"].items()
    ]


def check_gguf(path: Path) -> None:
    """Raise ModelError unless `path` is a readable file that starts like a GGUF."""
    if not path.is_file():
        raise ModelError(f"model file not found: {path}")
    try:
        with path.open("rb") as handle:
            magic = handle.read(4)
    except OSError as exc:
        raise ModelError(f"cannot read model file {path}: {exc.strerror}") from exc
    if magic != GGUF_MAGIC:
        raise ModelError(f"not a GGUF model file: {path}")


def resolve(
    name_or_path: str, cache_dir: Path, on_stage: Callable[[str], None] | None = None
) -> ResolvedModel:
    """The model file for a setting, assembling the built-in one if needed."""
    spec = manifest()["builtin"].get(name_or_path)
    if spec is not None:
        if spec["kind"] == "chunked":
            path = _assemble(spec, cache_dir / "models", on_stage)
        else:
            path = _wheel_file(name_or_path, spec)
        check_gguf(path)
        return ResolvedModel(name_or_path, path, builtin=True, chat=bool(spec.get("chat")))
    path = Path(os.path.expanduser(name_or_path))
    target = None if path.exists() else hub.setting_target(name_or_path, presets())
    if target is not None:
        found = hub.cached_file(target)
        if found is None:
            raise ModelNotDownloaded(target)
        check_gguf(found)
        return ResolvedModel(target.name, found, builtin=False)
    if path.suffix.lower() != ".gguf" and not path.exists():
        known = ", ".join([*builtin_names(), *(p.name for p in presets())])
        raise ModelError(
            f"unknown model {name_or_path!r}: use one of {known}, owner/repo:file.gguf"
            " or a .gguf path"
        )
    check_gguf(path)
    return ResolvedModel(path.name, path.resolve(), builtin=False)


def _wheel_file(name: str, spec: dict[str, Any]) -> Path:
    # Found through the wheel's file list: importing the package would import its host tool.
    try:
        files = importlib.metadata.files(spec["package"]) or []
    except importlib.metadata.PackageNotFoundError:
        extra = spec.get("extra", "")
        hint = f"pip install 'pairline[{extra}]'" if extra else f"pip install {spec['package']}"
        raise ModelError(f"model {name!r} is not installed: {hint}") from None
    for entry in files:
        if entry.name == spec["file"]:
            return Path(str(entry.locate()))
    raise ModelError(f"package {spec['package']} does not contain {spec['file']}")


def _marker(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _assemble(
    spec: dict[str, Any], directory: Path, on_stage: Callable[[str], None] | None
) -> Path:
    target: Path = directory / str(spec["file"])
    marker = _marker(target)
    expected = f"{spec['sha256']} {target.stat().st_size}" if target.is_file() else None
    if expected is not None and marker.is_file() and marker.read_text().strip() == expected:
        return target
    try:
        package = importlib.import_module(spec["package"].replace("-", "_"))
    except ImportError:
        raise ModelError(
            f"the embedded model package is missing: pip install {spec['package']}"
        ) from None
    if on_stage:
        on_stage(f"assembling {spec['file']} (first use only)")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
        # Assemble beside the target and rename: a crash never leaves a half file in place.
        package.assemble(partial, overwrite=True)
        os.replace(partial, target)
        marker.write_text(f"{spec['sha256']} {target.stat().st_size}\n")
    except (OSError, ValueError, FileNotFoundError) as exc:
        raise ModelError(f"cannot assemble the embedded model into {directory}: {exc}") from exc
    finally:
        if "partial" in locals() and partial.exists():
            partial.unlink(missing_ok=True)
    return target
