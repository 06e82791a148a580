"""Renderers of a tenant-scoped table's primary key moving to ``(tenant, id)``.

``migrations.renderers`` registers every function of ``RENDERERS`` on its dispatcher.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from entityforge import naming
from entityforge.catalog import ForeignKey
from entityforge.generators.migrations.code import execute
from entityforge.generators.python_source import Code
from entityforge.generators.table_schemas import quote_table
from entityforge.migrate.operations.tenancy import BuildKeyIndex, DiscardKeyIndex, MovePrimaryKey
from entityforge.naming import quote_identifier


def _listing(columns: tuple[str, ...]) -> str:
    return ", ".join(quote_identifier(column) for column in columns)


def render_build_key_index(operation: BuildKeyIndex) -> Code:
    return execute(
        f"CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS {quote_identifier(operation.name)} "
        f"ON {quote_table(operation.table)} ({_listing(operation.columns)})"
    )


def render_discard_key_index(operation: DiscardKeyIndex) -> Code:
    return execute(f"DROP INDEX CONCURRENTLY IF EXISTS {quote_identifier(operation.name)}")


def _drop_constraint(table: str, name: str) -> str:
    return f"ALTER TABLE {quote_table(table)} DROP CONSTRAINT {quote_identifier(name)}"


def add_foreign_key_not_valid(table: str, fk: ForeignKey) -> str:
    on_delete = "" if fk.on_delete == "NO ACTION" else f" ON DELETE {fk.on_delete_clause}"
    return (
        f"ALTER TABLE {quote_table(table)} ADD CONSTRAINT {quote_identifier(fk.name)} "
        f"FOREIGN KEY ({_listing(fk.columns)}) REFERENCES "
        f"{naming.quote_qualified(fk.referred_qualified)} ({_listing(fk.referred_columns)})"
        f"{on_delete} NOT VALID"
    )


def render_move_primary_key(operation: MovePrimaryKey) -> Code:
    table = quote_table(operation.table)
    key = quote_identifier(naming.primary_key_name(operation.table))
    prebuilt = operation.primary_key_index is not None
    statements = [_drop_constraint(child, fk.name) for child, fk in operation.referencing]
    statements += [_drop_constraint(operation.table, u.name) for u in operation.dropped_uniques]
    statements.append(f"ALTER TABLE {table} DROP CONSTRAINT {key}")
    if operation.primary_key_index is not None:
        attach = f"USING INDEX {quote_identifier(operation.primary_key_index)}"
    else:
        attach = f"({_listing(operation.new_columns)})"
    statements.append(f"ALTER TABLE {table} ADD CONSTRAINT {key} PRIMARY KEY {attach}")
    for unique in operation.added_uniques:
        name = quote_identifier(unique.name)
        attach = f"USING INDEX {name}" if prebuilt else f"({_listing(unique.columns)})"
        statements.append(f"ALTER TABLE {table} ADD CONSTRAINT {name} UNIQUE {attach}")
    statements += [add_foreign_key_not_valid(child, fk) for child, fk in operation.referencing]
    return execute(*statements)


RENDERERS: tuple[Callable[[Any], Code], ...] = (
    render_build_key_index,
    render_discard_key_index,
    render_move_primary_key,
)
