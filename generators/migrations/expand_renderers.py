"""Renderers of two-step renames: the trigger keeping two names equal, and the copy.

``migrations.renderers`` registers every function of ``RENDERERS`` on its dispatcher.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from entityforge import naming
from entityforge.catalog.sql import quote_literal
from entityforge.generators.migrations.code import STEPS_IMPORT, execute
from entityforge.generators.python_source import Code, call
from entityforge.generators.table_schemas import qualified_table, quote_table, table_schema
from entityforge.migrate.operations.expand import CopyColumn, SyncColumns, UnsyncColumns
from entityforge.naming import quote_identifier


def render_sync_columns(operation: SyncColumns) -> Code:
    """A trigger that copies each write of either name to the other.

    An insert that gives the new column keeps it, any other takes the old column's value.
    An update that changes one of the two is copied to the other; one that changes
    neither copies the column being copied from (``source``) to the one being filled, so
    that a row the batched copy has not reached yet is filled, never emptied. A copy by
    the revision (``migration_steps.copy_column``) keeps the row's ``updated_at``."""
    sync = operation.sync
    name = quote_identifier(naming.sync_name(operation.table, sync.name))
    function_name = _function(operation.table, sync.name)
    new, old = (f"NEW.{quote_identifier(column)}" for column in (sync.name, sync.old))
    before_new, before_old = (
        f"OLD.{quote_identifier(column)}" for column in (sync.name, sync.old)
    )
    source, target = (old, new) if operation.source == sync.old else (new, old)
    kept = ""
    if operation.updated_at:
        kept = (
            f"    IF current_setting({quote_literal(naming.COPYING_SETTING)}, true) = 'on' "
            "AND TG_OP = 'UPDATE' THEN\n"
            "        NEW.updated_at := OLD.updated_at;\n"
            "    END IF;\n"
        )
    function = (
        f"CREATE OR REPLACE FUNCTION {function_name}() RETURNS trigger\n"
        "LANGUAGE plpgsql AS $$\n"
        "BEGIN\n"
        "    IF TG_OP = 'INSERT' THEN\n"
        f"        IF {new} IS NULL THEN\n"
        f"            {new} := {old};\n"
        "        ELSE\n"
        f"            {old} := {new};\n"
        "        END IF;\n"
        f"    ELSIF {new} IS DISTINCT FROM {before_new} THEN\n"
        f"        {old} := {new};\n"
        f"    ELSIF {old} IS DISTINCT FROM {before_old} THEN\n"
        f"        {new} := {old};\n"
        "    ELSE\n"
        f"        {target} := {source};\n"
        "    END IF;\n"
        f"{kept}"
        "    RETURN NEW;\n"
        "END\n"
        "$$"
    )
    table = quote_table(operation.table)
    trigger = (
        f"CREATE TRIGGER {name} BEFORE INSERT OR UPDATE ON {table}\n"
        f"FOR EACH ROW EXECUTE FUNCTION {function_name}()"
    )
    # DROP and CREATE rather than CREATE OR REPLACE TRIGGER, which PostgreSQL 13 lacks.
    return execute(function, f"DROP TRIGGER IF EXISTS {name} ON {table}", trigger)


def _function(table: str, column: str) -> str:
    """The trigger function, beside its table (qualified outside public)."""
    schema = table_schema(table)
    return naming.quote_qualified(naming.qualified_name(schema, naming.sync_name(table, column)))


def render_unsync_columns(operation: UnsyncColumns) -> Code:
    name = quote_identifier(naming.sync_name(operation.table, operation.sync.name))
    return execute(
        f"DROP TRIGGER IF EXISTS {name} ON {quote_table(operation.table)}",
        f"DROP FUNCTION IF EXISTS {_function(operation.table, operation.sync.name)}()",
    )


def render_copy_column(operation: CopyColumn) -> Code:
    steps = Code("migration_steps.copy_column", frozenset({STEPS_IMPORT}))
    arguments = (qualified_table(operation.table), operation.source, operation.target)
    return call(steps, *map(repr, arguments), repr(operation.key), repr(operation.trigger))


RENDERERS: tuple[Callable[[Any], Code], ...] = (
    render_sync_columns,
    render_unsync_columns,
    render_copy_column,
)
