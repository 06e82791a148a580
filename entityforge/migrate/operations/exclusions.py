"""Exclusion constraints added to and dropped from tables that already exist.

PostgreSQL builds an exclusion constraint's index under the ``ACCESS EXCLUSIVE`` lock of
``ALTER TABLE ... ADD CONSTRAINT`` (there is no ``CONCURRENTLY`` and no ``NOT VALID`` for
one), so adding one to a table with rows blocks its queries for the length of the build:
``existing_rows`` marks such a step, which a revision takes only with
``--allow-rewrite``.
"""

from __future__ import annotations

from dataclasses import dataclass

from entityforge.catalog import ExclusionConstraint
from entityforge.migrate.operations import Operation


@dataclass(frozen=True)
class AddExclusionConstraint(Operation):
    table: str
    constraint: ExclusionConstraint
    existing_rows: bool = False

    def reverse(self) -> DropExclusionConstraint:
        return DropExclusionConstraint(self.table, self.constraint, self.existing_rows)


@dataclass(frozen=True)
class DropExclusionConstraint(Operation):
    table: str
    constraint: ExclusionConstraint
    existing_rows: bool = False

    def reverse(self) -> AddExclusionConstraint:
        return AddExclusionConstraint(self.table, self.constraint, self.existing_rows)
