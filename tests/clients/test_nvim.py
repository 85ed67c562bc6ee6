"""The Neovim plugin in real Neovim 0.11 and 0.12, against the real server and model.

Each spec under editor-clients/nvim/tests/ runs as `nvim --clean --headless -l SPEC` and exits
non-zero (`cquit 1`) on failure, saying why on stderr; text_spec.lua and nextedit_view_spec.lua
need no server. The tmux test looks at the screen a user sees. Neovim, tmux and stylua are
installed on first use (tests/clients/nvim_setup.py).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.clients import nvim_setup
from tests.conftest import FIXTURES, ROOT

PLUGIN = ROOT / "editor-clients" / "nvim"
SPECS = ["inline", "code_action", "health", "setup", "nextedit"]
SERVER = [sys.executable, "-m", "pairline", "serve"]
# A hang guard for one spec, not a speed check.
SPEC_TIMEOUT_S = 600


@pytest.fixture(scope="session", params=sorted(nvim_setup.BUILDS))
def nvim(request: pytest.FixtureRequest) -> Path:
    return nvim_setup.ensure_nvim(request.param)


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PAIRLINE_SERVER_CMD"] = json.dumps(SERVER)
    # Neovim's own state (logs, shada) stays out of the user's home; the model cache does not.
    env["XDG_STATE_HOME"] = str(tmp_path / "state")
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    return env


def _run_spec(
    nvim: Path,
    spec: str,
    tmp_path: Path,
    env: dict[str, str] | None = None,
    timeout_s: int = SPEC_TIMEOUT_S,
) -> None:
    proc = subprocess.run(
        [str(nvim), "--clean", "--headless", "-l", str(PLUGIN / "tests" / f"{spec}_spec.lua")],
        cwd=tmp_path,
        env=env or _env(tmp_path),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    assert proc.returncode == 0, f"{spec}_spec.lua failed:\n{proc.stdout}\n{proc.stderr}"


@pytest.mark.model
@pytest.mark.parametrize("spec", SPECS)
def test_spec(nvim: Path, spec: str, tmp_path: Path) -> None:
    _run_spec(nvim, spec, tmp_path)


def test_text_spec(nvim: Path, tmp_path: Path) -> None:
    """Snippet text, accept pieces and the insert helper: no server, so no model."""
    _run_spec(nvim, "text", tmp_path)


def test_nextedit_view_spec(nvim: Path, tmp_path: Path) -> None:
    """Next edits drawn, jumped to, applied and dismissed, with a stand-in client: no model."""
    _run_spec(nvim, "nextedit_view", tmp_path)


def test_stylua_format() -> None:
    stylua = nvim_setup.ensure_stylua()
    proc = subprocess.run(
        [str(stylua), "--check", "."], cwd=PLUGIN, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, f"run stylua in editor-clients/nvim:\n{proc.stdout}{proc.stderr}"


# --- what the user sees: Neovim 0.11 in a real terminal (tmux) ---------------------------

LINE = "    return [(x - m) / s for"

INIT_LUA = """
vim.g.loaded_python3_provider = 0
vim.opt.runtimepath:prepend({plugin})
vim.cmd.runtime("plugin/pairline.lua")
require("pairline").setup({{ cmd = {cmd} }})
-- Tell the test what to look for on screen: the suggestion text, next edits, the server state.
vim.api.nvim_create_autocmd("User", {{
  pattern = {{ "PairlineSuggestion", "PairlineStatus", "PairlineNextEdit" }},
  callback = function(ev)
    local line = ev.match == "PairlineStatus" and "status " .. ev.data.status.state
      or ev.match == "PairlineNextEdit" and "nextedit " .. vim.json.encode(ev.data)
      or "suggestion " .. vim.json.encode(ev.data.text)
    vim.fn.writefile({{ line }}, {events}, "a")
  end,
}})
"""


class Tmux:
    def __init__(self, tmux: str) -> None:
        self.tmux = tmux
        self.socket = f"pairline-test-{uuid.uuid4().hex[:8]}"

    def __call__(self, *args: str) -> str:
        proc = subprocess.run(
            [self.tmux, "-L", self.socket, *args], capture_output=True, text=True, check=True
        )
        return proc.stdout

    def screen(self, *, styles: bool = False) -> str:
        return self("capture-pane", "-p", *(["-e"] if styles else []), "-t", "nvim")


def wait_for(what: str, pred: Callable[[], object], timeout_s: float = 120) -> object:
    """Poll `pred` until it is truthy; a hang guard, not a speed check."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    t = Tmux(nvim_setup.ensure_tmux())
    yield t
    subprocess.run([t.tmux, "-L", t.socket, "kill-server"], capture_output=True, check=False)


def _start_in_tmux(tmux: Tmux, nvim: Path, source: Path, tmp_path: Path) -> Callable[[], list[str]]:
    """Neovim with the plugin editing `source` in a 100x40 tmux window, once the model is ready;
    returns a reader of the events init.lua logs."""
    events = tmp_path / "events.txt"
    init = tmp_path / "init.lua"
    init.write_text(
        INIT_LUA.format(
            plugin=json.dumps(str(PLUGIN)), cmd=_lua_list(SERVER), events=json.dumps(str(events))
        )
    )
    env = _env(tmp_path)
    env["TERM"] = "xterm-256color"
    passed = [f"{k}={v}" for k, v in env.items() if k.startswith(("XDG_", "PAIRLINE"))]
    argv = ["env", *passed, str(nvim), "--clean", "-c", f"luafile {init}", str(source)]
    command = shlex.join(argv)
    tmux("new-session", "-d", "-s", "nvim", "-x", "100", "-y", "40", "-c", str(tmp_path), command)

    def log() -> list[str]:
        return events.read_text().splitlines() if events.exists() else []

    wait_for("the model to be ready", lambda: "status ready" in log())
    return log


