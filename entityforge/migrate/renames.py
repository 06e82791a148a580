"""Renames between two catalogs: what the spec declares, and what follows from it.

``renamed_from`` on an entity (its old name or old table name), a field or a relation
declares a rename; a junction table and its columns follow their entities and
relation. Renames whose old name the previous catalog lacks are already applied and
ignored, so a spec may keep its ``renamed_from`` forever. Two renames are implied:
the tenancy column renamed under ``tenancy.column``, and, when a table becomes
tenant-scoped, its one reference to the tenant table becoming the tenant column.

Everything named after a renamed object follows: primary keys, triggers and enum types
by the naming convention, other constraints and indexes by their definitions: an old
constraint whose definition, under the new table and column names, is that of exactly
one new constraint of another name is renamed to it, never dropped and created.

``rename_to_match(old, new)`` gives the rename operations and the old catalog as it is
after them, which the rest of the comparison starts from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from entityforge import naming
from entityforge.catalog import Catalog, Column, ForeignKey, Index, Table
from entityforge.catalog.grants import ROLE_SLOTS, role_privileges, table_privileges
from entityforge.migrate.operations import Operation
from entityforge.migrate.operations.renames import (
    RenameColumn,
    RenameConstraint,
    RenameEnum,
    RenameIndex,
    RenameRole,
    RenameTable,
    RenameTrigger,
)
from entityforge.parse_tree import rename_columns
from entityforge.schema import Tenancy

Item = TypeVar("Item")


@dataclass(frozen=True)
class Renamed:
    """The old catalog under the new names, and the operations that rename it so."""

    catalog: Catalog
    operations: tuple[Operation, ...]


@dataclass(frozen=True)
class _TableRename:
    old: Table
    new_name: str
    columns: Mapping[str, str]


def strip_renames(catalog: Catalog) -> Catalog:
    """The catalog without ``renamed_from``: what the database holds."""
    tables = tuple(_without_renames(table) for table in catalog.tables)
    if all(new is old for new, old in zip(tables, catalog.tables, strict=True)):
        return catalog
    return replace(catalog, tables=tables)


def _without_renames(table: Table) -> Table:
    if not table.renamed_from and not any(column.renamed_from for column in table.columns):
        return table
    columns = tuple(
        replace(column, renamed_from=None) if column.renamed_from else column
        for column in table.columns
    )
    return replace(table, renamed_from=None, columns=columns)


def rename_to_match(old: Catalog, new: Catalog) -> Renamed:
    """Rename what ``old`` holds under the names ``new`` gives the same things."""
    table_names = _table_renames(old, new)
    new_tables = {table.name: table for table in new.tables}
    renames = [
        _TableRename(
            table,
            table_names.get(table.name, table.name),
            _column_renames(
                table, new_tables.get(table_names.get(table.name, table.name)), table_names
            ),
        )
        for table in old.tables
    ]
    enums = _enum_renames(old, new, renames)
    tables = _renamed_tables(renames, table_names, enums)
    operations: list[Operation] = [RenameTable(o, n) for o, n in table_names.items()]
    operations += _convention_renames(renames, table_names)
    operations += [
        RenameColumn(rename.new_name, o, n)
        for rename in renames
        for o, n in rename.columns.items()
    ]
    operations += [RenameEnum(o, n) for o, n in enums.items()]
    matched, constraint_renames = _constraint_renames(tables, new_tables)
    operations += constraint_renames
    catalog = replace(
        old,
        tables=matched,
        enums=tuple(replace(enum, name=enums.get(enum.name, enum.name)) for enum in old.enums),
        tenancy=_renamed_tenancy(old, new, renames),
    )
    catalog, role_renames = _role_renames(catalog, new)
    return Renamed(catalog, (*operations, *role_renames))


def _table_renames(old: Catalog, new: Catalog) -> dict[str, str]:
    """``{old table: new table}`` for every table the new catalog renames."""
    old_names = {table.name for table in old.tables}
    new_names = {table.name for table in new.tables}
    renames: dict[str, str] = {}
    for table in new.tables:
        claimed = table.renamed_from
        if claimed is None or table.name in old_names:
            continue
        source = next(
            (
                candidate
                for candidate in old.tables
                if candidate.name == claimed or (candidate.entity or "") == claimed
            ),
            None,
        )
        if source is None or source.name in new_names or source.name in renames:
            continue
        renames[source.name] = table.name
    return {**renames, **_history_renames(old, new, renames)}


def _history_renames(old: Catalog, new: Catalog, renames: Mapping[str, str]) -> dict[str, str]:
    """The history table of a renamed audited table, renamed with it."""
    old_names = {table.name for table in old.tables}
    before = {table.history_of: table.name for table in old.tables if table.history_of}
    moved = {after: source for source, after in renames.items()}
    result: dict[str, str] = {}
    for table in new.tables:
        source = moved.get(table.history_of or "")
        history = before.get(source) if source else None
        if history and history != table.name and table.name not in old_names:
            result[history] = table.name
    return result


def _column_renames(
    old: Table, new: Table | None, table_names: Mapping[str, str]
) -> dict[str, str]:
    """``{old column: new column}`` for one table the new catalog keeps."""
    if new is None:
        return {}
    old_names = {column.name for column in old.columns}
    new_names = {column.name for column in new.columns}
    pairs = [(column.renamed_from, column.name) for column in new.columns if column.renamed_from]
    pairs += _implied_tenant_rename(old, new, table_names)
    renames: dict[str, str] = {}
    for before, after in pairs:
        if (
            before in old_names
            and before not in new_names
            and after not in old_names
            and before not in renames
            and after not in renames.values()
        ):
            renames[before] = after
    return renames


def _implied_tenant_rename(
    old: Table, new: Table, table_names: Mapping[str, str]
) -> list[tuple[str, str]]:
    """The tenant column under another name, or the one reference to the tenant table
    that a table becoming tenant-scoped turns into its tenant column."""
    after = next((column.name for column in new.columns if column.role == "tenant"), None)
    if after is None:
        return []
    before = next((column.name for column in old.columns if column.role == "tenant"), None)
    if before is not None:
        return [(before, after)]
    tenant_key = next((fk for fk in new.foreign_keys if fk.columns == (after,)), None)
    if tenant_key is None:
        return []
    references = [
        fk.columns[0]
        for fk in old.foreign_keys
        if len(fk.columns) == 1
        and table_names.get(fk.referred_table, fk.referred_table) == tenant_key.referred_table
    ]
    return [(references[0], after)] if len(references) == 1 else []


def _enum_renames(old: Catalog, new: Catalog, renames: Sequence[_TableRename]) -> dict[str, str]:
    """Enum types named after a renamed entity or field: ``{old type: new type}``."""
    old_enums = {enum.name for enum in old.enums}
    new_enums = {enum.name for enum in new.enums}
    new_tables = {table.name: table for table in new.tables}
    result: dict[str, str] = {}
    for rename in renames:
        target = new_tables.get(rename.new_name)
        if target is None:
            continue
        after_columns = {column.name: column for column in target.columns}
        for column in rename.old.columns:
            after = after_columns.get(rename.columns.get(column.name, column.name))
            before_type = column.type.enum_name
            after_type = after.type.enum_name if after is not None else None
            if (
                before_type
                and after_type
                and before_type != after_type
                and before_type not in new_enums
                and after_type not in old_enums
                and before_type not in result
            ):
                result[before_type] = after_type
    return result


def _renamed_tables(
    renames: Sequence[_TableRename], table_names: Mapping[str, str], enums: Mapping[str, str]
) -> list[Table]:
    """Every old table with the new table, column and enum type names in its definition."""
    columns_of = {rename.new_name: rename.columns for rename in renames}
    return [_rename_table(rename, table_names, columns_of, enums) for rename in renames]


def _rename_table(
    rename: _TableRename,
    table_names: Mapping[str, str],
    columns_of: Mapping[str, Mapping[str, str]],
    enums: Mapping[str, str],
) -> Table:
    table, names = rename.old, rename.columns

    def column_name(name: str) -> str:
        return names.get(name, name)

    def foreign_key(fk: ForeignKey) -> ForeignKey:
        referred = table_names.get(fk.referred_table, fk.referred_table)
        far = columns_of.get(referred, {})
        return replace(
            fk,
            columns=tuple(map(column_name, fk.columns)),
            referred_table=referred,
            referred_columns=tuple(far.get(c, c) for c in fk.referred_columns),
            set_null_columns=tuple(map(column_name, fk.set_null_columns)),
        )

    def index(index: Index) -> Index:
        columns = tuple(
            replace(c, name=rename_columns(c.name, names) if c.expression else column_name(c.name))
            for c in index.columns
        )
        where = rename_columns(index.where, names) if index.where else None
        include = tuple(map(column_name, index.include))
        return replace(index, columns=columns, where=where, include=include)

    return replace(
        table,
        name=rename.new_name,
        # PostgreSQL renames the columns a generation expression reads along with them.
        columns=tuple(
            _rename_column(
                (
                    replace(column, generated=rename_columns(column.generated, names))
                    if column.generated
                    else column
                ),
                column_name(column.name),
                enums,
            )
            for column in table.columns
        ),
        primary_key=tuple(map(column_name, table.primary_key)),
        foreign_keys=tuple(map(foreign_key, table.foreign_keys)),
        uniques=tuple(
            replace(u, columns=tuple(map(column_name, u.columns))) for u in table.uniques
        ),
        indexes=tuple(map(index, table.indexes)),
        checks=tuple(
            replace(check, expression=rename_columns(check.expression, names))
            for check in table.checks
        ),
        exclusions=tuple(
            replace(
                exclusion,
                elements=tuple(
                    replace(
                        e,
                        name=(
                            rename_columns(e.name, names) if e.expression else column_name(e.name)
                        ),
                    )
                    for e in exclusion.elements
                ),
                where=rename_columns(exclusion.where, names) if exclusion.where else None,
            )
            for exclusion in table.exclusions
        ),
        # A search function keeps its name (the database's) and now reads the renamed
        # column; the diff replaces it with the one named after the new column.
        searches=tuple(
            replace(search, column=column_name(search.column)) for search in table.searches
        ),
        # PostgreSQL keeps a policy's expressions as parse trees, which follow the rename.
        policies=tuple(
            replace(
                policy,
                using=rename_columns(policy.using, names) if policy.using else None,
                check=rename_columns(policy.check, names) if policy.check else None,
            )
            for policy in table.policies
        ),
    )


def _rename_column(column: Column, name: str, enums: Mapping[str, str]) -> Column:
    enum_name = column.type.enum_name
    if enum_name is not None and enum_name in enums:
        column = replace(column, type=replace(column.type, enum_name=enums[enum_name]))
    return replace(column, name=name)


def _convention_renames(
    renames: Sequence[_TableRename], table_names: Mapping[str, str]
) -> list[Operation]:
    """The primary key and the ``updated_at`` trigger, named after their table."""
    operations: list[Operation] = []
    for rename in renames:
        old_name = rename.old.name
        if old_name not in table_names:
            continue
        new_name = rename.new_name
        old_key, new_key = naming.primary_key_name(old_name), naming.primary_key_name(new_name)
        if old_key != new_key:
            operations.append(RenameConstraint(new_name, old_key, new_key))
        old_trigger, new_trigger = naming.trigger_name(old_name), naming.trigger_name(new_name)
        if rename.old.updated_at_trigger and old_trigger != new_trigger:
            operations.append(RenameTrigger(new_name, old_trigger, new_trigger))
    return operations


def _constraint_renames(
    tables: Sequence[Table], new_tables: Mapping[str, Table]
) -> tuple[tuple[Table, ...], list[Operation]]:
    """Constraints and indexes whose definition survives under another name."""
    result: list[Table] = []
    operations: list[Operation] = []
    for table in tables:
        target = new_tables.get(table.name)
        if target is None:
            result.append(table)
            continue
        taken = {table.primary_key_name} | {fk.name for fk in table.foreign_keys}
        taken |= {unique.name for unique in table.uniques}
        taken |= {check.name for check in table.checks}
        taken |= {index.name for index in table.indexes}
        foreign_keys, renamed_keys = _match_by_definition(
            table.foreign_keys, target.foreign_keys, taken
        )
        uniques, renamed_uniques = _match_by_definition(table.uniques, target.uniques, taken)
        checks, renamed_checks = _match_by_definition(table.checks, target.checks, taken)
        indexes, renamed_indexes = _match_by_definition(table.indexes, target.indexes, taken)
        table = replace(
            table, foreign_keys=foreign_keys, uniques=uniques, checks=checks, indexes=indexes
        )
        for old, new in (*renamed_keys, *renamed_uniques, *renamed_checks):
            operations.append(RenameConstraint(table.name, old, new))
        operations += [RenameIndex(table.name, old, new) for old, new in renamed_indexes]
        result.append(table)
    return tuple(result), operations


def _match_by_definition(
    before: Sequence[Any], after: Sequence[Any], taken: set[str]
) -> tuple[tuple[Any, ...], list[tuple[str, str]]]:
    """Rename each item of ``before`` that ``after`` holds, by definition, under exactly
    one other, free name; ``taken`` (names in use) is updated as names move."""
    after_names = {item.name for item in after}
    candidates: dict[Any, list[Any]] = {}
    for item in after:
        if item.name not in taken:
            candidates.setdefault(_anonymous(item), []).append(item)
    orphans = [item for item in before if item.name not in after_names]
    counts = _counts(_anonymous(item) for item in orphans)
    renamed: dict[str, Any] = {}
    for item in orphans:
        key = _anonymous(item)
        matches = candidates.get(key, [])
        if len(matches) == 1 and counts[key] == 1:
            renamed[item.name] = matches[0]
            taken.discard(item.name)
            taken.add(matches[0].name)
    items = tuple(renamed.get(item.name, item) for item in before)
    return items, [(old, item.name) for old, item in renamed.items()]


def _anonymous(item: Any) -> Any:
    """An item's definition without its name (a check's short name is part of it)."""
    if hasattr(item, "short_name"):
        return replace(item, name="", short_name="")
    return replace(item, name="")


def _counts(items: Iterable[Item]) -> dict[Item, int]:
    counts: dict[Item, int] = {}
    for item in items:
        counts[item] = counts.get(item, 0) + 1
    return counts


def _renamed_tenancy(
    old: Catalog, new: Catalog, renames: Sequence[_TableRename]
) -> Tenancy | None:
    """The tenancy with the tenant column renamed where the tables renamed it."""
    if old.tenancy is None or new.tenancy is None or old.tenancy.column == new.tenancy.column:
        return old.tenancy
    moved = any(rename.columns.get(old.tenancy.column) == new.tenancy.column for rename in renames)
    return replace(old.tenancy, column=new.tenancy.column) if moved else old.tenancy


def _role_renames(catalog: Catalog, new: Catalog) -> tuple[Catalog, list[Operation]]:
    """A role renamed under ``roles`` moves with its grants (``RenameRole``)."""
    before, after = role_privileges(catalog), role_privileges(new)
    if not before or not after:
        return catalog, []
    old_names = {name for name, _ in before}
    new_names = {name for name, _ in after}
    operations: list[Operation] = []
    roles = catalog.roles
    for slot, (old_name, bypass), (new_name, _) in zip(ROLE_SLOTS, before, after, strict=True):
        if old_name == new_name or new_name in old_names or old_name in new_names:
            continue
        grants = tuple(
            (table.name, privileges)
            for table in catalog.tables
            for role, privileges in table_privileges(catalog, table)
            if role == old_name
        )
        operations.append(RenameRole(old_name, new_name, bypass, grants))
        roles = replace(roles, **{slot: new_name})
    return replace(catalog, roles=roles), operations
