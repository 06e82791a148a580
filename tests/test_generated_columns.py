"""Stored generated columns (``generated:``): validation, models, revisions on tables
with rows, the snapshot, ``alembic check``, the importer and the generated project's own
tests.

The errors point at the key (``entities.yaml:LINE:COL``) with a hint; a revision that
adds a generated column to a table, or changes an expression, rewrites it and is refused
unless allowed; removing the key keeps the column and its values (``DROP EXPRESSION``);
every downgrade goes back, a plain column made generated again through drop and add.
"""

from __future__ import annotations

import importlib
import textwrap
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Computed

from entityforge import pipeline
from entityforge.catalog import build_catalog
from entityforge.errors import EntityforgeError, GenerationError
from entityforge.generators.migrations.renderers import render_operation
from entityforge.importer import import_database
from entityforge.migrate.breaking import breaking_changes
from entityforge.migrate.diff import compare_catalogs
from entityforge.migrate.operations import AddColumn, AlterColumn, DropColumn
from entityforge.migrate.operations.generated import AlterGeneration
from entityforge.migrate.rewrites import rewrite_changes
from entityforge.migrate.safety import check_revision
from entityforge.spec import load_schema_text
from tests.inprocess import generate_project, imported, run_alembic, unique_package
from tests.projects import psql_url
from tests.test_incremental import execute
from tests.test_migrations import query
from tests.test_spec_errors import first_error

BASE = """\
version: 1
entities:
  Item:
    timestamps: false
    fields:
      name: string(50)
      price: {type: decimal, precision: 10, scale: 2}
      quantity: {type: integer, default: 1}
      attributes: {type: json, default: {}}
"""


def with_fields(*lines: str) -> str:
    return BASE + "".join(f"      {line}\n" for line in lines)


ERRORS = [
    pytest.param(
        with_fields('stamp: {type: datetime, generated: "now()"}'),
        "10:42",
        "calls now(), which PostgreSQL does not mark IMMUTABLE",
        id="not_immutable",
    ),
    pytest.param(
        with_fields(
            'name_key: {type: text, generated: "lower(name)"}',
            "name_key_2: {type: text, generated: \"name_key || 'x'\"}",
        ),
        "11:43",
        "refers to 'name_key', which is a generated column itself",
        id="generated_of_generated",
    ),
    pytest.param(
        with_fields('at: {type: text, generated: "xmin::text"}'),
        "10:35",
        "may not read the system column 'xmin'",
        id="system_column",
    ),
    pytest.param(
        with_fields('name_key: {type: text, generated: "lower(nmae)"}'),
        "10:41",
        "refers to 'nmae', which is no column of this table",
        id="unknown_column",
    ),
    pytest.param(
        with_fields('name_key: {type: text, generated: "lower(name)", default: x}'),
        "10:56",
        "a generated field cannot have 'default'",
        id="with_default",
    ),
    pytest.param(
        with_fields('name_key: {type: text, generated: "lower(name)", default_sql: "\'x\'"}'),
        "10:56",
        "a generated field cannot have 'default_sql'",
        id="with_default_sql",
    ),
    pytest.param(
        with_fields('name_key: {type: text, generated: "lower(name)", example: x}'),
        "10:56",
        "a generated field cannot have 'example'",
        id="with_example",
    ),
    pytest.param(
        with_fields('total: {type: integer, generated: "sum(quantity)"}'),
        "10:41",
        "may not call the aggregate function sum()",
        id="aggregate",
    ),
    pytest.param(
        with_fields('total: {type: integer, generated: "quantity; DROP TABLE items"}'),
        "10:41",
        "the SQL must be a single expression",
        id="statement_smuggled",
    ),
]


@pytest.mark.parametrize(("spec", "where", "message"), ERRORS)
def test_a_wrong_generated_key_is_reported_at_the_key(spec: str, where: str, message: str) -> None:
    with pytest.raises(EntityforgeError) as raised:
        load_schema_text(spec)
    error = first_error(raised.value)
    rendered = error.render()
    assert rendered.startswith(f"entities.yaml:{where}: "), rendered
    assert message in rendered
    assert error.hint, rendered
    assert "Traceback" not in str(raised.value)


