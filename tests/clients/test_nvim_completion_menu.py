"""Real Neovim 0.11 with its built-in LSP completion menu, against the real server and model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.clients import nvim_setup

SCRIPT = Path(__file__).with_name("nvim_completion_menu.lua")


@pytest.mark.model
def test_menu_item_appears_and_accepting_inserts_it(tmp_path: Path) -> None:
    nvim = nvim_setup.ensure_nvim("0.11")
    env = dict(os.environ)
    env["PAIRLINE_SERVER_CMD"] = json.dumps([sys.executable, "-m", "pairline", "serve"])
    env["PAIRLINE_WORKDIR"] = str(tmp_path)
    env["XDG_STATE_HOME"] = str(tmp_path / "state")
    proc = subprocess.run(
        [str(nvim), "--clean", "--headless", "-l", str(SCRIPT)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,  # a hang guard, not a speed check
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "accepted:" in proc.stdout
