"""Changing whether, and how, a kept column is generated (``generated:`` in the spec).

A column's generation expression changes in place from PostgreSQL 17 (``ALTER COLUMN
... SET EXPRESSION``, which rewrites the table); it stops being generated in place
(``DROP EXPRESSION``, PostgreSQL 13, no rewrite: the column keeps its values). A plain
column cannot become generated in place: it is dropped and added again, generated,
which rewrites the table and drops the indexes and constraints on it; ``dependents``
are the operations creating those the table keeps, created again after it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from entityforge.catalog import Column, Table
from entityforge.migrate.operations import (
    AddCheckConstraint,
    AddColumn,
    AddUniqueConstraint,
    AlterColumn,
    CreateIndex,
    DropColumn,
    Operation,
    invert,
)
from entityforge.parse_tree import references


@dataclass(frozen=True)
class AlterGeneration(Operation):
    """``old`` and ``new`` differ in ``generated``; where ``old`` is plain, in anything."""

    table: str
    old: Column
    new: Column
    dependents: tuple[Operation, ...] = ()

    def reverse(self) -> AlterGeneration:
        return AlterGeneration(self.table, self.new, self.old, self.dependents)

    @property
    def recreates(self) -> bool:
        """Whether the column is dropped and added again (a plain one made generated)."""
        return self.old.generated is None

    @property
    def rest(self) -> Column | None:
        """Where the column is not recreated: the column once only its generation has
        changed, when ``new`` differs from it in more (then altered further)."""
        changed = replace(self.old, generated=self.new.generated)
        return None if self.recreates or changed == self.new else changed


def generation_change(
    table: str, before: Table, after: Table, old: Column, new: Column
) -> AlterGeneration:
    """The change of ``old`` (of ``before``) to ``new`` (of ``after``); a recreated
    column's index, unique and check operations are those both tables hold."""
    dependents = _built_on(table, before, after, new.name)
    if old.generated is None:
        return AlterGeneration(table, old, new, dependents)
    return AlterGeneration(table, old, replace(old, generated=new.generated), dependents)


def around_type_changes(
    operations: list[Operation], before: dict[str, Table], after: dict[str, Table]
) -> list[Operation]:
    """``operations`` with each generated column that reads a column whose type changes
    dropped before the change and added after it (PostgreSQL alters the type of no
    column a generation expression reads), with what is built on it."""
    result: list[Operation] = []
    for operation in operations:
        if not isinstance(operation, AlterColumn) or operation.old.type == operation.new.type:
            result.append(operation)
            continue
        old_table, new_table = before[operation.table], after[operation.table]
        readers = [
            column
            for column in new_table.columns
            if column.generated
            and operation.new.name in references(column.generated).columns
            and column in old_table.columns
        ]
        dropped: list[Operation] = []
        added: list[Operation] = []
        for column in readers:
            built = _built_on(operation.table, old_table, new_table, column.name)
            dropped += [*invert(built), DropColumn(operation.table, column)]
            added += [AddColumn(operation.table, column), *built]
        result += [*dropped, operation, *added]
    return result


def _built_on(table: str, before: Table, after: Table, name: str) -> tuple[Operation, ...]:
    """Creating the uniques, checks and indexes on column ``name`` that both tables hold."""
    kept_indexes = [i for i in after.indexes if i in before.indexes]
    kept_uniques = [u for u in after.uniques if u in before.uniques]
    kept_checks = [c for c in after.checks if c in before.checks]
    dependents: list[Operation] = [
        AddUniqueConstraint(table, unique) for unique in kept_uniques if name in unique.columns
    ]
    dependents += [
        AddCheckConstraint(table, check)
        for check in kept_checks
        if name in references(check.expression).columns
    ]
    dependents += [
        CreateIndex(table, index)
        for index in kept_indexes
        if name in index.column_names
        or (index.where is not None and name in references(index.where).columns)
    ]
    return tuple(dependents)
