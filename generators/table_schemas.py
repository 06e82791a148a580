"""Where each table of a revision lives: the schema its statements must name.

Table names are unique across a project's schemas, and so are enum type names, so the
catalog and the operations name a table or type by its name alone. A revision is
rendered knowing where each of its tables and types lives (a ``Placement``, set by
``tables_in_schemas``), and every statement reaches one outside ``public`` by its
qualified name (``booking.rooms``), never through ``search_path``. Outside such a block
everything is in ``public``, which keeps the revisions of a spec without ``schema:``
exactly as they were.

``catalog_scope`` is the other side: how the generated tests' catalog queries keep to
the project's schemas.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from entityforge import naming
from entityforge.catalog import Catalog, EnumType, Table
from entityforge.catalog.sql import quote_literal
from entityforge.generators.python_source import LINE_LENGTH
from entityforge.migrate.operations import Operation
from entityforge.migrate.operations.renames import RenameEnum, RenameTable


@dataclass(frozen=True)
class Placement:
    """The schema of each table and enum type outside ``public``, by name."""

    tables: Mapping[str, str] = field(default_factory=dict)
    types: Mapping[str, str] = field(default_factory=dict)


IN_PUBLIC = Placement()
"""Every table and type in ``public``: outside a revision's rendering."""
_placement: ContextVar[Placement] = ContextVar("placement", default=IN_PUBLIC)


def schemas_of(catalog: Catalog, operations: Iterable[Operation] = ()) -> Placement:
    """Where the tables and enum types outside ``public`` live: the catalog's, those the
    operations create or drop (a dropped one is in no later catalog), and a renamed one's
    under its old name too (moves come before renames, in both directions)."""
    operations = tuple(operations)
    tables = {
        operated.name: operated.schema
        for operation in operations
        if isinstance(operated := getattr(operation, "table", None), Table) and operated.schema
    }
    tables.update((table.name, table.schema) for table in catalog.tables if table.schema)
    types = {
        enum.name: enum.schema
        for operation in operations
        if isinstance(enum := getattr(operation, "enum", None), EnumType) and enum.schema
    }
    types.update((enum.name, enum.schema) for enum in catalog.enums if enum.schema)
    for operation in operations:
        renamed = tables if isinstance(operation, RenameTable) else types
        if isinstance(operation, (RenameTable, RenameEnum)) and operation.new in renamed:
            renamed[operation.old] = renamed[operation.new]
    return Placement(tables, types)


@contextmanager
def tables_in_schemas(placement: Placement) -> Iterator[None]:
    """Render with ``placement`` as where the tables and types live."""
    token = _placement.set(placement)
    try:
        yield
    finally:
        _placement.reset(token)


def project_schemas() -> tuple[str, ...]:
    """The schemas other than ``public`` the revision's tables live in, sorted."""
    return tuple(sorted(set(_placement.get().tables.values())))


def type_schema(name: str) -> str | None:
    """The schema of the enum type ``name``, ``None`` for ``public``."""
    return _placement.get().types.get(name)


def quote_type(name: str, schema: str | None = None) -> str:
    """The enum type ``name`` as raw SQL names it (``schema`` instead of its own)."""
    return naming.quote_qualified(naming.qualified_name(schema or type_schema(name), name))


def table_schema(table: str) -> str | None:
    """The schema of ``table``, ``None`` for ``public``."""
    return _placement.get().tables.get(table)


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
