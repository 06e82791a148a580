"""Changes that break the version of the application running while a revision runs.

A rolling deploy runs the revision first, then replaces the old code: for a while the
old code works against the new schema. It fails when a table or column it names is
renamed or dropped, and its writes fail when a column it may leave empty becomes
required or a label it may write is removed. ``breaking_changes`` lists such steps;
the revision says so in its docstring and ``entityforge generate`` prints it. The way
through is expand/contract (docs/live-migrations.md): one revision and deploy that
adds the new shape beside the old, and a later one that removes the old.
"""

from __future__ import annotations

from collections.abc import Sequence

from entityforge import naming
from entityforge.migrate.operations import (
    AlterColumn,
    AlterEnum,
    DropColumn,
    DropTable,
    Operation,
)
from entityforge.migrate.operations.expand import SyncColumns
from entityforge.migrate.operations.generated import AlterGeneration
from entityforge.migrate.operations.renames import RenameColumn, RenameTable
from entityforge.migrate.operations.schemas import MoveTable

NOTICE = "Breaks code deployed before it (see docs/live-migrations.md, expand/contract):"


def breaking_changes(operations: Sequence[Operation]) -> list[str]:
    """One line per step that code written for the previous schema cannot survive."""
    lines: list[str] = []
    # A two-step rename's new column is kept filled by its trigger, whoever writes.
    synced = {(op.table, op.sync.name) for op in operations if isinstance(op, SyncColumns)}
    for operation in operations:
        if isinstance(operation, RenameTable):
            lines.append(f"table {operation.old} renamed to {operation.new}")
        elif isinstance(operation, MoveTable):
            old = operation.old or naming.DEFAULT_SCHEMA
            new = operation.new or naming.DEFAULT_SCHEMA
            lines.append(f"table {operation.table} moved from schema {old} to {new}")
        elif isinstance(operation, RenameColumn):
            lines.append(
                f"column {operation.table}.{operation.old} renamed to {operation.new} "
                "(generate --expand renames it in two steps)"
            )
        elif isinstance(operation, DropTable):
            lines.append(f"table {operation.table.name} dropped")
        elif isinstance(operation, DropColumn):
            lines.append(f"column {operation.table}.{operation.column.name} dropped")
        elif (
            isinstance(operation, AlterColumn)
            and operation.old.nullable
            and not operation.new.nullable
            and (operation.table, operation.new.name) not in synced
        ):
            lines.append(
                f"column {operation.table}.{operation.new.name} made required "
                "(old code may leave it empty)"
            )
        elif isinstance(operation, AlterGeneration) and operation.recreates:
            lines.append(
                f"column {operation.table}.{operation.new.name} made generated "
                "(old code may write it)"
            )
        elif isinstance(operation, AlterEnum) and operation.removed_values:
            removed = ", ".join(operation.removed_values)
            lines.append(
                f"labels {removed} removed from {operation.name} (old code may write them)"
            )
    return lines


def notice(text: str) -> list[str]:
    """The breaking changes a revision's docstring lists, read back from its text."""
    _, found, rest = text.partition(NOTICE)
    if not found:
        return []
    lines: list[str] = []
    for line in rest.splitlines()[1:]:
        if line.startswith("- "):
            lines.append(line[2:])
        elif line.startswith("  ") and lines:
            lines[-1] += " " + line.strip()  # a long item wraps under its dash
        else:
            break
    return lines
