"""Operations that make an existing table tenant-scoped while it holds rows.

The tenant column of a table with rows cannot be added ``NOT NULL`` without a value for
each row: it is added nullable, filled from the row's parent, then made ``NOT NULL``
(``AddFilledColumn``). A junction table's primary key then leads with the tenant column
(``ReplacePrimaryKey``).
"""

from __future__ import annotations

from dataclasses import dataclass

from entityforge.catalog import Column
from entityforge.operations import Operation


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
