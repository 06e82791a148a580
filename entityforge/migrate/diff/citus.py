"""``distribution: citus``: the tables distributed by the tenant column, where Citus is.

The tenant table and every tenant-scoped table become distributed tables, colocated
with the tenant table (the tenant table by its ``id``, the others by the tenant
column); global tables become reference tables, copied to every node, which distributed
tables may reference. The revision checks for the ``citus`` extension when it runs and
does nothing without it, so one history serves a single PostgreSQL and a cluster.

Citus wants a table's foreign keys to point at tables it already distributes, and a
colocated table's group to exist: ``distribution_order`` puts the reference tables
first, then the tenant table, then the tenant-scoped tables, each group in the order
the revision creates them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from entityforge.catalog import Catalog, Table
from entityforge.migrate.operations import Operation


@dataclass(frozen=True)
class DistributeTable(Operation):
    """``create_distributed_table`` by ``column`` colocated with ``colocate_with``, or,
    without a column, ``create_reference_table``; only where the citus extension is."""

    table: str
    column: str | None = None
    colocate_with: str | None = None

    def reverse(self) -> UndistributeTable:
        return UndistributeTable(self.table, self.column, self.colocate_with)

    @property
    def rank(self) -> int:
        """Reference tables first, then the tenant table, then the colocated tables."""
        if self.column is None:
            return 0
        return 1 if self.colocate_with is None else 2


@dataclass(frozen=True)
class UndistributeTable(Operation):
    """``undistribute_table`` where the citus extension is and the table is distributed."""

    table: str
    column: str | None = None
    colocate_with: str | None = None

    def reverse(self) -> DistributeTable:
        return DistributeTable(self.table, self.column, self.colocate_with)


def distribution_operations(table: Table, catalog: Catalog) -> list[Operation]:
    """How ``table`` is distributed under ``distribution: citus`` (nothing otherwise)."""
    tenancy = catalog.tenancy
    if tenancy is None or tenancy.distribution != "citus":
        return []
    if table.tenant_policy:
        return [DistributeTable(table.name, "id")]
    tenant_table = next((t.name for t in catalog.tables if t.tenant_policy), None)
    if table.tenant_scoped and tenant_table is not None:
        return [DistributeTable(table.name, tenancy.column, tenant_table)]
    return [DistributeTable(table.name)]


def distribution_order(operations: Sequence[Operation]) -> tuple[Operation, ...]:
    """``operations`` with the distributions moved last, reference tables first and the
    tables colocated with the tenant table after it; undistributions stay in place."""
    others = [op for op in operations if not isinstance(op, DistributeTable)]
    distributions = [op for op in operations if isinstance(op, DistributeTable)]
    distributions.sort(key=lambda op: op.rank)  # stable: creation order within a rank
    return (*others, *distributions)
