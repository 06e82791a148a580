"""Tables with rows that become tenant-scoped: where their tenant column's values come from.

A row's tenant is its parent's: a table that becomes tenant-scoped while it has a
required reference to a tenant-scoped table takes each row's tenant from the row it
references (``UPDATE ... FROM parent``). A parent that becomes tenant-scoped in the same
revision is filled first. Without such a reference no value can be derived: the
comparison adds the column as any other required column without a default, which the
revision generator refuses to write (see docs/spec-format.md, "Changing a spec").

(A table whose one reference to the tenant table is dropped as it becomes tenant-scoped
keeps that column as its tenant column: ``entityforge.migrate.renames`` renames it.)
"""

from __future__ import annotations

from collections.abc import Mapping

from entityforge.catalog import Catalog, Column, Table
from entityforge.migrate.operations.tenancy import AddFilledColumn, ColumnFill


def tenant_fills(base: Catalog, target: Catalog) -> tuple[AddFilledColumn, ...]:
    """How each table of both catalogs that gains its tenant column is filled, parents
    before the tables that take their tenant from them."""
    base_tables = {table.name: table for table in base.tables}
    pending = {
        table.name: (table, column)
        for table in target.tables
        if (column := _new_tenant_column(base_tables.get(table.name), table)) is not None
    }
    filled: list[AddFilledColumn] = []
    done: set[str] = set()
    progress = True
    while pending and progress:
        progress = False
        for name in list(pending):
            table, column = pending[name]
            fill = _fill(table, base_tables, done)
            if fill is None:
                continue
            filled.append(AddFilledColumn(name, column, fill))
            done.add(name)
            del pending[name]
            progress = True
    return tuple(filled)


def _new_tenant_column(before: Table | None, table: Table) -> Column | None:
    if before is None:
        return None
    existing = {column.name for column in before.columns}
    return next((c for c in table.columns if c.role == "tenant" and c.name not in existing), None)


def _fill(table: Table, base_tables: Mapping[str, Table], done: set[str]) -> ColumnFill | None:
    """The first required, kept reference whose parent has its tenants: it had its
    tenant column before, or it is filled earlier in the revision."""
    before = base_tables[table.name]
    kept = {column.name for column in before.columns}
    tenant = next(column.name for column in table.columns if column.role == "tenant")
    for fk in table.foreign_keys:
        if len(fk.columns) != 2 or fk.columns[0] != tenant or fk.referred_table == table.name:
            continue
        reference = fk.columns[1]
        parent = base_tables.get(fk.referred_table)
        if reference not in kept or table.column(reference).nullable or parent is None:
            continue
        has_tenants = any(column.name == fk.referred_columns[0] for column in parent.columns)
        if has_tenants or fk.referred_table in done:
            return ColumnFill(
                reference=reference,
                parent_table=fk.referred_table,
                parent_column=fk.referred_columns[0],
                parent_key=fk.referred_columns[1],
                parent_forces_rls=parent.tenant_scoped,
                pauses_updated_at=before.updated_at_trigger,
            )
    return None
