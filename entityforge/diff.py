"""Compare two catalogs and list the operations that turn the first into the second.

Everything is set algebra keyed on names, iterated in a fixed order. What the new
catalog adds is created in dependency order: prerequisites (extensions, roles, enum
types, the trigger function) first, then tables and what hangs off them, foreign keys
last so that cycles work. What the old catalog had and the new one lacks is computed
the same way with the catalogs swapped, then inverted, which drops things in a safe
order by construction. A column or enum type present in both but different becomes an
alteration; any other object that changed under the same name is dropped and created.

    upgrade = prerequisites added, dependents removed, alterations,
              dependents added, prerequisites removed
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Protocol, TypeVar

from entityforge.catalog import Catalog, Column, Table
from entityforge.errors import GenerationError
from entityforge.operations import (
    AddCheckConstraint,
    AddColumn,
    AddForeignKey,
    AddUniqueConstraint,
    AlterColumn,
    AlterEnum,
    AlterTableComment,
    CreateEnum,
    CreateExtension,
    CreateIndex,
    CreateRole,
    CreateTable,
    CreateTenantPolicy,
    CreateUpdatedAtFunction,
    CreateUpdatedAtTrigger,
    EnableRowLevelSecurity,
    EnumUse,
    GrantPrivileges,
    Operation,
    invert,
)

READ = ("SELECT",)
WRITE = ("SELECT", "INSERT", "UPDATE", "DELETE")

Key = tuple[str, str]


class _HasName(Protocol):
    @property
    def name(self) -> str: ...


Named = TypeVar("Named", bound=_HasName)


def compare_catalogs(old: Catalog | None, new: Catalog) -> tuple[Operation, ...]:
    """The upgrade from ``old`` (``None``: an empty database) to ``new``.

    A catalog without tables stands for the empty database: it has no roles either.
    """
    base = old or Catalog(tables=())
    volatile = _volatile_objects(base, new)
    added = _additions(base, new, volatile)
    removed = _additions(new, base, volatile)
    return (
        *added.prerequisites,
        *invert(removed.dependents),
        *_alterations(base, new),
        *added.dependents,
        *invert(removed.prerequisites),
    )


def role_privileges(catalog: Catalog) -> tuple[tuple[str, bool, tuple[str, ...]], ...]:
    """``(role, bypasses RLS, table privileges)`` for the reader, writer and admin."""
    if not catalog.tables:
        return ()
    roles = catalog.roles
    return ((roles.reader, False, READ), (roles.writer, False, WRITE), (roles.admin, True, WRITE))


@dataclass(frozen=True)
class _Additions:
    prerequisites: tuple[Operation, ...]
    dependents: tuple[Operation, ...]


def _additions(base: Catalog, target: Catalog, volatile: frozenset[Key]) -> _Additions:
    """What ``target`` has that ``base`` lacks (or has differently), in creation order."""
    base_enums = {enum.name for enum in base.enums}
    base_roles = {(name, bypass) for name, bypass, _ in role_privileges(base)}
    prerequisites: list[Operation] = [
        CreateExtension(name) for name in sorted(set(target.extensions) - set(base.extensions))
    ]
    prerequisites += [
        CreateRole(name, bypass)
        for name, bypass, _ in role_privileges(target)
        if (name, bypass) not in base_roles
    ]
    prerequisites += [
        CreateEnum(enum)
        for enum in sorted(target.enums, key=lambda enum: enum.name)
        if enum.name not in base_enums
    ]
    if target.needs_updated_at_function and not base.needs_updated_at_function:
        prerequisites.append(CreateUpdatedAtFunction())
    return _Additions(tuple(prerequisites), _dependents(base, target, volatile))


def _dependents(base: Catalog, target: Catalog, volatile: frozenset[Key]) -> tuple[Operation, ...]:
    """Changes to kept tables, then new tables, then every foreign key they lack."""
    base_tables = {table.name: table for table in base.tables}
    operations: list[Operation] = []
    foreign_keys: list[Operation] = []
    for table in target.tables:
        if table.name in base_tables:
            before = base_tables[table.name]
            operations += _table_additions(before, table, base, target, volatile)
            foreign_keys += [
                AddForeignKey(table.name, fk)
                for fk in _added(before.foreign_keys, table.foreign_keys, table.name, volatile)
            ]
    existing = set(base_tables)
    for table in _creation_order([t for t in target.tables if t.name not in base_tables]):
        existing.add(table.name)
        inline = tuple(fk for fk in table.foreign_keys if fk.referred_table in existing)
        foreign_keys += [
            AddForeignKey(table.name, fk) for fk in table.foreign_keys if fk not in inline
        ]
        operations.append(CreateTable(replace(table, foreign_keys=inline, indexes=())))
        operations += [CreateIndex(table.name, index) for index in table.indexes]
        operations += _table_extras(table, target)
    return (*operations, *foreign_keys)


def _table_additions(
    before: Table, table: Table, base: Catalog, target: Catalog, volatile: frozenset[Key]
) -> list[Operation]:
    """What a table kept from ``before`` gains: columns, constraints, indexes, extras."""
    if before.primary_key != table.primary_key:
        raise GenerationError(
            f"the primary key of table {table.name} changes from {before.primary_key} "
            f"to {table.primary_key}",
            hint="a generated revision cannot change a primary key; write that revision by hand",
        )
    name = table.name
    before_columns = {column.name for column in before.columns}
    operations: list[Operation] = [
        AddColumn(name, column) for column in table.columns if column.name not in before_columns
    ]
    operations += [
        AddUniqueConstraint(name, unique)
        for unique in _added(before.uniques, table.uniques, name, volatile)
    ]
    operations += [
        AddCheckConstraint(name, check)
        for check in _added(before.checks, table.checks, name, volatile)
    ]
    operations += [
        CreateIndex(name, index) for index in _added(before.indexes, table.indexes, name, volatile)
    ]
    before_extras = set(_table_extras(before, base))
    operations += [op for op in _table_extras(table, target) if op not in before_extras]
    return operations


def _table_extras(table: Table, catalog: Catalog) -> list[Operation]:
    """The trigger, row-level security, policy and grants a table carries."""
    operations: list[Operation] = []
    if table.updated_at_trigger:
        operations.append(CreateUpdatedAtTrigger(table.name))
    if table.tenant_scoped and catalog.tenancy:
        operations.append(EnableRowLevelSecurity(table.name))
        tenancy = catalog.tenancy
        operations.append(CreateTenantPolicy(table.name, tenancy.column, tenancy.setting))
    operations += [
        GrantPrivileges(table.name, role, privileges)
        for role, _, privileges in role_privileges(catalog)
    ]
    return operations


def _added(
    before: Iterable[Named], after: Iterable[Named], table: str, volatile: frozenset[Key]
) -> list[Named]:
    """Objects of ``after`` whose name ``before`` lacks, or holds with another definition."""
    previous = {item.name: item for item in before}
    return [
        item for item in after if previous.get(item.name) != item or (table, item.name) in volatile
    ]


def _creation_order(tables: list[Table]) -> list[Table]:
    """Referred tables before referring ones, in catalog order otherwise; cycles broken
    at the first table still waiting (its foreign keys are then added afterwards)."""
    pending = list(tables)
    names = {table.name for table in tables}
    ordered: list[Table] = []
    done: set[str] = set()
    while pending:
        ready = next(
            (
                table
                for table in pending
                if all(
                    fk.referred_table in done
                    or fk.referred_table == table.name
                    or fk.referred_table not in names
                    for fk in table.foreign_keys
                )
            ),
            pending[0],
        )
        pending.remove(ready)
        ordered.append(ready)
        done.add(ready.name)
    return ordered


def _alterations(old: Catalog, new: Catalog) -> tuple[Operation, ...]:
    """Enum types and columns present in both catalogs with another definition."""
    old_tables = {table.name: table for table in old.tables}
    altered_enums = _altered_enums(old, new)
    operations: list[Operation] = []
    for name, (old_values, new_values) in sorted(altered_enums.items()):
        uses = tuple(
            EnumUse(table, before, after)
            for table, before, after in _kept_columns(old_tables, new)
            if before.type.enum_name == name and after.type.enum_name == name
        )
        operations.append(AlterEnum(name, old_values, new_values, uses))
    for table in new.tables:
        if table.name not in old_tables:
            continue
        before_table = old_tables[table.name]
        if before_table.comment != table.comment:
            operations.append(AlterTableComment(table.name, before_table.comment, table.comment))
    for table, before, after in _kept_columns(old_tables, new):
        before = replace(before, role=after.role)  # what a column is for is not in the DDL
        if after.type.enum_name in altered_enums and before.type.enum_name == after.type.enum_name:
            # AlterEnum converts the column and resets its default.
            before = replace(before, type=after.type, default=after.default)
            before = replace(before, default_sql=after.default_sql)
        if before != after:
            operations.append(AlterColumn(table, before, after))
    return tuple(operations)


def _kept_columns(
    old_tables: Mapping[str, Table], new: Catalog
) -> list[tuple[str, Column, Column]]:
    """``(table, old column, new column)`` for every column both catalogs have."""
    kept = []
    for table in new.tables:
        before = old_tables.get(table.name)
        if before is None:
            continue
        before_columns = {column.name: column for column in before.columns}
        kept += [
            (table.name, before_columns[column.name], column)
            for column in table.columns
            if column.name in before_columns
        ]
    return kept


def _altered_enums(
    old: Catalog, new: Catalog
) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    old_values = {enum.name: enum.values for enum in old.enums}
    return {
        enum.name: (old_values[enum.name], enum.values)
        for enum in new.enums
        if enum.name in old_values and old_values[enum.name] != enum.values
    }


def _volatile_objects(old: Catalog, new: Catalog) -> frozenset[Key]:
    """Partial indexes and checks that mention a column whose enum type changes: their
    expressions hold constants of the old type, so they are dropped and created again."""
    altered = _altered_enums(old, new)
    volatile: set[Key] = set()
    for table in old.tables:
        columns = [c.name for c in table.columns if c.type.enum_name in altered]
        if not columns:
            continue
        mentions = re.compile(r"\b(" + "|".join(map(re.escape, columns)) + r")\b")
        volatile |= {
            (table.name, index.name)
            for index in table.indexes
            if index.where and mentions.search(index.where)
        }
        volatile |= {
            (table.name, check.name) for check in table.checks if mentions.search(check.expression)
        }
    return frozenset(volatile)
