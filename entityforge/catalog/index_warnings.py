"""Indexes the application role cannot use as the owner does (guarantee 12).

Below a row-level security policy PostgreSQL turns a condition into an index condition
only if its operator is LEAKPROOF. Every btree index the generator emits on a tenant
table serves the application role, but for two kinds of column: ``decimal`` (``numeric``
equality and comparisons are not leakproof) and enum columns a project keeps in a native
enum type (see ``defaults: {enums: ...}``), and expressions: PostgreSQL marks the
functions and operators they are made of (``lower``, ``->>``) not leakproof, so a
lookup by one filters the tenant's rows. A unique one enforces its key all the same.
``generate`` names each such index.
"""

from __future__ import annotations

from entityforge.catalog import Catalog, Index, Table


def index_warnings(catalog: Catalog) -> tuple[str, ...]:
    """One line per btree index of a tenant table with a column of those kinds."""
    warnings: list[str] = []
    for table in catalog.tables:
        if not table.tenant_scoped:
            continue
        for index in table.indexes:
            if index.method == "btree":
                warnings += _btree_warnings(table, index)
    return tuple(warnings)


def _btree_warnings(table: Table, index: Index) -> list[str]:
    found = [
        f"{table.name}: index {index.name}: the expression {column.name} is not an index "
        "condition for the application role (its functions and operators are not "
        "leakproof: row-level security makes a lookup by it filter the tenant's rows"
        + ("; the index still enforces uniqueness)" if index.unique else ")")
        for column in index.columns
        if column.expression
    ]
    for name in (column.name for column in index.columns if not column.expression):
        type_ = table.column(name).type
        if type_.name == "decimal":
            found.append(
                f"{table.name}: index {index.name}: the decimal column {name} is not an index "
                "condition for the application role (numeric comparison is not leakproof: "
                "row-level security makes it filter the rows the index finds)"
            )
        elif type_.name == "enum" and type_.enum_name is not None:
            found.append(
                f"{table.name}: index {index.name}: the enum column {name} (type "
                f"{type_.enum_name}) is not an index condition for the application role "
                "(enum equality is not leakproof); defaults: {enums: check} stores it as "
                "varchar with a check (a table rewrite, --allow-destructive)"
            )
    return found
