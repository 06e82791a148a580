"""``docs/schema.md``: the database the spec leads to, as a reader of the project sees it.

An ER diagram (Mermaid, which GitHub and GitLab render as is) and, per table, its
columns, keys, indexes, checks and the row-level security, grants and triggers the
revisions give it. All of it comes from the catalog the revisions are rendered from;
the security statements are the very SQL the initial revision would run for the table,
so the page cannot describe a database other than the one migrations build.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, replace

from entityforge.catalog import Catalog, Column, Index, Table
from entityforge.catalog.sql import default_expression, sql_type
from entityforge.generators import GenerationContext
from entityforge.generators.erd import drawn_foreign_keys, mermaid, neighbourhood
from entityforge.generators.migrations.renderers import render_operation
from entityforge.generators.reuse import Reuse
from entityforge.generators.templating import render
from entityforge.migrate import operations as ops
from entityforge.migrate.diff import compare_catalogs
from entityforge.schema import Schema

SCHEMA_DOC = "docs/schema.md"
# Beyond this many tables the page's diagram shows names and relationships only, and
# each table's section draws the table with its neighbours.
LARGE_SCHEMA = 30
# Shown as a table's structure already; the rest of a table's steps are listed as SQL.
_STRUCTURE = (
    ops.CreateTable,
    ops.CreateIndex,
    ops.AddForeignKey,
    ops.AddUniqueConstraint,
    ops.AddCheckConstraint,
)


@dataclass(frozen=True)
class ColumnRow:
    name: str
    type: str
    nullable: str
    default: str
    comment: str


@dataclass(frozen=True)
class TableLink:
    """A table's line in the page's list of tables."""

    name: str
    anchor: str
    entity: str


def _table_link(table: Table) -> TableLink:
    return TableLink(code(table.name), table.name, code(table.entity) if table.entity else "")


@dataclass(frozen=True)
class TableView:
    """One table's section, every value already Markdown."""

    name: str
    anchor: str
    entity: str
    comment: str
    intro: str
    columns: tuple[ColumnRow, ...]
    keys: tuple[str, ...]
    indexes: tuple[str, ...]
    checks: tuple[str, ...]
    statements: tuple[str, ...]
    diagram: str


def generate(ctx: GenerationContext) -> dict[str, str]:
    return {SCHEMA_DOC: render_schema_doc(ctx.catalog, ctx.schema, ctx.reuse)}


def render_schema_doc(
    catalog: Catalog, schema: Schema | None = None, reuse: Reuse | None = None
) -> str:
    """The page; with ``reuse`` (and the ``schema`` of ``catalog``), the section of a table
    of an entity whose key did not change is the one the last generation rendered."""
    large = len(catalog.tables) > LARGE_SCHEMA
    owners = {entity.name: entity for entity in schema.entities} if schema else {}
    sections: dict[str, str] = {}
    for table in catalog.tables:
        owner = owners.get(table.entity or "")
        if reuse is not None and schema is not None and owner is not None:
            kept = reuse.kept_section(schema, owner, SCHEMA_DOC, table.name)
            if kept is not None:
                sections[table.name] = kept
    wanted = [table for table in catalog.tables if table.name not in sections]
    statements = table_statements(catalog, wanted if sections else None)
    for table in wanted:
        view = _table_view(catalog, table, statements.get(table.name, ()), large)
        sections[table.name] = render("docs/table_section.md.jinja", table=view)
    for table in catalog.tables:
        owner = owners.get(table.entity or "")
        if reuse is not None and schema is not None and owner is not None:
            reuse.record_section(schema, owner, SCHEMA_DOC, table.name, sections[table.name])
    tables = tuple(_table_link(table) for table in catalog.tables)
    return render(
        "docs/schema.md.jinja",
        diagram=mermaid(catalog, attributes=not large),
        large=large,
        tables=tables,
        sections=[sections[table.name] for table in catalog.tables],
        tenancy=_tenancy_summary(catalog),
        enums=tuple(
            f"{code(e.name)}: {', '.join(code(v) for v in e.values)}" for e in catalog.enums
        ),
        extensions=tuple(code(name) for name in catalog.extensions),
    )


def code(text: str) -> str:
    """A Markdown code span for any text (a table cell's ``|`` escaped, lines joined)."""
    text = " ".join(text.split("\n")).replace("|", "\\|")
    fence = "`"
    while fence in text:
        fence += "`"
    padding = " " if text.startswith("`") or text.endswith("`") or fence != "`" else ""
    return f"{fence}{padding}{text}{padding}{fence}"


def prose(text: str | None) -> str:
    """Text from the spec shown as text: markup characters escaped, one line."""
    if not text:
        return ""
    escaped = "".join(f"\\{c}" if c in "\\`*_[]<>|#" else c for c in text)
    return " ".join(escaped.split())


