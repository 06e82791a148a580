"""Column renames in two steps, expand and contract, so that running code keeps working.

A rolling deploy runs a revision while the previous version of the application still
serves requests. Renaming a column in one step breaks that version. With
``entityforge generate --expand``, a field's ``renamed_from`` is instead:

- **expand**: the new column is added beside the old one; a trigger copies every write
  of either name to the other (``SyncColumns``); the existing rows are copied in batches
  that commit one by one (``CopyColumn``); then the new column gets what the spec gives
  it (NOT NULL through a validated check, indexes built concurrently, keys and checks
  added ``NOT VALID`` and validated), all under guarantee 14. Old and new code run side
  by side: each writes its own name and the trigger fills the other. The new column's
  default waits for the contract: until then an insert that leaves it out takes the old
  column's value (its default, for code that leaves both out).
- **contract** (``entityforge generate --contract``, once no running code uses the old
  name): the trigger and the old column go, and the new column takes its default.

Between the two, the recorded schema holds both columns and the pair (``Table.syncs``);
every generation keeps them so. The models know only the new name; ``env.py`` tells
Alembic's comparison to pass over the old column and what is built on it.
This is pgroll's dual write and backfill, within strong_migrations' separate deploys.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from entityforge import naming
from entityforge.catalog import Catalog, Column, ColumnSync, Index, IndexColumn, Table
from entityforge.errors import GenerationError
from entityforge.migrate.operations import AddColumn, AlterColumn, DropColumn, Operation
from entityforge.migrate.operations.expand import CopyColumn, SyncColumns, UnsyncColumns
from entityforge.parse_tree import references


@dataclass(frozen=True)
class TwoStepRenames:
    """What a revision does before the comparison of catalogs (``prefix``), the catalogs
    it compares (``base`` to ``target``), and the old columns the contract drops, which
    are no loss of data (the new columns hold their values)."""

    prefix: tuple[Operation, ...]
    base: Catalog | None
    target: Catalog
    contracted: frozenset[tuple[str, str]] = frozenset()

    def allowed(self, operation: Operation) -> bool:
        """Whether ``operation`` is the contract dropping an old column."""
        return isinstance(operation, DropColumn) and (
            (operation.table, operation.column.name) in self.contracted
        )


def _refuse_excluded(table: Table, syncs: list[ColumnSync]) -> None:
    """An exclusion constraint cannot hold over two columns kept equal by a trigger."""
    for exclusion in table.exclusions:
        renamed = [sync.name for sync in syncs if sync.name in exclusion.column_names]
        if renamed:
            raise GenerationError(
                f"{table.name}.{renamed[0]} is in the exclusion constraint {exclusion.name}, "
                "which a two-step rename cannot keep over both names",
                hint="rename it in one step (without --expand)",
            )


def two_step_renames(
    state: Catalog | None, catalog: Catalog, *, expand: bool = False, contract: bool = False
) -> TwoStepRenames:
    """The renames of ``catalog`` expanded (``expand``), the recorded ones kept, or the
    recorded ones contracted (``contract``), from the recorded schema ``state``."""
    if state is None:
        return TwoStepRenames((), None, catalog)
    if expand and catalog.tenancy is not None and catalog.tenancy.distribution == "citus":
        raise GenerationError(
            "--expand keeps two names equal with a trigger, which Citus does not run on "
            "distributed tables",
            hint="rename in one step (without --expand) while the application is stopped",
        )
    recorded = {table.name: table for table in state.tables}
    if contract and not any(table.syncs for table in state.tables):
        raise GenerationError(
            "there is no two-step rename to contract",
            hint="--contract drops the old column of a rename made with --expand",
        )
    # Every trigger before any copy (a copy runs while its pair is kept equal), and on a
    # contract every copy before the one transaction that drops the triggers, the old
    # columns and sets the new columns' defaults: no part of a revision commits a state
    # in which some pairs are no longer kept equal and others are.
    steps: list[Operation] = []
    copies: list[Operation] = []
    base_tables = dict(recorded)
    target_tables = []
    contracted: set[tuple[str, str]] = set()
    for table in catalog.tables:
        before = recorded.get(table.name)
        if before is None:
            target_tables.append(table)
            continue
        names = {column.name for column in table.columns}
        for sync in before.syncs:
            if sync.name not in names:
                raise GenerationError(
                    f"{table.name}.{sync.name} is being renamed from {sync.old} in two "
                    "steps, and the spec no longer has it",
                    hint=f"put {sync.name} back, generate --contract, then remove it",
                )
        syncs = list(before.syncs)
        if expand:
            syncs += [sync for sync in _new_syncs(before, table) if sync not in syncs]
            _refuse_excluded(table, syncs)
        if not syncs:
            target_tables.append(table)
            continue
        if contract:
            base, table_steps, table_copies = _contracting(before)
            base_tables[table.name] = base
            steps += table_steps
            copies += table_copies
            contracted |= {(table.name, sync.old) for sync in before.syncs}
            target_tables.append(_without_renames(table, before.syncs))
            continue
        fresh = [sync for sync in syncs if sync not in before.syncs]
        if fresh:
            base, table_steps, table_copies = _expanding(before, table, fresh)
            base_tables[table.name] = base
            steps += table_steps
            copies += table_copies
        target_tables.append(_expanded(before, table, tuple(syncs)))
    base_catalog = replace(state, tables=tuple(base_tables[t.name] for t in state.tables))
    target = replace(catalog, tables=tuple(target_tables))
    prefix = (*copies, *steps) if contract else (*steps, *copies)
    return TwoStepRenames(prefix, base_catalog, target, frozenset(contracted))


def kept_columns(catalog: Catalog | None) -> tuple[tuple[str, str], ...]:
    """``(table, old column)`` of every rename still between expand and contract."""
    if catalog is None:
        return ()
    return tuple((table.name, sync.old) for table in catalog.tables for sync in table.syncs)


def _new_syncs(before: Table, table: Table) -> list[ColumnSync]:
    """The renames of ``table``'s fields whose old column ``before`` still has."""
    old_columns = {column.name: column for column in before.columns}
    syncs = []
    for column in table.columns:
        old = column.renamed_from
        if old is None or old not in old_columns or column.name in old_columns:
            continue
        before_type = old_columns[old].type
        if old_columns[old].generated or column.generated:
            raise GenerationError(
                f"{table.name}.{old} cannot be renamed to {column.name} in two steps: it is a "
                "generated column, which no trigger can keep filled",
                hint="rename it in one step (without --expand); or add a generated field under "
                "the new name beside the old one, and remove the old one in a later revision",
            )
        if before_type.name == column.type.name == "enum" and before_type.enum_name:
            raise GenerationError(
                f"{table.name}.{old} cannot be renamed to {column.name} in two steps: "
                f"its PostgreSQL enum type {before_type.enum_name} is named after the field",
                hint="rename it in one step (without --expand) while the application is stopped",
            )
        if before_type != column.type:
            raise GenerationError(
                f"{table.name}.{old} cannot be renamed to {column.name} in two steps "
                "while its type changes too",
                hint="rename it (--expand) in one revision and change its type in another",
            )
        syncs.append(ColumnSync(column.name, old))
    return syncs


