"""Usage recording over LSP: `shown` per suggestion returned, `accepted` per accept command.

Each suggestion returned carries the command `pairline.accepted` with its id. The editor runs it
through `workspace/executeCommand` once the user accepts: VS Code (vscode-languageclient
forwards the commands listed in `executeCommandProvider`) and Neovim 0.12 do so for inline
items, the Neovim plugin does on 0.11, and menu clients run a completion item's command after
inserting it. A partial accept sends `[id, chars]`, a full one `[id]`. With
`completion.record_stats` off no command is attached and nothing is written.
"""

from __future__ import annotations

import logging

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from pairline.engine.core.types import CompletionRequest, Suggestion
from pairline.engine.usage import ShownEvent
from pairline.lsp.server import PairlineServer

log = logging.getLogger(__name__)

ACCEPTED = "pairline.accepted"
_MAX_ID = 64


def accept_command(
    ls: PairlineServer, request: CompletionRequest, suggestion: Suggestion, surface: str
) -> types.Command | None:
    """Record `suggestion` as shown; the command that reports its accept (None: not recorded)."""
    event = ShownEvent(
        language=request.language,
        source=suggestion.source,
        latency_ms=suggestion.timings.get("total_s", 0.0) * 1000,
        chars=len(suggestion.text),
        mode=suggestion.mode.value,
        model=suggestion.model,
        surface=surface,
    )
    event_id = ls.usage.shown(event)
    if event_id is None:
        return None
    return types.Command(
        title="pairline: suggestion accepted", command=ACCEPTED, arguments=[event_id]
    )


def _parse(arguments: tuple[object, ...]) -> tuple[str, int | None]:
    if not 1 <= len(arguments) <= 2:
        raise JsonRpcInvalidParams(f"{ACCEPTED} expects [id] or [id, chars]")
    event_id = arguments[0]
    if not isinstance(event_id, str) or not 0 < len(event_id) <= _MAX_ID:
        raise JsonRpcInvalidParams(f"{ACCEPTED}: the id must be a short string")
    if len(arguments) == 1:
        return event_id, None
    chars = arguments[1]
    # JSON has one number type: some clients send 5.0 for 5.
    if isinstance(chars, float) and chars.is_integer():
        chars = int(chars)
    if isinstance(chars, bool) or not isinstance(chars, int) or chars < 0:
        raise JsonRpcInvalidParams(f"{ACCEPTED}: chars must be a count >= 0")
    return event_id, chars


def setup(server: PairlineServer) -> None:
    @server.command(ACCEPTED)
    def accepted(ls: PairlineServer, *arguments: object) -> None:
        event_id, chars = _parse(arguments)
        ls.usage.counts["accept_commands"] += 1
        if not ls.usage.accepted(event_id, chars):
            log.debug("accept of unknown or unrecorded suggestion %s ignored", event_id)
