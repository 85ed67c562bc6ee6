"""`:Pairline install` in real Neovim 0.11 and 0.12: the plugin sets up its own server.

install_spec.lua installs into an empty `$XDG_DATA_HOME` with no `pairline` on PATH and no
`cmd`, then sees ghost text from the installed server, with :checkhealth before and after.
pip gets a local wheel of the llama-cpp-python this environment runs (through the plugin's
`install.pip_args` option), so llama.cpp is not rebuilt every run; the plugin's own install
code runs for real. install_errors_spec.lua covers no Python >= 3.11 and a cancelled reinstall.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.clients import nvim_setup
from tests.clients.test_nvim import _run_spec

# A hang guard for one spec, not a speed check: a whole install with pip.
SPEC_TIMEOUT_S = 1800


@pytest.fixture(scope="session", params=sorted(nvim_setup.BUILDS))
def nvim(request: pytest.FixtureRequest) -> Path:
    return nvim_setup.ensure_nvim(request.param)


@pytest.fixture(scope="session")
def llama_wheels() -> Path:
    """A folder with a wheel of the llama-cpp-python installed here (pip reuses its build)."""
    wanted = version("llama-cpp-python")
    folder = nvim_setup.CACHE / f"wheels-llama-cpp-python-{wanted}"
    if not any(folder.glob("llama_cpp_python-*.whl")):
        folder.mkdir(parents=True, exist_ok=True)
        argv = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(folder)]
        subprocess.run([*argv, f"llama-cpp-python=={wanted}"], check=True, capture_output=True)
    return folder


def _path_without(name: str) -> str:
    """$PATH without the folders that hold `name`."""
    dirs = [d for d in os.environ["PATH"].split(os.pathsep) if d]
    return os.pathsep.join(d for d in dirs if not (Path(d) / name).exists())


def _real_python(name: str) -> str | None:
    """The interpreter `name` on PATH runs (past launchers such as pyenv's shims), or None."""
    found = shutil.which(name)
    if not found:
        return None
    code = "import sys; print(sys.executable)"
    proc = subprocess.run([found, "-c", code], capture_output=True, text=True, check=False)
    return proc.stdout.strip() if proc.returncode == 0 and proc.stdout.strip() else None


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PAIRLINE_SERVER_CMD"}
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    env["XDG_STATE_HOME"] = str(tmp_path / "state")
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    env.update(extra)
    return env


@pytest.mark.model
def test_install_then_ghost_text(nvim: Path, llama_wheels: Path, tmp_path: Path) -> None:
    pip_args = ["--find-links", str(llama_wheels)]
    env = _env(
        tmp_path,
        PATH=_path_without("pairline"),
        PAIRLINE_TEST_PIP_ARGS=json.dumps(pip_args),
    )
    _run_spec(nvim, "install", tmp_path, env, SPEC_TIMEOUT_S)


def test_install_errors_leave_nothing(nvim: Path, llama_wheels: Path, tmp_path: Path) -> None:
    # Only Pythons older than 3.11 (where this machine has them) on PATH, under the names the
    # plugin tries; nothing else, so no other Python is found.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, old in (("python3", "python3.10"), ("python", "python3.9")):
        real = _real_python(old)
        if real:
            (bin_dir / name).symlink_to(real)
    env = _env(
        tmp_path,
        PATH=str(bin_dir),
        PAIRLINE_TEST_PYTHON=sys.executable,
        PAIRLINE_TEST_PIP_ARGS=json.dumps(["--find-links", str(llama_wheels)]),
    )
    _run_spec(nvim, "install_errors", tmp_path, env, SPEC_TIMEOUT_S)
