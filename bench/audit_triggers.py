"""Write overhead of trigger-written history, as ``audit: true`` generates it.

Two tables with the same columns, one of them audited: its ``<table>_history`` (the
catalog's columns: a uuid id, the row id, the operation, the statement's time, the actor
from ``app.user_id`` as text, the changes as jsonb) and the function and triggers the
generated revision creates, rendered here by ``create_audit_trigger`` from the catalog of
a one-entity spec: statement-level AFTER triggers over transition tables, one
``INSERT ... SELECT`` per statement, ``SECURITY DEFINER`` owned by an admin role, the
update comparing each column in generated code and keeping the changed columns' new
values. As a LOGIN member of the writer role it bulk-inserts 10,000 rows and updates
10,000 rows in each table, then runs 1,000 one-row INSERTs and 1,000 one-row UPDATEs (an
application's writes: each statement fires the triggers once, in a DO block so that the
client's round trips stay out); the overhead is the audited time over the plain one. It
also checks that the writer can neither insert, update nor delete history rows.

Run: ``python bench/audit_triggers.py`` (an embedded server unless DATABASE_URL is set).
"""

from __future__ import annotations

import time

import psycopg
from sqlalchemy.engine import make_url

from database import database, libpq_url, server
from entityforge.catalog import build_catalog
from entityforge.generators.migrations.audit_renderers import create_audit_trigger
from entityforge.migrate.operations.audit import AuditTrigger
from entityforge.spec import load_schema_text

ROWS = 10_000
STATEMENTS = 1_000
ROUNDS = 5
TARGET = 2.0  # audited time at most twice the plain time, on insert and on update
SPEC = """\
version: 1
entities:
  Audited:
    audit: true
    timestamps: false
    fields: {title: text, rank: integer}
"""
ADMIN = "audit_bench_admin"

SCHEMA = f"""
CREATE ROLE audit_bench_writer LOGIN PASSWORD 'bench';
CREATE ROLE {ADMIN} NOLOGIN BYPASSRLS;
CREATE TABLE plain (id uuid PRIMARY KEY DEFAULT uuidv7(), title text NOT NULL,
                    rank integer NOT NULL);
CREATE TABLE auditeds (LIKE plain INCLUDING ALL);
CREATE TABLE auditeds_history (
    id uuid PRIMARY KEY DEFAULT uuidv7(),
    row_id uuid NOT NULL,
    operation varchar(6) NOT NULL CHECK (operation IN ('insert', 'update', 'delete')),
    changed_at timestamptz NOT NULL DEFAULT statement_timestamp(),
    actor text,
    changes jsonb NOT NULL);
CREATE INDEX ON auditeds_history (row_id);
GRANT SELECT, INSERT, UPDATE, DELETE ON plain, auditeds TO audit_bench_writer;
GRANT SELECT ON auditeds_history TO audit_bench_writer;
GRANT SELECT, INSERT, UPDATE, DELETE ON auditeds_history TO {ADMIN};
"""


def _generated_triggers() -> tuple[str, ...]:
    """The function and triggers the generated revision creates for the spec's table."""
    table = build_catalog(load_schema_text(SPEC)).table("auditeds")
    assert table.audit is not None
    return create_audit_trigger(AuditTrigger(table.name, table.audit, ADMIN))


def _timed(connection: psycopg.Connection, statement: str) -> float:
    start = time.perf_counter()
    connection.execute(statement)  # type: ignore[arg-type]
    connection.commit()
    return time.perf_counter() - start


def _round(connection: psycopg.Connection, table: str) -> tuple[float, float]:
    connection.execute(f"DELETE FROM {table}")  # type: ignore[arg-type]
    connection.commit()
    inserted = _timed(
        connection,
        f"INSERT INTO {table} (title, rank)"
        f" SELECT 'item ' || n, n FROM generate_series(1, {ROWS}) n",
    )
    updated = _timed(connection, f"UPDATE {table} SET rank = rank + 1")
    return inserted, updated


