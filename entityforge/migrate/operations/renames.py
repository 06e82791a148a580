"""Renames: the table, column, constraint, index, type, trigger or role keeps its data
and its identity under a new name. Each reverses to the rename back.

A revision renames before anything else, so every later operation of the revision
names objects by their new names.
"""

from __future__ import annotations

from dataclasses import dataclass

from entityforge.migrate.operations import Operation


@dataclass(frozen=True)
class RenameTable(Operation):
    old: str
    new: str

    @property
    def table(self) -> str:
        return self.new

    def reverse(self) -> RenameTable:
        return RenameTable(self.new, self.old)


@dataclass(frozen=True)
class RenameColumn(Operation):
    table: str
    old: str
    new: str

    def reverse(self) -> RenameColumn:
        return RenameColumn(self.table, self.new, self.old)


@dataclass(frozen=True)
class RenameConstraint(Operation):
    """A primary key, foreign key, unique or check constraint (and a unique
    constraint's index with it)."""

    table: str
    old: str
    new: str

    def reverse(self) -> RenameConstraint:
        return RenameConstraint(self.table, self.new, self.old)


@dataclass(frozen=True)
class RenameIndex(Operation):
    table: str
    old: str
    new: str

    def reverse(self) -> RenameIndex:
        return RenameIndex(self.table, self.new, self.old)


@dataclass(frozen=True)
class RenameEnum(Operation):
    old: str
    new: str

    def reverse(self) -> RenameEnum:
        return RenameEnum(self.new, self.old)


@dataclass(frozen=True)
class RenameTrigger(Operation):
    table: str
    old: str
    new: str

    def reverse(self) -> RenameTrigger:
        return RenameTrigger(self.table, self.new, self.old)


@dataclass(frozen=True)
class RenameRole(Operation):
    """Move a role's duty (reader, writer or admin) to a new name.

    Roles belong to the whole server: the old role is renamed only when it exists, the
    new one does not, and no other database depends on the old one; otherwise the new
    role is created (unless it exists). Either way the new role then holds ``grants``
    (``(table, privileges)``) and the schema USAGE, and the old role, if it is still
    there, loses them and is dropped once nothing depends on it.
    """

    old: str
    new: str
    bypass_rls: bool
    grants: tuple[tuple[str, tuple[str, ...]], ...]

    def reverse(self) -> RenameRole:
        return RenameRole(self.new, self.old, self.bypass_rls, self.grants)
