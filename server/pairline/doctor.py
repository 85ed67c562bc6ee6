"""`pairline doctor`: check everything pairline needs and say plainly what is broken."""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass

from pairline import __version__
from pairline.engine.core.config import Settings


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    required: bool = True


def _check(name: str, fn: Callable[[], str], required: bool = True) -> Check:
    try:
        return Check(name, True, fn(), required)
    except Exception as exc:  # every failure becomes a line of the report, never a traceback
        return Check(
            name,
            False,
            f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__,
            required,
        )


def _llama() -> str:
    from pairline.engine.backends.llama_runtime import llama_build_info

    info = llama_build_info()
    device = "GPU offload available" if info["gpu_offload"] else "CPU only"
    return f"llama-cpp-python {info['llama_cpp_python']}, {device}"


def _model(settings: Settings, load: bool) -> Callable[[], str]:
    def run() -> str:
        from pairline.engine.models import loading, manifest

        resolved = manifest.resolve(settings.model.name, settings.cache_path)
        size_mb = resolved.path.stat().st_size / 1e6
        detail = f"{resolved.name}: {resolved.path} ({size_mb:.0f} MB)"
        if load:
            backend = loading.load_local_sync(settings)
            try:
                fim = backend.fim.family if backend.fim else "none (prefix prompting)"
                detail += f", loads; FIM: {fim}; kernels: {backend.kernels}"
                if backend.kernels_verdict is not None and not backend.kernels_verdict.safe:
                    detail += " (slower; a build with CMAKE_ARGS=-DGGML_NATIVE=OFF avoids it)"
            finally:
                backend.close()
        return detail

    return run


def _model_host(settings: Settings) -> Callable[[], str]:
    """The model as `pairline serve` runs it, in its own process: that it answers, and its
    memory (the server's own comes on top; `pairline/debug/stats` reports both)."""

    def run() -> str:
        import asyncio
        import threading

        from pairline.engine.backends import heap
        from pairline.engine.backends.base import GenerationParams
        from pairline.engine.backends.host_backend import HostBackend
        from pairline.engine.models import manifest

        async def measure() -> str:
            resolved = manifest.resolve(settings.model.name, settings.cache_path)
            backend = HostBackend(resolved, settings.model, log_level="WARNING")
            try:
                await backend.load()
                prompt, params = "def add(a, b):\n    return", GenerationParams(max_tokens=8)
                await backend.generate(prompt, params, threading.Event())
                host_mb = heap.resident_kb(backend.pid) / 1024
            finally:
                backend.close()
            return f"answers from its own process; {host_mb:.0f} MB resident after a completion"

        return asyncio.run(measure())

    return run


def _grammars() -> str:
    from pairline.engine.core import languages, syntax

    loaded = []
    for language in languages.with_grammar():
        parser = syntax.parser_for(language)
        if parser is None:
            raise RuntimeError(f"no grammar for {language}")
        loaded.append(language)
    return ", ".join(loaded)


def _cache_dir(settings: Settings) -> Callable[[], str]:
    def run() -> str:
        path = settings.cache_path
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".doctor-"):
            pass
        return f"{path} (writable)"

    return run


def _remote(settings: Settings) -> Callable[[], str]:
    def run() -> str:
        import httpx

        remote = settings.remote
        headers = {}
        if remote.api_key_env:
            key = os.environ.get(remote.api_key_env)
            if not key:
                raise RuntimeError(f"environment variable {remote.api_key_env} is not set")
            headers = (
                {"x-api-key": key, "anthropic-version": "2023-06-01"}
                if remote.api == "anthropic"
                else {"Authorization": f"Bearer {key}"}
            )
        url = remote.base_url.rstrip("/") + "/models"
        try:
            response = httpx.get(url, headers=headers, timeout=5.0)
        except httpx.HTTPError as exc:
            raise RuntimeError(f"{remote.base_url} unreachable: {type(exc).__name__}") from None
        if response.status_code in (401, 403):
            raise RuntimeError(
                f"{remote.base_url} refused the API key (HTTP {response.status_code})"
            )
        if response.status_code >= 400:
            raise RuntimeError(f"{url} answered HTTP {response.status_code}")
        return f"{remote.base_url} reachable (HTTP {response.status_code})"

    return run


def run_doctor(settings: Settings, *, load: bool = True, as_json: bool = False) -> int:
    """Print the report; return 0 when every required check passed, 1 otherwise."""
    model = _check("model", _model(settings, load))
    checks = [
        Check(
            "pairline",
            True,
            f"{__version__} on Python {platform.python_version()} ({sys.platform})",
        ),
        _check("llama.cpp", _llama),
        model,
        _check("grammars", _grammars),
        _check("cache dir", _cache_dir(settings)),
    ]
    if load and model.ok and settings.model.host:
        checks.append(_check("model host", _model_host(settings)))
    if settings.remote.base_url:
        checks.append(_check("remote", _remote(settings)))
    else:
        checks.append(Check("remote", True, "not configured (nothing leaves this machine)", False))
    failed = [c for c in checks if not c.ok and c.required]
    if as_json:
        print(json.dumps({"ok": not failed, "checks": [asdict(c) for c in checks]}, indent=2))
    else:
        for check in checks:
            mark = "ok  " if check.ok else "FAIL"
            print(f"[{mark}] {check.name}: {check.detail}")
        if failed:
            print(f"\n{len(failed)} problem(s): " + "; ".join(c.name for c in failed))
    return 1 if failed else 0
