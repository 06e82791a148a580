"""Where each catalog constraint of a table is declared in the models, and its source.

A single-column foreign key or unique constraint whose conventional name is the
catalog's name is a column keyword (``ForeignKey(...)``, ``unique=True``); everything
else (composite keys, ``SET NULL (column)``, indexes, checks) goes to
``__table_args__`` under the catalog's exact name and column order. Constraint columns
are named by their column names (a mapped class keys its table's columns by name).
"""

from __future__ import annotations

from dataclasses import dataclass

from entityforge import naming
from entityforge.catalog import (
    Catalog,
    CheckConstraint,
    ExclusionConstraint,
    ForeignKey,
    Index,
    Table,
    UniqueConstraint,
)
from entityforge.generators.models.columns import ModelNames
from entityforge.generators.python_source import Code, call, sole_argument, string_literal
from entityforge.generators.sql import escape_text

# Where literals stand once black has split a ``__table_args__`` item: a check's
# expression among the item's arguments, an index predicate inside ``text(...)``.
CHECK_INDENT = 12
WHERE_INDENT = 16


@dataclass(frozen=True)
class TableLayout:
    """Constraints declared on columns, and the ``__table_args__`` items."""

    column_foreign_keys: tuple[tuple[str, Code], ...]
    column_uniques: frozenset[str]
    table_arguments: tuple[Code, ...]
    primary_key: tuple[str, ...] = ()

    def foreign_key(self, column: str) -> Code | None:
        return dict(self.column_foreign_keys).get(column)


def _is_column_foreign_key(table: Table, fk: ForeignKey) -> bool:
    conventional = naming.foreign_key_name(table.name, fk.columns, fk.referred_table)
    return len(fk.columns) == 1 and not fk.set_null_columns and fk.name == conventional


def _is_column_unique(table: Table, unique: UniqueConstraint) -> bool:
    conventional = naming.unique_name(table.name, unique.columns)
    return len(unique.columns) == 1 and unique.name == conventional


def _key_options(fk: ForeignKey, cyclic: frozenset[str]) -> list[str]:
    options = [] if fk.on_delete == "NO ACTION" else [f"ondelete={fk.on_delete_clause!r}"]
    return options + ["use_alter=True"] if fk.name in cyclic else options


def cyclic_foreign_keys(catalog: Catalog) -> frozenset[str]:
    """Keys on a cycle of tables (self references aside): SQLAlchemy adds them by ALTER.

    A key is on a cycle when its two tables are in one strongly connected component of
    the reference graph; the components come from one pass of Tarjan's algorithm.
    """
    edges = {
        table.name: sorted({fk.referred_table for fk in table.foreign_keys} - {table.name})
        for table in catalog.tables
    }
    component = _strongly_connected_components(edges)
    return frozenset(
        fk.name
        for table in catalog.tables
        for fk in table.foreign_keys
        if fk.referred_table != table.name
        and component.get(fk.referred_table) == component[table.name]
    )


