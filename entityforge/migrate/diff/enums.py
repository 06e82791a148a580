"""Enum types whose labels change.

Labels only added, the old ones keeping their order, are added in place
(``AddEnumValues``: ``ALTER TYPE ... ADD VALUE``, first in the revision, outside its
transaction so that the rest of the revision may use them). Any other change swaps the
type (``AlterEnum``). Either way the operation carries the columns of the type and the
indexes and checks whose expressions hold its constants: a swap drops those before
converting the columns and creates them again after, and the swap is also how an
in-place addition is undone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from entityforge.catalog import Catalog, Column, Table
from entityforge.migrate.operations import (
    AddCheckConstraint,
    AddEnumValues,
    AlterEnum,
    CreateIndex,
    EnumUse,
    Operation,
)
from entityforge.migrate.operations.enums import ChangeEnumStorage
from entityforge.parse_tree import references

Labels = tuple[str, ...]


def altered_enums(old: Catalog, new: Catalog) -> dict[str, tuple[Labels, Labels]]:
    """``{type: (old labels, new labels)}`` for the types both catalogs hold differently."""
    old_values = {enum.name: enum.values for enum in old.enums}
    return {
        enum.name: (old_values[enum.name], enum.values)
        for enum in new.enums
        if enum.name in old_values and old_values[enum.name] != enum.values
    }


def is_addition(old_values: Labels, new_values: Labels) -> bool:
    """Whether ``new_values`` only adds labels, keeping the old ones in their order."""
    return tuple(value for value in new_values if value in old_values) == old_values


def enum_additions(
    old: Catalog, new: Catalog, renamed: Mapping[str, str]
) -> tuple[tuple[AddEnumValues, ...], dict[str, Labels]]:
    """The in-place additions, on ``old``'s type names (``renamed`` maps them to the
    new names), and ``{new type name: labels}`` for the types they change."""
    new_values = {enum.name: enum.values for enum in new.enums}
    operations: list[AddEnumValues] = []
    applied: dict[str, Labels] = {}
    for enum in sorted(old.enums, key=lambda enum: enum.name):
        name = renamed.get(enum.name, enum.name)
        after = new_values.get(name)
        if after is None or after == enum.values or not is_addition(enum.values, after):
            continue
        uses = tuple(
            EnumUse(table.name, column, _with_labels(column, after))
            for table in old.tables
            for column in table.columns
            if column.type.enum_name == enum.name
        )
        dependents = tuple(_dependents(old.tables, enum.name))
        operations.append(AddEnumValues(enum.name, enum.values, after, uses, dependents))
        applied[name] = after
    return tuple(operations), applied


def with_enum_labels(catalog: Catalog, labels: Mapping[str, Labels]) -> Catalog:
    """``catalog`` with the types of ``labels`` holding those labels, columns included."""
    if not labels:
        return catalog
    tables = tuple(
        replace(
            table,
            columns=tuple(
                (
                    _with_labels(column, labels[column.type.enum_name])
                    if column.type.enum_name is not None and column.type.enum_name in labels
                    else column
                )
                for column in table.columns
            ),
        )
        for table in catalog.tables
    )
    enums = tuple(
        replace(enum, values=labels.get(enum.name, enum.values)) for enum in catalog.enums
    )
    return replace(catalog, tables=tables, enums=enums)


def enum_swaps(
    old: Catalog, new: Catalog, kept: list[tuple[str, Column, Column]]
) -> list[AlterEnum]:
    """A type swap for each type whose labels change otherwise than by additions.

    ``kept`` lists ``(table, old column, new column)`` for the columns both hold; the
    dependents are the indexes and checks that mention a column of the type and stay
    as they are (changed ones are dropped and created by the comparison itself)."""
    new_tables = {table.name: table for table in new.tables}
    operations: list[AlterEnum] = []
    for name, (old_values, new_values) in sorted(altered_enums(old, new).items()):
        uses = tuple(
            EnumUse(table, before, after)
            for table, before, after in kept
            if before.type.enum_name == name and after.type.enum_name == name
        )
        dependents = tuple(
            operation
            for operation in _dependents(old.tables, name)
            if _survives(operation, new_tables)
        )
        operations.append(AlterEnum(name, old_values, new_values, uses, dependents))
    return operations


def storage_change(
    old: Catalog, new: Catalog, table: str, before: Column, after: Column
) -> ChangeEnumStorage:
    """The conversion of a column between an enum type and ``varchar`` with a check."""
    mentions = frozenset({before.name})
    new_tables = {item.name: item for item in new.tables}
    old_table = next(item for item in old.tables if item.name == table)
    dependents = [
        operation
        for operation in _mentioning(old_table, mentions)
        if _survives(operation, new_tables)
        and not (isinstance(operation, AddCheckConstraint) and operation.constraint.values)
    ]
    return ChangeEnumStorage(table, before, after, tuple(dependents))


def _with_labels(column: Column, labels: Labels) -> Column:
    return replace(column, type=replace(column.type, values=labels))


def _dependents(tables: tuple[Table, ...], enum_name: str) -> list[Operation]:
    """Creations of the partial indexes and checks that mention a column of the type."""
    operations: list[Operation] = []
    for table in tables:
        columns = [c.name for c in table.columns if c.type.enum_name == enum_name]
        if not columns:
            continue
        operations += _mentioning(table, frozenset(columns))
    return operations


def _mentioning(table: Table, mentions: frozenset[str]) -> list[Operation]:
    """Creations of the table's partial indexes and checks whose SQL names a column of
    ``mentions``."""
    operations: list[Operation] = [
        CreateIndex(table.name, index)
        for index in table.indexes
        if index.where and not references(index.where).columns.isdisjoint(mentions)
    ]
    operations += [
        AddCheckConstraint(table.name, check)
        for check in table.checks
        if not references(check.expression).columns.isdisjoint(mentions)
    ]
    return operations


def _survives(operation: Operation, new_tables: Mapping[str, Table]) -> bool:
    """Whether the new catalog holds the dependent unchanged."""
    table = new_tables.get(getattr(operation, "table", ""))
    if table is None:
        return False
    if isinstance(operation, CreateIndex):
        return operation.index in table.indexes
    if isinstance(operation, AddCheckConstraint):
        return operation.constraint in table.checks
    return False
