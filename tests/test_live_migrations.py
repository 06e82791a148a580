"""Revisions on a database in use (guarantee 14): bounded lock waits, reruns after a kill.

Each test migrates a database holding rows while another session holds a lock: the
migration's lock wait ends at its lock timeout and is retried; a migration killed in a
concurrent index build (the process, or its backend) reaches head when run again; steps
that would fail on existing rows stop first, naming the table and the row count; a
second run of the migrations waits for the first, holding no table lock.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
import pytest

from entityforge.errors import GenerationError
from entityforge.spec import load_schema_text
from tests.projects import project_env, psql_url
from tests.test_incremental import next_revision
from tests.test_migrations import Project, new_project, query

__all__ = ["new_project"]

ACCOUNT = "00000000-0000-0000-0000-00000000000a"
BEFORE = """\
version: 1
tenancy: {entity: Account}
entities:
  Account:
    fields:
      name: string(100)
  Item:
    fields:
      code: string(40)
      title: string(200)
      note: {type: text, nullable: true}
  Tag:
    fields:
      label: string(50)
"""
AFTER = BEFORE.replace(
    "      code: string(40)\n", "      code: {type: string, max_length: 40, unique: true}\n"
).replace(
    "      label: string(50)\n",
    '      label: string(50)\n      weight: {type: integer, default: 1, check: "weight > 0"}\n',
)
SEED = (
    f"INSERT INTO accounts (id, name) VALUES ('{ACCOUNT}', 'acme')",
    f"INSERT INTO items (tenant_id, code, title) SELECT '{ACCOUNT}', 'c' || n, 't' || n "
    "FROM generate_series(1, 2000) AS n",
    f"INSERT INTO tags (tenant_id, label) VALUES ('{ACCOUNT}', 'a'), ('{ACCOUNT}', 'b')",
)


def execute(url: str, *statements: str) -> None:
    with psycopg.connect(psql_url(url), autocommit=True) as connection:
        for statement in statements:
            connection.execute(statement)  # type: ignore[arg-type]


@contextmanager
def holding(url: str, statement: str) -> Iterator[psycopg.Connection]:
    """A transaction that has run ``statement`` and holds its locks until the block ends."""
    connection = psycopg.connect(psql_url(url))
    try:
        connection.execute(statement)  # type: ignore[arg-type]
        yield connection
    finally:
        connection.rollback()
        connection.close()


def migrated(make: Callable[..., Project], url: str, before: str = BEFORE) -> Project:
    project = make(load_schema_text(before), with_models=True)
    project.alembic(url, "upgrade", "head")
    execute(url, *SEED)
    return project


def spawn_upgrade(project: Project, url: str, **limits: str) -> subprocess.Popen[str]:
    env = {**project_env(project.root, url), "MIGRATION_DATABASE_URL": url}
    env |= {f"MIGRATION_{name.upper()}": value for name, value in limits.items()}
    return subprocess.Popen(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=project.root,
        env={**_base_env(), **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _base_env() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if not key.endswith("DATABASE_URL")}


def waiting_backend(url: str, statement_start: str, timeout: float = 30.0) -> int:
    """The pid of the backend waiting for a lock in a statement starting so."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = query(
            url,
            "SELECT pid FROM pg_stat_activity WHERE query LIKE :start "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()",
            start=statement_start + "%",
        )
        if rows:
            return int(rows[0][0])
        time.sleep(0.05)
    raise AssertionError(f"no backend waited in {statement_start!r}")