def _while_expanding(column: Column) -> Column:
    """The new column as it is until the contract: without a default, and no rename."""
    return replace(column, default=None, default_sql=None, renamed_from=None)


def _expanding(
    before: Table, table: Table, syncs: Iterable[ColumnSync]
) -> tuple[Table, list[Operation], list[Operation]]:
    """The recorded table with the new columns added, nullable and kept equal to the old
    ones, the steps that make it so and the copies that fill them."""
    steps: list[Operation] = []
    copies: list[Operation] = []
    columns = list(before.columns)
    for sync in syncs:
        added = replace(_while_expanding(table.column(sync.name)), nullable=True)
        columns.append(added)
        steps += [
            AddColumn(table.name, added),
            SyncColumns(
                table.name,
                sync,
                sync.old,
                before.column(sync.old).nullable,
                before.updated_at_trigger,
            ),
        ]
        trigger = naming.sync_name(table.name, sync.name)
        copies.append(CopyColumn(table.name, sync.old, sync.name, before.primary_key, trigger))
    synced = tuple(dict.fromkeys((*before.syncs, *syncs)))
    return replace(before, columns=tuple(columns), syncs=synced), steps, copies


def _expanded(before: Table, table: Table, syncs: tuple[ColumnSync, ...]) -> Table:
    """``table`` as the spec gives it, with the old columns of ``syncs`` and the indexes
    on them kept, so that the code deployed before the rename reads as fast as before.

    An old column's unique keys become plain indexes (a key over ``md5(column)`` goes),
    and its checks and foreign keys go: the new column, equal to it, has them under its
    own names, so a write that breaks one is refused naming the new column's constraint,
    whichever name it used. The old column may hold NULL where the new one may."""
    new_names = {sync.name for sync in syncs}
    olds = {sync.old for sync in syncs}
    columns = tuple(
        _while_expanding(column) if column.name in new_names else column
        for column in table.columns
    )
    # The old column takes NULL where the new one may: the trigger copies it there.
    nullable = {sync.old for sync in syncs if table.column(sync.name).nullable}
    kept = tuple(
        replace(column, nullable=True) if column.name in nullable else column
        for column in before.columns
        if column.name in olds
    )
    on_old = [
        index if not index.unique else _plain(table.name, index.columns)
        for index in before.indexes
        if (
            not olds.isdisjoint(index.column_names)
            or (index.where is not None and not olds.isdisjoint(references(index.where).columns))
        )
        # A key over md5(column) serves no lookup of the column: it goes.
        and not (index.unique and any(column.hashed for column in index.columns))
    ]
    on_old += [
        _plain(table.name, tuple(map(IndexColumn, unique.columns)))
        for unique in before.uniques
        if not olds.isdisjoint(unique.columns)
    ]
    taken = {index.name for index in table.indexes}
    indexes = table.indexes + tuple(index for index in on_old if index.name not in taken)
    return replace(table, columns=columns + kept, indexes=indexes, syncs=syncs)