@pytest.mark.model
def test_tmux_screen_nvim_011(tmux: Tmux, tmp_path: Path) -> None:
    nvim = nvim_setup.ensure_nvim("0.11")
    source = tmp_path / "stats.py"
    shutil.copy(FIXTURES / "sample.py", source)
    log = _start_in_tmux(tmux, nvim, source, tmp_path)
    tmux("send-keys", "-t", "nvim", "36G0C")
    tmux("send-keys", "-t", "nvim", "-l", LINE)
    suggestion = wait_for(
        "a suggestion",
        lambda: next((json.loads(e[11:]) for e in log() if e.startswith("suggestion ")), None),
    )
    assert isinstance(suggestion, str) and suggestion
    first_line = suggestion.split("\n")[0]

    # The user sees the typed text with the suggestion right after it, in another colour.
    shown = wait_for(
        "the ghost text on screen",
        lambda: next((r for r in tmux.screen().splitlines() if LINE + first_line in r), None),
    )
    assert isinstance(shown, str)
    assert "-- INSERT --" in tmux.screen()
    row = tmux.screen().splitlines().index(shown)
    styled = tmux.screen(styles=True).splitlines()[row]
    # The colour changes exactly where the typed text ends and the suggestion begins.
    assert re.search(r"\x1b\[[0-9;]*m" + re.escape(first_line), styled), styled

    # <Tab> makes it real text; saving proves it is in the buffer, not only drawn.
    tmux("send-keys", "-t", "nvim", "Tab")
    tmux("send-keys", "-t", "nvim", "Escape")
    tmux("send-keys", "-t", "nvim", ":w", "Enter")
    expected = LINE + suggestion
    wait_for("the accepted text saved", lambda: expected in source.read_text())
    wait_for(
        "the screen after accepting",
        lambda: (
            any(LINE + first_line in r for r in tmux.screen().splitlines())
            and "-- INSERT --" not in tmux.screen()
        ),
    )
    tmux("send-keys", "-t", "nvim", ":qa!", "Enter")


SGR = r"(?:\x1b\[[0-9;]*m)*"


@pytest.mark.model
@pytest.mark.parametrize("version", sorted(nvim_setup.BUILDS))
def test_tmux_next_edit(version: str, tmux: Tmux, tmp_path: Path) -> None:
    """A rename on one line: the next occurrence shows the proposed edit, <Tab> jumps to it,
    <Tab> applies it."""
    nvim = nvim_setup.ensure_nvim(version)
    source = tmp_path / "next_edit.py"
    shutil.copy(FIXTURES / "next_edit.py", source)
    log = _start_in_tmux(tmux, nvim, source, tmp_path)

    # Line 5 is `    total = 0`: rename the variable, leave insert mode.
    tmux("send-keys", "-t", "nvim", "5G^ciw")
    tmux("send-keys", "-t", "nvim", "-l", "acc")
    tmux("send-keys", "-t", "nvim", "Escape")
    shown = wait_for(
        "a next edit",
        lambda: next((json.loads(e[9:]) for e in log() if e.startswith("nextedit ")), None),
    )
    assert isinstance(shown, dict)
    assert (shown["row"], shown["old"], shown["text"]) == (6, "total", "acc")

    # Line 7 reads `total` struck through with `acc` right after it; the file is unchanged.
    wait_for(
        "the edit on screen",
        lambda: "        totalacc += v" in tmux.screen().splitlines(),
    )
    styled = next(r for r in tmux.screen(styles=True).splitlines() if "acc" in r and "+=" in r)
    struck = re.search(r"\x1b\[([0-9;]*)m" + SGR + "total" + SGR + "acc", styled)
    assert struck and "9" in struck.group(1).split(";"), f"`total` struck through: {styled!r}"
    assert re.search(r"total(?:\x1b\[[0-9;]*m)+acc", styled), f"`acc` in another colour: {styled!r}"
    assert "        total += v" in source.read_text()

    # <Tab> jumps (the ruler in the status line shows line 7, column 9), <Tab> applies; :w
    # saves it.
    tmux("send-keys", "-t", "nvim", "Tab")
    wait_for("the jump", lambda: re.search(r" 7,9 ", tmux.screen().splitlines()[-2]))
    tmux("send-keys", "-t", "nvim", "Tab")
    wait_for("the edit applied", lambda: "        acc += v" in tmux.screen().splitlines())
    tmux("send-keys", "-t", "nvim", ":w", "Enter")
    wait_for("the applied edit saved", lambda: "        acc += v\n" in source.read_text())
    assert "    acc = 0\n" in source.read_text()
    tmux("send-keys", "-t", "nvim", ":qa!", "Enter")


def _lua_list(items: list[str]) -> str:
    return "{ " + ", ".join(json.dumps(i) for i in items) + " }"
