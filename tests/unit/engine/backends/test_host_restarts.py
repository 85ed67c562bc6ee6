"""Crashes of the model host: the restart policy, and the supervisor with hosts that die for real.

The supervised hosts here are stand-ins speaking the real protocol that kill themselves with a
real signal when asked to generate "die": the process, the pipe, the reaping and the restarts
are the real ones; only llama.cpp is left out.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import threading
from pathlib import Path

import pytest

from pairline.engine.backends.base import GenerationParams, ModelCrashed
from pairline.engine.backends.host_backend import SAFE_NOTE, HostBackend, HostEvent
from pairline.engine.backends.host_process import exit_description
from pairline.engine.backends.host_restarts import RestartPolicy, crash_message
from pairline.engine.core.config import ModelConfig
from pairline.engine.models.manifest import ResolvedModel


def test_one_crash_restarts_two_within_a_minute_go_safe_three_turn_local_off() -> None:
    policy = RestartPolicy()
    first = policy.crashed(100.0)
    assert first.restart and not first.safe and first.crashes == 1
    second = policy.crashed(130.0)
    assert second.restart and second.safe and second.newly_safe
    assert second.delay_s > first.delay_s  # back-off
    third = policy.crashed(150.0)
    assert not third.restart and third.crashes == 3
    assert not policy.crashed(1000.0).restart  # off stays off for the session


def test_crashes_a_minute_apart_restart_as_before_and_safe_stays_safe() -> None:
    policy = RestartPolicy()
    assert not policy.crashed(0.0).safe
    assert not policy.crashed(61.0).safe  # the first has left the window
    assert policy.crashed(62.0).newly_safe
    later = policy.crashed(200.0)
    assert later.restart and later.safe and not later.newly_safe


def test_messages_name_the_fault_and_what_happens_next() -> None:
    policy = RestartPolicy()
    assert crash_message("SIGSEGV", policy.crashed(0.0)) == (
        "the local model crashed (SIGSEGV); restarting"
    )
    assert "safe configuration" in crash_message("SIGSEGV", policy.crashed(1.0))
    off = crash_message("SIGABRT", policy.crashed(2.0))
    assert "SIGABRT" in off and "off for this session" in off and "pairline doctor" in off


def test_exit_descriptions_name_signals() -> None:
    assert exit_description(-signal.SIGSEGV) == "SIGSEGV"
    assert exit_description(-signal.SIGKILL) == "SIGKILL"
    assert exit_description(3) == "exit code 3"


# A stand-in host: answers "load" and "generate" as the real one does, and kills itself with
# the signal named on its command line when asked to generate "die" (or to load a model with a
# file MODEL.die beside it). It waits for a cancellation when asked to generate "hang", and
# refuses to load a model file that is gone.
_FAKE_HOST = """
import os, signal, sys
from pairline.engine.backends import host_protocol as wire
out = sys.stdout.buffer
fault = getattr(signal, sys.argv[1])
pending = None
while (message := wire.read(sys.stdin.buffer)) is not None:
    op = message["op"]
    if op == "load" and not os.path.exists(message["path"]):
        wire.write(out, {"id": message["id"], "op": "error", "message": "no such model"})
        continue
    elif op == "load" and os.path.exists(message["path"] + ".die"):
        os.kill(os.getpid(), fault)
    if op == "load":
        config = message["config"]
        kernels = f"threads={config['n_threads']} extra={message['extra_buffers']}"
        value = {"fim": None, "kernels": kernels, "verdict": None, "n_ctx": 64}
    elif op == "cancel":
        if pending == message["id"]:
            wire.write(out, {"id": pending, "op": "result", "value": {
                "text": "", "stop_reason": "cancelled", "prompt_tokens": 0,
                "reused_tokens": 0, "generated_tokens": 0, "seconds": 0.0,
                "logprobs": [], "token_ends": []}})
        continue
    elif message["prompt"] == "die":
        os.kill(os.getpid(), fault)
    elif message["prompt"] == "hang":
        pending = message["id"]
        continue
    else:
        value = {"text": " ok", "stop_reason": "eos", "prompt_tokens": 1, "reused_tokens": 0,
                 "generated_tokens": 1, "seconds": 0.0, "logprobs": [-0.1],
                 "token_ends": [3]}
    wire.write(out, {"id": message["id"], "op": "result", "value": value})
