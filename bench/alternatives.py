"""What users would run instead, on the same 200-entity project and a real database.

- ``alembic revision --autogenerate`` for the one-field change: the generated project's
  own ``env.py`` and models (the field added), against a database migrated to head (the
  revision before the change); Alembic reflects every table to find the new column.
- ``sqlacodegen`` emitting models for the same tables, reflected from the migrated
  database.

Each is timed as a command (interpreter start included, like ``entityforge generate``)
and, for Alembic, also in-process (``alembic.command.revision`` after the imports).
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import database
from figures import Figure, Target
from generator import add_one_field
from synthetic import synthetic_spec

SECTION = "against the alternatives"
IN_PROCESS_AUTOGENERATE = """
import json, sys, time
from alembic import command
from alembic.config import Config
config = Config("alembic.ini")
start = time.perf_counter()
command.revision(config, message="added field", autogenerate=True)
print(json.dumps({"seconds": time.perf_counter() - start}))
"""


@dataclass(frozen=True)
class Alternatives:
    autogenerate_command: float
    autogenerate_in_process: float
    sqlacodegen_command: float
    tables: int


def _timed(args: list[str], project: Path, url: str) -> tuple[float, str]:
    start = time.perf_counter()
    result = database.run(args, project, url)
    return time.perf_counter() - start, result.stdout


def _clear_new_revisions(project: Path, keep: set[str]) -> list[str]:
    versions = project / "app" / "alembic" / "versions"
    removed = []
    for path in sorted(versions.glob("*.py")):
        if path.name not in keep:
            removed.append(path.read_text(encoding="utf-8"))
            path.unlink()
    return removed


def measure(server_url: str, workdir: Path, entities: int, runs: int) -> Alternatives:
    """Migrate a generated project to head, then time Alembic and sqlacodegen on it."""
    spec = synthetic_spec(entities)
    base = database.generate_project(workdir / "alternatives", spec)
    with database.database(server_url) as url:
        database.migrate(base, url)
        changed = workdir / "alternatives-changed"
        shutil.copytree(base, changed)
        (changed / "entities.yaml").write_text(add_one_field(spec, entities), encoding="utf-8")
        from entityforge import pipeline

        pipeline.apply_plan(pipeline.generate(changed))
        keep = {path.name for path in (base / "app" / "alembic" / "versions").glob("*.py")}
        _clear_new_revisions(changed, keep)
        command = [sys.executable, "-m", "alembic", "revision", "--autogenerate", "-m", "added"]
        by_command, by_process = [], []
        for _ in range(runs):
            by_command.append(_timed(command, changed, url)[0])
            _check_found_the_column(_clear_new_revisions(changed, keep))
            _, output = _timed([sys.executable, "-c", IN_PROCESS_AUTOGENERATE], changed, url)
            by_process.append(float(json.loads(output.strip().splitlines()[-1])["seconds"]))
            _check_found_the_column(_clear_new_revisions(changed, keep))
        codegen = [_sqlacodegen(workdir, base, url) for _ in range(runs)]
        tables = _count_tables(url)
    return Alternatives(min(by_command), min(by_process), min(codegen), tables)


def _check_found_the_column(revisions: list[str]) -> None:
    if len(revisions) != 1 or "added_field" not in revisions[0]:
        raise RuntimeError("alembic autogenerate did not find the added column")


def _sqlacodegen(workdir: Path, project: Path, url: str) -> float:
    executable = shutil.which("sqlacodegen", path=str(Path(sys.executable).parent))
    if executable is None:
        raise RuntimeError("sqlacodegen is not installed: pip install -e '.[bench]'")
    output = workdir / "sqlacodegen_models.py"
    elapsed, _ = _timed([executable, url, "--outfile", str(output)], project, url)
    if output.stat().st_size == 0:
        raise RuntimeError("sqlacodegen wrote nothing")
    return elapsed


def _count_tables(url: str) -> int:
    import psycopg

    with psycopg.connect(database.libpq_url(url)) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
            " AND tablename <> 'alembic_version'"
        ).fetchone()
    return int(row[0]) if row else 0


def figures(alternatives: Alternatives, ours_in_process: float, ours_command: float) -> list:
    """The one-field speed-up over Alembic (both ways) and sqlacodegen's time."""
    return [
        Figure(
            SECTION,
            "one field added: speed-up over alembic autogenerate, in-process",
            alternatives.autogenerate_in_process / ours_in_process,
            "×",
            Target("ge", 8),
            f"alembic: {alternatives.autogenerate_in_process:.2f} s against a database; "
            f"entityforge: {ours_in_process:.2f} s, no database",
        ),
        Figure(
            SECTION,
            "one field added: speed-up over alembic autogenerate, as commands",
            alternatives.autogenerate_command / ours_command,
            "×",
            Target("ge", 3),
            f"alembic revision --autogenerate: {alternatives.autogenerate_command:.2f} s; "
            f"entityforge generate: {ours_command:.2f} s",
        ),
        Figure(
            SECTION,
            f"sqlacodegen, models of {alternatives.tables} reflected tables",
            alternatives.sqlacodegen_command,
            " s",
            None,
            "models only, from a migrated database",
        ),
    ]
