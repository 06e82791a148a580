"""The one place that writes generated files: staged, then swapped in atomically."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

FLUSH_THREADS = 32


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so a reader sees the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, staging = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            os.chmod(staging, path.stat().st_mode & 0o7777)
        else:
            os.chmod(staging, 0o644)
        os.replace(staging, path)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise


def write_all(files: Mapping[Path, str]) -> None:
    """``write_atomic`` for many files, with their flushes to disk run together.

    Every file is staged beside its target, then all staged files are flushed in
    parallel (the file system commits concurrent flushes together: one flush per file
    in turn costs milliseconds each), then each is swapped in. A failure before the
    swaps leaves every target as it was.
    """
    staged: list[tuple[Path, str]] = []
    try:
        for path, text in files.items():
            staged.append((path, _stage(path, text)))
        with ThreadPoolExecutor(max_workers=FLUSH_THREADS) as pool:
            list(pool.map(_flush, [staging for _, staging in staged]))
        for path, staging in staged:
            mode = path.stat().st_mode & 0o7777 if path.exists() else 0o644
            os.chmod(staging, mode)
            os.replace(staging, path)
    except BaseException:
        for _, staging in staged:
            Path(staging).unlink(missing_ok=True)
        raise


def _stage(path: Path, text: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, staging = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
    return staging


def _flush(staging: str) -> None:
    fd = os.open(staging, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
