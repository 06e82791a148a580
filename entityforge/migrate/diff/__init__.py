"""Compare two catalogs and list the operations that turn the first into the second.

Renames come first (``entityforge.migrate.renames``): the old catalog is renamed to the new
names, so that renamed tables, columns, types and constraints keep their data. Labels
added to enum types come before even that (``entityforge.migrate.diff.enums``).

The rest is set algebra keyed on names, iterated in a fixed order. What the new catalog
adds is created in dependency order: prerequisites (extensions, roles, enum types, the
trigger function) first, then tables and what hangs off them, foreign keys last so that
cycles work. What the old catalog had and the new one lacks is computed the same way
with the catalogs swapped, then inverted, which drops things in a safe order by
construction. A column or enum type present in both but different becomes an
alteration; any other object that changed under the same name is dropped and created.

    upgrade = schemas created, tables and types moved between schemas,
              labels added, key indexes built concurrently, renames,
              prerequisites added, dependents removed, primary keys moved,
              alterations,
              dependents added, prerequisites removed, schemas dropped,
              indexes built concurrently

Moves between schemas come first (``entityforge.migrate.diff.schemas``), so that every
later step, and every step of the downgrade before the moves back, finds a moved table
where the new catalog puts it.

Tables that exist before the revision hold rows, so what is added to them does not
block writes for long: new indexes are built concurrently after the revision's
transaction, new foreign keys and checks are added ``NOT VALID`` and validated after it,
and a tenant column is filled from the row's parent (``entityforge.migrate.diff.tenancy``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Protocol, TypeVar

from entityforge.catalog import Catalog, Column, ForeignKey, Table, UniqueConstraint
from entityforge.catalog.grants import role_privileges, table_privileges
from entityforge.catalog.sql import sql_type
from entityforge.errors import GenerationError
from entityforge.migrate.diff.citus import distribution_operations, distribution_order
from entityforge.migrate.diff.enums import (
    enum_additions,
    enum_swaps,
    storage_change,
    with_enum_labels,
)
from entityforge.migrate.diff.keys import key_moves
from entityforge.migrate.diff.partitions import check_partitioning_kept, rebuild
from entityforge.migrate.diff.policies import policy_operations
from entityforge.migrate.diff.schemas import (
    Moved,
    created_schemas,
    schema_grants,
    schema_moves,
)
from entityforge.migrate.diff.tenancy import tenant_fills
from entityforge.migrate.operations import (
    AddCheckConstraint,
    AddColumn,
    AddForeignKey,
    AddUniqueConstraint,
    AlterColumn,
    AlterTableComment,
    CreateEnum,
    CreateExtension,
    CreateIndex,
    CreateRole,
    CreateTable,
    CreateTenantPolicy,
    CreateUpdatedAtFunction,
    CreateUpdatedAtTrigger,
    DropIndex,
    DropUniqueConstraint,
    EnableRowLevelSecurity,
    GrantPrivileges,
    Operation,
    invert,
)
from entityforge.migrate.operations.audit import audit_triggers
from entityforge.migrate.operations.exclusions import AddExclusionConstraint
from entityforge.migrate.operations.generated import around_type_changes, generation_change
from entityforge.migrate.operations.ids import CreateUuidv7Function
from entityforge.migrate.operations.partitions import (
    CreatePartitions,
    ReplacePartitionMaintenance,
    rebuilt_tables,
)
from entityforge.migrate.operations.renames import RenameEnum, RenameTable
from entityforge.migrate.operations.search import search_functions
from entityforge.migrate.operations.tenancy import ReplacePrimaryKey
from entityforge.migrate.operations.views import view_changes
from entityforge.migrate.renames import rename_to_match, strip_renames
from entityforge.parse_tree import references


class _HasName(Protocol):
    @property
    def name(self) -> str: ...


Named = TypeVar("Named", bound=_HasName)


def compare_catalogs(old: Catalog | None, new: Catalog) -> tuple[Operation, ...]:
    """The upgrade from ``old`` (``None``: an empty database) to ``new``.

    A catalog without tables stands for the empty database: it has no roles either.
    ``renamed_from`` in ``new`` declares renames; the operations never carry it.
    """
    stripped = strip_renames(old or Catalog(tables=()))
    moved = _schema_moves(stripped, new)
    base = moved.catalog
    renamed = rename_to_match(base, new)
    enum_names = {op.old: op.new for op in renamed.operations if isinstance(op, RenameEnum)}
    in_place, labels = enum_additions(base, new, enum_names)
    current = with_enum_labels(renamed.catalog, labels)
    target = strip_renames(new)
    old_names = {op.new: op.old for op in renamed.operations if isinstance(op, RenameTable)}
    keys = key_moves(base, current, target, old_names)
    added = _additions(current, target, existing_rows=True)
    removed = _additions(target, current, existing_rows=False)
    changes = keys.without_replaced(
        (
            *added.prerequisites,
            *schema_grants(stripped, target),
            *(_superseded_later(op, current, target) for op in invert(removed.dependents)),
            *keys.moves,
            *_alterations(current, target),
            *added.dependents,
            *invert(schema_grants(target, stripped)),
            *invert(removed.prerequisites),
        )
    )
    deferred = [op for op in changes if op.outside_transaction]
    built = [op for op in deferred if not isinstance(op, (DropIndex, DropUniqueConstraint))]
    superseded = [op for op in deferred if isinstance(op, (DropIndex, DropUniqueConstraint))]
    in_transaction = distribution_order([op for op in changes if not op.outside_transaction])
    in_transaction += invert(created_schemas(target, stripped))
    views = view_changes(current, target)
    return (
        *created_schemas(stripped, target),
        *moved.operations,
        *in_place,
        *keys.builds,
        *views.drops,
        *renamed.operations,
        *in_transaction,
        *views.creations,
        *built,
        *superseded,
    )


def _schema_moves(old: Catalog, new: Catalog) -> Moved:
    """The tables and types moving to another schema, under their names before the
    revision's renames; nothing to look for unless a catalog has schemas beside public."""
    if not old.schemas and not new.schemas:
        return Moved(old, ())
    renamed = rename_to_match(old, new).operations
    names = {op.old: op.new for op in renamed if isinstance(op, RenameTable)}
    return schema_moves(old, new, names)


