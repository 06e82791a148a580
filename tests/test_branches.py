"""Guarantee 15 end to end: two git branches that each generate a revision, merged.

A project in a real git repository; one branch adds a field to one entity, another a
field to another entity, each generates its revision and migrates a database that
then gets rows. After ``git merge``, one ``generate`` leaves one head (a merge
revision); both databases upgrade to it keeping their rows, a fresh database upgrades
from nothing, Alembic's comparison finds no difference on each, and generating again
has nothing to do.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import psycopg

from entityforge import pipeline
from entityforge.migrate.history import read_graph
from entityforge.project import read_project_config
from tests.inprocess import generate_project, run_alembic, unique_package
from tests.projects import psql_url

SPEC = """\
version: 1
tenancy: {entity: Account}
entities:
  Account:
    fields:
      name: string(100)
  Note:
    fields:
      title: string(200)
      status: {type: enum, values: [draft, live], default: draft}
    indexes:
      - {columns: [status]}
"""
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Dev",
    "GIT_AUTHOR_EMAIL": "dev@example.com",
    "GIT_COMMITTER_NAME": "Dev",
    "GIT_COMMITTER_EMAIL": "dev@example.com",
}


def git(project: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", *args],
        cwd=project,
        env={**os.environ, **GIT_IDENTITY},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def with_field(spec: str, entity: str, line: str) -> str:
    marker = f"  {entity}:\n    fields:\n"
    return spec.replace(marker, f"{marker}      {line}\n")


def generate(project: Path) -> pipeline.Plan:
    plan = pipeline.generate(project)
    pipeline.apply_plan(plan)
    return plan


def branch(project: Path, name: str, entity: str, field: str) -> None:
    """A branch off main whose spec gains ``field``, generated and committed."""
    git(project, "checkout", "-q", "-b", name, "main")
    spec = (project / "entities.yaml").read_text()
    (project / "entities.yaml").write_text(with_field(spec, entity, field))
    generate(project)
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", f"{name}: add a field to {entity}")


def seed(url: str, name: str) -> None:
    with psycopg.connect(psql_url(url)) as connection:
        (account,) = (
            connection.execute(
                "INSERT INTO accounts (name) VALUES (%s) RETURNING id", (name,)
            ).fetchone()
            or ()
        )
        connection.execute(
            "INSERT INTO notes (tenant_id, title, status) VALUES (%s, %s, 'live')",
            (account, f"note of {name}"),
        )


def rows(url: str) -> list[tuple[str, str, str]]:
    with psycopg.connect(psql_url(url)) as connection:
        return [
            (str(name), str(title), str(status))
            for name, title, status in connection.execute(
                "SELECT a.name, n.title, n.status::text FROM notes n"
                " JOIN accounts a ON a.id = n.tenant_id ORDER BY a.name"
            )
        ]


def columns(url: str, table: str) -> set[str]:
    with psycopg.connect(psql_url(url)) as connection:
        return {
            str(name)
            for (name,) in connection.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s",
                (table,),
            )
        }


def test_two_branches_that_each_generated_merge_into_one_history(
    tmp_path: Path, create_database: Callable[[], str]
) -> None:
    project, package = tmp_path / "project", unique_package("branches")
    generate_project(project, SPEC, package)
    (project / ".gitignore").write_text(".entityforge/cache/\n__pycache__/\n")
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "initial")

    databases = {}
    for name, entity, field in (
        ("priority", "Note", "priority: {type: integer, nullable: true}"),
        ("plan", "Account", "plan: {type: string, max_length: 40, nullable: true}"),
    ):
        branch(project, name, entity, field)
        databases[name] = create_database()
        run_alembic(project, package, databases[name], "upgrade", "head")
        seed(databases[name], f"tenant on {name}")
    before = {name: rows(url) for name, url in databases.items()}

    git(project, "checkout", "-q", "priority")
    git(project, "merge", "-q", "--no-edit", "plan")
    assert not git(project, "status", "--porcelain")
    config = read_project_config(project)
    assert len(read_graph(pipeline.read_revisions(config)).heads) == 2

    plan = generate(project)
    (created,) = [change.path for change in plan.changes if change.old is None]
    assert created.startswith(f"{package}/alembic/versions/0003_merge_add_")
    graph = read_graph(pipeline.read_revisions(config))
    assert len(graph.heads) == 1 and len(graph.files[graph.heads[0]].down_revisions) == 2
    assert generate(project).is_empty

    databases["fresh"] = create_database()
    for name, url in databases.items():
        run_alembic(project, package, url, "upgrade", "head")
        run_alembic(project, package, url, "check")
        assert {"priority"} <= columns(url, "notes"), name
        assert {"plan"} <= columns(url, "accounts"), name
        assert rows(url) == before.get(name, []), name
