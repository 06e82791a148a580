"""Renderers of the search functions of tenant tables (``entityforge.migrate.operations.search``).

``migrations.renderers`` registers every function of ``RENDERERS`` on its dispatcher.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from entityforge import naming
from entityforge.catalog.sql import quote_literal, sql_type
from entityforge.generators.migrations.code import execute
from entityforge.generators.python_source import Code
from entityforge.migrate.operations.search import (
    CreateSearchFunction,
    DropSearchFunction,
    SearchFunction,
)
from entityforge.naming import quote_identifier


def _name(function: SearchFunction) -> str:
    """The function, in its table's schema (outside ``public``, qualified)."""
    name = naming.qualified_name(function.schema, function.search.function)
    return naming.quote_qualified(name)


def _signature(function: SearchFunction) -> str:
    return f"{_name(function)}({sql_type(function.argument)})"


def create_search_function(function: SearchFunction) -> tuple[str, ...]:
    """The function, its owner (the admin role: row-level security does not bind it),
    and who may execute it (the reader and the writer, nobody else)."""
    search, tenancy, roles = function.search, function.tenancy, function.roles
    setting = quote_literal(tenancy.setting)
    body = (
        f"SELECT id FROM {_table(function)} "
        f"WHERE {quote_identifier(tenancy.column)} = "
        f"NULLIF(pg_catalog.current_setting({setting}, true), '')::uuid "
        # ``$1``, not ``value``: in a SQL function a column of that name would win.
        f"AND {quote_identifier(search.column)} {search.operator} $1"
    )
    signature = _signature(function)
    return (
        f"CREATE FUNCTION {_name(function)}"
        f"(value {sql_type(function.argument)}) RETURNS SETOF uuid\n"
        "LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp\n"
        f"AS $fn${body}$fn$",
        f"ALTER FUNCTION {signature} OWNER TO {quote_identifier(roles.admin)}",
        f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC",
        f"GRANT EXECUTE ON FUNCTION {signature} TO "
        f"{quote_identifier(roles.reader)}, {quote_identifier(roles.writer)}",
    )


def _table(function: SearchFunction) -> str:
    """The table, qualified even in ``public``: the function's search path is empty."""
    schema = function.schema or naming.DEFAULT_SCHEMA
    return f"{quote_identifier(schema)}.{quote_identifier(function.table)}"


def render_create_search_function(operation: CreateSearchFunction) -> Code:
    return execute(*create_search_function(operation.function))


def drop_search_function(function: SearchFunction) -> str:
    return f"DROP FUNCTION IF EXISTS {_signature(function)}"


def render_drop_search_function(operation: DropSearchFunction) -> Code:
    return execute(drop_search_function(operation.function))


RENDERERS: tuple[Callable[[Any], Code], ...] = (
    render_create_search_function,
    render_drop_search_function,
)
