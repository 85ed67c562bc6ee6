"""Downloading a hub model when the user asks: `pairline models pull` and the editor's offer.

The download is huggingface_hub's own (`hf_hub_download`): the file goes into the hub's cache,
shared with every other tool that uses it, `HF_ENDPOINT` and `HF_HUB_OFFLINE` are honoured,
and a connection that drops mid-transfer is resumed from where it stopped (a `Range` request).
Each file is then checked against a sha256: the preset's own where the manifest records one,
else the one the hub publishes for the file (its LFS ETag, which also names the cached blob).
A file that does not match is removed from the cache before the error is raised, so a bad
download is never loaded.

Nothing here runs unless called: resolving a model setting only looks in the cache.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pairline.engine.models import presets as hub
from pairline.engine.models.manifest import ModelError, check_gguf

log = logging.getLogger(__name__)

# Called from the downloading thread with the bytes received so far and the total (if known).
ProgressCallback = Callable[[int, int | None], None]

_SHA256 = re.compile(r"[0-9a-f]{64}")
_CHUNK = 1 << 20


class PullError(ModelError):
    """A download that failed or was rejected; the message says why and what to do."""


class PullCancelled(Exception):
    """The download was stopped by its caller (the editor changed its mind, the server stops)."""


@dataclass(frozen=True)
class Pulled:
    """A verified model file in the hub cache."""

    target: hub.Target
    path: Path
    sha256: str
    size: int


def pull(
    target: hub.Target,
    *,
    cache_dir: Path | None = None,
    endpoint: str | None = None,
    on_progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> Pulled:
    """Download `target` into the hub cache (unless there already) and verify it.

    With `on_progress` the bytes are reported to it instead of a progress bar on stderr; with
    `cancel`, setting the event stops the transfer (PullCancelled, nothing left behind).
    """
    from huggingface_hub import hf_hub_download

    if target.file is None:
        target = target.with_file(_only_gguf(target, endpoint))
    assert target.file is not None
    bar = None if on_progress is None and cancel is None else _bar_class(on_progress, cancel)
    try:
        found = Path(
            str(
                hf_hub_download(
                    target.repo,
                    target.file,
                    cache_dir=cache_dir,
                    endpoint=endpoint,
                    tqdm_class=bar,
                )
            )
        )
    except PullCancelled:
        raise
    except Exception as exc:
        raise PullError(_failure(target, exc, cache_dir)) from exc
    return _verified(target, found, endpoint)


def _verified(target: hub.Target, found: Path, endpoint: str | None) -> Pulled:
    """The downloaded file once its sha256 matches; else it is removed and PullError raised."""
    expected = target.sha256 or _hub_sha256(target, found, endpoint)
    actual = file_sha256(found)
    if actual != expected:
        _remove(found)
        raise PullError(
            f"checksum mismatch for {target.repo}/{target.file}: expected sha256 {expected},"
            f" the download has {actual}; it was deleted. Run the pull again; if it fails the"
            " same way, the file on the hub differs from what pairline expects."
        )
    try:
        check_gguf(found)
    except ModelError as exc:
        _remove(found)
        raise PullError(f"{target.repo}/{target.file} is not a usable model: {exc}") from exc
    return Pulled(target, found, actual, found.stat().st_size)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _hub_sha256(target: hub.Target, found: Path, endpoint: str | None) -> str:
    """The sha256 the hub published for the file: the cache names each blob by its LFS ETag,
    which is that sha256; where the cache holds copies instead of links, ask the hub again."""
    blob = found.resolve().name
    if _SHA256.fullmatch(blob):
        return blob
    from huggingface_hub import get_hf_file_metadata, hf_hub_url

    assert target.file is not None
    try:
        meta = get_hf_file_metadata(hf_hub_url(target.repo, target.file, endpoint=endpoint))
    except Exception as exc:  # offline or unreachable: the check cannot be made now
        raise PullError(
            f"cannot check {found}: the cache holds no link naming its sha256, and asking the"
            f" hub for it failed ({type(exc).__name__}: {exc})"
        ) from exc
    if meta.etag is None or not _SHA256.fullmatch(meta.etag):
        raise PullError(
            f"the hub publishes no sha256 for {target.repo}/{target.file}, so it cannot be checked"
        )
    return meta.etag


def _remove(found: Path) -> None:
    """Take a rejected file out of the hub cache: its blob and the snapshot entry naming it."""
    blob = found.resolve()
    found.unlink(missing_ok=True)
    if blob != found:
        blob.unlink(missing_ok=True)


def _only_gguf(target: hub.Target, endpoint: str | None) -> str:
    """The one GGUF file of a repository named without a file."""
    from huggingface_hub import HfApi

    try:
        files = HfApi(endpoint=endpoint).list_repo_files(target.repo)
    except Exception as exc:
        raise PullError(_failure(target, exc, None)) from exc
    ggufs = sorted(f for f in files if f.endswith(".gguf"))
    if len(ggufs) == 1:
        return ggufs[0]
    if not ggufs:
        raise PullError(f"{target.repo} has no .gguf file")
    listed = "\n".join(f"  {target.repo}:{name}" for name in ggufs)
    raise PullError(f"{target.repo} has {len(ggufs)} GGUF files; name one:\n{listed}")


def _failure(target: hub.Target, exc: Exception, cache_dir: Path | None) -> str:
    """What went wrong, said for the user: offline, unreachable, not found, or the error."""
    from huggingface_hub import constants, errors

    where = f"{target.repo}/{target.file}" if target.file else target.repo
    cache = cache_dir or hub.hub_cache_dir()
    if constants.is_offline_mode():
        return (
            f"{where} is not in the Hugging Face cache ({cache}) and HF_HUB_OFFLINE is set:"
            " unset HF_HUB_OFFLINE to download it"
        )
    if isinstance(exc, errors.GatedRepoError):
        return f"{target.repo} is gated: accept its terms on the hub and log in (hf auth login)"
    if isinstance(exc, errors.RepositoryNotFoundError):
        return f"no repository {target.repo} on the hub (or it is private)"
    if isinstance(exc, errors.RemoteEntryNotFoundError):
        return f"{target.repo} has no file {target.file}"
    if isinstance(exc, errors.LocalEntryNotFoundError):
        return f"cannot reach the Hugging Face hub ({constants.ENDPOINT}) to download {where}"
    return f"downloading {where} failed: {exc}"


def _bar_class(on_progress: ProgressCallback | None, cancel: threading.Event | None) -> Any:
    """A progress-bar class for huggingface_hub that reports to `on_progress` and stops when
    `cancel` is set (raising inside the transfer, which then removes its partial file)."""
    from huggingface_hub.utils.tqdm import tqdm

    class Reporting(tqdm):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["disable"] = on_progress is not None  # reported, not drawn on stderr
            super().__init__(*args, **kwargs)  # type: ignore[no-untyped-call]
            self.done = int(kwargs.get("initial") or 0)

        def update(self, n: float | None = 1) -> bool | None:
            if cancel is not None and cancel.is_set():
                raise PullCancelled
            self.done += int(n or 0)
            if on_progress is not None:
                on_progress(self.done, self.total)
            result: bool | None = super().update(n)
            return result

    return Reporting
