"""Steps that rewrite a table under an ACCESS EXCLUSIVE lock, found before writing.

PostgreSQL rewrites every row, with every query on the table waiting, when a column
is added with a volatile default (each row needs its own value) or as a stored generated
column, when a generation expression changes or a plain column is made generated, when a
column's type changes in a way that is not binary compatible (``integer`` to ``bigint``,
a shorter ``varchar``, another scale, anything through an enum), when an enum type
is swapped for one with other labels, and when a table becomes partitioned or stops
being partitioned (every row moves into a new table). Such a revision is written only
with ``--allow-rewrite``; each of these steps also checks the table's size when it runs
(``migration_steps.rewrite_allowed``), so that a big table is not rewritten unless
the run allows it.

A default is volatile when it calls one of the functions ``VOLATILE_FUNCTIONS`` names
(PostgreSQL's volatile functions a default is written with); ``now()`` and the other
``STABLE`` ones are computed once, stored in the catalog, and cost no rewrite.
"""

from __future__ import annotations

from collections.abc import Sequence

from entityforge.catalog.sql import sql_type
from entityforge.migrate.operations import AddColumn, AlterColumn, AlterEnum, Operation
from entityforge.migrate.operations.exclusions import AddExclusionConstraint
from entityforge.migrate.operations.generated import AlterGeneration
from entityforge.migrate.operations.partitions import RebuildTable
from entityforge.parse_tree import references
from entityforge.schema import ColumnType

VOLATILE_FUNCTIONS = frozenset(
    {
        "gen_random_uuid",
        "uuidv4",
        "uuidv7",
        "uuid_generate_v1",
        "uuid_generate_v1mc",
        "uuid_generate_v4",
        "random",
        "random_normal",
        "clock_timestamp",
        "timeofday",
        "nextval",
        "txid_current",
        "pg_current_xact_id",
        "gen_random_bytes",
    }
)


def volatile_default(expression: str | None) -> bool:
    """Whether a ``default_sql`` calls a volatile function (the last name of a call)."""
    if expression is None:
        return False
    return not references(expression).functions.isdisjoint(VOLATILE_FUNCTIONS)


def type_change_rewrites(old: ColumnType, new: ColumnType) -> bool:
    """Whether changing a column from ``old`` to ``new`` rewrites the table."""
    if old == new:
        return False
    if new.name == "text":
        return old.name not in ("string", "text")
    if old.name == "string" and new.name == "string":
        return (new.max_length or 0) < (old.max_length or 0)
    if old.name == "decimal" and new.name == "decimal":
        if new.precision is None:
            return False
        same_scale = (old.scale or 0) == (new.scale or 0)
        return not (same_scale and old.precision is not None and new.precision >= old.precision)
    return True


def rewrites(operation: Operation) -> tuple[tuple[str, str], ...]:
    """``(table, what)`` for each table ``operation`` rewrites."""
    if isinstance(operation, AddColumn):
        column = operation.column
        if volatile_default(column.default_sql):
            what = f"adding {column.name} with the volatile default {column.default_sql}"
            return ((operation.table, what),)
        if column.generated is not None:
            what = f"adding the generated column {column.name} (every row's value is computed)"
            return ((operation.table, what),)
    elif isinstance(operation, AlterGeneration) and operation.new.generated is not None:
        column = operation.new
        what = (
            f"making {column.name} generated (the column is dropped and added again)"
            if operation.recreates
            else f"changing the generation expression of {column.name}"
        )
        return ((operation.table, what),)
    elif isinstance(operation, AlterColumn):
        if type_change_rewrites(operation.old.type, operation.new.type):
            before, after = sql_type(operation.old.type), sql_type(operation.new.type)
            what = f"changing {operation.new.name} from {before} to {after}"
            return ((operation.table, what),)
    elif isinstance(operation, AddExclusionConstraint) and operation.existing_rows:
        what = (
            f"building the exclusion constraint {operation.constraint.name}, which blocks "
            "the table's queries until its index is built"
        )
        return ((operation.table, what),)
    elif isinstance(operation, RebuildTable):
        partition = operation.after.partition
        how = "a plain table" if partition is None else f"a table partitioned by {partition.by}"
        what = f"moving every row into {how} (the table is built anew)"
        return ((operation.table, what),)
    elif isinstance(operation, AlterEnum):
        return tuple(
            (use.table, f"swapping the type of {use.after.name} for new {operation.name} labels")
            for use in operation.uses
        )
    return ()


def rewrite_changes(operations: Sequence[Operation]) -> list[tuple[str, str]]:
    """Every ``(table, what)`` rewrite of a revision's operations."""
    return [rewrite for operation in operations for rewrite in rewrites(operation)]