def _tenancy_summary(catalog: Catalog) -> str:
    tenancy = catalog.tenancy
    if tenancy is None:
        return "Tenancy is off: no table is tenant-scoped."
    scoped = sum(1 for table in catalog.tables if table.tenant_scoped)
    return (
        f"Tenant-scoped tables ({scoped} of {len(catalog.tables)}) carry {code(tenancy.column)}, "
        f"a reference to the tenant table of {code(tenancy.entity)}, and see only the rows of "
        f"the tenant named by the setting {code(tenancy.setting)}: row-level security is "
        "enabled and forced, with the policy shown under each table. With no tenant set they "
        "show no rows and accept no writes. Their foreign keys on the tenant column are left "
        "out of the diagram."
    )


def table_statements(
    catalog: Catalog, tables: list[Table] | None = None
) -> dict[str, tuple[str, ...]]:
    """Per table (of ``tables`` only, when given), the SQL of its security, grants and
    triggers from the initial revision."""
    if tables is not None:
        catalog = replace(catalog, tables=tuple(tables), views=())
    found: dict[str, list[str]] = {}
    for operation in compare_catalogs(None, catalog):
        table = getattr(operation, "table", None)
        if not isinstance(table, str) or isinstance(operation, _STRUCTURE):
            continue
        found.setdefault(table, []).extend(_executed_sql(render_operation(operation).text))
    return {table: tuple(sql) for table, sql in found.items()}


def _executed_sql(source: str) -> list[str]:
    """The SQL strings a rendered step hands to ``op.execute``."""
    statements = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "execute"
            and node.args
        ):
            value = ast.literal_eval(node.args[0])
            if isinstance(value, str):
                statements.append(value.strip())
    return statements


def _table_view(
    catalog: Catalog, table: Table, statements: tuple[str, ...], large: bool
) -> TableView:
    tenancy = ""
    if table.tenant_scoped and catalog.tenancy:
        tenancy = f"Tenant-scoped by {code(catalog.tenancy.column)}."
    elif catalog.tenancy and table.entity == catalog.tenancy.entity:
        tenancy = "The tenant table."
    elif catalog.tenancy:
        tenancy = "Global: shared by every tenant."
    entity = code(table.entity) if table.entity else ""
    place = f"In schema {code(table.schema)}." if table.schema else ""
    intro = " ".join(
        part for part in (f"The table of {entity}." if entity else "", place, tenancy) if part
    )
    return TableView(
        name=code(table.name),
        anchor=table.name,
        entity=entity,
        comment=prose(table.comment),
        intro=intro,
        columns=tuple(
            ColumnRow(
                code(column.name),
                code(sql_type(column.type)),
                "yes" if column.nullable else "no",
                _default_cell(column),
                prose(column.comment),
            )
            for column in table.columns
        ),
        keys=_keys(catalog, table),
        indexes=tuple(_index_line(index) for index in table.indexes),
        checks=tuple(f"{code(c.name)}: {code(c.expression)}" for c in table.checks),
        statements=statements,
        diagram=mermaid(catalog, neighbourhood(catalog, table)) if large else "",
    )


def _default_cell(column: Column) -> str:
    """The column's server default, or the expression that generates it."""
    if column.generated is not None:
        return code(f"GENERATED ALWAYS AS ({column.generated}) STORED")
    expression = default_expression(column)
    return code(expression) if expression else ""


def _index_line(index: Index) -> str:
    elements = [c.sql + (f" {c.opclass}" if c.opclass else "") for c in index.columns]
    line = f"{code(index.name)}: {'unique ' if index.unique else ''}{index.method} "
    line += f"({', '.join(code(element) for element in elements)})"
    return line + (f" WHERE {code(index.where)}" if index.where else "")


def columns(names: tuple[str, ...]) -> str:
    return ", ".join(code(name) for name in names)


def _keys(catalog: Catalog, table: Table) -> tuple[str, ...]:
    keys = [f"primary key {code(table.primary_key_name)} ({columns(table.primary_key)})"]
    keys += [f"unique {code(u.name)} ({columns(u.columns)})" for u in table.uniques]
    drawn = drawn_foreign_keys(catalog, table)
    for fk in table.foreign_keys:
        target = f"[{code(fk.referred_table)}](#{fk.referred_table})"
        note = "" if fk in drawn else " (the tenant)"
        keys.append(
            f"foreign key {code(fk.name)} ({columns(fk.columns)}) → {target} "
            f"({columns(fk.referred_columns)}) ON DELETE {fk.on_delete_clause}{note}"
        )
    return tuple(keys)
