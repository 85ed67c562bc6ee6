"""The model host's frames: what goes in comes out; a broken stream is told from an ended one."""

from __future__ import annotations

import io
import math
import struct

import pytest

from pairline.engine.backends import host_protocol as wire
from pairline.engine.backends.base import Generation, GenerationParams
from pairline.engine.core.suggestion_end import SuggestionEnd
from pairline.engine.models.manifest import FimTemplate


def test_messages_round_trip_one_frame_each_whatever_the_text_holds() -> None:
    stream = io.BytesIO()
    first = {"id": 1, "op": "generate", "prompt": "def f():\n\treturn '\\x00' # ünïcode \u2028"}
    second = {"id": 2, "op": "cancel"}
    wire.write(stream, first)
    wire.write(stream, second)
    stream.seek(0)
    assert wire.read(stream) == first
    assert wire.read(stream) == second
    assert wire.read(stream) is None  # ended between frames


def test_a_stream_cut_inside_a_frame_or_holding_garbage_is_an_error() -> None:
    frame = wire.encode({"id": 1, "op": "result", "value": [1, 2, 3]})
    with pytest.raises(wire.ProtocolError):
        wire.read(io.BytesIO(frame[:-2]))
    with pytest.raises(wire.ProtocolError):
        wire.read(io.BytesIO(frame[:2]))
    with pytest.raises(wire.ProtocolError):
        wire.read(io.BytesIO(struct.pack(">I", 3) + b"{{{"))
    with pytest.raises(wire.ProtocolError):
        wire.read(io.BytesIO(struct.pack(">I", 2) + b"[]"))
    with pytest.raises(wire.ProtocolError):
        wire.read(io.BytesIO(struct.pack(">I", wire.MAX_FRAME + 1)))


def test_a_frame_arriving_in_pieces_is_read_whole() -> None:
    class Trickle(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self._data = data

        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            piece, self._data = self._data[:1], self._data[1:]
            return piece

    message = {"id": 7, "op": "check", "text": "x" * 100}
    assert wire.read(Trickle(wire.encode(message))) == message  # type: ignore[arg-type]


def test_generations_and_params_survive_the_wire_but_the_rule_stays_home() -> None:
    generation = Generation(" a + b", "complete", 11, 3, 4, 0.1, (-0.5, -math.inf), (2, 6))
    sent = wire.encode({"value": wire.generation_record(generation)})
    received = wire.read(io.BytesIO(sent))
    assert received is not None
    assert wire.generation_from(received["value"]) == generation

    def rule(text: str) -> bool:
        return "\n" in text

    members = {"helpers": frozenset({"normalise_path", "join"}), "self.items": frozenset()}
    params = GenerationParams(
        max_tokens=9, is_complete=rule, heal=True, temperature=0.5, seed=3, members=members
    )
    assert wire.asks_per_token(params)
    assert not wire.asks_per_token(GenerationParams(max_tokens=9))
    record = wire.params_record(params)
    assert "is_complete" not in record
    assert wire.params_from(wire.read(io.BytesIO(wire.encode(record))) or {}, rule) == params


def test_a_suggestions_end_travels_as_data_and_the_host_runs_it_without_asking() -> None:
    end = SuggestionEnd(line=False, line_before="    ", block_indent=0, max_lines=2, braces=False)
    params = GenerationParams(max_tokens=9, is_complete=end)
    assert not wire.asks_per_token(params)
    record = wire.read(io.BytesIO(wire.encode(wire.params_record(params)))) or {}

    def never_asked(text: str) -> bool:
        raise AssertionError("the host asked the server")

    received = wire.params_from(record, never_asked)
    assert received.is_complete == end
    assert received.is_complete("x = 1\n    y = 2\n") and not received.is_complete("x = 1\n")


def test_fim_templates_survive_the_wire() -> None:
    fim = FimTemplate("qwen", "<p>", "<s>", "<m>", ("<eot>",), "psm", ("<r>",))
    assert wire.fim_from(wire.fim_record(fim)) == fim
    assert wire.fim_from(wire.fim_record(None)) is None