def test_generated_fields_may_be_unique_indexed_checked_and_nullable() -> None:
    schema = load_schema_text(
        with_fields(
            'name_key: {type: text, generated: "lower(name)", unique: true}',
            'total: {type: decimal, precision: 12, scale: 2, generated: "price * quantity", '
            'index: true, check: "total >= 0"}',
            "colour: {type: text, nullable: true, generated: \"attributes ->> 'colour'\"}",
        )
    )
    item = schema.entity("Item")
    assert [(f.name, f.generated) for f in item.fields if f.generated] == [
        ("name_key", "lower(name)"),
        ("total", "price * quantity"),
        ("colour", "attributes ->> 'colour'"),
    ]
    column = build_catalog(schema).table("items").column("total")
    assert column.generated == "price * quantity" and not column.nullable


GENERATED = with_fields(
    'name_key: {type: text, generated: "lower(name)", index: true}',
    'total: {type: decimal, precision: 12, scale: 2, generated: "price * quantity"}',
)


def test_adding_changing_and_removing_a_generated_column_are_operations() -> None:
    plain, generated = load_schema_text(BASE), load_schema_text(GENERATED)
    added = compare_catalogs(build_catalog(plain), build_catalog(generated))
    assert [type(op) for op in added if isinstance(op, AddColumn)] == [AddColumn, AddColumn]
    assert rewrite_changes(added) == [
        ("items", "adding the generated column name_key (every row's value is computed)"),
        ("items", "adding the generated column total (every row's value is computed)"),
    ]
    upper = load_schema_text(GENERATED.replace("lower(name)", "upper(name)"))
    changed = compare_catalogs(build_catalog(generated), build_catalog(upper))
    assert [type(op) for op in changed] == [AlterGeneration]
    text = render_operation(changed[0]).text
    assert "SET EXPRESSION AS (upper(name))" in text
    assert "server_version_info or (0,)) >= (17,)" in text and "op.drop_column" in text
    plain_key = GENERATED.replace(', generated: "lower(name)"', "")
    removed = compare_catalogs(
        build_catalog(generated), build_catalog(load_schema_text(plain_key))
    )
    assert [type(op) for op in removed] == [AlterGeneration]
    assert "DROP EXPRESSION" in render_operation(removed[0]).text
    assert rewrite_changes(removed) == []
    restored = render_operation(removed[0].reverse()).text
    # Made generated again: the index on it is dropped and built again around the column.
    assert restored.index("drop_index") < restored.index("drop_column")
    assert restored.index("add_column") < restored.index("create_index")
    assert not any(isinstance(op, AlterColumn) for op in removed)


def test_the_model_declares_a_computed_column(tmp_path: Path) -> None:
    package = unique_package()
    generate_project(tmp_path, GENERATED, package)
    with imported(tmp_path, package):
        models = importlib.import_module(f"{package}.models")
        schemas = importlib.import_module(f"{package}.schemas")
        table = models.Item.__table__
        computed = table.c.name_key.server_default
        assert isinstance(computed, Computed) and computed.persisted
        assert str(computed.sqltext) == "lower(name)"
        create = schemas.ItemCreate.model_fields
        assert "name_key" not in create and "total" not in create
        assert "name_key" not in schemas.ItemUpdate.model_fields
        assert "name_key" in schemas.ItemRead.model_fields


def _generated_columns(url: str) -> dict[str, str]:
    rows = query(
        url,
        "SELECT a.attname, pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a "
        "JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
        "WHERE a.attrelid = 'items'::regclass AND a.attgenerated = 's'",
    )
    return dict(rows)


def _values(url: str) -> list[tuple[Any, ...]]:
    return query(url, "SELECT name, name_key, total FROM items ORDER BY name")


def _generate(root: Path, spec: str, package: str, **options: bool) -> int:
    generate_project(root, spec, package, pipeline.Options(**options))
    return len(list((root / package / "alembic" / "versions").glob("*.py")))


