"""Offering to download a preset the settings name but the hub cache does not hold yet.

The editor is asked first (`window/showMessageRequest` with a "Download (size)" action);
nothing is downloaded unless the user picks it. The download then reports `$/progress` of its
own, and the model loads once it is in place. While the user decides and the file arrives,
requests for the model answer with nothing rather than wait.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable

from lsprotocol import types

from pairline.engine.backends.host_backend import HostBackend
from pairline.engine.backends.local_llama import LocalLlamaBackend
from pairline.engine.models import pull
from pairline.engine.models.manifest import ModelNotDownloaded
from pairline.engine.models.presets import Target, size_text
from pairline.lsp.progress import Progress, notify_status
from pairline.lsp.server import PairlineServer

log = logging.getLogger(__name__)

NOT_NOW = "Not now"


async def load_or_offer(
    ls: PairlineServer, load: Callable[[], Awaitable[LocalLlamaBackend | HostBackend]]
) -> LocalLlamaBackend | HostBackend:
    """The model `load` loads; a preset not downloaded yet is offered for download first, and
    loaded once it is there. Declined, the not-downloaded error stands."""
    try:
        return await load()
    except ModelNotDownloaded as missing:
        if not await offer_pull(ls, missing.target, str(missing)):
            raise
    return await load()


async def offer_pull(ls: PairlineServer, target: Target, why: str) -> bool:
    """Ask the user whether to download `target`; download it if so. Whether it is there now
    (a failed download raises PullError, which says why)."""
    ls.model.fail(why)  # nothing waits on a model while the user decides
    notify_status(ls, "loading", f"{target.name} is not downloaded yet", target.name)
    size = target.preset.size_text if target.preset else ""
    download = f"Download ({size})" if size else "Download"
    terms = f" (license: {target.preset.license})" if target.preset else ""
    try:
        answer = await ls.window_show_message_request_async(
            types.ShowMessageRequestParams(
                type=types.MessageType.Info,
                message=f"pairline: the model {target.name} is not downloaded yet. Download it"
                f" from huggingface.co/{target.repo}{terms}?",
                actions=[types.MessageActionItem(download), types.MessageActionItem(NOT_NOW)],
            )
        )
    except Exception as exc:  # a client that cannot ask: the same as "Not now"
        log.info("cannot offer the download: %s", exc)
        return False
    if answer is None or answer.title != download:
        return False
    await _download(ls, target)
    ls.model.reset()  # requests wait again, now for the load that follows
    return True


async def _download(ls: PairlineServer, target: Target) -> None:
    progress = Progress(ls, "pairline", supported=ls.client.work_done_progress)
    loop = asyncio.get_running_loop()
    cancel = threading.Event()
    shown = -1

    def on_progress(done: int, total: int | None) -> None:
        nonlocal shown
        percent = int(done * 100 / total) if total else 0
        if percent != shown:  # one report per percent, not one per chunk
            shown = percent
            message = f"downloading {target.name}: {size_text(done)}"
            if total:
                message += f" of {size_text(total)}"
            loop.call_soon_threadsafe(progress.report, message, percent)

    await progress.begin(f"downloading {target.name}")
    notify_status(ls, "loading", f"downloading {target.name}", target.name)
    try:
        pulled = await asyncio.to_thread(pull.pull, target, on_progress=on_progress, cancel=cancel)
    except BaseException as exc:
        cancel.set()  # the task was cancelled: stop the transfer too
        if not ls.stopping:
            progress.end(f"download failed: {exc}" if str(exc) else "download stopped")
        raise
    progress.end(f"downloaded {target.name} ({size_text(pulled.size)}, sha256 checked)")
