"""What a revision may not do to a database with rows, found before anything is written.

Three kinds of change are refused. Destructive ones lose data: dropping a table or a
column (not a generated one: the row's other columns give its values back), removing
enum labels, narrowing a type, making a plain column generated; they are written only with
``--allow-destructive``. A column dropped while a column of the same type appears in the
same table (a table dropped while one with the same columns appears) is reported as a
probable rename. Impossible ones fail on a table with rows whatever the flag: a required
column without a default, including a new required relation and the tenant column of a
table becoming tenant-scoped whose tenants cannot be derived. Rewriting ones hold an
ACCESS EXCLUSIVE lock while every row is written again (``migrate.rewrites``); they
are written only with ``--allow-rewrite``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from entityforge.catalog import Column
from entityforge.catalog.sql import default_expression, sql_type
from entityforge.errors import GenerationError
from entityforge.migrate.operations import (
    AddCheckConstraint,
    AddColumn,
    AlterColumn,
    AlterEnum,
    CreateTable,
    DropCheckConstraint,
    DropColumn,
    DropTable,
    Operation,
)
from entityforge.migrate.operations.enums import ChangeEnumStorage
from entityforge.migrate.operations.generated import AlterGeneration
from entityforge.migrate.rewrites import rewrite_changes
from entityforge.schema import INTEGER_LIMITS, ColumnType

_INTEGER_DIGITS = {name: len(str(limit)) for name, limit in INTEGER_LIMITS.items()}
_DESTRUCTIVE_HINT = (
    "pass --allow-destructive to generate the revision anyway (its downgrade cannot bring "
    "the data back)"
)
_REWRITE_HINT = (
    "pass --allow-destructive to generate the rewrite anyway, at a quiet time; or keep the "
    "enum type (leave defaults: {enums: check} out of the spec)"
)
_REQUIRED_HINT = (
    "give the field a default; or add it with nullable: true, fill it (a revision of "
    "your own), then make it required in a later revision"
)
_REWRITE_HINT = (
    "pass --allow-rewrite to generate the revision anyway and run it in a maintenance "
    "window; or reach the same schema without a rewrite (add a nullable column and fill "
    "it in batches, widen instead of narrowing, add enum labels instead of removing them)"
)
_TENANT_HINT = (
    "entityforge fills the tenant column from a required many_to_one relation to a "
    "tenant-scoped entity, or takes over the table's one relation to the tenant entity "
    "(removed in the same change); see 'Changing a spec' in docs/spec-format.md"
)


@dataclass(frozen=True)
class Refusal:
    """One refused change: ``subject`` (``table.column``, a table or a type), what it
    does, and how to get what was meant."""

    subject: str
    what: str
    hint: str

    def __str__(self) -> str:
        return f"{self.subject}: {self.what}"


def check_revision(
    operations: Sequence[Operation], *, allow_destructive: bool, allow_rewrite: bool = False
) -> None:
    """Raise ``GenerationError`` listing every refused change of ``operations``."""
    impossible = impossible_changes(operations)
    destructive = [] if allow_destructive else destructive_changes(operations)
    rewriting = [] if allow_rewrite else rewriting_changes(operations)
    if not impossible and not destructive and not rewriting:
        return
    sections = []
    if impossible:
        sections.append(_section("cannot be applied to a table with rows", impossible))
    if destructive:
        sections.append(_section("would destroy data", destructive))
    if rewriting:
        title = "would rewrite tables under an ACCESS EXCLUSIVE lock (no query runs meanwhile)"
        sections.append(_section(title, rewriting))
    hints = dict.fromkeys(problem.hint for problem in (*impossible, *destructive, *rewriting))
    raise GenerationError("\n".join(sections), hint="; ".join(hints))


def _section(title: str, refusals: list[Refusal]) -> str:
    lines = "\n".join(f"  {problem}" for problem in refusals)
    return f"the new revision {title}:\n{lines}"


def rewriting_changes(operations: Sequence[Operation]) -> list[Refusal]:
    """Steps that rewrite a table, each table with what rewrites it."""
    return [Refusal(table, what, _REWRITE_HINT) for table, what in rewrite_changes(operations)]


def impossible_changes(operations: Sequence[Operation]) -> list[Refusal]:
    """Required columns without a default added to tables that exist (and have rows)."""
    refusals = []
    for operation in operations:
        if not isinstance(operation, AddColumn):
            continue
        column = operation.column
        if column.nullable or column.generated or default_expression(column) is not None:
            continue
        subject = f"{operation.table}.{column.name}"
        if column.role == "tenant":
            what = "the table becomes tenant-scoped, but no row's tenant can be derived"
            refusals.append(Refusal(subject, what, _TENANT_HINT))
        elif column.role == "reference":
            what = "a required relation, without a value for the existing rows"
            refusals.append(Refusal(subject, what, _REQUIRED_HINT))
        else:
            refusals.append(
                Refusal(subject, "a required column without a default", _REQUIRED_HINT)
            )
    return refusals


def destructive_changes(operations: Sequence[Operation]) -> list[Refusal]:
    """Dropped tables and columns, removed enum labels, narrowed types."""
    refusals: list[Refusal] = []
    for operation in operations:
        if isinstance(operation, DropTable) and operation.table.history_of:
            what = (
                f"the history of {operation.table.history_of} dropped with its rows "
                "(audit removed: its triggers and every recorded change go)"
            )
            refusals.append(Refusal(operation.table.name, what, _DESTRUCTIVE_HINT))
        elif isinstance(operation, DropTable):
            rename = _probable_table_rename(operation, operations)
            what = f"table dropped with its rows{rename}"
            refusals.append(Refusal(operation.table.name, what, _DESTRUCTIVE_HINT))
        elif isinstance(operation, DropColumn) and operation.column.generated is None:
            what = f"column dropped with its data{_probable_column_rename(operation, operations)}"
            subject = f"{operation.table}.{operation.column.name}"
            refusals.append(Refusal(subject, what, _DESTRUCTIVE_HINT))
        elif isinstance(operation, AlterEnum) and operation.removed_values:
            removed = ", ".join(operation.removed_values)
            what = f"labels removed ({removed}): an upgrade fails while rows hold them"
            refusals.append(Refusal(operation.name, what, _DESTRUCTIVE_HINT))
        elif isinstance(operation, AlterGeneration) and operation.recreates:
            what = "made generated: the values it holds are replaced by the expression's"
            subject = f"{operation.table}.{operation.new.name}"
            refusals.append(Refusal(subject, what, _DESTRUCTIVE_HINT))
        elif isinstance(operation, AlterColumn):
            narrowed = narrowing(operation.old.type, operation.new.type)
            if narrowed:
                subject = f"{operation.table}.{operation.new.name}"
                refusals.append(Refusal(subject, narrowed, _DESTRUCTIVE_HINT))
        else:
            refusals += _enum_problems(operation, operations)
    return refusals


def _enum_problems(operation: Operation, operations: Sequence[Operation]) -> list[Refusal]:
    """Labels removed from the check of a ``varchar`` enum column; an enum column whose
    storage changes (the table is rewritten)."""
    if isinstance(operation, ChangeEnumStorage):
        before, after = operation.before.type, operation.after.type
        subject = f"{operation.table}.{operation.after.name}"
        what = (
            f"stored as {sql_type(after)} with a check instead of the enum type "
            f"{before.enum_name}: the conversion rewrites the table and its indexes under an "
            "ACCESS EXCLUSIVE lock"
            if operation.to_varchar
            else f"stored as the enum type {after.enum_name} instead of {sql_type(before)}: "
            "the conversion rewrites the table and its indexes under an ACCESS EXCLUSIVE lock"
        )
        return [Refusal(subject, what, _REWRITE_HINT)]
    if not isinstance(operation, AddCheckConstraint) or not operation.constraint.values:
        return []
    new = operation.constraint
    old = next(
        (
            other.constraint
            for other in operations
            if isinstance(other, DropCheckConstraint)
            and other.table == operation.table
            and other.constraint.name == new.name
        ),
        None,
    )
    removed = [value for value in (old.values if old else ()) if value not in new.values]
    if not removed:
        return []
    column = new.short_name.removesuffix("_values")
    what = (
        f"labels removed ({', '.join(removed)}): the new check does not validate while rows "
        "hold them"
    )
    return [Refusal(f"{operation.table}.{column}", what, _DESTRUCTIVE_HINT)]


def narrowing(old: ColumnType, new: ColumnType) -> str | None:
    """How changing ``old`` to ``new`` can lose values; ``None`` when it cannot."""
    if old == new or _widens(old, new):
        return None
    before, after = sql_type(old), sql_type(new)
    if old.name == new.name and old.name in ("string", "decimal"):
        return f"type narrowed from {before} to {after}"
    if old.name in _INTEGER_DIGITS and new.name in _INTEGER_DIGITS:
        return f"type narrowed from {before} to {after}"
    return f"type changed from {before} to {after}, which can lose values"


def _widens(old: ColumnType, new: ColumnType) -> bool:
    if old.name == "array" and new.name == "array" and old.item and new.item:
        return old.item == new.item or _widens(old.item, new.item)
    if new.name == "text":
        return old.name in ("string", "text", "enum")
    if new.name == "string":
        longest = max((len(value) for value in old.values), default=0)
        limit = new.max_length or 0
        if old.name == "string":
            return (old.max_length or 0) <= limit
        return old.name == "enum" and longest <= limit
    if new.name in _INTEGER_DIGITS:
        return (
            old.name in _INTEGER_DIGITS and _INTEGER_DIGITS[old.name] <= _INTEGER_DIGITS[new.name]
        )
    if new.name == "decimal":
        return _integer_digits(old) is not None and _fits_decimal(old, new)
    return False


def _integer_digits(type_: ColumnType) -> int | None:
    """Digits before the decimal point (``None``: unbounded or not a number)."""
    if type_.name in _INTEGER_DIGITS:
        return _INTEGER_DIGITS[type_.name]
    if type_.name == "decimal" and type_.precision is not None:
        return type_.precision - (type_.scale or 0)
    return None


def _fits_decimal(old: ColumnType, new: ColumnType) -> bool:
    if new.precision is None:
        return True
    old_digits = _integer_digits(old)
    new_digits = _integer_digits(new)
    old_scale = old.scale or 0 if old.name == "decimal" else 0
    return (
        old_digits is not None
        and new_digits is not None
        and old_digits <= new_digits
        and old_scale <= (new.scale or 0)
    )


def _probable_column_rename(dropped: DropColumn, operations: Sequence[Operation]) -> str:
    """`` (probable rename ...)`` when a column of the same type appears in the table."""
    for operation in operations:
        if (
            isinstance(operation, AddColumn)
            and operation.table == dropped.table
            and operation.column.type == dropped.column.type
            and operation.column.role == dropped.column.role
        ):
            old = _spec_name(dropped.column)
            owner = "relation" if dropped.column.role == "reference" else "field"
            return (
                f" (probable rename to {_spec_name(operation.column)}: add renamed_from: "
                f"{old} to the {owner} to keep the data)"
            )
    return ""


def _spec_name(column: Column) -> str:
    """The name the spec gives the column: a relation's column is ``<relation>_id``."""
    if column.role == "reference" and column.name.endswith("_id"):
        return column.name[: -len("_id")]
    return column.name


def _probable_table_rename(dropped: DropTable, operations: Sequence[Operation]) -> str:
    """`` (probable rename ...)`` when a table with the same columns is created."""
    shape = _columns(dropped.table.columns)
    for operation in operations:
        if isinstance(operation, CreateTable) and _columns(operation.table.columns) == shape:
            old = dropped.table.entity or dropped.table.name
            return (
                f" (probable rename to {operation.table.name}: add renamed_from: {old} to "
                "the entity to keep the data)"
            )
    return ""


def _columns(columns: Sequence[Column]) -> frozenset[tuple[str, ColumnType]]:
    """Names and types; an enum type is named after its entity, so its name is left out."""
    return frozenset((column.name, replace(column.type, enum_name=None)) for column in columns)