def test_a_table_with_rows_gains_changes_and_loses_a_generated_column(
    tmp_path: Path, database_url: str
) -> None:
    package = unique_package()
    _generate(tmp_path, BASE, package)
    run_alembic(tmp_path, package, database_url, "upgrade", "head")
    execute(
        database_url,
        "INSERT INTO items (name, price, quantity) VALUES ('Alpha', 2.50, 4), ('Beta', 1, 3)",
    )
    with pytest.raises(GenerationError, match="would rewrite tables") as refused:
        _generate(tmp_path, GENERATED, package)
    assert "adding the generated column name_key" in str(refused.value)
    assert _generate(tmp_path, GENERATED, package, allow_rewrite=True) == 2
    assert _generate(tmp_path, GENERATED, package, allow_rewrite=True) == 2, "nothing to do"
    run_alembic(tmp_path, package, database_url, "upgrade", "head")
    run_alembic(tmp_path, package, database_url, "check")
    assert _values(database_url) == [("Alpha", "alpha", 10), ("Beta", "beta", 3)]

    upper = GENERATED.replace("lower(name)", "upper(name)")
    assert _generate(tmp_path, upper, package, allow_rewrite=True) == 3
    run_alembic(tmp_path, package, database_url, "upgrade", "head")
    run_alembic(tmp_path, package, database_url, "check")
    assert _values(database_url) == [("Alpha", "ALPHA", 10), ("Beta", "BETA", 3)]

    plain = upper.replace(', generated: "upper(name)"', "")
    assert _generate(tmp_path, plain, package) == 4
    run_alembic(tmp_path, package, database_url, "upgrade", "head")
    run_alembic(tmp_path, package, database_url, "check")
    assert _generated_columns(database_url) == {"total": "(price * (quantity)::numeric)"}
    execute(database_url, "UPDATE items SET name = 'Gamma' WHERE name = 'Beta'")
    assert _values(database_url) == [("Alpha", "ALPHA", 10), ("Gamma", "BETA", 3)]

    run_alembic(tmp_path, package, database_url, "downgrade", "-1")
    assert _values(database_url) == [("Alpha", "ALPHA", 10), ("Gamma", "GAMMA", 3)]
    indexes = query(database_url, "SELECT indexname FROM pg_indexes WHERE tablename = 'items'")
    assert ("ix_items_name_key",) in indexes
    run_alembic(tmp_path, package, database_url, "downgrade", "-1")
    assert _generated_columns(database_url)["name_key"] == "lower((name)::text)"
    run_alembic(tmp_path, package, database_url, "downgrade", "-1")
    assert _generated_columns(database_url) == {}
    run_alembic(tmp_path, package, database_url, "upgrade", "head")
    run_alembic(tmp_path, package, database_url, "check")
    assert _values(database_url) == [("Alpha", "ALPHA", 10), ("Gamma", "GAMMA", 3)]

    # total reads quantity: its type changes with total dropped and added around it.
    wider = plain.replace("quantity: {type: integer", "quantity: {type: bigint")
    assert _generate(tmp_path, wider, package, allow_rewrite=True) == 5
    run_alembic(tmp_path, package, database_url, "upgrade", "head")
    run_alembic(tmp_path, package, database_url, "check")
    assert _generated_columns(database_url) == {"total": "(price * (quantity)::numeric)"}
    assert _values(database_url) == [("Alpha", "ALPHA", 10), ("Gamma", "GAMMA", 3)]
    run_alembic(tmp_path, package, database_url, "downgrade", "-1")
    assert _values(database_url) == [("Alpha", "ALPHA", 10), ("Gamma", "GAMMA", 3)]


def test_the_error_on_a_spec_file_points_into_it() -> None:
    spec = textwrap.dedent("""\
        version: 1
        entities:
          Item:
            fields:
              name: string(50)
              seen: {type: datetime, generated: "clock_timestamp()"}
        """)
    with pytest.raises(EntityforgeError) as raised:
        load_schema_text(spec)
    rendered = first_error(raised.value).render()
    assert rendered.startswith("entities.yaml:6:41: ")
    assert "default_sql" in rendered


