"""Where a generation spends its time: cProfile of a first generation and a one-field change.

Each runs in a fresh process (``python bench/profiling.py OP DIR``) so imports and
template compilation are seen as a user meets them; the top functions by cumulative
time are printed.
"""

from __future__ import annotations

import cProfile
import pstats
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from generator import add_one_field, new_project
from synthetic import synthetic_spec

TOP = 30


def profile_generation(entities: int) -> None:
    with tempfile.TemporaryDirectory(prefix="ef-profile-") as scratch:
        spec = synthetic_spec(entities)
        project = new_project(Path(scratch) / "first", spec)
        _in_fresh_process("first generation", project)
        changed = Path(scratch) / "changed"
        shutil.copytree(project, changed)
        (changed / "entities.yaml").write_text(add_one_field(spec, entities), encoding="utf-8")
        _in_fresh_process("one field added", changed)


def _in_fresh_process(label: str, project: Path) -> None:
    print(f"\n## {label}, {project}")
    sys.stdout.flush()
    subprocess.run([sys.executable, __file__, str(project)], check=True)


def _profile(project: Path) -> None:
    from entityforge import pipeline

    profiler = cProfile.Profile()
    profiler.enable()
    pipeline.apply_plan(pipeline.generate(project))
    profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(TOP)


if __name__ == "__main__" and len(sys.argv) == 2:
    _profile(Path(sys.argv[1]))
