"""A partitioned table's partitions and the function that makes them ahead of time.

``CreatePartitions`` follows the ``CreateTable`` of a table with a ``partition``: for a
range partitioning, the default partition and a maintenance function (``SECURITY
DEFINER``, executable by the admin) that makes the current interval's partition and
``premake`` more ahead, run once by the revision; for a hash partitioning, its fixed
partitions. Partitions are granted to nobody: the reader and the writer reach their rows
through the parent, whose row-level security and grants apply to them. A partition of a
tenant-scoped table has row-level security enabled and forced, and the tenant policy, of
its own too, so that a grant made on it by hand would not let a tenant through.
"""

from __future__ import annotations

from dataclasses import dataclass

from entityforge.migrate.operations import Operation
from entityforge.schema import PartitionSpec, Roles, Tenancy


@dataclass(frozen=True)
class _Partitions(Operation):
    """``bound`` is the partition column's type (``timestamptz`` or ``date`` for range,
    which its bounds take);
    ``tenancy``, on a tenant-scoped table, gives every partition the tenant policy."""

    table: str
    partition: PartitionSpec
    roles: Roles
    bound: str = "timestamptz"
    tenancy: Tenancy | None = None
    stored: tuple[str, ...] = ()
    """On a table with generated columns, the others: what a row moved between
    partitions carries (the database computes the generated ones again)."""


@dataclass(frozen=True)
class CreatePartitions(_Partitions):
    def reverse(self) -> DropPartitions:
        return DropPartitions(
            self.table, self.partition, self.roles, self.bound, self.tenancy, self.stored
        )


@dataclass(frozen=True)
class DropPartitions(_Partitions):
    """The maintenance function goes; the partitions go with their table."""

    def reverse(self) -> CreatePartitions:
        return CreatePartitions(
            self.table, self.partition, self.roles, self.bound, self.tenancy, self.stored
        )


@dataclass(frozen=True)
class ReplacePartitionMaintenance(Operation):
    """A kept range-partitioned table's new ``premake``: its maintenance function is
    replaced and run (the partitions it made before stay)."""

    old: CreatePartitions
    new: CreatePartitions

    def reverse(self) -> ReplacePartitionMaintenance:
        return ReplacePartitionMaintenance(self.new, self.old)
