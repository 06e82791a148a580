"""Schema changes as frozen values, each knowing the operation that undoes it.

A revision's upgrade is a flat tuple of operations (``entityforge.migrate.diff`` computes it);
its downgrade is ``invert(upgrade)``: the reverse of every operation, last first.
Nobody writes a downgrade by hand. Operations carry whole catalog values (a table, a
column, an index) rather than names alone, so that every reverse is complete.

A few operations cannot run inside a transaction block (``CREATE INDEX CONCURRENTLY``,
``ALTER TYPE ... ADD VALUE`` whose label the same transaction could not use): their
``outside_transaction`` is true and the revision runs them in an autocommit block.
Renames live in ``entityforge.migrate.operations.renames``; filling a new required column of a
table with rows in ``entityforge.migrate.operations.tenancy``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass

from entityforge.catalog import (
    CheckConstraint,
    Column,
    EnumType,
    ForeignKey,
    Index,
    Table,
    UniqueConstraint,
)


class Operation(ABC):
    """One step of a revision."""

    @abstractmethod
    def reverse(self) -> Operation:
        """The operation that undoes this one."""

    @property
    def outside_transaction(self) -> bool:
        """Whether the step must run outside a transaction block (autocommit)."""
        return False


def invert(operations: Iterable[Operation]) -> tuple[Operation, ...]:
    """The operations that undo ``operations``: each reversed, in reverse order."""
    return tuple(operation.reverse() for operation in reversed(tuple(operations)))


@dataclass(frozen=True)
class CreateExtension(Operation):
    name: str

    def reverse(self) -> DropExtension:
        return DropExtension(self.name)


@dataclass(frozen=True)
class DropExtension(Operation):
    name: str

    def reverse(self) -> CreateExtension:
        return CreateExtension(self.name)


@dataclass(frozen=True)
class CreateRole(Operation):
    """A NOLOGIN role created when missing, with USAGE on the schema."""

    name: str
    bypass_rls: bool = False

    def reverse(self) -> DropRole:
        return DropRole(self.name, self.bypass_rls)


@dataclass(frozen=True)
class DropRole(Operation):
    """Revoke the schema USAGE; drop the role unless anything else still depends on it."""

    name: str
    bypass_rls: bool = False

    def reverse(self) -> CreateRole:
        return CreateRole(self.name, self.bypass_rls)


@dataclass(frozen=True)
class CreateEnum(Operation):
    enum: EnumType

    def reverse(self) -> DropEnum:
        return DropEnum(self.enum)


@dataclass(frozen=True)
class DropEnum(Operation):
    enum: EnumType

    def reverse(self) -> CreateEnum:
        return CreateEnum(self.enum)


@dataclass(frozen=True)
class EnumUse:
    """A column of an altered enum type, as it is before and after the change."""

    table: str
    before: Column
    after: Column

    def reversed(self) -> EnumUse:
        return EnumUse(self.table, self.after, self.before)


@dataclass(frozen=True)
class AlterEnum(Operation):
    """Replace an enum type's labels by swapping the type: rename the old type, create
    the new one, convert every column that uses it through text, drop the old type.

    ``dependents`` are the operations that create the indexes and checks whose
    expressions hold constants of the type (a partial index ``WHERE status <> 'done'``):
    they are dropped before the conversion and created again after it.
    """

    name: str
    old_values: tuple[str, ...]
    new_values: tuple[str, ...]
    uses: tuple[EnumUse, ...] = ()
    dependents: tuple[Operation, ...] = ()

    def reverse(self) -> AlterEnum:
        uses = tuple(use.reversed() for use in self.uses)
        return AlterEnum(self.name, self.new_values, self.old_values, uses, self.dependents)

    @property
    def removed_values(self) -> tuple[str, ...]:
        return tuple(value for value in self.old_values if value not in self.new_values)


@dataclass(frozen=True)
class AddEnumValues(Operation):
    """Add labels in place (``ALTER TYPE ... ADD VALUE``), outside a transaction.

    ``new_values`` keeps ``old_values`` in their order. The reverse cannot remove a
    label in place: it is the type swap, which is why this operation carries the uses
    and dependents the swap needs.
    """

    name: str
    old_values: tuple[str, ...]
    new_values: tuple[str, ...]
    uses: tuple[EnumUse, ...] = ()
    dependents: tuple[Operation, ...] = ()

    def reverse(self) -> AlterEnum:
        uses = tuple(use.reversed() for use in self.uses)
        return AlterEnum(self.name, self.new_values, self.old_values, uses, self.dependents)

    @property
    def outside_transaction(self) -> bool:
        return True

    @property
    def added_values(self) -> tuple[str, ...]:
        return tuple(value for value in self.new_values if value not in self.old_values)


@dataclass(frozen=True)
class CreateUpdatedAtFunction(Operation):
    """The trigger function that moves ``updated_at`` on every UPDATE."""

    def reverse(self) -> DropUpdatedAtFunction:
        return DropUpdatedAtFunction()


@dataclass(frozen=True)
class DropUpdatedAtFunction(Operation):
    def reverse(self) -> CreateUpdatedAtFunction:
        return CreateUpdatedAtFunction()


@dataclass(frozen=True)
class CreateTable(Operation):
    """A table with its columns, keys, uniques, checks and the foreign keys it holds.

    Indexes are separate ``CreateIndex`` operations; foreign keys to tables created
    later are separate ``AddForeignKey`` operations.
    """

    table: Table

    def reverse(self) -> DropTable:
        return DropTable(self.table)


@dataclass(frozen=True)
class DropTable(Operation):
    table: Table

    def reverse(self) -> CreateTable:
        return CreateTable(self.table)


@dataclass(frozen=True)
class AlterTableComment(Operation):
    table: str
    old_comment: str | None
    new_comment: str | None

    def reverse(self) -> AlterTableComment:
        return AlterTableComment(self.table, self.new_comment, self.old_comment)


@dataclass(frozen=True)
class AddColumn(Operation):
    table: str
    column: Column

    def reverse(self) -> DropColumn:
        return DropColumn(self.table, self.column)


@dataclass(frozen=True)
class DropColumn(Operation):
    table: str
    column: Column

    def reverse(self) -> AddColumn:
        return AddColumn(self.table, self.column)


@dataclass(frozen=True)
class AlterColumn(Operation):
    """Change a column's type, nullability, default or comment (same name)."""

    table: str
    old: Column
    new: Column

    def reverse(self) -> AlterColumn:
        return AlterColumn(self.table, self.new, self.old)


