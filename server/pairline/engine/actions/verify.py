"""Checks a candidate edit must pass before it is offered.

1. Parse: the edited file must not have more tree-sitter errors than the original.
2. Check command (only in a trusted workspace: the one configured for the language, else the
   one the project has, `checks.detect`): run it in a temporary copy of the workspace, once on
   the unmodified file (the baseline) and once with the candidate, each within the limits of
   `checks.timeouts` (under pytest, a hanging test fails alone), and judged by `verdicts`.
   Running the command executes workspace code (tests, build scripts), hence the trust
   setting, off by default.

Checks of several candidates run at once, each in its own copy of the workspace (`copies`), as
many copies as the machine has cores (the "Fix this" loop checks a round's candidates in
parallel). A cancelled check kills its whole process group, and `close()` removes every copy.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from pairline.engine.actions.copies import WorkspaceCopies, scripts_folder, write_file
from pairline.engine.actions.fault_localisation import ochiai
from pairline.engine.actions.verdicts import (
    Verdict,
    compare,
    definitions,
    parse_verdict,
    relative,
    shape_verdict,
    tail,
)
from pairline.engine.checks import detect
from pairline.engine.checks.timeouts import (
    HUNG_DOUBLING,
    CheckRun,
    baseline_test_limit,
    candidate_test_limit,
    candidate_timeout,
    check_limit,
    kill_group,
    read_times,
    watchdog_env,
)
from pairline.engine.checks.warm import WORKER_SCRIPT, WarmPytest, warm_args
from pairline.engine.core.config import ActionsConfig

log = logging.getLogger(__name__)

# Lines of the unmodified file's failure shown in a first round's prompt: the end of the
# output, where a traceback names the failing assertion; a small model's prompt stays short.
_BASELINE_LINES = 12


@dataclass(frozen=True)
class Baseline:
    """The check's run on the unmodified file, as the loop needs it."""

    label: str  # what ran, for messages: "pytest tests/test_calc.py"
    passes: bool
    failure: str | None  # the end of its output when it fails, for a prompt (None: passes)
    suspicion: dict[int, float] = field(default_factory=dict)  # 0-based line → Ochiai score


__all__ = [
    "Baseline",
    "CheckRun",
    "Verdict",
    "WorkspaceVerifier",
    "candidate_timeout",
    "compare",
    "definitions",
    "parse_verdict",
    "relative",
    "shape_verdict",
]


class Verifier(Protocol):
    async def verify(
        self, language: str, rel_path: str | None, original: str, candidate: str
    ) -> Verdict:
        """Judge `candidate`, the whole new text of the file at `rel_path` (None: not on disk)."""
        ...

    async def baseline(self, language: str, rel_path: str | None, original: str) -> Baseline | None:
        """How the check runs on the unmodified file (its failure with paths relative to the
        workspace, trimmed); None when no check command runs."""
        ...


async def baseline_until(
    verifier: Verifier,
    language: str,
    rel_path: str | None,
    original: str,
    cancel: threading.Event,
    deadline: float,
) -> Baseline | None:
    """`verifier.baseline(...)`, or None once `cancel` is set or `time.perf_counter()` passes
    `deadline` (the run is then stopped)."""
    task = asyncio.ensure_future(verifier.baseline(language, rel_path, original))
    try:
        while not task.done() and not cancel.is_set() and time.perf_counter() < deadline:
            await asyncio.wait({task}, timeout=0.25)  # how often it looks at the cancel flag
    finally:
        task.cancel()  # a no-op once it is done
        await asyncio.gather(task, return_exceptions=True)
    return None if task.cancelled() else task.result()


