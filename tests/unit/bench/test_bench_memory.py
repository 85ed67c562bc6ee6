"""The RSS breakdown `pairline bench startup` reports, read from /proc/PID/smaps."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from pairline.bench.typist import memory

_SMAPS = """\
55d0c0000000-55d0c0200000 rw-p 00000000 00:00 0                          [heap]
Size:               2048 kB
Rss:                1024 kB
VmFlags: rd wr mr mw me ac sd
7f0000000000-7f000f000000 r--p 00000000 08:01 42                         /models/my model.gguf
Size:             245760 kB
Rss:              240000 kB
Shared_Hugetlb:        0 kB
7f0010000000-7f0020000000 rw-p 00000000 00:00 0
Size:             262144 kB
Rss:               51200 kB
7f0030000000-7f0030100000 r-xp 00000000 08:01 7                          /usr/lib/libggml.so
Size:               1024 kB
Rss:                 512 kB
"""


def test_smaps_split_by_kind() -> None:
    out = memory.parse_smaps(_SMAPS, "/models/my model.gguf")
    assert out["model_file_mb"] == round(240000 / 1024, 1)
    assert out["other_files_mb"] == 0.5
    assert out["anonymous_mb"] == 51.0  # the heap and the big buffer
    assert out["rss_mb"] == round((1024 + 240000 + 51200 + 512) / 1024, 1)
    assert out["large_anonymous"] == ["50.0 of 256.0 MB"]  # the heap is too small to list


def test_without_the_model_its_mapping_is_just_a_file() -> None:
    out = memory.parse_smaps(_SMAPS, None)
    assert out["model_file_mb"] == 0 and out["other_files_mb"] > 234


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_breakdown_of_this_process_matches_its_rss() -> None:
    out = memory.breakdown(os.getpid(), Path(sys.executable))
    assert out["rss_mb"] > 0 and out["anonymous_mb"] > 0
    parts = out["model_file_mb"] + out["other_files_mb"] + out["anonymous_mb"]
    assert abs(parts - out["rss_mb"]) <= 0.2  # rounding only


def test_breakdown_of_no_process_is_empty() -> None:
    assert memory.breakdown(2**22 + 1) == {}  # above the kernel's largest pid


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_tree_sums_a_process_and_its_children() -> None:
    import subprocess

    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=-1)
    try:
        assert memory.process_tree(os.getpid())[0] == os.getpid()
        assert child.pid in memory.process_tree(os.getpid())
        alone = memory.breakdown(os.getpid())["rss_mb"]
        tree = memory.breakdown_tree(os.getpid())
        assert len(tree["processes_mb"]) >= 2 and tree["rss_mb"] > alone
        assert abs(tree["rss_mb"] - sum(tree["processes_mb"])) <= 0.1 * len(tree["processes_mb"])
        assert memory.resident_kb_tree(os.getpid()) > 0
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait()
