"""Refresh the golden copies of the generated projects: ``python -m tests.golden [NAME ...]``.

Run it from the repository root after any intended change to the generated output, then
review ``git diff tests/golden`` and commit it with the change. Each named project (all
of them by default) is generated again into a temporary directory and its directory
under ``tests/golden/`` replaced by the result, files no longer generated included.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from tests.golden import GOLDEN_DIR, REFRESH_COMMAND, SPECS, generate, ignored_by_git, read_tree


def refresh(name: str) -> dict[str, list[str]]:
    """Replace the golden copy of ``name`` with a new generation; what changed in it."""
    target = GOLDEN_DIR / name
    with tempfile.TemporaryDirectory(prefix="entityforge-golden-") as parent:
        files = read_tree(generate(name, Path(parent)))
    old = read_tree(target) if target.is_dir() else {}
    if target.exists():
        shutil.rmtree(target)
    for relative, data in files.items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    ignored = ignored_by_git([target / relative for relative in files])
    if ignored:
        print("warning: git ignores these files, so they would not be committed:", file=sys.stderr)
        for path in ignored:
            print(f"  {path}", file=sys.stderr)
    return {
        "changed": sorted(p for p in files.keys() & old.keys() if files[p] != old[p]),
        "added": sorted(files.keys() - old.keys()),
        "removed": sorted(old.keys() - files.keys()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=REFRESH_COMMAND,
        description="Generate the golden projects again into tests/golden/.",
    )
    parser.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help=f"the projects (default: all of {', '.join(SPECS)})",
    )
    names = parser.parse_args(argv).names or list(SPECS)
    unknown = [name for name in names if name not in SPECS]
    if unknown:
        parser.error(f"no golden project {', '.join(unknown)}; there are {', '.join(SPECS)}")
    for name in names:
        changes = refresh(name)
        counts = ", ".join(f"{len(paths)} {kind}" for kind, paths in changes.items())
        print(f"{name}: {counts}")
        for kind, paths in changes.items():
            for path in paths:
                print(f"  {kind} {path}")
    print("review the result: git diff tests/golden")
    return 0


if __name__ == "__main__":
    sys.exit(main())