def _strongly_connected_components(edges: dict[str, list[str]]) -> dict[str, int]:
    """Each node's component number (iterative Tarjan: no recursion limit on long chains)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    component: dict[str, int] = {}
    stack: list[str] = []
    roots: list[str] = []
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(edges.get(root, ())))]
        index[root] = low[root] = len(index)
        stack.append(root)
        while work:
            node, successors = work[-1]
            successor = next((s for s in successors if s not in component), None)
            if successor is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    number = len(roots)
                    roots.append(node)
                    while (member := stack.pop()) != node:
                        component[member] = number
                    component[node] = number
            elif successor not in index:
                index[successor] = low[successor] = len(index)
                stack.append(successor)
                work.append((successor, iter(edges.get(successor, ()))))
            else:
                low[node] = min(low[node], index[successor])
    return component


def _referred(fk: ForeignKey) -> list[str]:
    return [f"{fk.referred_qualified}.{column}" for column in fk.referred_columns]


def column_foreign_key(fk: ForeignKey, names: ModelNames, cyclic: frozenset[str]) -> Code:
    """``ForeignKey("table.column", ondelete=...)`` for a single-column key."""
    options = _key_options(fk, cyclic)
    return call(names.sqlalchemy("ForeignKey"), repr(_referred(fk)[0]), *options)


def _foreign_key_constraint(fk: ForeignKey, names: ModelNames, cyclic: frozenset[str]) -> Code:
    columns = repr(list(fk.columns))
    arguments = [columns, repr(_referred(fk)), f"name={fk.name!r}", *_key_options(fk, cyclic)]
    return call(names.sqlalchemy("ForeignKeyConstraint"), *arguments)


def _unique_constraint(unique: UniqueConstraint, names: ModelNames) -> Code:
    columns = [repr(column) for column in unique.columns]
    return call(names.sqlalchemy("UniqueConstraint"), *columns, f"name={unique.name!r}")


def _index(index: Index, names: ModelNames) -> Code:
    arguments: list[Code | str] = [repr(index.name)]
    arguments += [
        (
            call(names.sqlalchemy("text"), sole_argument(escape_text(column.sql), WHERE_INDENT))
            if column.hashed or column.expression
            else repr(column.name)
        )
        for column in index.columns
    ]
    if index.unique:
        arguments.append("unique=True")
    if index.include:
        arguments.append(f"postgresql_include={list(index.include)!r}")
    if index.method != "btree":
        arguments.append(f"postgresql_using={index.method!r}")
    if index.where:
        predicate = sole_argument(escape_text(index.where), WHERE_INDENT)
        where = call(names.sqlalchemy("text"), predicate)
        arguments.append(where.wrap("postgresql_where="))
    ops = {column.name: column.opclass for column in index.columns if column.opclass}
    if ops:
        arguments.append(f"postgresql_ops={ops!r}")
    return call(names.sqlalchemy("Index"), *arguments)


def _check(check: CheckConstraint, names: ModelNames) -> Code:
    expression = string_literal(escape_text(check.expression), CHECK_INDENT, suffix=",")
    # The ``ck`` naming convention turns the short name into the catalog's name.
    return call(names.sqlalchemy("CheckConstraint"), expression, f"name={check.short_name!r}")


def _exclusion(exclusion: ExclusionConstraint, names: ModelNames) -> Code:
    elements: list[Code | str] = []
    for element in exclusion.elements:
        if element.expression:
            sql = sole_argument(escape_text(element.sql), WHERE_INDENT)
            text = call(names.sqlalchemy("text"), sql)
            elements.append(text.wrap("(", f", {element.operator!r})"))
        else:
            elements.append(f"({element.name!r}, {element.operator!r})")
    arguments: list[Code | str] = [
        *elements,
        f"name={exclusion.name!r}",
        f"using={exclusion.method!r}",
    ]
    if exclusion.where:
        predicate = sole_argument(escape_text(exclusion.where), WHERE_INDENT)
        arguments.append(call(names.sqlalchemy("text"), predicate).wrap("where="))
    return call(names.postgresql("ExcludeConstraint"), *arguments)


def table_layout(
    table: Table,
    names: ModelNames,
    declared: frozenset[str],
    cyclic: frozenset[str] = frozenset(),
) -> TableLayout:
    """Split a table's constraints between its ``declared`` columns and ``__table_args__``.

    Columns outside ``declared`` come from mixins, which declare their own keys;
    ``cyclic`` names the keys on a cycle of tables (see ``cyclic_foreign_keys``).
    """
    column_fks: list[tuple[str, Code]] = []
    arguments: list[Code] = []
    for fk in table.foreign_keys:
        if _is_column_foreign_key(table, fk):
            if fk.columns[0] in declared:
                column_fks.append((fk.columns[0], column_foreign_key(fk, names, cyclic)))
            continue
        arguments.append(_foreign_key_constraint(fk, names, cyclic))
    column_uniques = set()
    for unique in table.uniques:
        if _is_column_unique(table, unique) and unique.columns[0] in declared:
            column_uniques.add(unique.columns[0])
        else:
            arguments.append(_unique_constraint(unique, names))
    arguments += [_index(index, names) for index in table.indexes]
    arguments += [_check(check, names) for check in table.checks]
    arguments += [_exclusion(exclusion, names) for exclusion in table.exclusions]
    return TableLayout(
        tuple(column_fks), frozenset(column_uniques), tuple(arguments), table.primary_key
    )
