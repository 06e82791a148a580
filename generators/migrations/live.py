"""A revision's body as steps that are safe on a live database and safe to run again.

``live_steps`` replaces an ``AlterColumn`` that makes a column required by the
``RequireColumn`` steps (``entityforge.migrate.operations.live``). ``resumable`` lays out the
rendered runs of a body: each autocommit block first bounds its lock waits again, and a
transactional run that an autocommit block follows records, in its own transaction, that
it committed; a rerun after an interruption skips it (``migration_steps.done``), and the
record is cleared in the transaction that moves Alembic's version.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from entityforge import naming
from entityforge.catalog import sql as catalog_sql
from entityforge.generators import sql
from entityforge.generators.migrations.code import (
    OP,
    STEPS,
    STEPS_IMPORT,
    execute,
    join,
    python_string,
)
from entityforge.generators.migrations.renderers import render_operation, render_validation
from entityforge.generators.python_source import Code, call, indent
from entityforge.generators.sql import escape_text
from entityforge.generators.table_schemas import quote_table
from entityforge.migrate.operations import (
    AddCheckConstraint,
    AddColumn,
    AddForeignKey,
    AddUniqueConstraint,
    AlterColumn,
    CreateIndex,
    CreateTable,
    Operation,
)
from entityforge.migrate.operations.expand import SyncColumns
from entityforge.migrate.operations.live import RequireColumn
from entityforge.migrate.operations.renames import RenameColumn, RenameTable
from entityforge.migrate.operations.tenancy import AddFilledColumn
from entityforge.migrate.rewrites import rewrites
from entityforge.naming import quote_identifier
from entityforge.parse_tree import references, rename_columns

AUTOCOMMIT = "with op.get_context().autocommit_block():"


def live_steps(operations: Sequence[Operation]) -> tuple[Operation, ...]:
    """``operations`` with every column made required in ``RequireColumn`` steps."""
    steps: list[Operation] = []
    for operation in operations:
        if (
            isinstance(operation, AlterColumn)
            and operation.old.nullable
            and not operation.new.nullable
        ):
            rest = replace(operation.new, nullable=True)
            if rest != operation.old:
                steps.append(AlterColumn(operation.table, operation.old, rest))
            steps.append(RequireColumn(operation.table, operation.new))
        else:
            steps.append(operation)
    return tuple(steps)


def _makes_required(operation: Operation) -> bool:
    return (
        isinstance(operation, AlterColumn)
        and operation.old.nullable
        and not operation.new.nullable
    )


def resumable(
    blocks: Sequence[tuple[bool, Code]], direction: str, checks: Sequence[Code] = ()
) -> Code:
    """The body's runs (``(outside a transaction, text)``), resumable after a kill,
    after the ``checks`` that stop it before a step that would fail on existing rows."""
    last_autocommit = max((i for i, (outside, _) in enumerate(blocks) if outside), default=-1)
    parts: list[Code] = [join(checks)] if checks else []
    recorded = 0
    for position, (outside, snippet) in enumerate(blocks):
        if outside:
            limited = join([Code(f"{STEPS}.limit_waits()", frozenset({STEPS_IMPORT})), snippet])
            parts.append(Code(f"{AUTOCOMMIT}\n{indent(limited.text)}", limited.imports | {OP}))
        elif position < last_autocommit:
            recorded += 1
            parts.append(_recorded(snippet, direction, recorded))
        else:
            parts.append(snippet)
    if recorded:
        parts.append(Code(f"{STEPS}.forget()", frozenset({STEPS_IMPORT})))
    return join(parts, separator="\n\n")


def _recorded(snippet: Code, direction: str, part: int) -> Code:
    arguments = f"revision, {direction!r}, {part}"
    record = f"{STEPS}.record({arguments})"
    text = f"if not {STEPS}.done({arguments}):\n{indent(snippet.text)}\n{indent(record)}"
    return Code(text, snippet.imports | {STEPS_IMPORT})


def _fits(operation: AlterColumn) -> list[Code]:
    """A check that every value fits a narrower type, which would otherwise cut a string
    short in an explicit cast or round a number to fewer decimals without a word."""
    old, new = operation.old.type, operation.new.type
    column = quote_identifier(operation.new.name)
    target = f"{catalog_sql.sql_type(new)} for {column}"
    if new.name == "string" and (
        old.name != "string" or (old.max_length or 0) > (new.max_length or 0)
    ):
        condition = f"char_length({column}::text) <= {new.max_length}"
    elif (
        new.name == "decimal"
        and new.scale is not None
        and (old.name != "decimal" or old.scale is None or old.scale > new.scale)
    ):
        condition = f"{column} = round({column}::numeric, {new.scale})"
    else:
        return []
    table = quote_table(operation.table)
    return [
        _steps_call(
            "no_violations",
            table,
            f"{target} (values that do not fit)",
            f"{column} IS NULL OR {condition}",
        )
    ]


def with_rewrite_guards(operation: Operation, snippet: Code) -> Code:
    """``snippet`` after a check, for each table it rewrites, that the table is small or
    the run allows rewrites (``migration_steps.rewrite_allowed``)."""
    guards = [
        _steps_call("rewrite_allowed", quote_table(table), what)
        for table, what in rewrites(operation)
    ]
    return join([*guards, snippet]) if guards else snippet


def _steps_call(function: str, *arguments: str) -> Code:
    steps = Code(f"{STEPS}.{function}", frozenset({STEPS_IMPORT}))
    return call(steps, *map(python_string, arguments))


@dataclass(frozen=True)
class _NewColumns:
    """The columns the revision adds or names anew: the checks run before it, when these
    do not exist yet (on a table it renames, none does). A two-step rename's new column
    is filled from its old one, which the checks read instead (``synced``)."""

    columns: frozenset[tuple[str, str]]
    tables: frozenset[str]
    synced: Mapping[tuple[str, str], SyncColumns]

    @classmethod
    def of(cls, operations: Sequence[Operation]) -> _NewColumns:
        columns = {(op.table, op.new) for op in operations if isinstance(op, RenameColumn)}
        columns |= {
            (op.table, op.column.name)
            for op in operations
            if isinstance(op, AddColumn | AddFilledColumn)
        }
        tables = {op.new for op in operations if isinstance(op, RenameTable)}
        synced = {(op.table, op.sync.name): op for op in operations if isinstance(op, SyncColumns)}
        return cls(frozenset(columns), frozenset(tables), synced)

    def before(self, table: str, columns: Iterable[str]) -> tuple[str, ...] | None:
        """``columns`` as the table has them before the revision; None when one of them
        does not exist yet."""
        if table in self.tables:
            return None
        names = []
        for name in columns:
            sync = self.synced.get((table, name))
            if sync is not None:
                names.append(sync.sync.old)
            elif (table, name) in self.columns:
                return None
            else:
                names.append(name)
        return tuple(names)

    def old_names(self, table: str) -> dict[str, str]:
        return {new: op.sync.old for (name, new), op in self.synced.items() if name == table}


def _unique_index_check(operation: CreateIndex, added: _NewColumns) -> list[Code]:
    """The duplicate count before a unique index built on a table with rows: its keys
    as they stand in the index (expressions, digests), among the rows its predicate
    holds."""
    index = operation.index
    reads = index.column_names + (references(index.where).order if index.where else ())
    if not operation.concurrently or added.before(operation.table, reads) != reads:
        # A column the revision adds or renames: it holds no duplicate yet, or the key
        # is built on a column that is renamed first (counted under its old name then).
        return []
    keys = ", ".join(
        column.sql if column.expression or column.hashed else quote_identifier(column.name)
        for column in index.columns
    )
    arguments = [quote_table(operation.table), index.name, escape_text(keys)]
    if index.where is not None:
        arguments.append(escape_text(index.where))
    return [_steps_call("no_duplicates", *arguments)]


def preflight_checks(operations: Sequence[Operation]) -> list[Code]:
    """The checks of existing rows that steps of ``operations`` need, in order; none for
    a step on a column the same revision adds (it holds only its default)."""
    added = _NewColumns.of(operations)
    checks = []
    for operation in operations:
        if isinstance(operation, AddUniqueConstraint) and operation.concurrently:
            columns = added.before(operation.table, operation.constraint.columns)
            if columns is not None:
                checks.append(
                    _steps_call(
                        "no_duplicates",
                        quote_table(operation.table),
                        operation.constraint.name,
                        ", ".join(map(quote_identifier, columns)),
                    )
                )
        elif isinstance(operation, CreateIndex) and operation.index.unique:
            checks += _unique_index_check(operation, added)
        elif isinstance(operation, AddCheckConstraint) and operation.validate_later:
            expression = operation.constraint.expression
            if added.before(operation.table, references(expression).columns) is not None:
                checks.append(
                    _steps_call(
                        "no_violations",
                        quote_table(operation.table),
                        f"the check {operation.constraint.name}",
                        escape_text(rename_columns(expression, added.old_names(operation.table))),
                    )
                )
        elif isinstance(operation, AddForeignKey) and operation.validate_later:
            checks += _no_orphans(operation, operations, added)
        elif isinstance(operation, AlterColumn):
            checks += _fits(operation)
        elif isinstance(operation, RequireColumn):
            table = operation.table
            sync = added.synced.get((table, operation.column.name))
            columns = added.before(table, (operation.column.name,))
            if columns is None or (sync is not None and not sync.old_nullable):
                continue
            checks.append(
                _steps_call("no_nulls", quote_table(table), quote_identifier(columns[0]))
            )
    return checks


def _no_orphans(
    operation: AddForeignKey, operations: Sequence[Operation], added: _NewColumns
) -> list[Code]:
    """The check that existing rows refer to existing ones, for a foreign key validated
    after it is added; none when its columns are new, or its table is created or renamed
    by the revision (the count runs before the revision touches anything)."""
    fk = operation.foreign_key
    columns = added.before(operation.table, fk.columns)
    if columns is None:
        return []
    later = {op.table.name for op in operations if isinstance(op, CreateTable)}
    later |= {op.new for op in operations if isinstance(op, RenameTable)}
    if fk.referred_table in later:
        return []
    pairs = zip(columns, fk.referred_columns, strict=True)
    match = " AND ".join(
        f"r.{quote_identifier(key)} = t.{quote_identifier(column)}" for column, key in pairs
    )
    return [
        _steps_call(
            "no_orphans",
            quote_table(operation.table),
            fk.name,
            ", ".join(map(quote_identifier, columns)),
            naming.quote_qualified(fk.referred_qualified),
            match,
        )
    ]


@render_operation.register
def render_require_column(operation: RequireColumn) -> Code:
    """Add the temporary check, NOT VALID: no scan while the lock is held."""
    column = quote_identifier(operation.column.name)
    return execute(
        f"ALTER TABLE {quote_table(operation.table)} ADD CONSTRAINT "
        f"{quote_identifier(operation.check_name)} CHECK ({column} IS NOT NULL) NOT VALID"
    )


@render_validation.register
def render_require_column_validation(operation: RequireColumn) -> Code:
    """Validate the check, SET NOT NULL (no scan: the check proves it), drop the check."""
    table = quote_table(operation.table)
    column = quote_identifier(operation.column.name)
    check = quote_identifier(operation.check_name)
    return execute(
        sql.validate_if_present(operation.table, operation.check_name),
        f"ALTER TABLE {table} ALTER COLUMN {column} SET NOT NULL",
        f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {check}",
    )
