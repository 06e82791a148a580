"""``tests/test_generated_columns.py``: each generated column holds what its expression
gives for its row, read back after an insert and after its sources change.

The test does not know the expressions' functions: it asks the database to evaluate
each expression over the row (cast to the column's type) and compares that with what
the repository brought back. It runs as the application role, under row-level
security, except on a global table the application may only read (there, as the admin);
the tenant entity's row is the session's own tenant.
"""

from __future__ import annotations

from dataclasses import dataclass

from entityforge import naming
from entityforge.catalog import Catalog, Column
from entityforge.catalog.sql import sql_type
from entityforge.generators import GenerationContext
from entityforge.generators.fixtures import admin_written_models
from entityforge.generators.migrations.code import STATEMENT_ROOM, python_string
from entityforge.generators.python_source import docstring
from entityforge.generators.sql import escape_text
from entityforge.generators.templating import render
from entityforge.naming import quote_identifier, quote_qualified
from entityforge.parse_tree import references
from entityforge.schema import Entity, Schema

PATH = "tests/test_generated_columns.py"
MODULE_DOCSTRING = (
    "Generated columns on PostgreSQL: each holds what its expression gives for its row, "
    "read back after an insert and after its sources change. Each test asks the database "
    "to evaluate the expressions over the row, cast to the columns' types, and compares "
    "that with what the repository brought back, as the application role under "
    "row-level security (as the admin on a table the application may only read; the "
    "tenant entity's row is the session's own tenant)."
)


@dataclass(frozen=True)
class GeneratedCase:
    """One entity's generated columns: ``columns`` pairs attributes with column names,
    ``sources`` the attributes their expressions read, ``sql`` the statement evaluating
    every expression over the row ``:id``."""

    test_name: str
    model: str
    repository: str
    columns: tuple[tuple[str, str], ...]
    sources: tuple[str, ...]
    sql: str
    constant: str
    tenant_row: bool
    admin: bool


def evaluation_sql(table: str, columns: tuple[Column, ...]) -> str:
    """``SELECT CAST((<expression>) AS <type>) AS <column>, ... FROM <table> WHERE id =
    :id``, escaped for ``text()``; ``table`` is a ``naming.qualified_name``."""
    selected = ", ".join(
        f"CAST(({column.generated}) AS {sql_type(column.type)}) AS {quote_identifier(column.name)}"
        for column in columns
    )
    return escape_text(f"SELECT {selected} FROM {quote_qualified(table)}") + " WHERE id = :id"


def generated_case(schema: Schema, catalog: Catalog, entity: Entity) -> GeneratedCase | None:
    table = catalog.table(entity.table)
    generated = tuple(
        column for column in table.columns if column.generated and not column.searched
    )
    if not generated:
        return None
    read = {name for column in generated for name in references(column.generated or "").columns}
    sources = tuple(
        naming.attribute_name(column.name)
        for column in table.columns
        if column.name in read and column.role in ("field", "reference")
    )
    tenant_row = schema.tenancy is not None and schema.tenancy.entity == entity.name
    return GeneratedCase(
        test_name=f"test_{naming.snake_case(entity.name)}_generated_columns_follow_their_sources",
        model=entity.name,
        repository=f"{entity.name}Repository",
        columns=tuple((naming.attribute_name(c.name), c.name) for c in generated),
        sources=sources,
        sql=python_string(evaluation_sql(table.qualified_name, generated), room=STATEMENT_ROOM),
        constant=f"{naming.snake_case(entity.name).upper()}_EXPRESSIONS",
        tenant_row=tenant_row,
        admin=not tenant_row and entity.name in admin_written_models(catalog, schema),
    )


def generate(ctx: GenerationContext) -> dict[str, str]:
    entities = sorted(ctx.schema.entities, key=lambda e: e.name)
    cases = [generated_case(ctx.schema, ctx.catalog, entity) for entity in entities]
    found = tuple(case for case in cases if case is not None)
    if not found:
        return {}
    text = render(
        "tests/test_generated_columns.py.jinja",
        package=ctx.package,
        docstring=docstring(MODULE_DOCSTRING, 0),
        cases=found,
        models=sorted({case.model for case in found}),
        repositories=sorted({case.repository for case in found}),
        inserts=any(not case.tenant_row for case in found),
    )
    return {PATH: text}