@dataclass(frozen=True)
class AddUniqueConstraint(Operation):
    """``concurrently``: on a table with rows, build the unique index without blocking
    writes (``CREATE UNIQUE INDEX CONCURRENTLY``), then attach it as the constraint."""

    table: str
    constraint: UniqueConstraint
    concurrently: bool = False

    def reverse(self) -> DropUniqueConstraint:
        return DropUniqueConstraint(self.table, self.constraint, self.concurrently)

    @property
    def outside_transaction(self) -> bool:
        return self.concurrently


@dataclass(frozen=True)
class DropUniqueConstraint(Operation):
    table: str
    constraint: UniqueConstraint
    concurrently: bool = False

    def reverse(self) -> AddUniqueConstraint:
        return AddUniqueConstraint(self.table, self.constraint, self.concurrently)

    @property
    def outside_transaction(self) -> bool:
        return self.concurrently


@dataclass(frozen=True)
class AddCheckConstraint(Operation):
    """``validate_later``: on a table with rows, add it ``NOT VALID`` (no scan under the
    lock) and ``VALIDATE`` it after the revision's transaction has committed."""

    table: str
    constraint: CheckConstraint
    validate_later: bool = False

    def reverse(self) -> DropCheckConstraint:
        return DropCheckConstraint(self.table, self.constraint, self.validate_later)


