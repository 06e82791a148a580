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

from entityforge import naming
from entityforge.catalog import Catalog, Table
from entityforge.migrate.operations import CreateTable, Operation
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


def layout(partition: PartitionSpec | None) -> tuple[object, ...] | None:
    """What a table's rows are stored by: changing it moves every row to a new table."""
    if partition is None:
        return None
    return (partition.by, partition.column, partition.interval, partition.partitions)


def rebuilt_tables(current: Catalog, target: Catalog) -> frozenset[str]:
    """The tables both catalogs hold that become partitioned or stop being partitioned."""
    before = {table.name: table for table in current.tables}
    return frozenset(
        table.name
        for table in target.tables
        if table.name in before
        and (before[table.name].partition is None) != (table.partition is None)
    )


@dataclass(frozen=True)
class RebuildTable(Operation):
    """A table with rows that becomes partitioned, or stops being partitioned: PostgreSQL
    changes neither in place, so the revision builds the new table and moves the rows.

    In its transaction, under an ACCESS EXCLUSIVE lock on the table: what ``built_before``
    added beside the table goes (functions, triggers, policies, grants); the table is
    renamed to ``aside`` and its keys and indexes dropped, so that their names are free;
    the new table is built from ``built_after`` (its ``CreateTable`` first, then its
    partitions: a range partitioning also gets one for each interval its rows span), the
    ``copied`` columns of every row are moved into it, the rest of ``built_after``
    follows, and the old table goes. Foreign keys referring to the table are the diff's:
    dropped before, added again after, ``NOT VALID``."""

    table: str
    before: Table
    after: Table
    built_before: tuple[Operation, ...]
    built_after: tuple[Operation, ...]
    copied: tuple[str, ...]

    @property
    def aside(self) -> str:
        return naming.rebuilt_table(self.table)

    @property
    def created(self) -> CreateTable:
        return next(op for op in self.built_after if isinstance(op, CreateTable))

    def reverse(self) -> RebuildTable:
        return RebuildTable(
            self.table, self.after, self.before, self.built_after, self.built_before, self.copied
        )
