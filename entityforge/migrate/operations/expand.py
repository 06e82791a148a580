"""A column renamed in two steps: both names kept equal while old and new code run.

``SyncColumns`` creates the trigger that copies each write of one name to the other;
``CopyColumn`` fills a column from another, in batches that commit one by one (outside
the revision's transaction); ``UnsyncColumns`` drops the trigger when the old name goes
(``entityforge.migrate.expand`` plans them).
"""

from __future__ import annotations

from dataclasses import dataclass

from entityforge.catalog import ColumnSync
from entityforge.migrate.operations import Operation


@dataclass(frozen=True)
class SyncColumns(Operation):
    """``source`` is the column that holds the values while the other is being filled
    from it (the old one on the way up, the new one when a contract is undone): an update
    that changes neither copies it to the other. ``old_nullable``: whether the old column
    may hold NULL (which the new one, filled from it, may then not be able to take);
    ``updated_at``: whether the table's ``updated_at`` trigger moves ``updated_at`` on
    every update (which a copy must not)."""

    table: str
    sync: ColumnSync
    source: str
    old_nullable: bool = True
    updated_at: bool = False

    def reverse(self) -> UnsyncColumns:
        return UnsyncColumns(
            self.table, self.sync, self.source, self.old_nullable, self.updated_at
        )


@dataclass(frozen=True)
class UnsyncColumns(Operation):
    table: str
    sync: ColumnSync
    source: str
    old_nullable: bool = True
    updated_at: bool = False

    def reverse(self) -> SyncColumns:
        return SyncColumns(self.table, self.sync, self.source, self.old_nullable, self.updated_at)


@dataclass(frozen=True)
class CopyColumn(Operation):
    """``target = source`` on every row where they differ, a batch of rows (in the order
    of ``key``, the primary key) a transaction, while ``trigger`` keeps the two equal
    (a rerun after the trigger is gone copies nothing); its reverse copies the other
    way."""

    table: str
    source: str
    target: str
    key: tuple[str, ...]
    trigger: str

    @property
    def outside_transaction(self) -> bool:
        return True

    def reverse(self) -> CopyColumn:
        return CopyColumn(self.table, self.target, self.source, self.key, self.trigger)
