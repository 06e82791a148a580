"""Tenant-first keys and row-level security that costs no index, at 1,000,000 rows.

    python bench/db_keys.py [--rows N] [--tenants N]

Two measurements, each printed beside its target:

- *Key layouts*: the same rows (100 tenants, interleaved in batches of 10,000, as a busy
  multi-tenant application inserts them) into ``PRIMARY KEY (id)`` + ``UNIQUE (tenant_id,
  id)`` with UUIDv4 ids (what entityforge generated before) and into ``PRIMARY KEY
  (tenant_id, id)`` with UUIDv7 ids (what it generates now): insert time and index size.
- *Index kinds*: for each kind of index a spec can declare, a selective query sent as the
  repository sends it (the writer's role, row-level security applying, the tenant filter
  explicit) against the same query from a BYPASSRLS role: best of 30 runs, buffers, and
  the ratio (target <= 1.2 for btree kinds). Searches (json and array containment,
  trigram ILIKE) run three ways: the operator straight on the table (row-level security
  makes it a filter), through the search function the revision creates (the generated
  SQL, from ``migrations.search_renderers``), and from BYPASSRLS.

``DATABASE_URL`` (a superuser's URL) is used when set, otherwise an embedded server.
"""

from __future__ import annotations

import argparse
import hashlib
import time
from typing import Any

import psycopg

import database
from entityforge.catalog import ColumnType, Search
from entityforge.generators.migrations.search_renderers import create_search_function
from entityforge.migrate.operations.search import SearchFunction
from entityforge.schema import Roles, Tenancy

TENANT = 7
RUNS = 30
PAGE = "ORDER BY id LIMIT 50"
LAYOUTS = {
    "PK (id) + UNIQUE (tenant_id, id), UUIDv4": (
        "id uuid NOT NULL DEFAULT gen_random_uuid(), tenant_id uuid NOT NULL, n int NOT NULL, "
        "PRIMARY KEY (id), UNIQUE (tenant_id, id)"
    ),
    "PK (tenant_id, id), UUIDv7": (
        "tenant_id uuid NOT NULL, id uuid NOT NULL DEFAULT uuidv7(), n int NOT NULL, "
        "PRIMARY KEY (tenant_id, id)"
    ),
}
ROLES = Roles(reader="bench_keys_reader", writer="bench_keys_writer", admin="bench_keys_admin")
TENANCY = Tenancy(entity="Account")


def _tenant(expression: str) -> str:
    return f"('00000000-0000-0000-0000-' || lpad(({expression})::text, 12, '0'))::uuid"


def key_layouts(url: str, rows: int, tenants: int) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        for number, (name, columns) in enumerate(LAYOUTS.items()):
            table = f"layout_{number}"
            connection.execute(f"CREATE TABLE {table} ({columns})")
            start = time.perf_counter()
            tenant = _tenant(f"1 + g % {tenants}")
            for first in range(0, rows, 10_000):
                last = min(first + 10_000, rows) - 1
                connection.execute(
                    f"INSERT INTO {table} (tenant_id, n) SELECT {tenant}, g "
                    f"FROM generate_series({first}, {last}) g"
                )
            seconds = time.perf_counter() - start
            row = connection.execute(
                "SELECT string_agg(indexrelid::regclass || ' ' || "
                "pg_size_pretty(pg_relation_size(indexrelid)), ', '), "
                "sum(pg_relation_size(indexrelid)) FROM pg_index WHERE indrelid = %s::regclass",
                (table,),
            ).fetchone()
            assert row is not None
            print(
                f"| {name} | {rows / seconds:,.0f} rows/s | {row[1] / 2**20:.1f} MiB ({row[0]}) |",
                flush=True,
            )


def _setup(tenants: int, rows: int) -> str:
    cancelled = "(g / 100) % 100 = 1"
    return f"""
CREATE EXTENSION IF NOT EXISTS btree_gin; CREATE EXTENSION IF NOT EXISTS pg_trgm;
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{ROLES.reader}') THEN
    CREATE ROLE {ROLES.reader} NOLOGIN; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{ROLES.writer}') THEN
    CREATE ROLE {ROLES.writer} NOLOGIN; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{ROLES.admin}') THEN
    CREATE ROLE {ROLES.admin} NOLOGIN BYPASSRLS; END IF;
END $$;
CREATE TYPE task_state AS ENUM ('todo', 'doing', 'done', 'cancelled');
CREATE TABLE tasks (tenant_id uuid NOT NULL, id uuid NOT NULL DEFAULT uuidv7(),
  status varchar(63) NOT NULL CHECK (status IN ('todo', 'doing', 'done', 'cancelled')),
  state task_state NOT NULL, due_at timestamptz NOT NULL, project_id uuid NOT NULL,
  title text NOT NULL, data jsonb NOT NULL, tags text[] NOT NULL, PRIMARY KEY (tenant_id, id));
INSERT INTO tasks (tenant_id, status, state, due_at, project_id, title, data, tags)
SELECT {_tenant(f"g % {tenants}")}, s, s::task_state,
  '2026-01-01'::timestamptz + (g % 365) * interval '1 day',
  {_tenant(f"(g % {tenants}) * 1000 + (g / 100) % 50")},
  'task ' || md5(g::text), jsonb_build_object('sku', 'SKU-' || g),
  ARRAY['t' || (g % 1000)]
FROM generate_series(1, {rows}) g, LATERAL (SELECT CASE WHEN {cancelled} THEN 'cancelled'
  ELSE (ARRAY['todo', 'doing', 'done'])[1 + g % 3] END AS s) x;
CREATE INDEX ix_status ON tasks (tenant_id, status);
CREATE INDEX ix_state ON tasks (tenant_id, state);
CREATE INDEX ix_status_due ON tasks (tenant_id, status, due_at);
CREATE INDEX ix_project_status ON tasks (tenant_id, project_id, status);
CREATE INDEX ix_data ON tasks USING gin (tenant_id, data);
CREATE INDEX ix_title ON tasks USING gin (tenant_id, title gin_trgm_ops);
CREATE INDEX ix_tags ON tasks USING gin (tenant_id, tags);
ALTER TABLE tasks ENABLE ROW LEVEL SECURITY; ALTER TABLE tasks FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tasks
  USING (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid))
  WITH CHECK (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid));
GRANT SELECT ON tasks TO {ROLES.writer}, {ROLES.admin};
"""


