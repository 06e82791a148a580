"""Tenant-scoped tables whose primary key moves from ``(id)`` to ``(tenant, id)``.

Projects generated before tenant-first primary keys have, on each tenant-scoped table,
the primary key ``(id)`` and a unique key ``(tenant, id)`` that every composite foreign
key refers to. The move keeps the table available: the unique index of the new key is
built concurrently before the revision's transaction; in the transaction the foreign
keys referring to the old unique key are dropped, the unique key and the old primary key
too, the primary key is attached to the new index (no scan under the lock), and the
foreign keys come back ``NOT VALID``, validated after the transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from entityforge import naming
from entityforge.catalog import Catalog, ForeignKey, Table
from entityforge.migrate.operations import AddUniqueConstraint, DropUniqueConstraint, Operation
from entityforge.migrate.operations.tenancy import BuildKeyIndex, MovePrimaryKey, ReplacePrimaryKey


@dataclass(frozen=True)
class KeyMoves:
    """The index builds that run before the revision's transaction, and the moves."""

    builds: tuple[BuildKeyIndex, ...] = ()
    moves: tuple[MovePrimaryKey, ...] = ()

    def without_replaced(self, operations: tuple[Operation, ...]) -> tuple[Operation, ...]:
        """``operations`` less what the moves do themselves: the primary key replaced,
        the unique keys dropped and added."""
        moved = {move.table: move for move in self.moves}

        def replaced(operation: Operation) -> bool:
            move = moved.get(getattr(operation, "table", ""))
            if move is None:
                return False
            if isinstance(operation, ReplacePrimaryKey):
                return True
            if isinstance(operation, DropUniqueConstraint):
                return operation.constraint in move.dropped_uniques
            if isinstance(operation, AddUniqueConstraint):
                return operation.constraint in move.added_uniques
            return False

        return tuple(operation for operation in operations if not replaced(operation))


def key_moves(
    base: Catalog, current: Catalog, target: Catalog, old_names: Mapping[str, str]
) -> KeyMoves:
    """The moves from ``current`` (``base`` renamed to the new names) to ``target``;
    ``old_names`` maps a table renamed by the revision to its name before it.

    The indexes are built before the renames run, so on the table's old name; if the
    tenant column itself is renamed by the revision, the keys build their indexes in
    the transaction instead."""
    if target.tenancy is None:
        return KeyMoves()
    key = (target.tenancy.column, "id")
    before_tables = {table.name: table for table in current.tables}
    base_tables = {table.name: table for table in base.tables}
    builds: list[BuildKeyIndex] = []
    moves: list[MovePrimaryKey] = []
    for table in target.tables:
        before = before_tables.get(table.name)
        if before is None or not _moves_to_tenant_key(before, table, key):
            continue
        dropped = tuple(u for u in before.uniques if u.columns == key)
        added = tuple(u for u in table.uniques if u not in before.uniques and u.columns == ("id",))
        built_on = old_names.get(table.name, table.name)
        index: str | None = None
        if any(column.name == key[0] for column in base_tables[built_on].columns):
            index = naming.truncate(f"{table.primary_key_name}_next")
            builds.append(BuildKeyIndex(built_on, index, key))
            builds += [BuildKeyIndex(built_on, unique.name, unique.columns) for unique in added]
        referencing = _kept_references(current, target, table.name)
        moves.append(
            MovePrimaryKey(table.name, before.primary_key, key, referencing, dropped, added, index)
        )
    return KeyMoves(tuple(builds), tuple(moves))


def _moves_to_tenant_key(before: Table, table: Table, key: tuple[str, str]) -> bool:
    """A tenant-scoped table of a project made before tenant-first keys: its primary
    key ``(id)`` and a unique key on ``(tenant, id)``."""
    if before.primary_key != ("id",) or table.primary_key != key:
        return False
    return any(unique.columns == key for unique in before.uniques)


def _kept_references(
    current: Catalog, target: Catalog, name: str
) -> tuple[tuple[str, ForeignKey], ...]:
    """Foreign keys both catalogs have, unchanged, referring to table ``name``."""
    kept = {(table.name, fk) for table in current.tables for fk in table.foreign_keys}
    return tuple(
        (table.name, fk)
        for table in target.tables
        for fk in table.foreign_keys
        if fk.referred_table == name and (table.name, fk) in kept
    )
