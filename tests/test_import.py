"""`entityforge import`: a live database back to a spec, and what it could not say.

Round trip: every spec of this repository is generated, migrated, imported; the imported
spec generates a database with the same catalog (columns, defaults, keys, indexes,
checks, policies, triggers, comments, enum labels, grants), whose models Alembic finds
no difference with, and importing that database gives the same spec again. A schema
written by hand (serial keys, triggers, a view, functions, exotic types) is imported as
far as the format goes, and the rest is reported.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from entityforge.catalog import build_catalog
from entityforge.importer import import_database
from entityforge.spec import load_schema_text
from tests.conftest import EXAMPLE_SPEC, SPECS
from tests.inprocess import generate_project, run_alembic, unique_package
from tests.projects import entityforge, psql_url

# The import reads tables back, not views (a plain view's key is nowhere in the database):
# the specs with views round-trip their tables in tests/test_views.py instead.
SPEC_FILES = [
    spec for spec in sorted(SPECS.glob("*.yaml")) if "\nviews:" not in spec.read_text()
] + [EXAMPLE_SPEC]

CATALOG = """
SELECT 'column', table_name, column_name, data_type || ' ' || udt_name,
       coalesce(column_default, ''),
       concat_ws(' ', is_nullable, character_maximum_length, numeric_precision, numeric_scale)
FROM information_schema.columns WHERE table_schema = 'public'
UNION ALL SELECT 'index', tablename, indexname, indexdef, '', '' FROM pg_indexes
WHERE schemaname = 'public'
UNION ALL SELECT 'constraint', conrelid::regclass::text, conname, pg_get_constraintdef(oid), '', ''
FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND contype <> 'n'
UNION ALL SELECT 'policy', tablename, policyname, qual, coalesce(with_check, ''),
       cmd || ' ' || permissive || ' ' || roles::text
FROM pg_policies WHERE schemaname = 'public'
UNION ALL SELECT 'trigger', tgrelid::regclass::text, tgname, pg_get_triggerdef(oid), '', ''
FROM pg_trigger WHERE NOT tgisinternal
UNION ALL SELECT 'table', relname, relrowsecurity::text || relforcerowsecurity::text,
       coalesce(obj_description(oid, 'pg_class'), ''), '', ''
FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p')
UNION ALL SELECT 'comment', c.relname, a.attname, coalesce(col_description(c.oid, a.attnum), ''),
       '', ''
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND a.attnum > 0
UNION ALL SELECT 'enum', t.typname, e.enumsortorder::text, e.enumlabel, '', ''
FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid
UNION ALL SELECT 'grant', table_name, grantee, privilege_type, '', ''
FROM information_schema.role_table_grants WHERE table_schema = 'public'
UNION ALL SELECT 'extension', extname, '', '', '', '' FROM pg_extension
ORDER BY 1, 2, 3, 4, 5, 6
"""


def catalog(url: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(psql_url(url)) as connection:
        return connection.execute(CATALOG).fetchall()


def migrated(root: Path, spec_text: str, url: str) -> str:
    package = unique_package()
    generate_project(root, spec_text, package)
    run_alembic(root, package, url, "upgrade", "head")
    return package


@pytest.mark.parametrize("spec", SPEC_FILES, ids=lambda p: p.stem)
def test_import_round_trips_every_spec(
    spec: Path, create_database: Callable[[], str], tmp_path: Path
) -> None:
    first_url, second_url = create_database(), create_database()
    migrated(tmp_path / "first", spec.read_text(), first_url)
    # Every schema the spec's entities live in (``--schema`` once each).
    schemas = ("public", *build_catalog(load_schema_text(spec.read_text())).schemas)

    imported = import_database(psql_url(first_url), schemas)
    assert [finding.line() for finding in imported.findings] == []
    load_schema_text(imported.text)
    package = migrated(tmp_path / "second", imported.text, second_url)

    assert catalog(second_url) == catalog(first_url)
    # Revision ids are digests of each project's own revisions: the first database is
    # stamped with the second project's head before its models are compared with it.
    run_alembic(tmp_path / "second", package, first_url, "stamp", "head", False, None, True)
    run_alembic(tmp_path / "second", package, first_url, "check")
    assert import_database(psql_url(second_url), schemas).text == imported.text


HAND_WRITTEN = """
CREATE TYPE mood AS ENUM ('happy', 'sad');
CREATE TABLE customers (
    id serial PRIMARY KEY,
    email varchar(320) NOT NULL UNIQUE,
    name text NOT NULL,
    country char(2),
    ip inet,
    mood mood,
    created_at timestamp NOT NULL DEFAULT now(),
    score real DEFAULT 0.5
);
COMMENT ON TABLE customers IS 'People who buy';
COMMENT ON COLUMN customers.email IS 'Where receipts go';
CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id integer NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    total numeric(10, 2) NOT NULL CHECK (total >= 0),
    note text,
    placed_on date NOT NULL DEFAULT CURRENT_DATE
);
CREATE INDEX orders_placed_on ON orders (placed_on);
CREATE INDEX orders_lower_note ON orders (lower(note));
CREATE TABLE tags (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    label varchar(40) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.updated_at = now(); RETURN NEW; END $$;
CREATE TRIGGER tags_touch BEFORE UPDATE ON tags FOR EACH ROW EXECUTE FUNCTION touch();
CREATE VIEW big_orders AS SELECT * FROM orders WHERE total > 1000;
CREATE SEQUENCE invoice_numbers;
"""


def test_a_hand_written_schema_is_imported_as_far_as_the_format_goes(
    database_url: str, tmp_path: Path
) -> None:
    with psycopg.connect(psql_url(database_url), autocommit=True) as connection:
        connection.execute(HAND_WRITTEN)
    result = entityforge("import", database_url, "-o", "entities.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.output
    text = (tmp_path / "entities.yaml").read_text()
    schema = load_schema_text(text)
    assert [entity.name for entity in schema.entities] == ["Customer", "Order", "Tag"]
    customer = schema.entity("Customer")
    assert customer.comment == "People who buy"
    email = next(f for f in customer.fields if f.name == "email")
    assert (email.type.max_length, email.unique, email.comment) == (320, True, "Where receipts go")
    order = schema.entity("Order")
    assert [(r.name, r.target, r.on_delete) for r in order.relations] == [
        ("customer", "Customer", "cascade")
    ]
    total = next(f for f in order.fields if f.name == "total")
    assert (total.type.precision, total.type.scale, total.check) == (
        10,
        2,
        "total >= CAST(0 AS numeric)",
    )
    report = result.stderr
    for subject in (
        "table customers: its primary key (id integer) is not a uuid id",
        "column customers.ip: inet has no spec type",
        "column customers.country: character(2) becomes varchar(2)",
        "column customers.created_at: timestamp without time zone becomes timestamptz",
        "column customers.score: real becomes double precision",
        "trigger tags_touch on tags",
        "view big_orders: views are not imported",
        "function touch()",
        "sequence invoice_numbers",
        "column orders.customer_id: integer becomes uuid",
        "unique constraint customers_email_key on customers: its name does not follow",
    ):
        assert subject in report, subject
    assert "name: orders_placed_on" in text
    # An expression index is read back with its expression as PostgreSQL prints it.
    assert "expressions: [lower(note)]" in text or "- lower(note)" in text, text
    assert "not imported (" in report and "changed (" in report
    for finding_line in ("view big_orders", "trigger tags_touch", "function touch()"):
        assert f"#   {finding_line}" in text


def test_import_keeps_an_existing_file_and_reports_a_bad_url(tmp_path: Path) -> None:
    (tmp_path / "entities.yaml").write_text("mine\n")
    kept = entityforge("import", "postgresql://nobody@/x?host=/nonexistent", cwd=tmp_path)
    assert kept.returncode == 1 and "exists already" in kept.stderr
    assert (tmp_path / "entities.yaml").read_text() == "mine\n"
    failed = entityforge(
        "import", "postgresql://nobody:secret@/x?host=/nonexistent", "-o", "-", cwd=tmp_path
    )
    assert failed.returncode == 1 and "cannot read" in failed.stderr
    assert "secret" not in failed.output and "Traceback" not in failed.output
