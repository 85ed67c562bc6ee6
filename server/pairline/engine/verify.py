"""Checks a candidate edit must pass before it is offered.

1. Parse: the edited file must not have more tree-sitter errors than the original.
2. Check command (only in a trusted workspace, only when one is configured for the language):
   run it in a temporary copy of the workspace, once on the unmodified file (the baseline) and
   once with the candidate. The candidate passes when the command succeeds, or when it fails
   with no output line the baseline did not have and some baseline line gone (a failure
   fixed, nothing new broken). Running the command executes workspace code (tests, build
   scripts), hence the trust setting, off by default.

Checks of several candidates run at once, each in its own copy of the workspace, as many copies
as the machine has cores (the "Fix this" loop checks a round's candidates in parallel). A
cancelled check kills its whole process group, and `close()` removes every copy.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import re
import shlex
import signal
import tempfile
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from pairline.engine import check_detect, languages, syntax
from pairline.engine.config import ActionsConfig
from pairline.engine.workspace_copy import copy_workspace

log = logging.getLogger(__name__)

_OUTPUT_LINES = 40  # lines of check output fed back to the model
# Lines of the unmodified file's failure shown in a first round's prompt: the end of the
# output, where a traceback names the failing assertion; a small model's prompt stays short.
_BASELINE_LINES = 12
_MIN_TIMEOUT_S = 5.0
_TIMEOUT_FACTOR = 5.0
_TIMING = re.compile(r"\b\d+(\.\d+)?\s*(s|ms|sec|seconds)\b")
_NUMBER = re.compile(r"\d+")


@dataclass(frozen=True)
class Verdict:
    ok: bool
    stage: str  # "parse", "check", "unchanged", "extract", "setup"
    message: str  # why, in words fit for the user and for the model's next round
    checked: str = ""  # the check command that passed ("" when only the parse was checked)
    failing: int = 0  # how badly a rejected candidate failed (output lines): fewer is closer
    partial: bool = False  # passed as "fails less than before", not outright


@dataclass(frozen=True)
class CheckRun:
    returncode: int | None  # None: timed out or could not start
    output: str
    seconds: float = 0.0


def candidate_timeout(limit: float, base: CheckRun) -> float:
    """How long a candidate's check may run: a few times the unmodified code's run (at least
    `_MIN_TIMEOUT_S`), never more than the setting. An edit that makes the check run much longer
    than the code as it is has most likely written an endless loop, and waiting out the whole
    `check_timeout_s` on it would spend the loop's budget on one candidate."""
    if base.returncode is None:
        return limit  # the unmodified code timed out too: nothing to go by
    return min(limit, max(_MIN_TIMEOUT_S, _TIMEOUT_FACTOR * base.seconds))


class Verifier(Protocol):
    async def verify(
        self, language: str, rel_path: str | None, original: str, candidate: str
    ) -> Verdict:
        """Judge `candidate`, the whole new text of the file at `rel_path` (None: not on disk)."""
        ...

    async def baseline(self, language: str, rel_path: str | None, original: str) -> str | None:
        """What the check command reports on the unmodified file when it fails there (paths
        relative to the workspace, trimmed); None when it passes or no check command runs."""
        ...


def parse_verdict(language: str, original: str, candidate: str) -> Verdict | None:
    """A failing verdict when the candidate parses worse than the original, else None."""
    before = syntax.error_count(language, original)
    after = syntax.error_count(language, candidate)
    if before is None or after is None:
        return None
    if after > before:
        return Verdict(
            False,
            "parse",
            f"the edited file does not parse: {after} syntax error(s), {before} before the edit",
        )
    return None


def definitions(language: str, text: str) -> Counter[str] | None:
    """How many times each function, method, class or type name is defined (None: no grammar)."""
    parser = syntax.parser_for(language)
    if parser is None:
        return None
    entry = languages.find(language)
    kinds = entry.definition_nodes if entry is not None else frozenset()
    names: Counter[str] = Counter()
    stack = [parser.parse(text.encode("utf-8", "surrogatepass")).root_node]
    while stack:
        node = stack.pop()
        if node.type in kinds:
            name = node.child_by_field_name("name")
            if name is not None and name.text is not None:
                names[name.text.decode("utf-8", "replace")] += 1
        stack.extend(node.children)
    return names


