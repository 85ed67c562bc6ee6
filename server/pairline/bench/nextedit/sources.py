"""Two versions of real packages for `pairline bench nextedit`: pinned, downloaded once, cached.

A PyPI package comes as its pure-Python wheel (`pip download --no-deps --only-binary :all:`,
the sdist where there is no wheel); an npm package as its tarball (`npm pack NAME@VERSION`);
a Debian source package of a Go or Rust library (registry `deb`) with `apt-get download`.
Each version is unpacked under the cache folder (`<cache_dir>/bench/nextedit/`) and reused on
the next run, so only the first run needs the network. `--pair OLD NEW` takes two local
folders instead (offline, the tests).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pairline.bench.harness.common import unpack
from pairline.engine.core import languages

# Close releases with renames, arguments added to calls and changed attributes between them.
PACKAGES: dict[str, tuple[str, str, str]] = {
    # name: (registry, old version, new version)
    "attrs": ("pypi", "22.2.0", "23.1.0"),
    "click": ("pypi", "8.1.3", "8.1.7"),
    "jinja2": ("pypi", "3.1.2", "3.1.4"),
    "requests": ("pypi", "2.31.0", "2.32.3"),
    "flask": ("pypi", "3.0.0", "3.0.3"),
    "werkzeug": ("pypi", "3.0.1", "3.0.3"),
    "httpx": ("pypi", "0.27.0", "0.27.2"),
    "commander": ("npm", "11.1.0", "12.1.0"),  # JavaScript
}
DEFAULT_PACKAGES = tuple(PACKAGES)


@dataclass(frozen=True)
class FilePair:
    """One file that changed between the versions: its path, language and both texts."""

    source: str  # the package (or pair) it comes from
    path: str
    language: str
    old: str
    new: str


def parse_spec(spec: str) -> tuple[str, str, str, str]:
    """(name, registry, old, new) from `NAME`, `NAME==OLD..NEW` or `npm:NAME==OLD..NEW`."""
    registry = "pypi"
    if spec.startswith("npm:"):
        registry, spec = "npm", spec[4:]
    name, _, versions = spec.partition("==")
    if not versions:
        if name not in PACKAGES:
            known = ", ".join(sorted(PACKAGES))
            raise SystemExit(f"pairline: unknown package {name!r}: give NAME==OLD..NEW ({known})")
        return (name, *PACKAGES[name])
    old, sep, new = versions.partition("..")
    if not sep or not old or not new:
        raise SystemExit(f"pairline: {spec!r}: versions are written OLD..NEW")
    return name, registry, old, new


def _download(registry: str, name: str, version: str, into: Path) -> Path:
    """The archive of `name` `version` downloaded into the empty folder `into`."""
    if registry == "npm":
        npm = shutil.which("npm")
        if npm is None:
            raise SystemExit(f"pairline: npm is needed for {name}@{version}")
        commands = [[npm, "pack", f"{name}@{version}", "--pack-destination", str(into)]]
    elif registry == "deb":
        # Debian ships Go and Rust libraries as source (golang-*-dev, librust-*-dev).
        apt = shutil.which("apt-get")
        if apt is None:
            raise SystemExit(f"pairline: apt-get is needed for the Debian package {name}")
        commands = [[apt, "download", f"{name}={version}"]]  # into the working folder
    else:
        base = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(into)]
        spec = f"{name}=={version}"
        commands = [[*base, "--only-binary", ":all:", spec], [*base, "--no-binary", ":all:", spec]]
    errors = ""
    for command in commands:
        result = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=into)
        archives = sorted(p for p in into.iterdir() if p.is_file())
        if result.returncode == 0 and archives:
            return archives[0]
        errors = result.stderr.strip()
    raise SystemExit(f"pairline: could not download {name} {version}:\n{errors}")


def fetch(cache: Path, registry: str, name: str, version: str) -> Path:
    """The unpacked folder of `name` `version`, downloaded unless the cache has it."""
    folder = cache / f"{registry}-{name}-{version}"
    if (folder / ".complete").is_file():
        return folder
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="download-", dir=cache) as tmp:
        archive = _download(registry, name, version, Path(tmp))
        unpacked = Path(tmp) / "unpacked"
        unpack(archive, unpacked)
        shutil.rmtree(folder, ignore_errors=True)
        unpacked.rename(folder)
    (folder / ".complete").write_text(f"{name} {version}\n", encoding="utf-8")
    return folder


def _sources(root: Path) -> dict[str, tuple[str, Path]]:
    """Source files pairline has a grammar for, by path relative to the top folder of `root`."""
    tops = [p for p in root.iterdir() if p.is_dir()]
    # An sdist or npm tarball holds one top folder named after the version: strip it.
    if len(tops) == 1 and not any(p.is_file() and p.name != ".complete" for p in root.iterdir()):
        root = tops[0]
    found: dict[str, tuple[str, Path]] = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file() or "node_modules" in path.parts or ".dist-info" in str(path):
            continue
        language = languages.language_for_path(path.name)
        if languages.grammar(language) is None:
            continue
        if path.name.endswith((".min.js", ".d.ts")):
            continue  # generated
        found[path.relative_to(root).as_posix()] = (language, path)
    return found


def changed_files(source: str, old_root: Path, new_root: Path) -> list[FilePair]:
    """The source files present in both folders whose texts differ, by path."""
    old, new = _sources(old_root), _sources(new_root)
    pairs: list[FilePair] = []
    for path in sorted(old.keys() & new.keys()):
        language, old_path = old[path]
        try:
            old_text = old_path.read_text(encoding="utf-8")
            new_text = new[path][1].read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if old_text != new_text:
            pairs.append(FilePair(source, path, language, old_text, new_text))
    return pairs


def package_files(cache: Path, spec: str) -> tuple[str, list[FilePair]]:
    """A label such as `click 8.1.3..8.1.7` and the changed files between its two versions."""
    name, registry, old, new = parse_spec(spec)
    label = f"{name} {old}..{new}"
    return label, changed_files(
        label, fetch(cache, registry, name, old), fetch(cache, registry, name, new)
    )