"""

PARAMS = GenerationParams(max_tokens=4)


def _backend(tmp_path: Path, fault: str) -> HostBackend:
    model = tmp_path / "model.gguf"
    model.write_bytes(b"GGUF")
    return HostBackend(
        ResolvedModel("test", model, builtin=False),
        ModelConfig(n_threads=4),
        policy=RestartPolicy(first_delay_s=0.0, max_delay_s=0.0),
        command=[sys.executable, "-c", _FAKE_HOST, fault],
    )


async def _next(events: asyncio.Queue[HostEvent], state: str) -> HostEvent:
    event = await events.get()
    assert event.state == state, event
    return event


@pytest.mark.parametrize("fault", ["SIGSEGV", "SIGABRT", "SIGBUS", "SIGILL", "SIGKILL"])
async def test_a_host_killed_by_a_signal_answers_and_comes_back(tmp_path: Path, fault: str) -> None:
    backend = _backend(tmp_path, fault)
    events: asyncio.Queue[HostEvent] = asyncio.Queue()
    backend.subscribe(events.put_nowait)
    await backend.load()
    try:
        assert (await backend.generate("x", PARAMS, threading.Event())).text == " ok"
        first_pid = backend.pid
        with pytest.raises(ModelCrashed, match=fault):
            await backend.generate("die", PARAMS, threading.Event())
        assert fault in (await _next(events, "crashed")).message
        await _next(events, "ready")
        assert backend.pid != first_pid
        assert (await backend.generate("x", PARAMS, threading.Event())).text == " ok"
    finally:
        backend.close()


async def test_repeated_crashes_go_safe_then_turn_local_completions_off(tmp_path: Path) -> None:
    backend = _backend(tmp_path, "SIGSEGV")
    events: asyncio.Queue[HostEvent] = asyncio.Queue()
    backend.subscribe(events.put_nowait)
    await backend.load()
    try:
        with pytest.raises(ModelCrashed):
            await backend.generate("die", PARAMS, threading.Event())
        await _next(events, "crashed")
        await _next(events, "ready")
        assert backend.kernels == "threads=4 extra=True"
        with pytest.raises(ModelCrashed):
            await backend.generate("die", PARAMS, threading.Event())
        assert "safe configuration" in (await _next(events, "crashed")).message
        assert SAFE_NOTE in (await _next(events, "ready")).message
        assert backend.kernels == f"threads=1 extra=False ({SAFE_NOTE})"
        with pytest.raises(ModelCrashed):
            await backend.generate("die", PARAMS, threading.Event())
        off = await _next(events, "off")
        assert "off for this session" in off.message and "pairline doctor" in off.message
        # From now on every request is answered at once, with the reason.
        with pytest.raises(ModelCrashed, match="off for this session"):
            await backend.generate("x", PARAMS, threading.Event())
        assert backend.crashes == ["SIGSEGV"] * 3
    finally:
        backend.close()


async def test_a_cancel_flag_reaches_the_host_as_a_message(tmp_path: Path) -> None:
    backend = _backend(tmp_path, "SIGSEGV")
    await backend.load()
    try:
        cancel = threading.Event()
        waiting = asyncio.ensure_future(backend.generate("hang", PARAMS, cancel))
        await asyncio.sleep(0)
        cancel.set()
        assert (await waiting).stop_reason == "cancelled"
    finally:
        backend.close()


async def test_requests_waiting_for_a_restart_fail_when_the_backend_closes(tmp_path: Path) -> None:
    backend = _backend(tmp_path, "SIGSEGV")
    await backend.load()
    backend.close()
    with pytest.raises(Exception, match="shut down"):
        await backend.generate("x", PARAMS, threading.Event())


async def test_crashes_while_restarting_count_like_any_other(tmp_path: Path) -> None:
    backend = _backend(tmp_path, "SIGABRT")
    events: asyncio.Queue[HostEvent] = asyncio.Queue()
    backend.subscribe(events.put_nowait)
    await backend.load()
    try:
        (tmp_path / "model.gguf.die").write_text("")
        with pytest.raises(ModelCrashed):
            await backend.generate("die", PARAMS, threading.Event())
        await _next(events, "crashed")
        await _next(events, "crashed")  # the restart died loading
        assert "SIGABRT" in (await _next(events, "off")).message
        with pytest.raises(ModelCrashed, match="off for this session"):
            await backend.generate("x", PARAMS, threading.Event())
    finally:
        backend.close()


async def test_a_host_that_cannot_load_again_turns_local_off_instead_of_waiting(
    tmp_path: Path,
) -> None:
    backend = _backend(tmp_path, "SIGSEGV")
    events: asyncio.Queue[HostEvent] = asyncio.Queue()
    backend.subscribe(events.put_nowait)
    await backend.load()
    try:
        (tmp_path / "model.gguf").unlink()
        with pytest.raises(ModelCrashed):
            await backend.generate("die", PARAMS, threading.Event())
        await _next(events, "crashed")
        assert "no such model" in (await _next(events, "off")).message
        with pytest.raises(ModelCrashed, match="cannot be restarted"):
            await backend.generate("x", PARAMS, threading.Event())
    finally:
        backend.close()