def _superseded_later(operation: Operation, current: Catalog, target: Catalog) -> Operation:
    """An index or unique key the new catalog no longer wants, on columns it keeps as
    they are, is dropped once the indexes replacing it are built, so that no moment lacks
    a key (an index concurrently, unless it needs an extension the revision drops)."""
    if not isinstance(operation, (DropIndex, DropUniqueConstraint)):
        return operation
    before = next(t for t in current.tables if t.name == operation.table)
    after = next((t for t in target.tables if t.name == operation.table), None)
    if after is None or after.partition is not None:
        return operation
    if isinstance(operation, DropUniqueConstraint):
        unique = operation.constraint
        if _keeps_columns(before, after, unique.name, unique.columns):
            return replace(operation, concurrently=True)
        return operation
    index = operation.index
    plain = index.method == "btree" and all(c.opclass is None for c in index.columns)
    if not plain and set(current.extensions) - set(target.extensions):
        return operation
    if not _keeps_columns(before, after, index.name, (*index.column_names, *index.include)):
        return operation
    if index.where and _mentions_dropped_column(index.where, before, after):
        # Dropping that column drops the index with it, inside the transaction.
        return operation
    return replace(operation, concurrently=True)


def _keeps_columns(before: Table, after: Table, name: str, columns: Iterable[str]) -> bool:
    """Whether ``after`` keeps ``columns`` of ``before`` as they are, and ``name`` for
    neither an index nor a unique key."""
    kept = set(after.columns)
    names = {i.name for i in after.indexes} | {u.name for u in after.uniques}
    return name not in names and all(before.column(column) in kept for column in columns)


def _mentions_dropped_column(predicate: str, before: Table, after: Table) -> bool:
    kept = {column.name for column in after.columns}
    dropped = {column.name for column in before.columns} - kept
    return not references(predicate).columns.isdisjoint(dropped)


@dataclass(frozen=True)
class _Additions:
    prerequisites: tuple[Operation, ...]
    dependents: tuple[Operation, ...]