def shape_verdict(language: str, original: str, candidate: str) -> Verdict | None:
    """A failing verdict when the edit drops, renames or duplicates a definition.

    Small models asked to fix one function sometimes answer with a copy of its neighbour; that
    parses, so the parse check alone would accept it.
    """
    before = definitions(language, original)
    after = definitions(language, candidate)
    if before is None or after is None or before == after:
        return None
    missing = sorted((before - after).elements())
    # New helpers are fine; a second copy of an existing name is not.
    duplicated = sorted(name for name in (after - before) if before[name])
    if not missing and not duplicated:
        return None
    parts = []
    if missing:
        parts.append("it removes or renames " + ", ".join(f"{n}()" for n in missing))
    if duplicated:
        parts.append("it duplicates " + ", ".join(f"{n}()" for n in duplicated))
    return Verdict(False, "parse", "the edit changes which definitions exist: " + "; ".join(parts))


def _normalise(output: str, root: str) -> Counter[str]:
    # Numbers go: line numbers shift when an edit adds lines, and summary counts change.
    text = output.replace(root, "<workspace>")
    return Counter(
        _NUMBER.sub("N", _TIMING.sub("<time>", ln.rstrip()))
        for ln in text.splitlines()
        if ln.strip()
    )


def _tail(text: str, lines_kept: int = _OUTPUT_LINES) -> str:
    lines = text.strip().splitlines()
    return "\n".join(lines[-lines_kept:])


def relative(output: str, root: Path) -> str:
    """`output` with the sandbox's paths written relative to the workspace: the same in every
    copy, and what the user and the model know the files as."""
    return output.replace(f"{root}{os.sep}", "").replace(str(root), ".")


def compare(command: str, base: CheckRun, cand: CheckRun, root: str) -> Verdict:
    """Judge a candidate's check run against the baseline's."""
    if cand.returncode is None:
        return Verdict(
            False, "check", f"`{command}` did not finish: {cand.output}", failing=1 << 20
        )
    if cand.returncode == 0:
        return Verdict(True, "check", f"`{command}` passes", checked=command)
    failing = sum(1 for ln in cand.output.splitlines() if ln.strip())
    if base.returncode == 0:
        return Verdict(
            False,
            "check",
            f"`{command}` fails with the edit (it passes without it):\n{_tail(cand.output)}",
            failing=failing,
        )
    base_lines = _normalise(base.output, root)
    cand_lines = _normalise(cand.output, root)
    new = list((cand_lines - base_lines).elements())
    if new:
        shown = "\n".join(new[:_OUTPUT_LINES])
        return Verdict(
            False,
            "check",
            f"`{command}` reports new problems with the edit:\n{shown}",
            failing=failing,
        )
    if not base_lines - cand_lines:
        return Verdict(
            False,
            "check",
            f"`{command}` still fails the same way:\n{_tail(cand.output)}",
            failing=failing,
        )
    return Verdict(
        True, "check", f"`{command}` fails less than before", checked=command, partial=True
    )


async def baseline_until(
    verifier: Verifier,
    language: str,
    rel_path: str | None,
    original: str,
    cancel: threading.Event,
    deadline: float,
) -> str | None:
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


