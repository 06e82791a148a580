"""Entity-relationship diagrams of the physical catalog: Mermaid and Graphviz DOT.

Both are drawn from the catalog the revisions are rendered from, so a diagram shows the
tables, columns and foreign keys the database holds. Mermaid's ``erDiagram`` takes an
attribute type as one word: ``varchar(200)`` is written ``varchar_200`` and ``text[]``
``text_array``. Entity names are quoted, so no table name can read as a keyword.
The tenant column's foreign keys are left out of the drawing (every tenant-scoped
table has one) and said in a note instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from entityforge.catalog import Catalog, Column, ForeignKey, Table
from entityforge.catalog.sql import sql_type
from entityforge.memo import by_identity

FORMATS = ("mermaid", "dot")


@dataclass(frozen=True)
class Edge:
    """A drawn foreign key: ``child`` references ``parent`` through ``label``."""

    parent: str
    child: str
    label: str
    optional: bool
    unique: bool


@by_identity
def diagram_type(column: Column) -> str:
    """The column's SQL type as one Mermaid word: ``numeric(12, 2)`` → ``numeric_12_2``."""
    text = sql_type(column.type).replace("[]", "_array").strip('"')
    return re.sub(r"_+", "_", re.sub(r"[^A-Za-z0-9_]+", "_", text)).strip("_")


@by_identity
def drawn_foreign_keys(catalog: Catalog, table: Table) -> tuple[ForeignKey, ...]:
    """The table's foreign keys but the plain tenant reference."""
    tenant = catalog.tenancy.column if catalog.tenancy else None
    return tuple(fk for fk in table.foreign_keys if fk.columns != (tenant,))


def edges(catalog: Catalog, tables: tuple[Table, ...]) -> tuple[Edge, ...]:
    tenant = catalog.tenancy.column if catalog.tenancy else None
    result = []
    for table in tables:
        unique_sets = unique_columns(catalog, table)
        for fk in drawn_foreign_keys(catalog, table):
            own = tuple(column for column in fk.columns if column != tenant) or fk.columns
            optional = any(table.column(column).nullable for column in own)
            result.append(
                Edge(
                    fk.referred_table,
                    table.name,
                    ", ".join(own),
                    optional,
                    fk.columns in unique_sets,
                )
            )
    return tuple(result)


def column_keys(catalog: Catalog, table: Table, column: Column) -> str:
    """Mermaid's key markers: PK, FK, and UK where the column alone (beside the tenant
    column) is unique."""
    keys = []
    if column.name in table.primary_key:
        keys.append("PK")
    if any(column.name in fk.columns for fk in table.foreign_keys):
        keys.append("FK")
    if (column.name,) in unique_columns(catalog, table) and column.name not in table.primary_key:
        keys.append("UK")
    return ", ".join(keys)


@by_identity
def unique_columns(catalog: Catalog, table: Table) -> frozenset[tuple[str, ...]]:
    """The column sets unique in the table, the leading tenant column left out."""
    tenant = catalog.tenancy.column if catalog.tenancy else None
    sets = [u.columns for u in table.uniques]
    sets += [i.column_names for i in table.indexes if i.unique]
    return frozenset(
        columns[1:] if table.tenant_scoped and columns[:1] == (tenant,) else columns
        for columns in sets
    )


def mermaid(
    catalog: Catalog, tables: tuple[Table, ...] | None = None, *, attributes: bool = True
) -> str:
    """An ``erDiagram`` of ``tables`` (default: all), ready for a Markdown code fence;
    without ``attributes``, the tables' names and relationships only."""
    chosen = catalog.tables if tables is None else tables
    names = {table.name for table in chosen}
    lines = ["erDiagram"]
    for table in chosen:
        if not attributes:
            lines.append(f'    "{table.name}"')
            continue
        lines.extend(_attributes(catalog, table))
    for edge in edges(catalog, chosen):
        if edge.parent not in names:
            continue
        parent = "|o" if edge.optional else "||"
        child = "o|" if edge.unique else "o{"
        lines.append(f'    "{edge.parent}" {parent}--{child} "{edge.child}" : "{edge.label}"')
    return "\n".join(lines) + "\n"


@by_identity
def _attributes(catalog: Catalog, table: Table) -> tuple[str, ...]:
    """The table's block of an ``erDiagram``: one line per column, with its keys."""
    lines = [f'    "{table.name}" {{']
    for column in table.columns:
        keys = column_keys(catalog, table, column)
        lines.append(f"        {diagram_type(column)} {column.name} {keys}".rstrip())
    return (*lines, "    }")


def neighbourhood(catalog: Catalog, table: Table) -> tuple[Table, ...]:
    """``table`` and the tables it references or that reference it, in catalog order."""
    near = _neighbours(catalog)[table.name]
    return tuple(t for t in catalog.tables if t.name in near)


@by_identity
def _neighbours(catalog: Catalog) -> dict[str, set[str]]:
    """Each table's name with the names of the tables it is drawn next to (its own too)."""
    near = {table.name: {table.name} for table in catalog.tables}
    for table in catalog.tables:
        for fk in drawn_foreign_keys(catalog, table):
            near[table.name].add(fk.referred_table)
            near.setdefault(fk.referred_table, {fk.referred_table}).add(table.name)
    return near


def _dot_text(text: str) -> str:
    """Text inside a record label: the characters records give meaning to are escaped."""
    return re.sub(r'([{}|<>"\\])', r"\\\1", text)


def dot(catalog: Catalog, tables: tuple[Table, ...] | None = None) -> str:
    """A Graphviz ``digraph``: one record per table, an arrow per foreign key."""
    chosen = catalog.tables if tables is None else tables
    lines = ["digraph schema {", "    rankdir=LR;", "    node [shape=record, fontsize=10];"]
    for table in chosen:
        rows = "".join(
            f"{_dot_text(c.name)}: {_dot_text(sql_type(c.type))}"
            f"{_dot_text(' ' + keys) if (keys := column_keys(catalog, table, c)) else ''}\\l"
            for c in table.columns
        )
        lines.append(f'    "{table.name}" [label="{{{_dot_text(table.name)}|{rows}}}"];')
    for edge in edges(catalog, chosen):
        style = ", style=dashed" if edge.optional else ""
        lines.append(f'    "{edge.child}" -> "{edge.parent}" [label="{edge.label}"{style}];')
    lines.append("}")
    return "\n".join(lines) + "\n"


RENDERERS: dict[str, Callable[[Catalog, tuple[Table, ...] | None], str]] = {
    "mermaid": mermaid,
    "dot": dot,
}


def render_diagram(catalog: Catalog, form: str = "mermaid") -> str:
    return RENDERERS[form](catalog, None)
