"""`bench build-peer` and `latency --peer llama-server` without building anything.

Fake `llama-server`s (small scripts) stand in for the real binary; the real build takes minutes
and is run by hand (`pairline bench build-peer`).
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from pathlib import Path

import platformdirs
import pytest

from pairline.bench.harness import llama_server, peer
from pairline.bench.harness.arguments import peer_prefix_lines
from pairline.cli import main
from tests.conftest import ROOT

# The fakes are executable scripts with a shebang line.
pytestmark = pytest.mark.skipif(os.name != "posix", reason="needs executable scripts")

# A stand-in for llama-server: `--version`, `--help` and an HTTP server on the --port it is
# given with /health ("ok" after a moment, like a model being loaded), /props, /tokenize and
# /completion, which refuses prompts longer than its context as the real one does.
FAKE_SERVER = """
import http.server, json, sys, time
N_CTX = 32 + 1 + 5  # room for five one-token lines after n_predict and BOS
argv = sys.argv[1:]
if "--version" in argv:
    print("version: 1 (fake)", file=sys.stderr)
    sys.exit(0)
if "--help" in argv:
    print("--no-webui    no web UI")
    sys.exit(0)
print("fake llama-server", " ".join(argv), flush=True)
started = time.monotonic()

class Handler(http.server.BaseHTTPRequestHandler):
    def _send(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if time.monotonic() - started < 0.3:
            self._send(503, {"error": {"message": "Loading model"}})
        elif self.path == "/props":
            self._send(200, {"default_generation_settings": {"n_ctx": N_CTX}})
        else:
            self._send(200, {"status": "ok"})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path == "/tokenize":  # one token per line
            self._send(200, {"tokens": list(range(body["content"].count("\\n") + 1))})
        elif body["prompt"].count("\\n") + 1 + 1 + 32 > N_CTX:
            self._send(400, {"error": {"message": "exceeds the available context size"}})
        else:
            self._send(200, {"content": "x = 1\\nmore"})

    def log_message(self, *args):
        pass

port = int(argv[argv.index("--port") + 1])
http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
"""


def _script(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!{sys.executable}\n{body}", encoding="utf-8")
    path.chmod(0o755)
    return path


def _fake_binary(directory: Path, body: str = FAKE_SERVER) -> Path:
    return _script(llama_server.binary_path(directory), body)


def test_cache_dir_is_the_user_cache_by_version_outside_the_repository() -> None:
    directory = llama_server.default_dir("0.3.36")
    assert directory == platformdirs.user_cache_path("pairline") / "llama-server" / "0.3.36"
    assert not directory.resolve().is_relative_to(ROOT)


def test_download_configure_and_build_commands(tmp_path: Path) -> None:
    download = llama_server.download_command("0.3.36", tmp_path)
    assert download[:3] == [sys.executable, "-m", "pip"]
    assert download[3:] == [
        "download",
        "--no-binary",
        ":all:",
        "--no-deps",
        "llama-cpp-python==0.3.36",
        "-d",
        str(tmp_path),
    ]
    configure = llama_server.configure_command("cmake", tmp_path / "src", tmp_path / "build")
    assert configure[:5] == ["cmake", "-S", str(tmp_path / "src"), "-B", str(tmp_path / "build")]
    for option in (
        "-DCMAKE_BUILD_TYPE=Release",
        "-DLLAMA_CURL=OFF",
        "-DGGML_NATIVE=ON",
        "-DLLAMA_BUILD_TESTS=OFF",
        "-DLLAMA_BUILD_EXAMPLES=OFF",
        "-DLLAMA_BUILD_SERVER=ON",
        "-DLLAMA_USE_PREBUILT_UI=OFF",  # no download from Hugging Face while building
    ):
        assert option in configure
    build = llama_server.build_command("cmake", tmp_path / "build", 3)
    assert build[:3] == ["cmake", "--build", str(tmp_path / "build")]
    assert build[build.index("--target") + 1] == "llama-server"
    assert build[-2:] == ["-j", "3"]


def test_server_command_mirrors_the_engine_settings(tmp_path: Path) -> None:
    command = llama_server.server_command(
        tmp_path / "llama-server", tmp_path / "m.gguf", 4321, 2048, 3, 256
    )

    def value(flag: str) -> str:
        return command[command.index(flag) + 1]

    assert command[0] == str(tmp_path / "llama-server")
    assert value("--model") == str(tmp_path / "m.gguf")
    assert (value("--host"), value("--port")) == ("127.0.0.1", "4321")
    assert value("--ctx-size") == "2048"
    assert value("--threads") == value("--threads-batch") == "3"
    assert value("--batch-size") == value("--ubatch-size") == "256"
    assert value("--cache-reuse") == "256"
    assert value("--parallel") == "1"
    assert "--no-webui" in command
    assert "--swa-full" in command  # llama-cpp-python's default, so the engine's too
    bare = llama_server.server_command(
        tmp_path / "llama-server", tmp_path / "m.gguf", 1, 2048, 1, 256, False, False
    )
    assert "--no-webui" not in bare
    assert "--swa-full" not in bare


def test_a_working_binary_is_reused_without_building(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    binary = _fake_binary(tmp_path)
    # With no cmake on PATH, any attempt to build would fail loudly.
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    stream = io.StringIO()
    assert llama_server.ensure_llama_server(tmp_path, version="0.0.0", stream=stream) == binary
    assert "reusing" in stream.getvalue()
    assert "version: 1 (fake)" in stream.getvalue()
    assert llama_server.binary_version(binary) == "version: 1 (fake)"


def test_a_broken_binary_is_rebuilt_and_missing_cmake_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_binary(tmp_path, "import sys\nsys.exit(1)\n")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(SystemExit, match="needs cmake, which is not on PATH"):
        llama_server.ensure_llama_server(tmp_path, version="0.0.0", stream=io.StringIO())
    assert llama_server.binary_version(tmp_path / "absent") is None


def test_missing_compilers_are_named(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    _script(bin_dir / "cmake", "")
    env = {"PATH": str(bin_dir)}
    with pytest.raises(SystemExit, match="needs a C compiler"):
        llama_server.check_tools(env)
    _script(bin_dir / "cc", "")
    with pytest.raises(SystemExit, match=r"needs a C\+\+ compiler \(c\+\+, g\+\+, clang\+\+\)"):
        llama_server.check_tools(env)
    with pytest.raises(SystemExit, match=r"C\+\+ compiler \(CXX=my-c\+\+\)"):
        llama_server.check_tools({**env, "CXX": "my-c++"})
    _script(bin_dir / "clang++", "")
    found = llama_server.check_tools(env)
    assert found == {
        "cmake": str(bin_dir / "cmake"),
        "CC": str(bin_dir / "cc"),
        "CXX": str(bin_dir / "clang++"),
    }


def test_a_failed_step_shows_the_log_tail_and_names_the_compiler(tmp_path: Path) -> None:
    log = tmp_path / "build.log"
    failing = [
        sys.executable,
        "-c",
        "print('-- configuring'); print('No CMAKE_CXX_COMPILER could be found.'); exit(3)",
    ]
    with pytest.raises(SystemExit) as caught:
        llama_server._run_logged(failing, log, "cmake configure")
    message = str(caught.value)
    assert "cmake configure failed with exit code 3" in message
    assert "no working C++ compiler" in message
    assert "No CMAKE_CXX_COMPILER could be found." in message  # the tail
    assert "-- configuring" in log.read_text(encoding="utf-8")


def test_build_progress_is_read_from_make_and_ninja_lines() -> None:
    assert llama_server._build_percent("[ 45%] Building CXX object src/x.o") == 45
    assert llama_server._build_percent("[12/48] Building CXX object src/x.o") == 25
    assert llama_server._build_percent("warning: something") is None


def test_start_waits_for_health_and_is_driven_at_completion(tmp_path: Path) -> None:
    binary = _fake_binary(tmp_path)
    log = tmp_path / "peer.log"
    with llama_server.start_llama_server(binary, tmp_path / "m.gguf", 2048, 2, 256, log) as url:
        client = peer.connect(url)
        assert client.native  # the /completion dialect, as llama.vim uses it
        text, seconds = client.complete("def f():\n    ")
        client.client.close()
    assert text == "x = 1"
    assert seconds >= 0
    started = log.read_text(encoding="utf-8")
    assert "--cache-reuse 256" in started
    assert "--no-webui" in started  # the fake's --help lists it
    assert "--swa-full" not in started  # and not this one


def test_the_peer_runs_without_repacked_weights_where_the_probe_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pairline.engine.backends import cpu_probe

    fake = FAKE_SERVER.replace('print("--no-webui    no web UI")', 'print("--no-repack  -nr")')
    binary = _fake_binary(tmp_path, fake)
    log = tmp_path / "peer.log"
    for safe in (True, False):
        monkeypatch.setattr(cpu_probe, "extra_buffers_safe", lambda model, safe=safe: safe)
        with llama_server.start_llama_server(binary, tmp_path / "m.gguf", 2048, 2, 256, log):
            pass
        assert ("--no-repack" in log.read_text(encoding="utf-8")) is not safe


def test_prompts_lose_top_lines_until_they_fit_the_context(tmp_path: Path) -> None:
    binary = _fake_binary(tmp_path)
    log = tmp_path / "peer.log"
    with llama_server.start_llama_server(binary, tmp_path / "m.gguf", 38, 2, 256, log) as url:
        client = peer.connect(url)
        assert client.n_ctx == 38
        lines = [f"line {i}" for i in range(12)]
        fitted = client.fit("\n".join(lines))
        short = client.fit("a\nb")
        answer, _ = client.complete(fitted)
        client.client.close()
    assert fitted == "\n".join(lines[-5:])  # 5 one-token lines fit beside n_predict and BOS
    assert short == "a\nb"
    assert answer == "x = 1"


def test_a_server_that_dies_reports_its_log(tmp_path: Path) -> None:
    binary = _fake_binary(
        tmp_path,
        "import sys\nif '--help' in sys.argv: sys.exit(0)\n"
        "print('error: failed to load model', flush=True)\nsys.exit(1)\n",
    )
    log = tmp_path / "peer.log"
    with (
        pytest.raises(SystemExit, match=r"exited with 1(.|\n)*failed to load model"),
        llama_server.start_llama_server(binary, tmp_path / "m.gguf", 2048, 2, 256, log),
    ):
        pass


def test_build_peer_command_prints_the_binary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    binary = _fake_binary(tmp_path)
    assert main(["bench", "build-peer", "--dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip() == str(binary)


@pytest.mark.parametrize(
    ("peer_arg", "lines", "expected"),
    [
        ("llama-server", None, 256),
        ("auto", None, 32),
        ("http://x", None, 32),
        ("llama-server", 8, 8),
    ],
)
def test_peer_prefix_lines(peer_arg: str, lines: int | None, expected: int) -> None:
    args = argparse.Namespace(peer=peer_arg, peer_prefix_lines=lines)
    assert peer_prefix_lines(args) == expected