class WorkspaceVerifier:
    """Parse check always; the configured check command in a trusted workspace.

    The workspace is copied on the first check, and again (up to `parallel` copies, default one
    per core) when checks run at once; copies are reused for every later check and `close()`
    removes them all. The baseline run is cached per original text.
    """

    def __init__(self, config: ActionsConfig, root: Path | None, parallel: int = 0) -> None:
        self.config = config
        self.root = root
        self.parallel = parallel if parallel > 0 else cores()
        self._tmps: list[tempfile.TemporaryDirectory[str]] = []
        self._free: list[Path] = []
        self._made = 0
        self._returned: asyncio.Condition | None = None
        self._baseline_lock: asyncio.Lock | None = None
        self._baselines: dict[str, CheckRun] = {}
        self.commands_run = 0  # for tests and logs: how often a check command was started
        self.running = 0  # check commands running now
        self.peak_running = 0  # the most that ran at once

    def command_for(self, language: str, rel_path: str | None = None) -> str | None:
        """The configured check command, else (trusted only) the one the project has."""
        root = self.root if self.config.trusted else None
        check = check_detect.check_for(self.config, root, rel_path, language)
        return check.command if check is not None else None

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
        command = self.command_for(language, rel_path)
        if not command or not self.runs_checks(rel_path) or rel_path is None:
            return Verdict(True, "parse", "parses (no check command ran)")
        try:
            base = await self._baseline(command, rel_path, original)
            async with self._sandbox() as sandbox:
                timeout = candidate_timeout(self.config.check_timeout_s, base)
                cand = await self._run(command, sandbox, rel_path, candidate, timeout)
                # Leave the copy as the baseline expects it for the next check.
                await asyncio.to_thread(_write, sandbox / rel_path, original)
        except OSError as exc:
            return Verdict(False, "setup", f"cannot copy the workspace for checks: {exc}")
        return compare(command, base, cand, str(sandbox))

    async def baseline(self, language: str, rel_path: str | None, original: str) -> str | None:
        # The file's path, as `verify` passes it: a check found in the project (the tests that
        # import the module) is found only from the file.
        command = self.command_for(language, rel_path)
        if not command or not self.runs_checks(rel_path) or rel_path is None:
            return None
        try:
            base = await self._baseline(command, rel_path, original)
        except OSError:
            return None  # the candidates' checks will say why
        # Caret lines under a traceback's source line only cost a small model's prompt tokens.
        shown = "\n".join(ln for ln in base.output.splitlines() if ln.strip(" ^~"))
        if base.returncode == 0 or not shown.strip():
            return None
        return _tail(shown, _BASELINE_LINES)

    async def _baseline(self, command: str, rel_path: str, original: str) -> CheckRun:
        """The check's run on the unmodified file: once per original text, however many
        candidates wait for it."""
        key = hashlib.sha256(f"{rel_path}\0{original}".encode()).hexdigest()
        if key not in self._baselines:
            if self._baseline_lock is None:
                self._baseline_lock = asyncio.Lock()
            async with self._baseline_lock:
                if key not in self._baselines:
                    async with self._sandbox() as sandbox:
                        self._baselines[key] = await self._run(command, sandbox, rel_path, original)
        return self._baselines[key]

    @contextlib.asynccontextmanager
    async def _sandbox(self) -> AsyncIterator[Path]:
        """A copy of the workspace for this check alone: a free one, a new one, or the next one
        another check returns."""
        if self._returned is None:
            self._returned = asyncio.Condition()
        async with self._returned:
            while not self._free and self._made >= self.parallel:
                await self._returned.wait()
            copy = self._free.pop() if self._free else None
            if copy is None:
                self._made += 1
        if copy is None:
            try:
                copy = await self._new_copy()
            except BaseException:
                async with self._returned:
                    self._made -= 1
                    self._returned.notify()
                raise
        try:
            yield copy
        finally:
            async with self._returned:
                self._free.append(copy)
                self._returned.notify()

    async def _new_copy(self) -> Path:
        assert self.root is not None
        tmp = tempfile.TemporaryDirectory(prefix="pairline-check-")
        self._tmps.append(tmp)  # before copying: a cancelled copy is removed by close() too
        target = Path(tmp.name) / "workspace"
        copying = asyncio.ensure_future(asyncio.to_thread(copy_workspace, self.root, target))
        try:
            await asyncio.shield(copying)
        except asyncio.CancelledError:
            # Let the copy finish first, or it would write into the folder close() removes.
            with contextlib.suppress(Exception):
                await copying
            raise
        return target

    async def _run(
        self, command: str, sandbox: Path, rel_path: str, text: str, timeout: float | None = None
    ) -> CheckRun:
        timeout = timeout or self.config.check_timeout_s
        await asyncio.to_thread(_write, sandbox / rel_path, text)
        argv = shlex.split(command.replace("{file}", shlex.quote(rel_path)))
        self.commands_run += 1
        log.info("check: %s (in %s)", command, sandbox.parent.name)
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                cwd=sandbox,
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
            _kill_group(proc.pid)
            with contextlib.suppress(ProcessLookupError):
                await asyncio.shield(proc.wait())
            if isinstance(exc, asyncio.CancelledError):
                raise
            return CheckRun(None, f"timed out after {timeout:g} s")
        finally:
            self.running -= 1
        output = relative(out.decode("utf-8", "replace"), sandbox)
        return CheckRun(proc.returncode, output, time.perf_counter() - started)

    def close(self) -> None:
        """Remove every copy of the workspace (their processes are gone by now)."""
        for tmp in self._tmps:
            with contextlib.suppress(OSError):
                tmp.cleanup()
        self._tmps.clear()
        self._free.clear()
        self._made = 0


def cores() -> int:
    """CPU cores this process may run on: how many checks run at once."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
