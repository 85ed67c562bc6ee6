"""The one local model: its load lifecycle, and that every feature of the server asks it."""

from __future__ import annotations

import asyncio

from pairline.engine.models.local import LocalModel
from pairline.lsp.app import create_server
from pairline.lsp.code_actions import CodeActions


class Stub:
    """A backend with gauges, as the local one has."""

    name = "stub"
    fim = None

    def __init__(self, running: int = 0) -> None:
        self.generations_pending = 0
        self.generations_running = 0
        self.peak_generations_pending = 0
        self.peak_generations_running = running
        self.closed = False

    def close(self) -> None:
        self.closed = True


async def test_a_load_ends_either_way_and_a_reload_closes_the_old_backend() -> None:
    model = LocalModel()
    heard: list[object] = []
    model.watch(heard.append)
    waiting = asyncio.ensure_future(model.wait_ready())
    await asyncio.sleep(0)
    assert not waiting.done() and model() is None
    first = Stub(running=1)
    model.attach(first)  # type: ignore[arg-type]
    assert await waiting and model() is first and model.ready
    model.reset()
    assert first.closed and model() is None and not model.ready
    assert heard == [first, None]
    model.fail("no such file")
    assert await model.wait_ready() is False and model.error == "no such file"
    assert model.gauges()["peak_generations_running"] == 1  # peaks outlive the reload


def test_completion_next_edits_and_code_actions_share_the_servers_model() -> None:
    server = create_server()
    try:
        (actions,) = [f for f in server.features if isinstance(f, CodeActions)]
        assert server.engine.model is server.model
        assert actions.router.local is server.model
        assert server.nextedit._local is server.model
        backend = Stub()
        server.model.attach(backend)  # type: ignore[arg-type]
        assert server.engine.backend is backend
        assert actions.router.describe("fix") == "local: stub"
    finally:
        server.stop_work()
    assert backend.closed