@dataclass(frozen=True)
class DropCheckConstraint(Operation):
    table: str
    constraint: CheckConstraint
    validate_later: bool = False

    def reverse(self) -> AddCheckConstraint:
        return AddCheckConstraint(self.table, self.constraint, self.validate_later)


@dataclass(frozen=True)
class AddForeignKey(Operation):
    """``validate_later`` as for ``AddCheckConstraint``."""

    table: str
    foreign_key: ForeignKey
    validate_later: bool = False

    def reverse(self) -> DropForeignKey:
        return DropForeignKey(self.table, self.foreign_key, self.validate_later)


@dataclass(frozen=True)
class DropForeignKey(Operation):
    table: str
    foreign_key: ForeignKey
    validate_later: bool = False

    def reverse(self) -> AddForeignKey:
        return AddForeignKey(self.table, self.foreign_key, self.validate_later)


@dataclass(frozen=True)
class CreateIndex(Operation):
    """``concurrently``: on a table with rows, build without blocking writes;
    ``partitioned``: the table is partitioned, so that is done partition by partition
    (PostgreSQL builds no index of a partitioned table concurrently)."""

    table: str
    index: Index
    concurrently: bool = False
    partitioned: bool = False

    def reverse(self) -> DropIndex:
        return DropIndex(self.table, self.index, self.concurrently, self.partitioned)

    @property
    def outside_transaction(self) -> bool:
        return self.concurrently


@dataclass(frozen=True)
class DropIndex(Operation):
    """``partitioned`` as for ``CreateIndex``: an index of a partitioned table is dropped
    at once, with its partitions' (PostgreSQL drops none concurrently)."""

    table: str
    index: Index
    concurrently: bool = False
    partitioned: bool = False

    def reverse(self) -> CreateIndex:
        return CreateIndex(self.table, self.index, self.concurrently, self.partitioned)

    @property
    def outside_transaction(self) -> bool:
        return self.concurrently


@dataclass(frozen=True)
class CreateUpdatedAtTrigger(Operation):
    table: str

    def reverse(self) -> DropUpdatedAtTrigger:
        return DropUpdatedAtTrigger(self.table)


@dataclass(frozen=True)
class DropUpdatedAtTrigger(Operation):
    table: str

    def reverse(self) -> CreateUpdatedAtTrigger:
        return CreateUpdatedAtTrigger(self.table)


@dataclass(frozen=True)
class EnableRowLevelSecurity(Operation):
    """ENABLE and FORCE row-level security, so the table owner is bound by it too."""

    table: str

    def reverse(self) -> DisableRowLevelSecurity:
        return DisableRowLevelSecurity(self.table)


@dataclass(frozen=True)
class DisableRowLevelSecurity(Operation):
    table: str

    def reverse(self) -> EnableRowLevelSecurity:
        return EnableRowLevelSecurity(self.table)


@dataclass(frozen=True)
class CreateTenantPolicy(Operation):
    """The ``tenant_isolation`` policy: rows of the tenant named by ``setting`` only."""

    table: str
    column: str
    setting: str

    def reverse(self) -> DropTenantPolicy:
        return DropTenantPolicy(self.table, self.column, self.setting)


@dataclass(frozen=True)
class DropTenantPolicy(Operation):
    table: str
    column: str
    setting: str

    def reverse(self) -> CreateTenantPolicy:
        return CreateTenantPolicy(self.table, self.column, self.setting)


@dataclass(frozen=True)
class GrantPrivileges(Operation):
    table: str
    role: str
    privileges: tuple[str, ...]

    def reverse(self) -> RevokePrivileges:
        return RevokePrivileges(self.table, self.role, self.privileges)


@dataclass(frozen=True)
class RevokePrivileges(Operation):
    table: str
    role: str
    privileges: tuple[str, ...]

    def reverse(self) -> GrantPrivileges:
        return GrantPrivileges(self.table, self.role, self.privileges)
