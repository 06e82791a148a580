"""Where each table of a revision lives: the schema its statements must name.

Table names are unique across a project's schemas, so the catalog and the operations
name a table by its name alone. A revision is rendered knowing the schema of each of its
tables (``tables_in_schemas``), and every statement reaches a table outside ``public`` by
its qualified name (``booking.rooms``), never through ``search_path``. Outside such a
block every table is in ``public``, which keeps the revisions of a spec without
``schema:`` exactly as they were.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType

from entityforge import naming
from entityforge.catalog import Catalog, Table
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