def _additions(base: Catalog, target: Catalog, *, existing_rows: bool) -> _Additions:
    """What ``target`` has that ``base`` lacks (or has differently), in creation order.

    ``existing_rows``: the tables ``base`` holds have rows to keep available."""
    base_enums = {enum.name for enum in base.enums}
    base_roles = set(role_privileges(base))
    prerequisites: list[Operation] = [
        CreateExtension(name) for name in sorted(set(target.extensions) - set(base.extensions))
    ]
    prerequisites += [
        CreateRole(name, bypass)
        for name, bypass in role_privileges(target)
        if (name, bypass) not in base_roles
    ]
    prerequisites += [
        CreateEnum(enum)
        for enum in sorted(target.enums, key=lambda enum: enum.name)
        if enum.name not in base_enums
    ]
    if target.needs_updated_at_function and not base.needs_updated_at_function:
        prerequisites.append(CreateUpdatedAtFunction())
    if target.needs_uuidv7_function and not base.needs_uuidv7_function:
        prerequisites.append(CreateUuidv7Function())
    return _Additions(tuple(prerequisites), _dependents(base, target, existing_rows))


def _dependents(base: Catalog, target: Catalog, existing_rows: bool) -> tuple[Operation, ...]:
    """Tenant columns filled, changes to kept tables, then new tables, then every
    foreign key they lack, then the policies (whose subqueries may read any table)."""
    base_tables = {table.name: table for table in base.tables}
    fills = tenant_fills(base, target) if existing_rows else ()
    filled = {(fill.table, fill.column.name) for fill in fills}
    operations: list[Operation] = list(fills)
    foreign_keys: list[Operation] = []
    policies: list[Operation] = []
    referred = _referred_keys(target)
    rebuilt = rebuilt_tables(base, target)
    rebuilds: list[Operation] = []
    for table in target.tables:
        previous = base_tables.get(table.name)
        if previous is not None and table.name in rebuilt:
            # Built anew: every policy again, and its own foreign keys as for a kept table.
            policies += policy_operations(table, target)
            foreign_keys += [
                AddForeignKey(table.name, fk, validate_later=existing_rows)
                for fk in _added(previous.foreign_keys, table.foreign_keys)
            ]
            if existing_rows:
                made = rebuild(previous, table, base, target, rebuilt, _built)
                operations += invert(made.referring)
                rebuilds.append(made.operation)
                foreign_keys += made.referring
            continue
        kept = set(policy_operations(previous, base)) if previous else set()
        policies += [op for op in policy_operations(table, target) if op not in kept]
        if table.name in base_tables:
            before = base_tables[table.name]
            changes = _TableChanges(before, table, existing_rows, filled, referred)
            operations += changes.operations(base, target)
            foreign_keys += [
                AddForeignKey(table.name, fk, validate_later=existing_rows)
                for fk in _added(before.foreign_keys, table.foreign_keys)
            ]
    operations += rebuilds
    existing = set(base_tables)
    for table in _creation_order([t for t in target.tables if t.name not in base_tables]):
        existing.add(table.name)
        inline = tuple(fk for fk in table.foreign_keys if fk.referred_table in existing)
        foreign_keys += [
            AddForeignKey(table.name, fk) for fk in table.foreign_keys if fk not in inline
        ]
        operations += _built(table, target, inline)
    return (*operations, *foreign_keys, *policies)


def _built(table: Table, catalog: Catalog, inline: Iterable[ForeignKey]) -> list[Operation]:
    """What makes ``table`` of ``catalog``, with the foreign keys ``inline`` (the others
    are added after every table is made)."""
    created = replace(table, foreign_keys=tuple(inline), indexes=(), exclusions=())
    return [
        CreateTable(created),
        *(CreateIndex(table.name, index) for index in table.indexes),
        *(AddExclusionConstraint(table.name, exclusion) for exclusion in table.exclusions),
        *_table_extras(table, catalog),
    ]


def _referred_keys(catalog: Catalog) -> frozenset[tuple[str, tuple[str, ...]]]:
    """``(table, columns)`` of every key some foreign key refers to."""
    return frozenset(
        (fk.referred_table, fk.referred_columns)
        for table in catalog.tables
        for fk in table.foreign_keys
    )


