"""Operations that change a live table in steps no other session waits on for long.

``RequireColumn`` makes a column of a table with rows required without scanning the
table under an ACCESS EXCLUSIVE lock: a ``CHECK (column IS NOT NULL)`` is added
``NOT VALID`` in the revision's transaction and validated after it (a scan that blocks no
writes); ``SET NOT NULL`` then finds the validated check and skips its scan, and the
check is dropped. ``entityforge.generators.migrations.live`` puts it in place of an
``AlterColumn`` that makes a column required.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from entityforge import naming
from entityforge.catalog import Column
from entityforge.migrate.operations import AlterColumn, Operation


@dataclass(frozen=True)
class RequireColumn(Operation):
    """Make ``column`` (as it is after the change) of ``table`` NOT NULL."""

    table: str
    column: Column

    @property
    def check_name(self) -> str:
        """The temporary check's name; it exists only while the revision runs."""
        return naming.truncate(f"ck_{self.table}_{self.column.name}_not_null")

    def reverse(self) -> AlterColumn:
        return AlterColumn(self.table, self.column, replace(self.column, nullable=True))
