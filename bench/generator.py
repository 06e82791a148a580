"""The generator's wall time on synthetic specs: first generation, no change, one field.

Each measured generation runs in a fresh Python process (``python bench/generator.py
--worker OP DIR``) so Jinja's template compilation and the generators' imports are paid
as a user pays them; the worker times ``pipeline.generate`` + ``apply_plan`` after
importing ``entityforge.pipeline``. The CLI's own wall time (interpreter start included)
is reported beside it.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from figures import Figure, Target, Timing
from synthetic import entity_name, synthetic_spec

SECTION = "generator"
ADDED_FIELD = "      added_field: {type: integer, nullable: true}\n"


@dataclass(frozen=True)
class SizeResult:
    entities: int
    first: Timing
    no_change: Timing
    no_change_uncached: Timing
    one_field: Timing
    cli_no_change: float
    cli_one_field: float


def add_one_field(spec: str, entities: int) -> str:
    """The spec with one nullable field added to the entity in the middle."""
    marker = f"  {entity_name(entities // 2)}:\n"
    head, tail = spec.split(marker, 1)
    fields = tail.index("    fields:\n") + len("    fields:\n")
    return head + marker + tail[:fields] + ADDED_FIELD + tail[fields:]


def _worker(operation: str, project: Path) -> float:
    """Time one generation in this (fresh) process; prints nothing but the seconds."""
    from entityforge import pipeline
    from entityforge.output import render_cache

    if operation == "uncached":
        (project / ".entityforge" / render_cache.INPUTS_FILE).unlink(missing_ok=True)
    start = time.perf_counter()
    plan = pipeline.generate(project)
    pipeline.apply_plan(plan)
    return time.perf_counter() - start


def run_worker(operation: str, project: Path) -> float:
    command = [sys.executable, __file__, "--worker", operation, str(project)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"generation failed in {project}:\n{result.stderr}")
    return float(json.loads(result.stdout.strip().splitlines()[-1])["seconds"])


def run_cli(project: Path) -> float:
    command = [sys.executable, "-m", "entityforge", "generate", "--project-dir", str(project)]
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"entityforge generate failed in {project}:\n{result.stderr}")
    return elapsed


def _timing(samples: list[float]) -> Timing:
    ordered = sorted(samples)
    return Timing(ordered[0], ordered[len(ordered) // 2], len(ordered))


def new_project(directory: Path, spec: str) -> Path:
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    (directory / "entities.yaml").write_text(spec, encoding="utf-8")
    return directory


def measure_size(entities: int, workdir: Path, runs: int) -> SizeResult:
    """Every generation figure for a spec of ``entities`` entities."""
    spec = synthetic_spec(entities)
    first = []
    for run in range(runs):
        first.append(run_worker("first", new_project(workdir / f"first{run}", spec)))
    base = workdir / f"first{runs - 1}"
    no_change = [run_worker("again", base) for _ in range(runs)]
    uncached = [run_worker("uncached", base) for _ in range(runs)]
    one_field, cli_one_field = [], []
    changed = add_one_field(spec, entities)
    for run in range(runs + 1):
        copy = workdir / f"one{run}"
        shutil.copytree(base, copy)
        (copy / "entities.yaml").write_text(changed, encoding="utf-8")
        if run < runs:
            one_field.append(run_worker("again", copy))
        else:
            cli_one_field.append(run_cli(copy))
    cli_no_change = min(run_cli(base) for _ in range(runs))
    return SizeResult(
        entities,
        _timing(first),
        _timing(no_change),
        _timing(uncached),
        _timing(one_field),
        cli_no_change,
        min(cli_one_field),
    )


# Seconds, by entity count: the work of a change is to be proportional to the change.
TARGETS = {
    200: {"first": 3.0, "no_change": 0.5, "one_field": 0.3},
    1000: {"no_change": 0.1, "one_field": 0.6},
}


def figures_for(results: list[SizeResult], anchors: dict[str, str]) -> list[Figure]:
    """Figures for each size (targets at 200 and 1,000 entities) and the growth exponent."""
    figures = []
    for result in results:
        at_200 = result.entities == 200
        for key, label in (
            ("first", "first generation"),
            ("no_change", "generate, nothing changed"),
            ("one_field", "generate, one field added"),
        ):
            timing: Timing = getattr(result, key)
            limit = TARGETS.get(result.entities, {}).get(key)
            target = Target("le", limit) if limit is not None else None
            figures.append(
                Figure(
                    SECTION,
                    f"{label}, {result.entities} entities",
                    timing.best,
                    " s",
                    target,
                    anchors.get(key, "") if at_200 else "",
                    {"median": timing.median, "runs": timing.runs},
                )
            )
        figures += _secondary_figures(result)
    figures += _growth_figures(results)
    return figures


def _secondary_figures(result: SizeResult) -> list[Figure]:
    n = result.entities
    return [
        Figure(
            SECTION,
            f"generate, nothing changed, render cache cold, {n} entities",
            result.no_change_uncached.best,
            " s",
            detail={"median": result.no_change_uncached.median},
        ),
        Figure(SECTION, f"CLI wall, nothing changed, {n} entities", result.cli_no_change, " s"),
        Figure(SECTION, f"CLI wall, one field added, {n} entities", result.cli_one_field, " s"),
        Figure(
            SECTION,
            f"first generation per entity, {n} entities",
            result.first.best / n * 1000,
            " ms",
        ),
    ]


def _growth_figures(results: list[SizeResult]) -> list[Figure]:
    """How time grows with the entity count: 1.0 is linear, 2.0 quadratic."""
    if len(results) < 2:
        return []
    small, large = results[0], results[-1]
    ratio = math.log(large.entities / small.entities)
    figures = []
    for key, label in (("first", "first generation"), ("one_field", "one field added")):
        exponent = math.log(getattr(large, key).best / getattr(small, key).best) / ratio
        figures.append(
            Figure(
                SECTION,
                f"growth exponent, {label}, {small.entities}→{large.entities} entities",
                exponent,
                "",
                Target("le", 1.1),
                "1.0 = linear",
            )
        )
        for before, after in zip(results, results[1:], strict=False):
            extra = getattr(after, key).best - getattr(before, key).best
            figures.append(
                Figure(
                    SECTION,
                    f"{label}: cost of each entity from {before.entities} to {after.entities}",
                    extra / (after.entities - before.entities) * 1000,
                    " ms",
                    anchor="constant when growth is linear",
                )
            )
    return figures


if __name__ == "__main__" and len(sys.argv) == 4 and sys.argv[1] == "--worker":
    seconds = _worker(sys.argv[2], Path(sys.argv[3]))
    print(json.dumps({"seconds": seconds}))