def test_the_importer_reads_a_generated_column_back(database_url: str) -> None:
    execute(
        database_url,
        "CREATE TABLE items (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), "
        "name varchar(50) NOT NULL, price numeric(10, 2) NOT NULL, quantity integer NOT NULL, "
        "total numeric(12, 2) GENERATED ALWAYS AS (price * quantity) STORED, "
        "name_key text NOT NULL GENERATED ALWAYS AS (lower(name)) STORED)",
    )
    imported = import_database(psql_url(database_url))
    schema = load_schema_text(imported.text)
    item = schema.entity(schema.entities[0].name)
    generated = {f.name: (f.generated, f.nullable) for f in item.fields if f.generated}
    assert generated == {
        "total": ("price * CAST(quantity AS numeric)", True),
        "name_key": ("lower(CAST(name AS text))", False),
    }
    assert not [f for f in imported.findings if "GENERATED ALWAYS" in f.line()]


def test_renaming_a_column_an_expression_reads_changes_nothing_else() -> None:
    before = load_schema_text(GENERATED)
    after = load_schema_text(
        GENERATED.replace(
            "name: string(50)", "title: {type: string, max_length: 50, " "renamed_from: name}"
        ).replace("lower(name)", "lower(title)")
    )
    operations = compare_catalogs(build_catalog(before), build_catalog(after))
    assert [type(op).__name__ for op in operations] == ["RenameColumn"]


def test_a_type_change_under_an_expression_drops_and_adds_its_generated_column() -> None:
    before = load_schema_text(GENERATED)
    after = load_schema_text(
        GENERATED.replace("quantity: {type: integer", "quantity: {type: bigint")
    )
    operations = compare_catalogs(build_catalog(before), build_catalog(after))
    assert [type(op).__name__ for op in operations] == ["DropColumn", "AlterColumn", "AddColumn"]
    assert operations[0].column.name == "total"  # type: ignore[attr-defined]
    assert rewrite_changes(operations) == [
        ("items", "changing quantity from integer to bigint"),
        ("items", "adding the generated column total (every row's value is computed)"),
    ]


def test_a_plain_field_made_generated_is_destructive_and_breaking() -> None:
    plain = GENERATED.replace(', generated: "lower(name)"', "")
    operations = compare_catalogs(
        build_catalog(load_schema_text(plain)), build_catalog(load_schema_text(GENERATED))
    )
    assert [type(op) for op in operations] == [AlterGeneration]
    assert breaking_changes(operations) == [
        "column items.name_key made generated (old code may write it)"
    ]
    with pytest.raises(GenerationError) as refused:
        check_revision(operations, allow_destructive=False, allow_rewrite=True)
    assert "name_key: made generated: the values it holds are replaced" in str(refused.value)


def test_a_generated_column_is_not_renamed_in_two_steps(tmp_path: Path) -> None:
    package = unique_package()
    generate_project(tmp_path, GENERATED, package)
    renamed = GENERATED.replace("name_key: {", "name_lower: {renamed_from: name_key, ")
    with pytest.raises(GenerationError, match="it is a generated column"):
        generate_project(tmp_path, renamed, package, pipeline.Options(expand=True))


def test_generated_columns_are_added_after_and_dropped_before_what_they_read() -> None:
    before = load_schema_text(BASE)
    after = load_schema_text(
        BASE.replace(
            "      name: string(50)\n",
            '      total: {type: integer, generated: "quantity * 2 + extra"}\n'
            "      name: string(50)\n      extra: {type: integer, default: 0}\n",
        )
    )
    added = compare_catalogs(build_catalog(before), build_catalog(after))
    names = [op.column.name for op in added if isinstance(op, AddColumn)]
    assert names == ["extra", "total"]
    removed = compare_catalogs(build_catalog(after), build_catalog(before))
    assert [op.column.name for op in removed if isinstance(op, DropColumn)] == ["total", "extra"]