def _plain(table: str, columns: tuple[IndexColumn, ...]) -> Index:
    """The plain index that stands for a unique key of an old column while it expands."""
    return Index(naming.index_name(table, tuple(column.name for column in columns)), columns)


def _contracting(before: Table) -> tuple[Table, list[Operation], list[Operation]]:
    """The recorded table without the trigger and with the old columns nullable (so that
    the downgrade can add them back to a table with rows), the steps that make it so
    (the trigger dropped, the old columns made nullable) and the last copies."""
    olds = {sync.old: sync for sync in before.syncs}
    steps: list[Operation] = []
    copies: list[Operation] = []
    columns = []
    for column in before.columns:
        if column.name not in olds:
            columns.append(column)
            continue
        sync = olds[column.name]
        loose = replace(column, nullable=True)
        trigger = naming.sync_name(before.name, sync.name)
        copies.append(CopyColumn(before.name, sync.old, sync.name, before.primary_key, trigger))
        # Undone, the contract fills the old column again, from the new one.
        steps.append(
            UnsyncColumns(before.name, sync, sync.name, column.nullable, before.updated_at_trigger)
        )
        if not column.nullable:
            steps.append(AlterColumn(before.name, column, loose))
        columns.append(loose)
    return replace(before, columns=tuple(columns), syncs=()), steps, copies


def _without_renames(table: Table, syncs: Iterable[ColumnSync]) -> Table:
    names = {sync.name for sync in syncs}
    columns = tuple(
        replace(column, renamed_from=None) if column.name in names else column
        for column in table.columns
    )
    return replace(table, columns=columns)


def two_step_message(operations: Iterable[Operation]) -> str | None:
    """``expand rename of ref to reference in events`` (or ``contract ...``) for a
    revision that begins or ends two-step renames; None for any other."""
    steps = [op for op in operations if isinstance(op, SyncColumns | UnsyncColumns)]
    if not steps:
        return None
    verb = "expand" if isinstance(steps[0], SyncColumns) else "contract"
    tables = sorted({step.table for step in steps})
    renames = ", ".join(f"{step.sync.old} to {step.sync.name}" for step in steps)
    return f"{verb} rename of {renames} in {', '.join(tables)}"
