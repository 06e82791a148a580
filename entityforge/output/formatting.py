"""Formatting of generated Python into black's style, the style the generated project checks.

black takes seconds on a large project (most of a first generation), so two things keep
it off the common path:

- ``ruff format`` (the Rust formatter shipped in the ``ruff`` wheel) formats every module
  in one subprocess, in milliseconds. On everything entityforge renders its output is
  byte-identical to black's: ``tests/test_formatting.py`` holds it to that on every test
  spec and on synthetic specs. black formats instead when ruff is not installed or when
  ruff fails (black then reports the module that is not valid Python), and formats any
  module in whose ruff output a construct shows where the two styles are known to
  differ (``BLACK_ONLY``).
- A module is formatted only when its rendered text changed: the digest of each module's
  render is kept with the last generated copies, and an unchanged render reuses the
  formatted text.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from entityforge.errors import GenerationError

LINE_LENGTH = 99
TARGET_VERSION = "py311"
RUFF_TIMEOUT_SECONDS = 120
# Where ruff's stable style is known to differ from black's: a conditional expression
# split over lines (black wraps it in parentheses; ruff only in its preview style). A
# module whose ruff output holds one is formatted by black.
BLACK_ONLY = re.compile(r"^[ \t]+else[ \t]", re.MULTILINE)
RUFF_OPTIONS = (
    "format",
    "--isolated",
    "--no-cache",
    "--quiet",
    f"--line-length={LINE_LENGTH}",
    f"--target-version={TARGET_VERSION}",
)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@cache
def _black_mode() -> Any:
    from black.mode import Mode, TargetVersion

    return Mode(line_length=LINE_LENGTH, target_versions={TargetVersion.PY311})


def format_python(path: str, text: str) -> str:
    """Format one module with black; a render that is not valid Python is a bug, reported."""
    import black
    from black.parsing import InvalidInput

    try:
        return black.format_str(text, mode=_black_mode())
    except InvalidInput as error:
        raise GenerationError(f"generated {path} is not valid Python: {error}") from None


@cache
def ruff_executable() -> str | None:
    """The ``ruff`` binary next to this Python (the ``ruff`` wheel's), else on PATH."""
    name = "ruff" + (sysconfig.get_config_var("EXE") or "")
    for directory in (sysconfig.get_path("scripts"), str(Path(sys.executable).parent)):
        candidate = Path(directory) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which("ruff")


def format_modules(modules: Mapping[str, str]) -> dict[str, str]:
    """Format ``{path: text}`` of Python modules: ruff in one run, black where it cannot."""
    if not modules:
        return {}
    formatted = _format_with_ruff(modules) if ruff_executable() else None
    if formatted is None:
        return {path: format_python(path, text) for path, text in modules.items()}
    for path, text in formatted.items():
        if BLACK_ONLY.search(text):
            formatted[path] = format_python(path, modules[path])
    return formatted


def _format_with_ruff(modules: Mapping[str, str]) -> dict[str, str] | None:
    """Every module formatted by one ``ruff format`` run; None when ruff fails.

    The modules are staged in memory-backed ``/dev/shm`` where there is one (writing and
    removing hundreds of files on disk costs more than formatting them), else in the
    temporary directory.
    """
    for scratch in _scratch_directories():
        try:
            with tempfile.TemporaryDirectory(prefix="entityforge-format-", dir=scratch) as root:
                return _run_ruff(Path(root), modules)
        except OSError:
            continue
    return None


def _scratch_directories() -> list[str | None]:
    shared_memory = Path("/dev/shm")
    in_memory = shared_memory.is_dir() and os.access(shared_memory, os.W_OK | os.X_OK)
    return [str(shared_memory), None] if in_memory else [None]


def _run_ruff(root: Path, modules: Mapping[str, str]) -> dict[str, str] | None:
    executable = ruff_executable()
    assert executable is not None
    files = [f"m{number}.py" for number in range(len(modules))]
    for file, text in zip(files, modules.values(), strict=True):
        (root / file).write_text(text, encoding="utf-8")
    try:
        result = subprocess.run(
            [executable, *RUFF_OPTIONS, *files],
            cwd=root,
            capture_output=True,
            timeout=RUFF_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None
    if result.returncode != 0:
        return None
    return {
        path: (root / file).read_text(encoding="utf-8")
        for path, file in zip(modules, files, strict=True)
    }


def format_outputs(
    outputs: Mapping[str, str],
    previous: Mapping[str, str] | None = None,
    formatted_before: Mapping[str, str] | None = None,
) -> tuple[dict[str, str], dict[str, str]]:
    """Format every Python output; return the texts and the digests of their renders.

    ``previous`` maps a path to the digest of its last render and ``formatted_before``
    to the text that render was formatted into; a render with the same digest reuses it.
    """
    previous = previous or {}
    formatted_before = formatted_before or {}
    texts: dict[str, str] = {}
    digests: dict[str, str] = {}
    stale: dict[str, str] = {}
    for path, text in outputs.items():
        if not path.endswith(".py"):
            texts[path] = text
            continue
        digests[path] = digest(text)
        cached = formatted_before.get(path)
        if cached is not None and previous.get(path) == digests[path]:
            texts[path] = cached
        else:
            stale[path] = text
    texts.update(format_modules(stale))
    return {path: texts[path] for path in outputs}, digests
