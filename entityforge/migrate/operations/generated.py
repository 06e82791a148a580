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
    AddUniqueConstraint,
    CreateIndex,
    Operation,
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
    name = new.name
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
    if old.generated is None:
        return AlterGeneration(table, old, new, tuple(dependents))
    return AlterGeneration(table, old, replace(old, generated=new.generated), tuple(dependents))
