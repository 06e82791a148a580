"""The initial revisions of a large synthetic spec, applied on a server with default settings.

``python bench/large_schema.py [--entities 1000]`` generates a project from
``synthetic_spec(N)`` into a temporary directory, then runs ``alembic upgrade head`` (a
separate process, as a user runs it) on a new database of the benchmark server
(``DATABASE_URL`` or an embedded one, default settings), then ``alembic check``. It
prints the server's lock settings, the revisions written, the tables created and the
wall times. One transaction creating a thousand tables fails with ``out of shared
memory`` on such a server; the generated parts each commit (``entityforge.migrate.plan``).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from database import database, libpq_url, server
from entityforge import pipeline
from synthetic import synthetic_spec


def alembic(project: Path, url: str, *args: str) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "alembic", *args],
        cwd=project,
        env={
            "DATABASE_URL": url,
            "PYTHONPATH": str(project),
            "PATH": str(Path(sys.executable).parent),
        },
        check=True,
        capture_output=True,
        text=True,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=1000)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="entityforge-large-") as workdir:
        project = Path(workdir)
        (project / "entities.yaml").write_text(synthetic_spec(options.entities))
        start = time.perf_counter()
        pipeline.apply_plan(pipeline.generate(project))
        generated = time.perf_counter() - start
        revisions = sorted(p.name for p in (project / "app" / "alembic" / "versions").glob("*.py"))
        with server() as server_url, database(server_url) as url:
            with psycopg.connect(libpq_url(url)) as connection:
                settings = {
                    name: connection.execute(f"SHOW {name}").fetchone()[0]  # type: ignore[index]
                    for name in ("max_locks_per_transaction", "max_connections", "server_version")
                }
            upgrade = alembic(project, url, "upgrade", "head")
            check = alembic(project, url, "check")
            with psycopg.connect(libpq_url(url)) as connection:
                (tables,) = connection.execute(
                    "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
                ).fetchone() or (0,)
    print(f"entities: {options.entities}; server: {settings}")
    print(f"generation: {generated:.1f} s; revisions: {len(revisions)} ({', '.join(revisions)})")
    print(f"alembic upgrade head: {upgrade:.1f} s, {tables} tables; alembic check: {check:.1f} s")


if __name__ == "__main__":
    main()
