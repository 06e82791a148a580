"""``tests/test_search.py``: full-text search finds rows by their words, ranks them by the
weights of the fields they are in, stays in the tenant and never refuses a long value.

The words a test searches for are read back from the rows the factories made, as the
database's own lexemes (those a web-search query of the same text turns into themselves),
so a field's checks and patterns never have to admit a chosen word.
"""

from __future__ import annotations

from dataclasses import dataclass

from entityforge import naming
from entityforge.catalog import Catalog, Table
from entityforge.catalog.sql import quote_literal
from entityforge.generators import GenerationContext
from entityforge.generators.fixtures import admin_written_models
from entityforge.generators.migrations.code import STATEMENT_ROOM, python_string
from entityforge.generators.python_source import docstring
from entityforge.generators.sql import escape_text
from entityforge.generators.templating import render
from entityforge.naming import quote_identifier, quote_qualified
from entityforge.parse_tree import references
from entityforge.schema import Entity, Schema
from entityforge.spec.search import SEARCH_CHARACTERS

PATH = "tests/test_search.py"
MODULE_DOCSTRING = (
    "Full-text search on PostgreSQL, through the repositories' ``search_text``: a row is "
    "found by a word of its searched fields and ranks above a row that has a word only in "
    "a field of lower weight; pages follow the rank; another tenant finds nothing; and the "
    "longest values the fields take, of the text that makes the largest ``tsvector``, are "
    "written and found. Rows of models the application may not write are written, and "
    "searched, as the admin."
)


@dataclass(frozen=True)
class SearchCase:
    """One entity's search: its weights by attribute, and the attributes a test may fill
    with long text (those no check, exclusion or uniqueness reads) with their lengths
    (None for unbounded text)."""

    name: str
    model: str
    repository: str
    constant: str
    sql: str
    weights: tuple[tuple[str, str], ...]
    ranked: bool
    long_fields: tuple[tuple[str, int | None], ...]
    admin: bool
    isolated: bool


def _constrained(entity: Entity, table: Table) -> set[str]:
    """Fields that a check, an exclusion or a unique key reads: no text of ours fits them
    for sure; and fields an index other than GIN holds as they are, whose index row
    PostgreSQL limits to a few kilobytes (a long value is refused there, searched or not)."""
    read = {f.name for f in entity.fields if f.check or f.unique}
    for built in table.indexes:
        if built.method != "gin":
            read |= {name for c in built.columns if not c.hashed for name in c.reads}
    for check in entity.checks:
        read |= references(check.expression).columns
    for exclusion in entity.exclusions:
        for element, _ in exclusion.elements:
            read |= references(element).columns
    for columns in entity.unique:
        read |= set(columns)
    for index in entity.indexes:
        if index.unique:
            read |= set(index.columns)
            for expression in index.expressions:
                read |= references(expression).columns
    return read


def words_sql(table: str, column: str, language: str) -> str:
    """The lexemes of the row ``:id`` that a web-search query of the lexeme itself finds,
    with their weights, escaped for ``text()``."""
    sql = (
        f"SELECT v.lexeme, v.weights FROM {quote_qualified(table)} AS t, "
        f"unnest(t.{quote_identifier(column)}) AS v WHERE t.id = "
    )
    condition = (
        f" AND websearch_to_tsquery({quote_literal(language)}::regconfig, v.lexeme) "
        "= quote_literal(v.lexeme)::tsquery"
    )
    return escape_text(sql) + ":id" + escape_text(condition)


def search_case(schema: Schema, catalog: Catalog, entity: Entity) -> SearchCase | None:
    search = entity.search
    if search is None:
        return None
    admin = entity.name in admin_written_models(catalog, schema)
    constrained = _constrained(entity, catalog.table(entity.table))
    long_fields = []
    for name, _ in search.fields:
        field = entity.field(name)
        assert field is not None
        if name not in constrained and field.default_sql is None:
            long_fields.append((naming.attribute_name(name), field.type.max_length))
    return SearchCase(
        name=naming.snake_case(entity.name),
        model=entity.name,
        repository=f"{entity.name}Repository",
        constant=f"{naming.snake_case(entity.name).upper()}_WORDS",
        sql=python_string(
            words_sql(catalog.table(entity.table).qualified_name, search.column, search.language),
            room=STATEMENT_ROOM,
        ),
        weights=tuple((naming.attribute_name(name), weight) for name, weight in search.fields),
        ranked=len({weight for _, weight in search.fields}) > 1,
        long_fields=tuple(long_fields),
        admin=admin,
        isolated=entity.tenant_scoped and not admin,
    )


def generate(ctx: GenerationContext) -> dict[str, str]:
    entities = sorted(ctx.schema.entities, key=lambda e: e.name)
    cases = [search_case(ctx.schema, ctx.catalog, entity) for entity in entities]
    found = tuple(case for case in cases if case is not None)
    if not found:
        return {}
    text = render(
        "tests/test_search.py.jinja",
        package=ctx.package,
        docstring=docstring(MODULE_DOCSTRING, 0),
        cases=found,
        models=sorted({case.model for case in found}),
        repositories=sorted({case.repository for case in found}),
        characters=SEARCH_CHARACTERS,
        admin=any(case.admin for case in found),
        writer=any(not case.admin for case in found),
        isolated=any(case.isolated for case in found),
        long=any(case.long_fields for case in found),
    )
    return {PATH: text}