def gone(url: str, pid: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while query(url, "SELECT 1 FROM pg_stat_activity WHERE pid = :pid", pid=pid):
        assert time.monotonic() < deadline, f"backend {pid} still runs"
        time.sleep(0.05)


def index_state(url: str, name: str) -> list[tuple[object, ...]]:
    return query(
        url,
        "SELECT i.indisvalid FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid "
        "WHERE c.relname = :name",
        name=name,
    )


def version(url: str) -> list[tuple[object, ...]]:
    return query(url, "SELECT version_num FROM alembic_version")


def revision_ids(project: Project) -> list[str]:
    """The ids of the project's revisions, oldest first (ids are content digests)."""
    ids = (re.search(r"^revision[^=]*= ['\"](\w+)", text, re.M) for _, text in project.revisions())
    return [found.group(1) for found in ids if found]


def assert_at(url: str, project: Project, position: int) -> None:
    """The database is at the project's revision ``position`` (0 the first)."""
    assert version(url) == [(revision_ids(project)[position],)]


def assert_at_head(url: str, project: Project) -> None:
    assert_at(url, project, -1)
    assert index_state(url, "uq_items_tenant_id_code") == [(True,)]
    constraints = query(
        url,
        "SELECT conname, convalidated FROM pg_constraint WHERE conname IN "
        "('uq_items_tenant_id_code', 'ck_tags_weight') ORDER BY conname",
    )
    assert constraints == [("ck_tags_weight", True), ("uq_items_tenant_id_code", True)]
    assert query(url, "SELECT obj_description('alembic_version'::regclass, 'pg_class')") == [
        (None,)
    ]


@pytest.mark.parametrize("kill", ["process", "backend"])
def test_a_migration_killed_in_a_concurrent_build_reaches_head_when_run_again(
    database_url: str, new_project: Callable[..., Project], kill: str
) -> None:
    """Killing the process leaves the build to finish (a valid index, the version not
    moved); terminating the backend leaves an invalid index. Both rerun to head, and the
    committed first part (a column and a NOT VALID check on tags) is not run twice."""
    project = migrated(new_project, database_url).write(load_schema_text(AFTER), with_models=True)
    writer = "UPDATE items SET title = title WHERE code = 'c1'"
    with holding(database_url, writer) as blocker:
        migration = spawn_upgrade(project, database_url, lock_timeout="60s")
        pid = waiting_backend(database_url, "CREATE UNIQUE INDEX CONCURRENTLY")
        if kill == "process":
            migration.send_signal(signal.SIGKILL)
            migration.wait()
            blocker.rollback()
            gone(database_url, pid)
            assert index_state(database_url, "uq_items_tenant_id_code") == [(True,)]
        else:
            execute(database_url, f"SELECT pg_terminate_backend({pid})")
            migration.wait()
            assert index_state(database_url, "uq_items_tenant_id_code") == [(False,)]
    assert_at(database_url, project, 0)
    assert query(database_url, "SELECT count(*) FROM tags WHERE weight = 1") == [(2,)]

    rerun = spawn_upgrade(project, database_url)
    output, _ = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, output
    assert_at_head(database_url, project)


def test_a_lock_wait_ends_at_the_lock_timeout_and_is_retried(
    database_url: str, new_project: Callable[..., Project]
) -> None:
    """While a transaction holds a row lock on tags for 2 s more, the migration (which needs
    ACCESS EXCLUSIVE on tags) gives up each wait after 300 ms, releases what it holds,
    and tries again; a writer on another row of the table is never held up much longer
    than one lock timeout, and the migration reaches head once the lock is gone."""
    project = migrated(new_project, database_url).write(load_schema_text(AFTER), with_models=True)
    latencies: list[float] = []
    stop = threading.Event()

    def write() -> None:
        with psycopg.connect(psql_url(database_url), autocommit=True) as connection:
            while not stop.is_set():
                started = time.monotonic()
                connection.execute("UPDATE tags SET label = label WHERE label = 'b'")
                latencies.append(time.monotonic() - started)
                time.sleep(0.02)

    writer = threading.Thread(target=write)
    with holding(database_url, "SELECT * FROM tags WHERE label = 'a' FOR UPDATE"):
        writer.start()
        migration = spawn_upgrade(
            project, database_url, lock_timeout="300ms", lock_retries="20", retry_delay="0.2"
        )
        waiting_backend(database_url, "ALTER TABLE tags")
        time.sleep(2.0)
    output, _ = migration.communicate(timeout=120)
    stop.set()
    writer.join()
    assert migration.returncode == 0, output
    assert "lock wait timed out" in output
    assert_at_head(database_url, project)
    assert max(latencies) < 1.0, sorted(latencies)[-5:]


RUN_LOCK = 0x65666D6967726174


def migration_backend(url: str, other: psycopg.Connection, timeout: float = 30.0) -> int:
    """The pid of the one session on the database besides ``other`` and the caller's."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = query(
            url,
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND backend_type = 'client backend' AND pid <> pg_backend_pid() AND pid <> :other",
            other=other.info.backend_pid,
        )
        if rows:
            return int(rows[0][0])
        time.sleep(0.05)
    raise AssertionError("no run of the migrations connected")


def test_a_second_run_waits_for_the_first_and_then_has_nothing_to_do(
    database_url: str, new_project: Callable[..., Project]
) -> None:
    project = migrated(new_project, database_url).write(load_schema_text(AFTER), with_models=True)
    # Another run of the migrations: it holds the migration lock.
    with holding(database_url, f"SELECT pg_advisory_lock({RUN_LOCK})") as other:
        other.commit()
        impatient = spawn_upgrade(project, database_url, concurrent_run_wait="1")
        output, _ = impatient.communicate(timeout=120)
        assert impatient.returncode != 0
        assert "another run of the migrations has held this database's migration lock" in output
        waiting = spawn_upgrade(project, database_url)
        waiter = migration_backend(database_url, other)
        time.sleep(1)
        assert waiting.poll() is None
        assert_at(database_url, project, 0)
        locks = "SELECT count(*) FROM pg_locks WHERE locktype = 'relation' AND pid = :pid"
        assert query(database_url, locks, pid=waiter) == [(0,)]
    output, _ = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, output
    assert "another run of the migrations holds the migration lock; waiting" in output
    assert_at_head(database_url, project)
    advisory = (
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    )
    assert query(database_url, advisory) == [(0,)]


def test_duplicates_stop_a_unique_key_before_anything_changes(
    database_url: str, new_project: Callable[..., Project]
) -> None:
    project = migrated(new_project, database_url)
    execute(database_url, "UPDATE items SET code = 'same' WHERE code IN ('c1', 'c2', 'c3')")
    project = project.write(load_schema_text(AFTER), with_models=True)
    migration = spawn_upgrade(project, database_url)
    output, _ = migration.communicate(timeout=120)
    assert migration.returncode != 0
    assert (
        "table items: 1 values of (tenant_id, code) are held by more than one row, so the "
        "unique constraint uq_items_tenant_id_code cannot be added"
    ) in output
    assert index_state(database_url, "uq_items_tenant_id_code") == []
    assert query(database_url, "SELECT count(*) FROM pg_attribute WHERE attname = 'weight'") == [
        (0,)
    ]


TAGGED = BEFORE.replace(
    "      note: {type: text, nullable: true}\n",
    "      note: {type: text, nullable: true}\n"
    "    relations:\n"
    "      tag: {kind: many_to_one, target: Tag, nullable: true, on_delete: set_null}\n",
)


def test_rows_referring_to_nothing_stop_a_foreign_key_before_anything_changes(
    database_url: str, new_project: Callable[..., Project]
) -> None:
    project = migrated(new_project, database_url, TAGGED)
    # Rows written while the key was not enforced (a restore, a replica's apply).
    execute(
        database_url,
        "SET session_replication_role = replica",
        "UPDATE items SET tag_id = gen_random_uuid() WHERE code IN ('c1', 'c2')",
    )
    project = project.write(
        load_schema_text(TAGGED.replace("on_delete: set_null", "on_delete: cascade")),
        with_models=True,
    )
    failed = spawn_upgrade(project, database_url)
    output, _ = failed.communicate(timeout=120)
    assert failed.returncode != 0
    assert (
        "table items: 2 rows refer to no row of tags through (tenant_id, tag_id), so the "
        "foreign key fk_items_tenant_id_tag_id_tags cannot be validated"
    ) in output
    assert_at(database_url, project, 0)
    on_delete = "SELECT confdeltype FROM pg_constraint WHERE conname = :name"
    name = "fk_items_tenant_id_tag_id_tags"
    assert query(database_url, on_delete, name=name) == [("n",)]

    execute(database_url, "UPDATE items SET tag_id = NULL WHERE code IN ('c1', 'c2')")
    project.alembic(database_url, "upgrade", "head")
    assert query(database_url, on_delete, name=name) == [("c",)]
    project.alembic(database_url, "check")


REQUIRED = BEFORE.replace("note: {type: text, nullable: true}", "note: text")


def test_a_column_made_required_is_checked_first_and_set_without_a_scan_under_lock(
    database_url: str, new_project: Callable[..., Project]
) -> None:
    project = migrated(new_project, database_url)
    _, source = next_revision(BEFORE, REQUIRED)
    text = re.sub(r"""['"]\n\s*['"]""", "", source)
    upgrade = text[text.index("def upgrade") : text.index("def downgrade")]
    assert "CHECK (note IS NOT NULL) NOT VALID" in upgrade
    assert upgrade.index("VALIDATE CONSTRAINT ck_items_note_not_null") < upgrade.index(
        "SET NOT NULL"
    )
    project = project.write(load_schema_text(REQUIRED), with_models=True)
    failed = spawn_upgrade(project, database_url)
    output, _ = failed.communicate(timeout=120)
    assert "table items: 2000 rows hold NULL in note" in output
    assert_at(database_url, project, 0)

    execute(database_url, "UPDATE items SET note = 'n'")
    project.alembic(database_url, "upgrade", "head")
    nullable = query(
        database_url,
        "SELECT is_nullable FROM information_schema.columns "
        "WHERE table_name = 'items' AND column_name = 'note'",
    )
    assert nullable == [("NO",)]
    assert (
        query(
            database_url,
            "SELECT conname FROM pg_constraint WHERE conname = 'ck_items_note_not_null'",
        )
        == []
    )
    project.alembic(database_url, "check")


NARROWED = BEFORE.replace("title: string(200)", "title: string(100)")


def test_a_narrowing_fails_on_values_that_do_not_fit_instead_of_cutting_them(
    database_url: str, new_project: Callable[..., Project]
) -> None:
    project = migrated(new_project, database_url)
    long_title = "x" * 150
    execute(database_url, f"UPDATE items SET title = '{long_title}' WHERE code = 'c1'")
    with pytest.raises(GenerationError, match="rewrite tables under an ACCESS EXCLUSIVE"):
        next_revision(BEFORE, NARROWED, allow_destructive=True)
    project = project.write(
        load_schema_text(NARROWED), with_models=True, allow_destructive=True, allow_rewrite=True
    )
    failed = spawn_upgrade(project, database_url)
    output, _ = failed.communicate(timeout=120)
    assert "table items: 1 rows fail varchar(100) for title" in output
    assert query(database_url, "SELECT title FROM items WHERE code = 'c1'") == [(long_title,)]


def test_rewrites_are_refused_unless_allowed_and_listed() -> None:
    volatile = BEFORE.replace(
        "label: string(50)",
        'label: string(50)\n      ref: {type: uuid, default_sql: "gen_random_uuid()"}',
    )
    with pytest.raises(GenerationError) as refused:
        next_revision(BEFORE, volatile)
    assert "tags: adding ref with the volatile default gen_random_uuid()" in str(refused.value)
    assert "--allow-rewrite" in (refused.value.hint or "")
    stable = BEFORE.replace(
        "label: string(50)",
        'label: string(50)\n      seen_at: {type: datetime, default_sql: "now()"}',
    )
    assert next_revision(BEFORE, stable)
