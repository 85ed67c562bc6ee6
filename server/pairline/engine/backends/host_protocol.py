"""The model host's wire format: length-prefixed JSON frames over a pipe.

Each frame is a 4-byte big-endian length and that many bytes of UTF-8 JSON holding one object.
The language server sends requests (`{"id", "op", ...}`), cancellations (`{"op": "cancel",
"id"}`) and the answers to the host's per-token questions (`{"op": "checked", "id",
"complete"}`); the host sends results (`{"id", "op": "result", "value"}`), errors (`{"id", "op":
"error", "message"}`) and, while generating, the text so far (`{"id", "op": "check", "text"}`),
so the server's completeness rule decides after every token, as it does in process. A length
prefix rather than newlines keeps prompts with any characters in them one frame.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable, Mapping
from dataclasses import asdict, fields
from typing import IO, Any

from pairline.engine.backends.base import Generation, GenerationParams
from pairline.engine.core.suggestion_end import SuggestionEnd
from pairline.engine.models.manifest import FimTemplate

_HEADER = struct.Struct(">I")
# No message comes near this (a prompt is a few kB); a larger length means a corrupt stream.
MAX_FRAME = 64 * 1024 * 1024

_DEFAULT_IS_COMPLETE = next(f.default for f in fields(GenerationParams) if f.name == "is_complete")


class ProtocolError(Exception):
    """The stream does not hold a frame: the other side is broken, not merely gone."""


def encode(message: Mapping[str, Any]) -> bytes:
    """One frame holding `message`."""
    body = json.dumps(message, separators=(",", ":")).encode("utf-8")
    if len(body) > MAX_FRAME:
        raise ProtocolError(f"message of {len(body)} bytes is over the frame limit")
    return _HEADER.pack(len(body)) + body


def write(stream: IO[bytes], message: Mapping[str, Any]) -> None:
    """Send one message (callers hold a lock when several threads write)."""
    stream.write(encode(message))
    stream.flush()


def _read_exactly(stream: IO[bytes], size: int) -> bytes | None:
    chunks: list[bytes] = []
    left = size
    while left:
        chunk = stream.read(left)
        if not chunk:
            if chunks:
                raise ProtocolError("the stream ended inside a frame")
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read(stream: IO[bytes]) -> dict[str, Any] | None:
    """The next message; None when the stream ended between frames."""
    header = _read_exactly(stream, _HEADER.size)
    if header is None:
        return None
    (size,) = _HEADER.unpack(header)
    if size > MAX_FRAME:
        raise ProtocolError(f"frame of {size} bytes announced")
    body = _read_exactly(stream, size) if size else b""
    if body is None:
        raise ProtocolError("the stream ended inside a frame")
    try:
        message = json.loads(body.decode("utf-8"))
    except ValueError as exc:
        raise ProtocolError(f"unreadable frame: {exc}") from exc
    if not isinstance(message, dict):
        raise ProtocolError("a frame holds something other than an object")
    return message


def asks_per_token(params: GenerationParams) -> bool:
    """Whether generating with `params` needs the server's answer after every token: a rule
    that is data (`SuggestionEnd`) travels with the request and runs in the host."""
    rule = params.is_complete
    return rule is not _DEFAULT_IS_COMPLETE and not isinstance(rule, SuggestionEnd)


def params_record(params: GenerationParams) -> dict[str, Any]:
    """`params` as sent; a completeness rule other than a `SuggestionEnd` stays in the server
    (`asks_per_token`)."""
    rule = params.is_complete
    return {
        "end": rule.record() if isinstance(rule, SuggestionEnd) else None,
        "max_tokens": params.max_tokens,
        "heal": params.heal,
        "temperature": params.temperature,
        "top_p": params.top_p,
        "seed": params.seed,
        "members": {receiver: sorted(names) for receiver, names in params.members.items()},
    }


def params_from(record: Mapping[str, Any], is_complete: Callable[[str], bool]) -> GenerationParams:
    """The params of `record`; `is_complete` where the record carries no rule of its own."""
    end = record.get("end")
    return GenerationParams(
        max_tokens=int(record["max_tokens"]),
        is_complete=SuggestionEnd.from_record(end) if end else is_complete,
        heal=bool(record["heal"]),
        temperature=float(record["temperature"]),
        top_p=float(record["top_p"]),
        seed=int(record["seed"]),
        members={
            str(receiver): frozenset(str(name) for name in names)
            for receiver, names in record.get("members", {}).items()
        },
    )


def generation_record(generation: Generation) -> dict[str, Any]:
    return asdict(generation)


def generation_from(record: Mapping[str, Any]) -> Generation:
    return Generation(
        text=str(record["text"]),
        stop_reason=str(record["stop_reason"]),
        prompt_tokens=int(record["prompt_tokens"]),
        reused_tokens=int(record["reused_tokens"]),
        generated_tokens=int(record["generated_tokens"]),
        seconds=float(record["seconds"]),
        logprobs=tuple(float(value) for value in record["logprobs"]),
        token_ends=tuple(int(value) for value in record["token_ends"]),
    )


def fim_record(fim: FimTemplate | None) -> dict[str, Any] | None:
    return None if fim is None else asdict(fim)


def fim_from(record: Mapping[str, Any] | None) -> FimTemplate | None:
    if record is None:
        return None
    return FimTemplate(
        family=str(record["family"]),
        prefix=str(record["prefix"]),
        suffix=str(record["suffix"]),
        middle=str(record["middle"]),
        stop=tuple(str(value) for value in record["stop"]),
        order=str(record["order"]),
        detect=tuple(str(value) for value in record["detect"]),
    )
