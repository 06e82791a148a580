"""Golden copies of whole generated projects, one directory each: ``tests/golden/<name>/``.

Each holds every file ``entityforge new <name> [--spec SPEC]`` writes, run as a new user
runs it, so that any change to the generated output shows up in review as a diff of
these files. ``tests/test_golden.py`` generates each project again and compares it with
its copy byte for byte. After an intended change to generated output, refresh the copies
from the repository root and review the diff before committing it:

    python -m tests.golden [NAME ...]
    git diff tests/golden

The projects are made in this process: ``entityforge new`` through its click command, and
the ``python -m entityforge ...`` tasks that copier.yml has copier run in the new
project run here as well, with the same arguments in the same working directory, instead
of in a Python subprocess each (any other task still runs as a subprocess). The files
are the same as the command line's; the time is about half.

Left out of the copies and of the comparison:

- ``.copier-answers.yml``: copier writes the template's absolute path (``_src_path``), the
  commit it copied (``_commit``: a commit made on the fly when the checkout has
  uncommitted changes) and, with ``--spec``, the spec's absolute path (``entities_file``).
  They differ between checkouts, machines and commits.
- ``.entityforge/cache/``: machine-local by design (the project's own ``.gitignore`` keeps
  it out of version control); ``inputs-digest`` covers entityforge's own source files,
  so it changes with every commit to the generator.
- ``__pycache__/`` directories: bytecode, should anything import a copy.

Everything else is compared, ``.entityforge/generated/`` (the last generated copies a
project commits) included. The generated ``pyproject.toml`` pins the entityforge version,
so a version bump changes it; the Python modules are formatted by ruff (or black), so a
new formatter version may change them too. Either is a refresh.
"""

from __future__ import annotations

import difflib
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

GOLDEN_DIR = Path(__file__).resolve().parent
REPO_ROOT = GOLDEN_DIR.parents[1]
SPECS_DIR = REPO_ROOT / "tests" / "specs"
# Each golden project's name (the destination directory's name, hence the project's name)
# and its spec; None is the built-in example (entityforge/examples/entities.yaml), which
# ``entityforge new`` uses without --spec.
SPECS: dict[str, Path | None] = {
    "example": None,
    "helpdesk": SPECS_DIR / "helpdesk.yaml",
    "single_tenant_blog": SPECS_DIR / "single_tenant_blog.yaml",
}
REFRESH_COMMAND = "python -m tests.golden"
EXCLUDED_FILES = frozenset({".copier-answers.yml"})
EXCLUDED_PREFIXES = (".entityforge/cache/",)
EXCLUDED_DIR_NAMES = frozenset({"__pycache__"})
DIFF_LINES = 200


def is_excluded(relative: str) -> bool:
    """Whether a project file (its ``/``-separated path in the project) is left out."""
    return (
        relative in EXCLUDED_FILES
        or relative.startswith(EXCLUDED_PREFIXES)
        or not EXCLUDED_DIR_NAMES.isdisjoint(relative.split("/")[:-1])
    )


def read_tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` that is compared, by its path relative to ``root``."""
    files = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if path.is_file() and not is_excluded(relative):
            files[relative] = path.read_bytes()
    return files


def generate(name: str, parent: Path) -> Path:
    """Make the project ``name`` at ``parent / name`` as ``entityforge new`` does; return it."""
    destination = parent / name
    spec = SPECS[name]
    args = ["new", str(destination)] + (["--spec", str(spec)] if spec else [])
    with _entityforge_tasks_in_process():
        code, output = _entityforge(args)
    if code != 0:
        raise RuntimeError(f"entityforge {' '.join(args)} exited with {code}:\n{output}")
    return destination


def _entityforge(args: list[str]) -> tuple[int, str]:
    """Run the ``entityforge`` command in this process: its exit status and output."""
    from click.testing import CliRunner

    from entityforge.cli import main

    result = CliRunner().invoke(main, args, prog_name="entityforge", catch_exceptions=False)
    return result.exit_code, result.output


class _Subprocess:
    """``subprocess`` as copier's task runner sees it: ``python -m entityforge`` runs here."""

    def __getattr__(self, name: str) -> Any:
        return getattr(subprocess, name)

    @staticmethod
    def run(command: Any, *args: Any, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        if not (
            isinstance(command, list) and command[:3] == [sys.executable, "-m", "entityforge"]
        ):
            return subprocess.run(command, *args, **kwargs)
        # copier has changed into the task's working directory already.
        code, output = _entityforge(command[3:])
        if code != 0:
            print(output, file=sys.stderr)
        return subprocess.CompletedProcess(command, code, output, "")


@contextmanager
def _entityforge_tasks_in_process() -> Iterator[None]:
    """copier's ``python -m entityforge ...`` tasks run in this process for the duration.

    Should copier stop running tasks through ``subprocess.run`` in ``copier._main``, they
    run in subprocesses again: slower, the same files.
    """
    import copier._main

    if not hasattr(copier._main, "subprocess"):
        yield
        return
    with mock.patch.object(copier._main, "subprocess", _Subprocess()):
        yield


def differences(name: str, expected: Mapping[str, bytes], actual: Mapping[str, bytes]) -> str:
    """How the generated project ``actual`` differs from its golden copy ('' if it does not).

    The changed files' unified diff is cut after ``DIFF_LINES`` lines.
    """
    added = sorted(actual.keys() - expected.keys())
    missing = sorted(expected.keys() - actual.keys())
    changed = sorted(
        path for path in expected.keys() & actual.keys() if expected[path] != actual[path]
    )
    if not (added or missing or changed):
        return ""
    golden = GOLDEN_DIR.relative_to(REPO_ROOT).as_posix()
    report = [f"the generated project {name!r} differs from its golden copy {golden}/{name}/"]
    for title, paths in (
        ("changed", changed),
        ("added (generated, not in the golden copy)", added),
        ("missing (in the golden copy, not generated)", missing),
    ):
        if paths:
            report.append(f"{title}:")
            report.extend(f"  {path}" for path in paths)
    report += [
        "If the change is intended, refresh the golden copy and review its diff:",
        f"  {REFRESH_COMMAND} {name} && git diff {golden}/{name}",
    ]
    diff: list[str] = []
    for path in changed:
        diff.extend(_unified_diff(path, expected[path], actual[path]))
    if diff:
        report.append("")
        report.extend(diff[:DIFF_LINES])
        if len(diff) > DIFF_LINES:
            report.append(f"... {len(diff) - DIFF_LINES} more lines of diff")
    return "\n".join(report) + "\n"


def _unified_diff(path: str, old: bytes, new: bytes) -> list[str]:
    """The diff of one file's two versions, one line per item, without line ends."""
    lines = []
    for line in difflib.unified_diff(
        old.decode("utf-8", "replace").splitlines(keepends=True),
        new.decode("utf-8", "replace").splitlines(keepends=True),
        fromfile=f"golden/{path}",
        tofile=f"generated/{path}",
    ):
        lines.append(line.rstrip("\r\n"))
        if not line.endswith("\n"):
            lines.append("\\ No newline at end of file")
    if not any(line.startswith(("+", "-")) for line in lines[2:]):
        # Only bytes that are not UTF-8 differ (both read as replacement characters).
        return [f"{path}: the bytes differ where a diff of the text shows nothing"]
    return lines


def ignored_by_git(paths: list[Path]) -> list[str]:
    """Those of ``paths`` that git ignores (they would not be committed)."""
    try:
        result = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "check-ignore", "--stdin"],
            input="".join(f"{os.path.relpath(path, REPO_ROOT)}\n" for path in paths),
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        return []
    return result.stdout.splitlines()