class WorkspaceVerifier(WorkspaceCopies):
    """Parse check always; in a trusted workspace, the check command (configured or found).

    The workspace is copied on the first check, and again (up to `parallel` copies, default one
    per core) when checks run at once; copies are reused for every later check and `close()`
    removes them all. The baseline run is cached per original text.
    """

    def __init__(self, config: ActionsConfig, root: Path | None, parallel: int = 0) -> None:
        super().__init__(root, parallel)
        self.config = config
        self._baseline_lock: asyncio.Lock | None = None
        self._baselines: dict[str, CheckRun] = {}
        self._workers: dict[Path, WarmPytest] = {}  # per copy: its warm pytest
        self._cold_only: set[str] = set()  # interpreters a warm pytest could not start in
        # Per baseline: candidates in a row that timed out, None once one finished, and the
        # slowest check of a candidate that finished.
        self._timeouts_in_a_row: dict[str, int | None] = {}
        self._finished_s: dict[str, float] = {}
        self.commands_run = 0  # for tests and logs: how often a check command was started
        self.running = 0  # check commands running now
        self.peak_running = 0  # the most that ran at once

    def check_for(self, language: str, rel_path: str | None) -> detect.Check | None:
        """The configured check, else (trusted only) the one the project has for the file."""
        root = self.root if self.config.trusted else None
        return detect.check_for(self.config, root, rel_path, language)

    def command_for(self, language: str, rel_path: str | None = None) -> str | None:
        check = self.check_for(language, rel_path)
        return check.command if check is not None else None

    @property
    def limit(self) -> float:
        """The longest one check may run: `check_timeout_s`, at most a sixth of the budget."""
        return check_limit(self.config.check_timeout_s, self.config.budget_s)

    def runs_checks(self, rel_path: str | None) -> bool:
        """Whether a check command may run for the file at all (trusted, on disk)."""
        return self.config.trusted and self.root is not None and rel_path is not None

    def will_check(self, language: str, rel_path: str | None) -> bool:
        """Whether `verify` will run a check command for this file, not only parse it."""
        return self.runs_checks(rel_path) and bool(self.command_for(language, rel_path))

    async def verify(
        self, language: str, rel_path: str | None, original: str, candidate: str
    ) -> Verdict:
        if candidate == original:
            return Verdict(False, "unchanged", "the answer leaves the code unchanged")
        failed = parse_verdict(language, original, candidate) or shape_verdict(
            language, original, candidate
        )
        if failed is not None:
            return failed
        check = self.check_for(language, rel_path)
        if check is None or not self.runs_checks(rel_path) or rel_path is None:
            return Verdict(True, "parse", "parses (no check command ran)")
        key = _key(rel_path, original)
        try:
            base = await self._baseline(check, rel_path, original)
            doublings = (self._timeouts_in_a_row.get(key, 0) or 0) // HUNG_DOUBLING
            timeout = candidate_timeout(self.limit, base, doublings, self._finished_s.get(key))
            per_test = candidate_test_limit(self.limit, base)
            async with self._sandbox() as sandbox:
                cand = await self._run(check, sandbox, rel_path, candidate, timeout, per_test)
                # Leave the copy as the baseline expects it for the next check.
                await asyncio.to_thread(write_file, sandbox / rel_path, original)
        except OSError as exc:
            return Verdict(False, "setup", f"cannot copy the workspace for checks: {exc}")
        self._count_timeout(key, cand)
        return compare(check.command, base, cand, str(sandbox))

    def _count_timeout(self, key: str, cand: CheckRun) -> None:
        """Count a candidate that timed out, or note how long one that finished took."""
        # Read now, not when the check started: checks run at once, and one that finished
        # meanwhile must not be undone by the count of one that started before it.
        in_a_row = self._timeouts_in_a_row.get(key, 0)
        if cand.returncode is not None:
            self._timeouts_in_a_row[key] = None
            self._finished_s[key] = max(self._finished_s.get(key, 0.0), cand.seconds)
        elif in_a_row is not None:
            self._timeouts_in_a_row[key] = in_a_row + 1

    async def baseline(self, language: str, rel_path: str | None, original: str) -> Baseline | None:
        # The file's path, as `verify` passes it: a check found in the project (the tests that
        # import the module) is found only from the file.
        check = self.check_for(language, rel_path)
        if check is None or not self.runs_checks(rel_path) or rel_path is None:
            return None
        try:
            base = await self._baseline(check, rel_path, original)
        except OSError:
            return None  # the candidates' checks will say why
        if base.returncode == 0:
            return Baseline(check.label, True, None)
        # Caret lines under a traceback's source line only cost a small model's prompt tokens.
        shown = "\n".join(ln for ln in base.output.splitlines() if ln.strip(" ^~"))
        failure = tail(shown, _BASELINE_LINES) or "it fails"
        return Baseline(check.label, False, failure, ochiai(base.tests))

    async def _baseline(self, check: detect.Check, rel_path: str, original: str) -> CheckRun:
        """The check's run on the unmodified file: once per original text, however many
        candidates wait for it."""
        key = _key(rel_path, original)
        if key not in self._baselines:
            if self._baseline_lock is None:
                self._baseline_lock = asyncio.Lock()
            async with self._baseline_lock:
                if key not in self._baselines:
                    per_test = baseline_test_limit(self.limit)
                    trace = self.config.fault_localisation
                    async with self._sandbox() as sandbox:
                        traced = sandbox / rel_path if trace else None
                        run = await self._run(
                            check, sandbox, rel_path, original, self.limit, per_test, traced
                        )
                    self._baselines[key] = run
                    if run.hung_tests or run.returncode is None:
                        log.info(
                            "check of the code as it is: %s",
                            f"{run.hung_tests} test(s) hang"
                            if run.returncode is not None
                            else f"did not finish in {self.limit:g} s",
                        )
        return self._baselines[key]

    async def _run(
        self,
        check: detect.Check,
        sandbox: Path,
        rel_path: str,
        text: str,
        timeout: float,
        test_limit: float,
        traced: Path | None = None,
    ) -> CheckRun:
        command = check.command
        await asyncio.to_thread(write_file, sandbox / rel_path, text)
        argv = check.argv(rel_path)
        times = scripts_folder(sandbox) / "times.jsonl"
        watched = check.tool == "pytest"
        if watched:
            times.unlink(missing_ok=True)
        env = watchdog_env(times.parent, test_limit, times, traced) if watched else dict(os.environ)
        # No bytecode: Python trusts a cached module whose source has the same size and
        # modification second, and two edits of one token often have both (`<` for `>`), so
        # the second candidate's check would run the first one's code.
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        self.commands_run += 1
        log.info("check: %s (in %s, within %.3g s)", command, sandbox.parent.name, timeout)
        args = warm_args(argv) if watched and self.config.warm_checks else None
        if args is not None:
            self.running += 1
            self.peak_running = max(self.peak_running, self.running)
            try:
                run = await self._run_warm(argv[0], args, sandbox, env, timeout)
            finally:
                self.running -= 1
            if run is not None:
                tests = read_times(times)
                output = relative(run.output, sandbox)
                return CheckRun(run.returncode, output, run.seconds, tests)
            times.unlink(missing_ok=True)  # whatever a broken worker left
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                cwd=sandbox,
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,  # so a timeout can stop the whole process group
            )
        except OSError as exc:
            return CheckRun(None, f"cannot start `{command}`: {exc.strerror or exc}")
        self.running += 1
        self.peak_running = max(self.peak_running, self.running)
        try:
            started = time.perf_counter()
            out, _ = await asyncio.wait_for(proc.communicate(), timeout)
        except (TimeoutError, asyncio.CancelledError) as exc:
            # The whole group: a test runner's children must not outlive a cancelled loop.
            kill_group(proc.pid)
            with contextlib.suppress(ProcessLookupError):
                await asyncio.shield(proc.wait())
            if isinstance(exc, asyncio.CancelledError):
                raise
            tests = read_times(times) if watched else ()
            return CheckRun(None, f"timed out after {timeout:.3g} s", timeout, tests)
        finally:
            self.running -= 1
        output = relative(out.decode("utf-8", "replace"), sandbox)
        tests = read_times(times) if watched else ()
        return CheckRun(proc.returncode, output, time.perf_counter() - started, tests)

    async def _run_warm(
        self, python: str, args: list[str], sandbox: Path, env: dict[str, str], timeout: float
    ) -> CheckRun | None:
        """The check on the copy's warm pytest (started on first use); None: run it cold."""
        worker = self._workers.get(sandbox)
        if worker is None or not worker.alive:
            if python in self._cold_only:
                return None
            worker = await WarmPytest.start(python, scripts_folder(sandbox) / WORKER_SCRIPT, env)
            if worker is None:
                self._cold_only.add(python)
                return None
            self._workers[sandbox] = worker
        return await worker.run(args, sandbox, env, timeout)

    async def aclose(self) -> None:
        """Stop the warm workers, waiting for them here, then `close()` off the event loop."""
        workers = list(self._workers.values())
        self._workers.clear()
        await asyncio.gather(*(worker.aclose() for worker in workers))
        # Removing the workspace copies touches the disk: off the event loop.
        await asyncio.to_thread(self.close)

    def close(self) -> None:
        """Stop the warm workers and remove every copy of the workspace (their processes are
        gone by now). Safe from any thread."""
        for worker in self._workers.values():
            worker.close()
        self._workers.clear()
        self.remove_copies()


def _key(rel_path: str, original: str) -> str:
    return hashlib.sha256(f"{rel_path}\0{original}".encode()).hexdigest()
