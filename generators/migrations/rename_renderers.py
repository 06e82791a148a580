"""Renderers of renames, of a role moving to a new name and of filled tenant columns.

``migrations.renderers`` registers every function of ``RENDERERS`` on its dispatcher.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from entityforge.generators import sql
from entityforge.generators.migrations import sql_renames as renames_sql
from entityforge.generators.migrations.code import column, column_type, execute, join, op
from entityforge.generators.python_source import Code, call
from entityforge.generators.table_schemas import project_schemas, schema_keyword
from entityforge.migrate.operations.renames import (
    RenameColumn,
    RenameConstraint,
    RenameEnum,
    RenameIndex,
    RenameRole,
    RenameTable,
    RenameTrigger,
)
from entityforge.migrate.operations.tenancy import (
    AddFilledColumn,
    DropFilledColumn,
    ReplacePrimaryKey,
)


def _op_call(function: str, *arguments: str) -> Code:
    return call(op(function), *arguments)


def render_rename_table(operation: RenameTable) -> Code:
    return _op_call(
        "rename_table", repr(operation.old), repr(operation.new), *schema_keyword(operation.new)
    )


def render_rename_column(operation: RenameColumn) -> Code:
    return _op_call(
        "alter_column",
        repr(operation.table),
        repr(operation.old),
        f"new_column_name={operation.new!r}",
        *schema_keyword(operation.table),
    )


def render_rename_constraint(operation: RenameConstraint) -> Code:
    return execute(renames_sql.rename_constraint(operation.table, operation.old, operation.new))


def render_rename_index(operation: RenameIndex) -> Code:
    return execute(renames_sql.rename_index(operation.table, operation.old, operation.new))


def render_rename_enum(operation: RenameEnum) -> Code:
    return execute(renames_sql.rename_enum(operation.old, operation.new))


def render_rename_trigger(operation: RenameTrigger) -> Code:
    return execute(renames_sql.rename_trigger(operation.table, operation.old, operation.new))


def render_rename_role(operation: RenameRole) -> Code:
    grants = [
        sql.grant_privileges(table, operation.new, privileges)
        for table, privileges in operation.grants
    ]
    return execute(
        renames_sql.take_over_role(operation),
        sql.grant_schema_usage(operation.new),
        *(sql.grant_usage_on_schema(schema, (operation.new,)) for schema in project_schemas()),
        *grants,
        renames_sql.release_role(operation),
    )


def render_add_filled_column(operation: AddFilledColumn) -> Code:
    """Add the column nullable, fill it from the parent rows, then require it."""
    nullable = column(replace(operation.column, nullable=True))
    added = call(
        op("add_column"), repr(operation.table), nullable, *schema_keyword(operation.table)
    )
    fill = execute(
        *renames_sql.fill_column(operation.table, operation.column.name, operation.fill)
    )
    type_ = column_type(operation.column.type)
    existing_type = type_.wrap("existing_type=")
    required = call(
        op("alter_column"),
        repr(operation.table),
        repr(operation.column.name),
        existing_type,
        "nullable=False",
        *schema_keyword(operation.table),
    )
    return join([added, fill, required])


def render_drop_filled_column(operation: DropFilledColumn) -> Code:
    return _op_call(
        "drop_column",
        repr(operation.table),
        repr(operation.column.name),
        *schema_keyword(operation.table),
    )


def render_replace_primary_key(operation: ReplacePrimaryKey) -> Code:
    return execute(*renames_sql.replace_primary_key(operation.table, operation.new_columns))


RENDERERS: tuple[Callable[[Any], Code], ...] = (
    render_rename_table,
    render_rename_column,
    render_rename_constraint,
    render_rename_index,
    render_rename_enum,
    render_rename_trigger,
    render_rename_role,
    render_add_filled_column,
    render_drop_filled_column,
    render_replace_primary_key,
)
