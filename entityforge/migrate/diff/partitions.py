"""A table that becomes partitioned, or stops being partitioned, is rebuilt
(``RebuildTable``): PostgreSQL changes neither in place. The rebuild moves every row
under an ACCESS EXCLUSIVE lock, so a revision holds one only with ``--allow-rewrite``
(``entityforge.migrate.rewrites``), and the migration checks the table's size when it
runs.

It changes how the rows are stored and nothing else: the table's columns stay as they
are in that revision (a column change is a revision of its own, before or after), and a
table partitioned one way is not partitioned another way in one revision (the partitions
of both would share names). Only ``premake`` changes in place (the maintenance function
is replaced and run again).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from entityforge.catalog import Catalog, ForeignKey, Table
from entityforge.errors import GenerationError
from entityforge.migrate.operations import AddForeignKey, Operation
from entityforge.migrate.operations.partitions import RebuildTable, layout
from entityforge.schema import PartitionSpec

Build = Callable[[Table, Catalog, Iterable[ForeignKey]], list[Operation]]
"""What makes a table: its ``CreateTable`` with the given foreign keys, its indexes,
exclusion constraints and extras."""


def check_partitioning_kept(before: Table, after: Table) -> None:
    """Raise ``GenerationError`` when ``after`` is partitioned otherwise than ``before``
    and both are partitioned."""
    if before.partition is None or after.partition is None:
        return
    if layout(before.partition) == layout(after.partition):
        return
    table = after.name
    raise GenerationError(
        f"table {table} would change from {_describe(before.partition)} to "
        f"{_describe(after.partition)}, which moves every row into a new table",
        hint=(
            "change it in two revisions: remove 'partition' and run 'entityforge generate "
            "--allow-rewrite', then add the new 'partition' and run it again (see "
            "docs/live-migrations.md, Partitioned tables)"
        ),
    )


@dataclass(frozen=True)
class Rebuild:
    """``referring``: the foreign keys of other tables that refer to the rebuilt one,
    dropped before every rebuild of the revision and added again after everything else,
    ``NOT VALID`` (validated after the revision's transaction)."""

    operation: RebuildTable
    referring: tuple[AddForeignKey, ...]


def rebuild(
    before: Table,
    after: Table,
    current: Catalog,
    target: Catalog,
    rebuilt: frozenset[str],
    build: Build,
) -> Rebuild:
    """The rebuild of ``before`` (in ``current``) as ``after`` (in ``target``)."""
    _check_columns_kept(before, after)
    inline = _kept_foreign_keys(before, after, rebuilt)
    copied = tuple(column.name for column in after.columns if column.generated is None)
    operation = RebuildTable(
        after.name,
        before,
        after,
        tuple(build(before, current, inline)),
        tuple(build(after, target, inline)),
        copied,
    )
    existing = {table.name for table in current.tables}
    referring = tuple(
        AddForeignKey(table.name, fk, validate_later=True)
        for table in target.tables
        if table.name != after.name and table.name in existing
        for fk in _kept_foreign_keys(current.table(table.name), table, frozenset())
        if fk.referred_table == after.name
    )
    return Rebuild(operation, referring)


def _kept_foreign_keys(
    before: Table, after: Table, rebuilt: frozenset[str]
) -> tuple[ForeignKey, ...]:
    """The foreign keys both tables hold, less those referring to another rebuilt
    table (those are dropped and added again around that table's rebuild)."""
    kept = set(before.foreign_keys)
    return tuple(
        fk
        for fk in after.foreign_keys
        if fk in kept and (fk.referred_table == after.name or fk.referred_table not in rebuilt)
    )


def _check_columns_kept(before: Table, after: Table) -> None:
    old = {column.name: column for column in before.columns}
    new = {column.name: column for column in after.columns}
    changed = sorted(name for name in old.keys() | new.keys() if old.get(name) != new.get(name))
    if not changed:
        return
    table = after.name
    what = "partitioned" if after.partition is not None else "a plain table"
    raise GenerationError(
        f"table {table} becomes {what} while its columns change "
        f"({', '.join(changed)}): a rebuilt table keeps its columns in that revision",
        hint=(
            f"generate the change of partitioning of {table} in a revision of its own: "
            "first the columns, then 'partition', or the other way round"
        ),
    )


def _describe(partition: PartitionSpec) -> str:
    if partition.by == "hash":
        return f"{partition.partitions} hash partitions of {partition.column}"
    return f"range partitions of {partition.column} by {partition.interval}"
