"""Run the benchmarks and print each figure beside its target and its anchor.

    python bench/run.py                      # everything: 50/200/1000 entities, 1M rows
    python bench/run.py --quick              # 50/200 entities, 100k rows, fewer runs
    python bench/run.py --sections generator,database --rows 200000
    python bench/run.py --profile            # where a 200-entity generation spends its time

A full run writes ``bench/results.json`` and the chart ``docs/benchmarks.png``; a quick
run writes ``bench/results-quick.json`` (and the chart only with ``--chart``). A run of
some sections keeps the figures the results file holds of the others. The
database sections use ``DATABASE_URL`` (a superuser's URL) when set, else an embedded
PostgreSQL. Needs the ``bench`` extra: ``pip install -e '.[bench]'``.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import platform
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import chart
import figures as figures_module
from figures import Figure, print_table

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
SECTIONS = ("generator", "alternatives", "database")
PACKAGES = ("sqlalchemy", "alembic", "psycopg", "black", "ruff", "jinja2", "sqlacodegen")


@dataclass(frozen=True)
class Settings:
    sections: tuple[str, ...]
    sizes: tuple[int, ...]
    runs: int
    rows: int
    query_runs: int
    bulk_rows: int
    results: Path
    chart: Path | None


def parse_settings(argv: list[str]) -> tuple[Settings, bool]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer runs")
    parser.add_argument("--sections", default=",".join(SECTIONS), help="comma-separated")
    parser.add_argument("--sizes", help="entity counts, e.g. 50,200,1000")
    parser.add_argument("--rows", type=int, help="items in the database benchmarks")
    parser.add_argument("--runs", type=int, help="runs of each generation timing")
    parser.add_argument("--results", type=Path, help="where to write the JSON results")
    parser.add_argument("--chart", type=Path, help="where to write the PNG chart")
    parser.add_argument("--profile", action="store_true", help="profile a generation only")
    args = parser.parse_args(argv)
    sections = tuple(name.strip() for name in args.sections.split(",") if name.strip())
    unknown = sorted(set(sections) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown sections {unknown}; choose from {', '.join(SECTIONS)}")
    quick = args.quick
    default_sizes = "50,200" if quick else "50,200,1000"
    settings = Settings(
        sections=sections,
        sizes=tuple(int(size) for size in (args.sizes or default_sizes).split(",")),
        runs=args.runs or (2 if quick else 3),
        rows=args.rows or (100_000 if quick else 1_000_000),
        query_runs=10 if quick else 30,
        bulk_rows=5_000 if quick else 10_000,
        results=args.results or BENCH / ("results-quick.json" if quick else "results.json"),
        chart=args.chart or (None if quick else ROOT / "docs" / "benchmarks.png"),
    )
    return settings, args.profile


def machine(server_version: str | None) -> dict[str, object]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "missing"
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "system": platform.platform(),
        "python": platform.python_version(),
        "postgresql": server_version,
        "packages": versions,
        "load_average_at_start": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def _server_version(url: str) -> str:
    import psycopg

    from database import libpq_url

    with psycopg.connect(libpq_url(url)) as connection:
        row = connection.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "unknown"


def run(settings: Settings) -> list[Figure]:
    import generator

    results: list[Figure] = []
    sizes: list[generator.SizeResult] = []
    log: list[str] = []
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ef-bench-")))
        server_url = None
        if {"alternatives", "database"} & set(settings.sections):
            import database

            server_url = stack.enter_context(database.server())
        if "generator" in settings.sections:
            for count in settings.sizes:
                start = time.perf_counter()
                sizes.append(generator.measure_size(count, workdir / f"g{count}", settings.runs))
                log.append(f"generator, {count} entities: {time.perf_counter() - start:.1f} s")
        anchors, alternative_figures = _alternatives(settings, server_url, workdir, sizes, log)
        results += generator.figures_for(sizes, anchors) + alternative_figures
        if "database" in settings.sections and server_url is not None:
            import db_bench

            db_figures, db_log = db_bench.run(
                server_url, settings.rows, settings.query_runs, settings.bulk_rows
            )
            results += db_figures
            log += db_log
        info = machine(_server_version(server_url) if server_url else None)
    _report(settings, results, sizes, info, log)
    return results


def _alternatives(
    settings: Settings,
    server_url: str | None,
    workdir: Path,
    sizes: list,
    log: list[str],
) -> tuple[dict[str, str], list[Figure]]:
    if "alternatives" not in settings.sections or server_url is None:
        return {}, []
    import alternatives
    import generator

    at_200 = next((size for size in sizes if size.entities == 200), None)
    if at_200 is None:
        at_200 = generator.measure_size(200, workdir / "g200-anchor", settings.runs)
    start = time.perf_counter()
    found = alternatives.measure(server_url, workdir, 200, settings.runs)
    log.append(f"alembic and sqlacodegen, 200 entities: {time.perf_counter() - start:.1f} s")
    anchors = {
        "first": f"sqlacodegen (models only): {found.sqlacodegen_command:.2f} s",
        "one_field": f"alembic autogenerate: {found.autogenerate_in_process:.2f} s",
    }
    ours = (at_200.one_field.best, at_200.cli_one_field)
    return anchors, alternatives.figures(found, *ours)


def _report(
    settings: Settings,
    results: list[Figure],
    sizes: list,
    info: dict[str, object],
    log: list[str],
) -> None:
    print(f"machine: {info['cpu']}, {info['cores']} cores, {info['memory_gib']} GiB")
    print(f"python {info['python']}, postgresql {info['postgresql']}")
    print("\n".join(f"  {line}" for line in log))
    print_table(results)
    results = _with_other_sections(results, settings.results)
    figures_module.save(results, settings.results, info)
    print(f"\nresults: {settings.results}")
    if settings.chart is not None:
        written = chart.draw(sizes, results, settings.chart)
        print(f"chart: {written}" if written else "chart: matplotlib is not installed")
    missed = [figure.name for figure in results if figure.met is False]
    print("\nevery target met" if not missed else f"\ntargets missed: {'; '.join(missed)}")


def _with_other_sections(results: list[Figure], path: Path) -> list[Figure]:
    """This run's figures, then those ``path`` holds of the sections it did not run (a run
    of some sections updates theirs and keeps the rest)."""
    if not path.exists():
        return results
    _, before = figures_module.load(path)
    ran = {figure.section for figure in results}
    return results + [figure for figure in before if figure.section not in ran]


def main(argv: list[str]) -> int:
    settings, profile = parse_settings(argv)
    if profile:
        import profiling

        profiling.profile_generation(200)
        return 0
    run(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
