"""A copy of the workspace for checks: what is left out, and how large it may be."""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

# Never copied into the check sandbox: large, generated, or private to a tool.
IGNORED = (
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    "node_modules",
    "__pycache__",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".tox",
    "target",
    "dist",
    "build",
)
MAX_COPY_FILES = 20_000
MAX_COPY_BYTES = 200 * 1024 * 1024


def copy_workspace(root: Path, target: Path) -> None:
    """Copy `root` to `target` without VCS folders, environments and build output; OSError
    when the workspace is too large to copy."""
    files = 0
    size = 0
    for _dir, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d not in IGNORED]
        files += len(names)
        for name in names:
            with contextlib.suppress(OSError):
                size += os.lstat(os.path.join(_dir, name)).st_size
        if files > MAX_COPY_FILES or size > MAX_COPY_BYTES:
            raise OSError(f"the workspace is too large to copy ({files}+ files, {size >> 20}+ MiB)")
    shutil.copytree(root, target, ignore=shutil.ignore_patterns(*IGNORED), symlinks=True)