@dataclass(frozen=True)
class _TableChanges:
    """What a table kept from ``before`` gains: columns, constraints, indexes, extras.

    With ``existing_rows``, an index or unique constraint under a new name is built
    concurrently (unless a foreign key needs the unique key within the revision) and a
    check is validated after the revision's transaction. Columns in ``filled`` are added
    by a fill."""

    before: Table
    table: Table
    existing_rows: bool
    filled: set[tuple[str, str]]
    referred: frozenset[tuple[str, tuple[str, ...]]]

    def operations(self, base: Catalog, target: Catalog) -> list[Operation]:
        before, table, name = self.before, self.table, self.table.name
        check_partitioning_kept(before, table)
        before_columns = {column.name for column in before.columns}
        # Generated columns after the columns they read (and so dropped before them).
        operations: list[Operation] = [
            AddColumn(name, column)
            for column in sorted(table.columns, key=lambda column: column.generated is not None)
            if column.name not in before_columns and (name, column.name) not in self.filled
        ]
        operations += self._primary_key()
        operations += [
            AddUniqueConstraint(name, unique, self._builds_concurrently(unique.name, unique))
            for unique in _added(before.uniques, table.uniques)
        ]
        operations += [
            AddCheckConstraint(name, check, validate_later=self.existing_rows)
            for check in _added(before.checks, table.checks)
        ]
        partitioned = table.partition is not None
        operations += [
            CreateIndex(name, index, self._builds_concurrently(index.name), partitioned)
            for index in _added(before.indexes, table.indexes)
        ]
        operations += [
            AddExclusionConstraint(name, exclusion, self.existing_rows)
            for exclusion in _added(before.exclusions, table.exclusions)
        ]
        before_extras = _table_extras(before, base)
        extras = [op for op in _table_extras(table, target) if op not in set(before_extras)]
        # A kept partitioned table keeps its partitions; a new premake replaces its
        # maintenance function (once: the pass over what the old catalog had skips it).
        operations += [op for op in extras if not isinstance(op, CreatePartitions)]
        replaced = [op for op in before_extras if isinstance(op, CreatePartitions)]
        made = [op for op in extras if isinstance(op, CreatePartitions)]
        if self.existing_rows and replaced and made:
            operations.append(ReplacePartitionMaintenance(replaced[0], made[0]))
        return operations

    def _builds_concurrently(self, name: str, unique: UniqueConstraint | None = None) -> bool:
        """A new name on a table with rows; an index or unique key replacing one of the
        same name is built in the transaction, so that no moment lacks it, and so is a
        unique key a foreign key of the revision refers to. A partitioned table's index
        is built partition by partition; its unique constraint, which PostgreSQL cannot
        attach to an index built beforehand, in the transaction."""
        before = self.before
        replaced = {i.name for i in before.indexes} | {u.name for u in before.uniques}
        replaced.add(before.primary_key_name)
        if not self.existing_rows or name in replaced:
            return False
        if before.partition is not None:
            return unique is None
        return unique is None or (self.table.name, unique.columns) not in self.referred

    def _primary_key(self) -> list[Operation]:
        """A primary key that gains columns (a junction becoming tenant-scoped); one
        that loses them is the same change seen from the other side."""
        old, new = self.before.primary_key, self.table.primary_key
        if old == new or set(old) > set(new):
            return []
        if set(old) < set(new):
            return [ReplacePrimaryKey(self.table.name, old, new)]
        raise GenerationError(
            f"the primary key of table {self.table.name} changes from {old} to {new}",
            hint="a generated revision cannot change a primary key; write that revision by hand",
        )


def _table_extras(table: Table, catalog: Catalog) -> list[Operation]:
    """The trigger, row-level security, policy, grants and distribution a table carries.

    The tenant table's policy compares its ``id`` with the setting (guarantee 10), a
    junction of the tenant entity's its column referring to the tenant table."""
    operations: list[Operation] = []
    if table.updated_at_trigger:
        operations.append(CreateUpdatedAtTrigger(table.name))
    if table.partition is not None:
        bound = sql_type(table.column(table.partition.column).type)
        scoped = catalog.tenancy if table.tenant_scoped else None
        operations.append(
            CreatePartitions(
                table.name,
                table.partition,
                catalog.roles,
                bound,
                scoped,
                _stored_beside_generated(table),
            )
        )
    tenancy = catalog.tenancy
    column = tenancy.column if tenancy and table.tenant_scoped else table.tenant_key
    if tenancy and column:
        operations.append(EnableRowLevelSecurity(table.name))
        operations.append(CreateTenantPolicy(table.name, column, tenancy.setting))
    if role_privileges(catalog):
        operations += [
            GrantPrivileges(table.name, role, privileges)
            for role, privileges in table_privileges(catalog, table)
        ]
    operations += search_functions(table, catalog)
    operations += audit_triggers(table, catalog)
    operations += distribution_operations(table, catalog)
    return operations


