"""Operations that make an existing table tenant-scoped while it holds rows.

The tenant column of a table with rows cannot be added ``NOT NULL`` without a value for
each row: it is added nullable, filled from the row's parent, then made ``NOT NULL``
(``AddFilledColumn``). A junction table's primary key then leads with the tenant column
(``ReplacePrimaryKey``).

A tenant-scoped table made before keys led with the tenant column has the primary key
``(id)`` and a unique key on ``(tenant, id)`` that composite foreign keys refer to; its
primary key moves to ``(tenant, id)`` and the unique key goes (``BuildKeyIndex``,
``MovePrimaryKey``).
"""

from __future__ import annotations

from dataclasses import dataclass

from entityforge.catalog import Column, ForeignKey, UniqueConstraint
from entityforge.migrate.operations import Operation


@dataclass(frozen=True)
class ColumnFill:
    """Where a new required column of a table with rows takes its values from: the
    ``parent_column`` of the row of ``parent_table`` whose ``parent_key`` the
    ``reference`` column holds.

    ``parent_forces_rls``: the parent's row-level security binds its owner too, so the
    fill lifts the FORCE for its one statement. ``pauses_updated_at``: the table's
    ``updated_at`` trigger is disabled while it is filled, the rows' content being
    unchanged.
    """

    reference: str
    parent_table: str
    parent_column: str
    parent_key: str = "id"
    parent_forces_rls: bool = False
    pauses_updated_at: bool = False


@dataclass(frozen=True)
class AddFilledColumn(Operation):
    """Add a required column to a table with rows: nullable, filled, then NOT NULL."""

    table: str
    column: Column
    fill: ColumnFill

    def reverse(self) -> DropFilledColumn:
        return DropFilledColumn(self.table, self.column, self.fill)


@dataclass(frozen=True)
class DropFilledColumn(Operation):
    table: str
    column: Column
    fill: ColumnFill

    def reverse(self) -> AddFilledColumn:
        return AddFilledColumn(self.table, self.column, self.fill)


@dataclass(frozen=True)
class ReplacePrimaryKey(Operation):
    """Give a table's primary key (same name) other columns: a junction table that
    becomes tenant-scoped leads its key with the tenant column."""

    table: str
    old_columns: tuple[str, ...]
    new_columns: tuple[str, ...]

    def reverse(self) -> ReplacePrimaryKey:
        return ReplacePrimaryKey(self.table, self.new_columns, self.old_columns)


@dataclass(frozen=True)
class BuildKeyIndex(Operation):
    """Build the unique index a new primary key will take over, concurrently, before
    the revision's transaction (``MovePrimaryKey`` attaches it)."""

    table: str
    name: str
    columns: tuple[str, ...]

    def reverse(self) -> DiscardKeyIndex:
        return DiscardKeyIndex(self.table, self.name, self.columns)

    @property
    def outside_transaction(self) -> bool:
        return True


@dataclass(frozen=True)
class DiscardKeyIndex(Operation):
    """Drop a key index left unattached (once attached it carries the key's name)."""

    table: str
    name: str
    columns: tuple[str, ...]

    def reverse(self) -> BuildKeyIndex:
        return BuildKeyIndex(self.table, self.name, self.columns)

    @property
    def outside_transaction(self) -> bool:
        return True


@dataclass(frozen=True)
class MovePrimaryKey(Operation):
    """Give a table with rows a primary key on other columns, in one transaction.

    The foreign keys referring to the table (``referencing``) are dropped, the unique
    keys ``dropped_uniques`` and the primary key too; the new primary key and the unique
    keys ``added_uniques`` are added, and the foreign keys are added again ``NOT VALID``
    (validated after the transaction), each now referring to the key that matches it.
    ``prebuilt``: the indexes of the new keys were built concurrently beforehand
    (``BuildKeyIndex``: the primary key's under ``primary_key_index``, a unique key's
    under its own name), and the keys take them over without a scan under the lock;
    otherwise each key builds its index in the transaction (the reverse move)."""

    table: str
    old_columns: tuple[str, ...]
    new_columns: tuple[str, ...]
    referencing: tuple[tuple[str, ForeignKey], ...] = ()
    dropped_uniques: tuple[UniqueConstraint, ...] = ()
    added_uniques: tuple[UniqueConstraint, ...] = ()
    primary_key_index: str | None = None

    def reverse(self) -> MovePrimaryKey:
        return MovePrimaryKey(
            self.table,
            self.new_columns,
            self.old_columns,
            self.referencing,
            self.added_uniques,
            self.dropped_uniques,
        )
