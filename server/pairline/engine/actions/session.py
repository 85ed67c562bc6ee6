"""Running a code action, the path shared by the LSP handler and `pairline fix`.

Choose the model, wait for the local one when it is the one chosen, generate → verify → revise,
and always clean up the verifier's copy.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path

from pairline.engine.actions import fix
from pairline.engine.actions.verify import WorkspaceVerifier
from pairline.engine.backends.edit import EditBackend
from pairline.engine.core.config import ActionsConfig, Settings
from pairline.engine.core.types import EngineError

log = logging.getLogger(__name__)


def action_request(
    kind: str,
    *,
    language: str,
    text: str,
    region: fix.Region,
    settings: Settings,
    diagnostics: tuple[str, ...] = (),
    file_name: str = "untitled",
    rel_path: str | None = None,
) -> fix.FixRequest:
    """The request for one action, its region clamped to the text's lines."""
    if kind not in fix.TITLES:
        raise EngineError(f"unknown action {kind!r}")
    last = text.count("\n") + 1
    clamped = fix.Region(
        max(0, min(region.start, last)), max(0, min(region.end, last)), region.function
    )
    return fix.FixRequest(
        kind=kind,
        language=language,
        text=text,
        region=clamped,
        diagnostics=diagnostics,
        file_name=file_name,
        rel_path=rel_path,
        context_lines=settings.actions.context_lines,
    )


# A generous estimate of the tokens in a line of code, and the prompt's own words around it.
_TOKENS_PER_LINE = 12
_INSTRUCTION_TOKENS = 256


def local_context_lines(request: fix.FixRequest, n_ctx: int, answer_tokens: int) -> int:
    """`request.context_lines`, fewer when the local model's window could not hold them with
    the region, the instructions and the answer: the local backend would otherwise cut the
    prompt's start, and with it what it is asked to do."""
    region = request.region.end - request.region.start
    room = n_ctx - answer_tokens - _INSTRUCTION_TOKENS - 2 * region * _TOKENS_PER_LINE
    return max(0, min(request.context_lines, room // _TOKENS_PER_LINE))


def edit_families(actions: ActionsConfig) -> frozenset[str]:
    """The optional families of small edits (`mutants.FAMILIES`) the settings switch on."""
    switches = {
        "offset": actions.small_edit_offsets,
        "swap": actions.small_edit_swaps,
        "step": actions.small_edit_steps,
    }
    return frozenset(family for family, on in switches.items() if on)


async def run_action(
    request: fix.FixRequest,
    router: fix.EditRouter,
    settings: Settings,
    root: Path | None,
    *,
    ready_local: Callable[[], Awaitable[None]],
    cancel: threading.Event | None = None,
    progress: fix.ProgressCallback | None = None,
    on_backend: Callable[[EditBackend], None] | None = None,
) -> fix.FixResult:
    """Carry out one action with the model the router chooses; raises EngineError.

    `ready_local` is awaited before the local model is used: it waits for the model (or loads
    it) and raises EngineError when it is not available. `on_backend` hears which model was
    chosen before it is asked.
    """
    kind = request.kind
    if router.choice(kind) == "local":
        await ready_local()
    backend = router.backend(kind)
    if backend.where == "local":
        lines = local_context_lines(
            request, settings.model.n_ctx, settings.actions.local_max_tokens
        )
        request = dataclasses.replace(request, context_lines=lines)
    log.info("%s: %s via %s (%s)", fix.TITLES[kind], request.file_name, backend.name, backend.where)
    if on_backend is not None:
        on_backend(backend)
    actions = settings.actions
    verifier = WorkspaceVerifier(actions, root)
    checked = verifier.will_check(request.language, request.rel_path)
    loop = fix.Loop(
        rounds=actions.rounds,
        # Without a check to tell candidates apart, more of them only cost time: the first
        # that parses would win by chance.
        candidates=actions.candidates if checked else 1,
        budget_s=actions.budget_s,
        temperature=actions.temperature,
        baseline_feedback=actions.baseline_feedback,
        small_edits=actions.small_edits and checked,
        edit_families=edit_families(actions),
    )
    try:
        return await fix.fix(
            request, backend, verifier, actions.rounds, loop=loop, cancel=cancel, progress=progress
        )
    finally:
        await verifier.aclose()