def _single_rows(connection: psycopg.Connection, table: str) -> tuple[float, float]:
    """``STATEMENTS`` one-row INSERTs, then as many one-row UPDATEs by id: what an
    application's writes look like, each statement firing the triggers once. They run
    in a DO block, so that the client's round trips (noisy on a shared machine) stay
    out of the figure."""
    connection.execute(f"DELETE FROM {table}")  # type: ignore[arg-type]
    connection.commit()
    inserted = _timed(
        connection,
        f"DO $$ BEGIN FOR n IN 1..{STATEMENTS} LOOP"
        f" INSERT INTO {table} (title, rank) VALUES ('item ' || n, n);"
        " END LOOP; END $$",
    )
    updated = _timed(
        connection,
        f"DO $$ DECLARE row_id uuid; BEGIN FOR row_id IN SELECT id FROM {table} LOOP"
        f" UPDATE {table} SET rank = rank + 1 WHERE id = row_id;"
        " END LOOP; END $$",
    )
    return inserted, updated


def _refused(connection: psycopg.Connection, statement: str) -> bool:
    try:
        connection.execute(statement)  # type: ignore[arg-type]
    except psycopg.errors.InsufficientPrivilege:
        connection.rollback()
        return True
    connection.rollback()
    return False


def main() -> None:
    with server() as server_url, database(server_url) as owner_url:
        with psycopg.connect(libpq_url(owner_url), autocommit=True) as owner:
            owner.execute("DROP ROLE IF EXISTS audit_bench_writer")
            owner.execute(f"DROP ROLE IF EXISTS {ADMIN}")  # type: ignore[arg-type]
            owner.execute(SCHEMA)  # type: ignore[arg-type]
            for statement in _generated_triggers():
                owner.execute(statement)  # type: ignore[arg-type]
        writer_url = libpq_url(
            make_url(owner_url)
            .set(username="audit_bench_writer", password="bench")
            .render_as_string(False)
        )
        try:
            with psycopg.connect(writer_url) as writer:
                writer.execute("SET app.user_id = 'bench-user'")
                times = {
                    table: [_round(writer, table) for _ in range(ROUNDS)]
                    for table in ("plain", "auditeds")
                }
                single = {
                    table: [_single_rows(writer, table) for _ in range(ROUNDS)]
                    for table in ("plain", "auditeds")
                }
                history = writer.execute("SELECT count(*) FROM auditeds_history").fetchone()
                refusals = [
                    _refused(
                        writer,
                        "INSERT INTO auditeds_history (row_id, operation, changes)"
                        " VALUES (uuidv7(), 'insert', '{}')",
                    ),
                    _refused(writer, "UPDATE auditeds_history SET actor = 'forged'"),
                    _refused(writer, "DELETE FROM auditeds_history"),
                ]
        finally:
            with psycopg.connect(libpq_url(owner_url), autocommit=True) as owner:
                owner.execute(f"DROP OWNED BY audit_bench_writer, {ADMIN} CASCADE")  # type: ignore[arg-type]
        for index, operation in enumerate((f"bulk insert {ROWS:,}", f"update {ROWS:,}")):
            plain = min(t[index] for t in times["plain"])
            audited = min(t[index] for t in times["auditeds"])
            ratio = audited / plain
            verdict = "met" if ratio <= TARGET else "MISSED"
            print(
                f"{operation:>20} rows: plain {plain * 1000:7.1f} ms,"
                f" audited {audited * 1000:7.1f} ms,"
                f" overhead {ratio:4.2f}x (target <= {TARGET:.1f}x, {verdict})"
            )
        for index, operation in enumerate(("insert", "update")):
            plain = min(t[index] for t in single["plain"]) / STATEMENTS
            audited = min(t[index] for t in single["auditeds"]) / STATEMENTS
            print(
                f"{STATEMENTS:,} one-row {operation}s: plain {plain * 1e6:6.1f} us,"
                f" audited {audited * 1e6:6.1f} us a statement,"
                f" overhead {audited / plain:4.2f}x"
            )
        print(f"history rows written: {history[0] if history else 0:,}")
        print(f"writer refused insert/update/delete of history: {refusals}")


if __name__ == "__main__":
    main()
