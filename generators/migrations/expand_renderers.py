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
from entityforge.migrate.operations.expand import CopyColumn, SyncColumns, UnsyncColumns
from entityforge.naming import quote_identifier


def render_sync_columns(operation: SyncColumns) -> Code:
    """A trigger that copies each write of either name to the other: an insert that
    gives the new column wins, else the old column's value is taken; an update that
    changes the new column is copied to the old one, else the old one to the new. A
    revision's copy (``migration_steps.copy_column``) keeps the row's ``updated_at``."""
    name = quote_identifier(naming.sync_name(operation.table, operation.sync.name))
    new = f"NEW.{quote_identifier(operation.sync.name)}"
    old = f"NEW.{quote_identifier(operation.sync.old)}"
    before = f"OLD.{quote_identifier(operation.sync.name)}"
    kept = ""
    if operation.updated_at:
        kept = (
            f"    IF current_setting({quote_literal(naming.COPYING_SETTING)}, true) = 'on' "
            "AND TG_OP = 'UPDATE' THEN\n"
            "        NEW.updated_at := OLD.updated_at;\n"
            "    END IF;\n"
        )
    function = (
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger\n"
        "LANGUAGE plpgsql AS $$\n"
        "BEGIN\n"
        "    IF TG_OP = 'INSERT' THEN\n"
        f"        IF {new} IS NULL THEN\n"
        f"            {new} := {old};\n"
        "        ELSE\n"
        f"            {old} := {new};\n"
        "        END IF;\n"
        f"    ELSIF {new} IS DISTINCT FROM {before} THEN\n"
        f"        {old} := {new};\n"
        "    ELSE\n"
        f"        {new} := {old};\n"
        "    END IF;\n"
        f"{kept}"
        "    RETURN NEW;\n"
        "END\n"
        "$$"
    )
    trigger = (
        f"CREATE OR REPLACE TRIGGER {name} BEFORE INSERT OR UPDATE "
        f"ON {quote_identifier(operation.table)}\n"
        f"FOR EACH ROW EXECUTE FUNCTION {name}()"
    )
    return execute(function, trigger)


def render_unsync_columns(operation: UnsyncColumns) -> Code:
    name = quote_identifier(naming.sync_name(operation.table, operation.sync.name))
    return execute(
        f"DROP TRIGGER IF EXISTS {name} ON {quote_identifier(operation.table)}",
        f"DROP FUNCTION IF EXISTS {name}()",
    )


def render_copy_column(operation: CopyColumn) -> Code:
    steps = Code("migration_steps.copy_column", frozenset({STEPS_IMPORT}))
    arguments = (operation.table, operation.source, operation.target)
    return call(steps, *map(repr, arguments), repr(operation.key))


RENDERERS: tuple[Callable[[Any], Code], ...] = (
    render_sync_columns,
    render_unsync_columns,
    render_copy_column,
)
