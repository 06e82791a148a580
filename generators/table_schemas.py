"""Where each table of a revision lives: the schema its statements must name.

Table names are unique across a project's schemas, so the catalog and the operations
name a table by its name alone. A revision is rendered knowing the schema of each of its
tables (``tables_in_schemas``), and every statement reaches a table outside ``public`` by
its qualified name (``booking.rooms``), never through ``search_path``. Outside such a
block every table is in ``public``, which keeps the revisions of a spec without
``schema:`` exactly as they were.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from types import MappingProxyType

from entityforge import naming
from entityforge.catalog import Catalog, Table
from entityforge.catalog.sql import quote_literal
from entityforge.generators.python_source import LINE_LENGTH
from entityforge.migrate.operations import Operation
from entityforge.migrate.operations.renames import RenameTable

_schemas: ContextVar[Mapping[str, str]] = ContextVar("table_schemas", default=MappingProxyType({}))


def schemas_of(catalog: Catalog, operations: Iterable[Operation] = ()) -> dict[str, str]:
    """The schema of every table outside ``public``: the catalog's, those of the tables
    the operations create or drop (a dropped table is in no later catalog), and a renamed
    table's under its old name too (moves come before renames, in both directions)."""
    found = {
        operated.name: operated.schema
        for operation in operations
        if isinstance(operated := getattr(operation, "table", None), Table) and operated.schema
    }
    found.update((table.name, table.schema) for table in catalog.tables if table.schema)
    for operation in operations:
        if isinstance(operation, RenameTable) and operation.new in found:
            found[operation.old] = found[operation.new]
    return found


@contextmanager
def tables_in_schemas(schemas: Mapping[str, str]) -> Iterator[None]:
    """Render with ``schemas`` (table name to schema) as where the tables live."""
    token = _schemas.set(schemas)
    try:
        yield
    finally:
        _schemas.reset(token)


def table_schema(table: str) -> str | None:
    """The schema of ``table``, ``None`` for ``public``."""
    return _schemas.get().get(table)


def qualified_table(table: str) -> str:
    """``schema.table`` for a table outside ``public``, else the table's name."""
    return naming.qualified_name(table_schema(table), table)


def quote_table(table: str) -> str:
    """The table as raw SQL names it: qualified outside ``public``, quoted where needed."""
    return naming.quote_qualified(qualified_table(table))


def schema_keyword(table: str, keyword: str = "schema") -> tuple[str, ...]:
    """The ``schema=`` argument of an Alembic ``op`` call on ``table``, if it needs one."""
    schema = table_schema(table)
    return (f"{keyword}={schema!r}",) if schema else ()


@dataclass(frozen=True)
class CatalogScope:
    """How the generated tests' catalog queries keep to the project's schemas: a test of a
    namespace oid (``relnamespace``) and of a schema name (``schemaname``)."""

    in_namespaces: str
    in_schemas: str


def catalog_scope(schemas: tuple[str, ...]) -> CatalogScope:
    """``public`` alone, or with the project's other schemas, which may not exist yet
    (before the first upgrade, after the last downgrade): no ``regnamespace`` cast then.
    The list of names stands on lines of its own, which keep to the line length."""
    if not schemas:
        return CatalogScope("= 'public'::regnamespace", "= 'public'")
    names = ", ".join(quote_literal(name) for name in (naming.DEFAULT_SCHEMA, *schemas))
    return CatalogScope(
        f"IN (\n            SELECT oid FROM pg_namespace WHERE nspname IN (\n"
        f"{_lines(names, 16)}\n            )\n        )",
        f"IN (\n{_lines(names, 12)}\n        )",
    )


def _lines(text: str, indent: int) -> str:
    return textwrap.fill(
        text, width=LINE_LENGTH, initial_indent=" " * indent, subsequent_indent=" " * indent
    )
