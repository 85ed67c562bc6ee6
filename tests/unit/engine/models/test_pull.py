"""`pull`: downloads from a loopback server that speaks the hub's API, serving the real GGUF of
the built-in model: a download, a resume after a dropped connection, a checksum mismatch
rejected with nothing left behind, offline mode, and a cancelled download."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from huggingface_hub import constants, file_download

from pairline.engine.core.config import Settings
from pairline.engine.models import manifest, pull
from pairline.engine.models.presets import Preset, Target, cached_file
from tests.hub_server import FakeHub, running_hub

pytestmark = pytest.mark.slow  # each test moves the 253 MB model file over loopback

REPO = "pairline-test/gemma-3-270m-GGUF"
FILE = "gemma-3-270m-q4_k_m.gguf"


@pytest.fixture(scope="module")
def gguf() -> Path:
    """The built-in model's GGUF, assembled from its PyPI packages."""
    return manifest.resolve("gemma3-270m", Settings().cache_path).path


@pytest.fixture
def hub(gguf: Path) -> Iterator[FakeHub]:
    served = FakeHub()
    served.add(REPO, FILE, gguf)
    with running_hub(served) as running:
        yield running


def leftovers(cache: Path) -> list[Path]:
    """Model data a download left in the hub cache: blobs, snapshot entries, partial files
    (the cache's bookkeeping, its refs and lock files, aside)."""
    return [
        p
        for p in cache.rglob("*")
        if ("blobs" in p.parts or "snapshots" in p.parts or p.name.endswith(".incomplete"))
        and not p.is_dir()
    ]


def test_download_into_the_hub_cache_verified(hub: FakeHub, tmp_path: Path) -> None:
    seen: list[tuple[int, int | None]] = []
    pulled = pull.pull(
        Target(REPO, FILE),
        cache_dir=tmp_path,
        endpoint=hub.url,
        on_progress=lambda *a: seen.append(a),
    )
    size = hub.files[REPO, FILE].stat().st_size
    assert pulled.sha256 == hub.sha256(REPO, FILE)
    assert pulled.size == size
    assert pulled.path.is_relative_to(tmp_path)
    assert cached_file(Target(REPO, FILE), tmp_path) == pulled.path
    assert seen[-1] == (size, size)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    # Pulled again: found in the cache, checked, not downloaded a second time.
    gets = len(hub.gets())
    again = pull.pull(Target(REPO, FILE), cache_dir=tmp_path, endpoint=hub.url)
    assert again.path == pulled.path
    assert len(hub.gets()) == gets


def test_a_dropped_connection_is_resumed_where_it_stopped(hub: FakeHub, tmp_path: Path) -> None:
    size = hub.files[REPO, FILE].stat().st_size
    hub.drop_at = size // 2
    pulled = pull.pull(Target(REPO, FILE), cache_dir=tmp_path, endpoint=hub.url)
    assert pulled.sha256 == hub.sha256(REPO, FILE)
    first, rest = (r.range for r in hub.gets())
    # One transfer cut at half, then one that asks only for the rest: from the last whole
    # chunk written, never from the start.
    assert first is None
    assert rest is not None and rest.startswith("bytes=") and rest.endswith("-")
    assert 0 < int(rest[len("bytes=") : -1]) <= size // 2


def test_a_checksum_mismatch_is_rejected_and_nothing_is_left(hub: FakeHub, tmp_path: Path) -> None:
    hub.corrupt = True
    with pytest.raises(pull.PullError, match="checksum mismatch") as failure:
        pull.pull(Target(REPO, FILE), cache_dir=tmp_path, endpoint=hub.url)
    assert hub.sha256(REPO, FILE) in str(failure.value)
    assert "deleted" in str(failure.value)
    assert leftovers(tmp_path) == []
    assert cached_file(Target(REPO, FILE), tmp_path) is None


def test_a_preset_sha256_that_differs_is_rejected(hub: FakeHub, tmp_path: Path) -> None:
    preset = Preset("x", "x", REPO, FILE, 253, "Apache-2.0", "none", "any", sha256="0" * 64)
    with pytest.raises(pull.PullError, match=f"expected sha256 {'0' * 64}"):
        pull.pull(Target(REPO, FILE, preset), cache_dir=tmp_path, endpoint=hub.url)
    assert cached_file(Target(REPO, FILE), tmp_path) is None
    assert leftovers(tmp_path) == []


def test_offline_and_not_cached_says_so_without_asking_the_hub(
    hub: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(pull.PullError, match="HF_HUB_OFFLINE is set") as failure:
        pull.pull(Target(REPO, FILE), cache_dir=tmp_path, endpoint=hub.url)
    assert "not in the Hugging Face cache" in str(failure.value)
    assert hub.requests == []


def test_offline_and_cached_uses_the_cached_file(
    hub: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = pull.pull(Target(REPO, FILE), cache_dir=tmp_path, endpoint=hub.url)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    asked = len(hub.requests)
    assert pull.pull(Target(REPO, FILE), cache_dir=tmp_path, endpoint=hub.url).path == first.path
    assert len(hub.requests) == asked


def test_a_repository_named_without_a_file_gets_its_one_gguf(hub: FakeHub, tmp_path: Path) -> None:
    pulled = pull.pull(Target(REPO, None), cache_dir=tmp_path, endpoint=hub.url)
    assert pulled.target.file == FILE
    assert pulled.target.name == f"{REPO}:{FILE}"


def test_a_repository_with_several_ggufs_asks_which(
    hub: FakeHub, gguf: Path, tmp_path: Path
) -> None:
    hub.add(REPO, "other.gguf", gguf)
    with pytest.raises(pull.PullError, match="name one") as failure:
        pull.pull(Target(REPO, None), cache_dir=tmp_path, endpoint=hub.url)
    assert f"{REPO}:other.gguf" in str(failure.value)
    assert hub.gets() == []


def test_unknown_repository_and_file_are_named(hub: FakeHub, tmp_path: Path) -> None:
    with pytest.raises(pull.PullError, match="no repository nobody/none"):
        pull.pull(Target("nobody/none", FILE), cache_dir=tmp_path, endpoint=hub.url)
    with pytest.raises(pull.PullError, match=f"{REPO} has no file missing.gguf"):
        pull.pull(Target(REPO, "missing.gguf"), cache_dir=tmp_path, endpoint=hub.url)


def test_a_cancelled_download_stops_and_leaves_nothing(hub: FakeHub, tmp_path: Path) -> None:
    cancel = threading.Event()

    def progress(done: int, _total: int | None) -> None:
        if done > 0:
            cancel.set()  # stop as soon as bytes arrive

    with pytest.raises(pull.PullCancelled):
        pull.pull(
            Target(REPO, FILE),
            cache_dir=tmp_path,
            endpoint=hub.url,
            on_progress=progress,
            cancel=cancel,
        )
    assert leftovers(tmp_path) == []
    assert cached_file(Target(REPO, FILE), tmp_path) is None


def test_a_cache_without_links_is_checked_against_the_hubs_metadata(
    hub: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Where links cannot be made (Windows without developer mode) the cache holds the file
    # itself, so its name says nothing of its hash: the hub is asked for it.
    monkeypatch.setattr(file_download, "are_symlinks_supported", lambda *_: False)
    pulled = pull.pull(Target(REPO, FILE), cache_dir=tmp_path, endpoint=hub.url)
    assert not pulled.path.is_symlink()
    assert pulled.sha256 == hub.sha256(REPO, FILE)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(pull.PullError, match=r"cannot check .* asking the hub for it failed"):
        pull.pull(Target(REPO, FILE), cache_dir=tmp_path, endpoint=hub.url)