def _stored_beside_generated(table: Table) -> tuple[str, ...]:
    """The columns of ``table`` that are not generated, where some are."""
    if not any(column.generated for column in table.columns):
        return ()
    return tuple(column.name for column in table.columns if not column.generated)


def _added(before: Iterable[Named], after: Iterable[Named]) -> list[Named]:
    """Objects of ``after`` whose name ``before`` lacks, or holds with another definition."""
    previous = {item.name: item for item in before}
    return [item for item in after if previous.get(item.name) != item]


def _creation_order(tables: list[Table]) -> list[Table]:
    """Referred tables before referring ones, in catalog order otherwise; cycles broken
    at the first table still waiting (its foreign keys are then added afterwards)."""
    pending = list(tables)
    names = {table.name for table in tables}
    ordered: list[Table] = []
    done: set[str] = set()
    while pending:
        ready = next(
            (
                table
                for table in pending
                if all(
                    fk.referred_table in done
                    or fk.referred_table == table.name
                    or fk.referred_table not in names
                    for fk in table.foreign_keys
                )
            ),
            pending[0],
        )
        pending.remove(ready)
        ordered.append(ready)
        done.add(ready.name)
    return ordered


def _alterations(old: Catalog, new: Catalog) -> tuple[Operation, ...]:
    """Enum types and columns present in both catalogs with another definition."""
    old_tables = {table.name: table for table in old.tables}
    kept = _kept_columns(old_tables, new)
    swaps = enum_swaps(old, new, kept)
    swapped = {swap.name for swap in swaps}
    operations: list[Operation] = list(swaps)
    for table in new.tables:
        if table.name not in old_tables:
            continue
        before_table = old_tables[table.name]
        if before_table.comment != table.comment:
            operations.append(AlterTableComment(table.name, before_table.comment, table.comment))
    new_tables = {table.name: table for table in new.tables}
    for table_name, before, after in kept:
        before = replace(before, role=after.role)  # what a column is for is not in the DDL
        if before.generated != after.generated:
            change = generation_change(
                table_name, old_tables[table_name], new_tables[table_name], before, after
            )
            operations.append(change)
            before = after if change.recreates else change.new
        if _stored_as_varchar(before) and _stored_as_varchar(after):
            before = replace(before, type=after.type)  # the labels live in the check
        elif _stored_as_varchar(before) != _stored_as_varchar(after) and _is_enum(before, after):
            operations.append(storage_change(old, new, table_name, before, after))
            before = replace(before, type=after.type, default=after.default)
            before = replace(before, default_sql=after.default_sql)
        if after.type.enum_name in swapped and before.type.enum_name == after.type.enum_name:
            # The swap converts the column and resets its default.
            before = replace(before, type=after.type, default=after.default)
            before = replace(before, default_sql=after.default_sql)
        if before != after:
            operations.append(AlterColumn(table_name, before, after))
    return tuple(around_type_changes(operations, old_tables, new_tables))


def _is_enum(*columns: Column) -> bool:
    return all(column.type.name == "enum" for column in columns)


def _stored_as_varchar(column: Column) -> bool:
    return column.type.name == "enum" and column.type.enum_name is None


def _kept_columns(
    old_tables: Mapping[str, Table], new: Catalog
) -> list[tuple[str, Column, Column]]:
    """``(table, old column, new column)`` for every column both catalogs have."""
    kept = []
    for table in new.tables:
        before = old_tables.get(table.name)
        if before is None:
            continue
        before_columns = {column.name: column for column in before.columns}
        kept += [
            (table.name, before_columns[column.name], column)
            for column in table.columns
            if column.name in before_columns
        ]
    return kept
