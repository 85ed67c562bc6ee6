"""Running a file's check in the workspace after a save, and reading back its failures.

`run_check` starts the command in its own process group at the workspace root, with a
private temporary folder (TMPDIR) that is removed afterwards and no bytecode or pytest cache
written into the workspace; a timeout or a cancellation (the next save) kills the whole group.
`failures_after_save` is what the test-diagnostics feature runs: the check, then the places its
failures point at. Running a check executes workspace code, so callers run it only in a
trusted workspace.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from pairline.engine.checks import failures as check_failures
from pairline.engine.checks.detect import Check
from pairline.engine.checks.timeouts import kill_group

log = logging.getLogger(__name__)

_OUTPUT_LIMIT = 4 * 1024 * 1024  # the end of a check's output is where its failures are


@dataclass(frozen=True)
class Outcome:
    """What a check run after a save found."""

    check: Check
    passed: bool
    spots: list[check_failures.Spot] = field(default_factory=list)
    message: str = ""  # why nothing could be marked, when the check failed without failures


async def run_check(
    check: Check, root: Path, rel_path: str, timeout_s: float
) -> tuple[int | None, str]:
    """Run `check` for the file at `rel_path`: (exit status or None when it did not finish,
    its output)."""
    with tempfile.TemporaryDirectory(prefix="pairline-tests-") as scratch:
        env = dict(os.environ, TMPDIR=scratch, PYTHONDONTWRITEBYTECODE="1")
        try:
            proc = await asyncio.create_subprocess_exec(
                *check.argv(rel_path),
                cwd=root,
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,  # its own group: stopping it stops what it started
            )
        except OSError as exc:
            return None, f"cannot start `{check.label}`: {exc.strerror or exc}"
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), timeout_s)
        except (TimeoutError, asyncio.CancelledError) as exc:
            kill_group(proc.pid)
            with contextlib.suppress(ProcessLookupError):
                await proc.wait()
            if isinstance(exc, asyncio.CancelledError):
                raise
            return None, f"`{check.label}` timed out after {timeout_s:g} s"
    return proc.returncode, out[-_OUTPUT_LIMIT:].decode("utf-8", "replace")


async def failures_after_save(
    check: Check, root: Path, rel_path: str, language: str, text: str, timeout_s: float
) -> Outcome:
    """Run the file's check and find where its failures point (`text`: the saved file)."""
    log.info("tests after save: %s", check.label)
    status, output = await run_check(check, root, rel_path, timeout_s)
    if status == 0:
        return Outcome(check, passed=True)
    if status is None:
        return Outcome(check, passed=False, message=output)
    failures = check_failures.parse(check.tool, output)
    spots = await asyncio.to_thread(check_failures.spots, failures, root, rel_path, language, text)
    if not spots:
        tail = "\n".join(output.strip().splitlines()[-5:])
        return Outcome(
            check, passed=False, message=f"`{check.label}` failed (exit {status}):\n{tail}"
        )
    return Outcome(check, passed=False, spots=spots)