def _search_functions() -> list[str]:
    searches = [
        (Search("tasks_data_contains", "data", "@>"), ColumnType("json")),
        (Search("tasks_title_ilike", "title", "ILIKE"), ColumnType("text")),
        (
            Search("tasks_tags_contains", "tags", "@>"),
            ColumnType("array", item=ColumnType("text")),
        ),
    ]
    statements = []
    for search, argument in searches:
        function = SearchFunction("tasks", search, argument, TENANCY, ROLES)
        statements += create_search_function(function)
    return statements


def _measure(url: str, role: str, tenant: str, query: str) -> tuple[float, int, int]:
    """Best time (ms), rows, buffers of ``query`` as ``role`` with the tenant set."""
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"SET ROLE {role}")
        connection.execute("SELECT set_config('app.tenant_id', %s, false)", (tenant,))
        best, found = float("inf"), 0
        for _ in range(RUNS):
            start = time.perf_counter()
            found = len(connection.execute(query).fetchall())
            best = min(best, time.perf_counter() - start)
        row = connection.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + query).fetchone()
        assert row is not None
        plan: dict[str, Any] = row[0][0]["Plan"]
        return (
            best * 1000,
            found,
            plan.get("Shared Hit Blocks", 0) + plan.get("Shared Read Blocks", 0),
        )


def index_kinds(url: str, rows: int, tenants: int) -> None:
    tenant = f"00000000-0000-0000-0000-{TENANT:012d}"
    project = f"00000000-0000-0000-0000-{TENANT * 1000 + 1:012d}"
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(_setup(tenants, rows))
        for statement in _search_functions():
            connection.execute(statement)
        connection.execute("VACUUM ANALYZE tasks")
    where = f"tenant_id = '{tenant}'"
    btree = {
        "enum equality (varchar + check)": "status = 'cancelled'",
        "enum equality (native enum type, for contrast)": "state = 'cancelled'",
        "enum + range": (
            "status = 'cancelled' AND due_at >= '2026-03-01' AND due_at < '2026-04-01'"
        ),
        "uuid FK + status": f"project_id = '{project}' AND status = 'cancelled'",
    }
    print("| kind | writer (RLS + tenant filter) | BYPASSRLS + tenant filter | ratio | target |")
    for name, condition in btree.items():
        query = f"SELECT * FROM tasks WHERE {where} AND {condition} {PAGE}"
        writer = _measure(url, ROLES.writer, tenant, query)
        admin = _measure(url, ROLES.admin, tenant, query)
        ratio = writer[0] / admin[0]
        print(
            f"| {name} | {writer[0]:.3f} ms, {writer[2]} buffers, {writer[1]} rows | "
            f"{admin[0]:.3f} ms, {admin[2]} buffers | {ratio:.2f}x | <= 1.20x |",
            flush=True,
        )
    word = hashlib.md5(str(TENANT + 5000).encode()).hexdigest()[:10]
    searches = {
        "json containment": (
            'data @> \'{"sku": "SKU-5007"}\'',
            'tasks_data_contains(\'{"sku": "SKU-5007"}\')',
        ),
        "trigram ILIKE": (f"title ILIKE '%{word}%'", f"tasks_title_ilike('%{word}%')"),
        "array containment": ("tags @> ARRAY['t7']", "tasks_tags_contains(ARRAY['t7'])"),
    }
    print("| search | writer, operator on the table | writer, search function | BYPASSRLS |")
    for name, (condition, function) in searches.items():
        direct = f"SELECT * FROM tasks WHERE {where} AND {condition} {PAGE}"
        through = f"SELECT * FROM tasks WHERE {where} AND id IN (SELECT {function}) {PAGE}"
        measured = [
            _measure(url, ROLES.writer, tenant, direct),
            _measure(url, ROLES.writer, tenant, through),
            _measure(url, ROLES.admin, tenant, direct),
        ]
        cells = " | ".join(
            f"{ms:.3f} ms, {buffers} buffers, {n} rows" for ms, n, buffers in measured
        )
        print(f"| {name} | {cells} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--tenants", type=int, default=100)
    arguments = parser.parse_args()
    with database.server() as server, database.database(server) as url:
        libpq = database.libpq_url(url)
        key_layouts(libpq, arguments.rows, arguments.tenants)
        index_kinds(libpq, arguments.rows, arguments.tenants)


if __name__ == "__main__":
    main()
