"""Write overhead of trigger-written history (the design of the ``audit: true`` key).

Two tables with the same columns, one of them audited the way the key is meant to be
generated: a ``<table>_history`` table beside it (its own identity key, the row id, the
operation, ``now()``, the actor from ``app.user_id`` kept as text so that no setting can
make a write fail, and the values as jsonb: the new row on INSERT, the changed columns
old and new on UPDATE, the old row on DELETE), written by statement-level AFTER
triggers over transition tables (one INSERT ... SELECT per statement) whose function is
SECURITY DEFINER with a fixed search_path, so the writer has SELECT on history and
nothing else. As a LOGIN member of the writer role it bulk-inserts 10,000 rows and
updates 10,000 rows in each table; the overhead is the audited time over the plain one.
It also checks that the writer can neither insert, update nor delete history rows.

Run: ``python bench/audit_triggers.py`` (an embedded server unless DATABASE_URL is set).
"""

from __future__ import annotations

import time

import psycopg
from sqlalchemy.engine import make_url

from database import database, libpq_url, server

ROWS = 10_000
ROUNDS = 5
TARGET = 2.0  # audited time at most twice the plain time, on insert and on update

SCHEMA = """
CREATE ROLE audit_bench_writer LOGIN PASSWORD 'bench';
CREATE TABLE plain (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    title text NOT NULL, rank integer NOT NULL);
CREATE TABLE audited (LIKE plain INCLUDING ALL);
CREATE TABLE audited_history (
    history_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    row_id bigint NOT NULL,
    operation text NOT NULL CHECK (operation IN ('insert', 'update', 'delete')),
    at timestamptz NOT NULL DEFAULT now(),
    actor text DEFAULT NULLIF(current_setting('app.user_id', true), ''),
    changes jsonb NOT NULL);
CREATE INDEX ON audited_history (row_id, history_id);
CREATE FUNCTION audited_history_write() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO public.audited_history (row_id, operation, changes)
    SELECT n.id, 'insert', to_jsonb(n) FROM new_rows n;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO public.audited_history (row_id, operation, changes)
    SELECT o.id, 'delete', to_jsonb(o) FROM old_rows o;
  ELSE
    INSERT INTO public.audited_history (row_id, operation, changes)
    SELECT n.id, 'update', d.changes
    FROM new_rows n JOIN old_rows o USING (id)
    CROSS JOIN LATERAL (
      SELECT jsonb_object_agg(k.key, jsonb_build_object('old', k.old, 'new', k.new)) AS changes
      FROM (SELECT e.key, to_jsonb(o) -> e.key AS old, e.value AS new
            FROM jsonb_each(to_jsonb(n)) e) k
      WHERE k.old IS DISTINCT FROM k.new) d
    WHERE d.changes IS NOT NULL;
  END IF;
  RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION audited_history_write() FROM PUBLIC;
CREATE TRIGGER audited_history_insert AFTER INSERT ON audited
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION audited_history_write();
CREATE TRIGGER audited_history_update AFTER UPDATE ON audited
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION audited_history_write();
CREATE TRIGGER audited_history_delete AFTER DELETE ON audited
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION audited_history_write();
GRANT SELECT, INSERT, UPDATE, DELETE ON plain, audited TO audit_bench_writer;
GRANT SELECT ON audited_history TO audit_bench_writer;
"""


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
            owner.execute(SCHEMA)  # type: ignore[arg-type]
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
                    for table in ("plain", "audited")
                }
                history = writer.execute("SELECT count(*) FROM audited_history").fetchone()
                refusals = [
                    _refused(
                        writer,
                        "INSERT INTO audited_history (row_id, operation, changes)"
                        " VALUES (1, 'insert', '{}')",
                    ),
                    _refused(writer, "UPDATE audited_history SET actor = 'forged'"),
                    _refused(writer, "DELETE FROM audited_history"),
                ]
        finally:
            with psycopg.connect(libpq_url(owner_url), autocommit=True) as owner:
                owner.execute("DROP OWNED BY audit_bench_writer")
        for index, operation in enumerate((f"bulk insert {ROWS:,}", f"update {ROWS:,}")):
            plain = min(t[index] for t in times["plain"])
            audited = min(t[index] for t in times["audited"])
            ratio = audited / plain
            verdict = "met" if ratio <= TARGET else "MISSED"
            print(
                f"{operation:>20} rows: plain {plain * 1000:7.1f} ms,"
                f" audited {audited * 1000:7.1f} ms,"
                f" overhead {ratio:4.2f}x (target <= {TARGET:.1f}x, {verdict})"
            )
        print(f"history rows written: {history[0] if history else 0:,}")
        print(f"writer refused insert/update/delete of history: {refusals}")


if __name__ == "__main__":
    main()
