"""The functions through which the application role's searches reach GIN indexes.

Under row-level security a non-leakproof operator (``@>`` on json and arrays, trigram
``ILIKE``) is a filter on the tenant's rows, never an index condition. Each search of a
tenant table (``catalog.Search``) gets a SQL function, ``SECURITY DEFINER`` and owned by
the admin role (which bypasses row-level security), that applies the tenant condition
itself, from the setting and never from an argument, so that both conditions are index
conditions. It returns ids; the repository reads the rows through the table, under the
policy as always. Only the reader and the writer may execute it.
"""

from __future__ import annotations

from dataclasses import dataclass

from entityforge.catalog import Catalog, Search, Table
from entityforge.migrate.operations import Operation
from entityforge.schema import ColumnType, Roles, Tenancy


@dataclass(frozen=True)
class SearchFunction:
    """Everything the function's SQL depends on; ``schema`` is its table's, where it
    lives (``None``: public)."""

    table: str
    search: Search
    argument: ColumnType
    tenancy: Tenancy
    roles: Roles
    schema: str | None = None


@dataclass(frozen=True)
class CreateSearchFunction(Operation):
    function: SearchFunction

    def reverse(self) -> DropSearchFunction:
        return DropSearchFunction(self.function)

    @property
    def table(self) -> str:
        return self.function.table


@dataclass(frozen=True)
class DropSearchFunction(Operation):
    function: SearchFunction

    def reverse(self) -> CreateSearchFunction:
        return CreateSearchFunction(self.function)

    @property
    def table(self) -> str:
        return self.function.table


def search_functions(table: Table, catalog: Catalog) -> list[CreateSearchFunction]:
    """The creations of the search functions of ``table``."""
    if catalog.tenancy is None:
        return []
    tenancy = catalog.tenancy
    return [
        CreateSearchFunction(
            SearchFunction(
                table.name,
                search,
                _argument(table, search),
                tenancy,
                catalog.roles,
                table.schema,
            )
        )
        for search in table.searches
    ]


def _argument(table: Table, search: Search) -> ColumnType:
    """What the function compares the column with: text for ``ILIKE``, a query for
    ``@@``, else the column's own type."""
    if search.operator == "ILIKE":
        return ColumnType("text")
    if search.operator == "@@":
        return ColumnType("tsquery")
    return table.column(search.column).type
