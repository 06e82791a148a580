"""A table keeps how it is partitioned: PostgreSQL cannot partition a table that exists,
nor stop partitioning one, without moving every row into a new table.

A revision that would have to is refused with the steps to do it by hand; only
``premake`` may change (the maintenance function is replaced and run again).
"""

from __future__ import annotations

from entityforge.catalog import Table
from entityforge.errors import GenerationError
from entityforge.schema import PartitionSpec


def check_partitioning_kept(before: Table, after: Table) -> None:
    """Raise ``GenerationError`` when ``after`` is partitioned otherwise than ``before``."""
    old, new = _layout(before.partition), _layout(after.partition)
    if old == new:
        return
    table = after.name
    raise GenerationError(
        f"table {table} would change from {_describe(before.partition)} to "
        f"{_describe(after.partition)}, which moves every row into a new table",
        hint=(
            "a generated revision does not rewrite a table this way; keep the partition key "
            f"as it was, or by hand: create the new table beside {table}, copy its rows "
            "(INSERT ... SELECT, in batches), swap the names in one transaction, and drop the "
            "old table; then record the spec with 'entityforge generate' (see "
            "docs/live-migrations.md, Partitioned tables)"
        ),
    )


def _layout(partition: PartitionSpec | None) -> tuple[object, ...] | None:
    if partition is None:
        return None
    return (partition.by, partition.column, partition.interval, partition.partitions)


def _describe(partition: PartitionSpec | None) -> str:
    if partition is None:
        return "a plain table"
    if partition.by == "hash":
        return f"{partition.partitions} hash partitions of {partition.column}"
    return f"range partitions of {partition.column} by {partition.interval}"
