"""An enum column changing how it is stored: a PostgreSQL enum type, or ``varchar``
whose values a check constrains (``defaults: {enums: check}`` in an existing project).

The equality operator of an enum type is not leakproof, so row-level security keeps a
condition on such a column out of index conditions; ``varchar`` equality is leakproof
(guarantee 12). The conversion rewrites the table: the revision is refused unless
allowed (``--allow-destructive``).
"""

from __future__ import annotations

from dataclasses import dataclass

from entityforge.catalog import Column
from entityforge.migrate.operations import Operation


@dataclass(frozen=True)
class ChangeEnumStorage(Operation):
    """Convert ``table.column`` from ``before``'s storage to ``after``'s, through text.

    ``dependents`` create the partial indexes and checks that mention the column and
    stay: their expressions hold constants of the old type, so they are dropped before
    the conversion and created after it. The column's default is dropped and set again.
    The check on the labels of a ``varchar`` column is the comparison's own business.
    """

    table: str
    before: Column
    after: Column
    dependents: tuple[Operation, ...] = ()

    def reverse(self) -> ChangeEnumStorage:
        return ChangeEnumStorage(self.table, self.after, self.before, self.dependents)

    @property
    def to_varchar(self) -> bool:
        return self.after.type.enum_name is None
