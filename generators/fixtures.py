"""The generated project's factories: which value every column gets so each row is valid.

``tests/factories.py`` holds one polyfactory ``SQLAlchemyFactory`` per entity. Polyfactory
already respects column types, max lengths, numeric precision and enum values; the
columns the spec's checks read, and the unique ones, get what the row solver
(``entityforge.rows``) chooses for them: literals that keep every check together, or
families of fresh values (letters, numbers, strings drawn from a check's pattern) for
unique columns. The template only lays the decisions out.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from entityforge import naming
from entityforge.catalog import Catalog
from entityforge.generators import GenerationContext
from entityforge.generators.factory_values import (
    NEW_PARENT,
    RANGE_HELPERS,
    Expression,
    range_expression,
    source_expression,
)
from entityforge.generators.policy_tests import writer_restricted
from entityforge.generators.templating import render
from entityforge.memo import by_identity
from entityforge.rows.candidates import TEXT_TYPES, ColumnSpec
from entityforge.rows.solver import NoRow, Row, TableChecks, check_columns, solve
from entityforge.rows.sources import Fixed
from entityforge.rows.tables import (
    reads_generated,
    row_capacity,
    table_checks,
    unique_column_sets,
)
from entityforge.rows.values import PARENT, Opaque
from entityforge.schema import Entity, Schema

# Columns the database fills on its own; factories never set them.
DATABASE_FILLED_ROLES = ("created_at", "updated_at", "deleted_at")

__all__ = ["EntityFactoryView", "FactoryField", "entity_factory_view", "generate", "solved_row"]


@dataclass(frozen=True)
class FactoryField:
    """A factory attribute: what a column gets instead of polyfactory's own choice.

    ``value`` is a Python expression; ``helpers`` the factories' functions it calls.
    """

    attribute: str
    value: str
    helpers: frozenset[str] = frozenset()
    imports: frozenset[tuple[str, str]] = frozenset()


@dataclass(frozen=True)
class EntityFactoryView:
    """``distinct`` is an attribute no two rows share a value of: tests filter by it."""

    model: str
    factory: str
    repository: str
    fields: tuple[FactoryField, ...]
    required_parents: tuple[tuple[str, str], ...]
    optional_parents: tuple[tuple[str, str], ...]
    distinct: str | None


@by_identity
def distinct_column(catalog: Catalog, entity: Entity) -> str | None:
    """A column whose values differ in every row: a unique one, or a free text field.

    A unique column serves as it is; otherwise the first text field no check reads is
    given fresh letters (polyfactory's random strings may be empty or repeat).
    """
    unique = [c for columns in unique_column_sets(catalog, entity) for c in columns]
    checks = table_checks(catalog, entity)
    read = {name for name, _ in checks.checks for name in _reads(checks, name)}
    spec = {column.name: column for column in checks.columns}
    for name in unique:
        if name in spec and spec[name].kind in TEXT_TYPES | {"smallint", "integer", "bigint"}:
            return name
    for f in entity.fields:
        if (
            f.type.name in TEXT_TYPES
            and f.name not in read
            and f.example is None
            and not f.generated
        ):
            return f.name
    return None


def _reads(checks: TableChecks, name: str) -> tuple[str, ...]:
    return check_columns(dict(checks.checks)[name])


@by_identity
def solved_row(catalog: Catalog, entity: Entity) -> tuple[TableChecks, Row]:
    """The entity's solver view and the row its factory follows.

    The spec stage has already refused a spec whose checks leave no row.
    """
    checks = table_checks(catalog, entity, distinct_column(catalog, entity))
    row = solve(checks)
    assert not isinstance(row, NoRow), row
    return checks, row


def factory_fields(checks: TableChecks, row: Row, entity: Entity) -> tuple[FactoryField, ...]:
    columns = {column.name: column for column in checks.columns}
    fields = []
    for name, source in row.sources:
        column = columns.get(name)
        if column is None or column.kind in ("reference", "self_reference"):
            continue
        expression = source_expression(column, source)
        if expression is not None:
            fields.append(_field(name, expression))
    given = {field.attribute for field in fields}
    fields += [field for field in _json_fields(entity) if field.attribute not in given]
    # polyfactory's lengths of time are all zero, and its byte strings a character or
    # two: a unique one needs its own.
    fields += [
        FactoryField(naming.attribute_name(c.name), f"Use({helper})", frozenset({helper}))
        for c in checks.columns
        if c.unique
        and (helper := UNIQUE_HELPERS.get(c.kind))
        and naming.attribute_name(c.name) not in given
    ]
    # polyfactory makes no ranges; these never overlap or touch, so that no exclusion
    # constraint refuses a factory's row.
    fields += [
        _field(c.name, range_expression(c.kind))
        for c in checks.columns
        if c.kind in RANGE_HELPERS and naming.attribute_name(c.name) not in given
    ]
    return tuple(fields)


# The helper giving each row a value of its own, for the types polyfactory fills alike.
UNIQUE_HELPERS = {"interval": "unique_interval", "bytes": "unique_bytes"}

# Helpers that count from the run's start.
MOMENT_HELPERS = frozenset(
    {"moment", "day", "unique_moment", "unique_day", "moment_range", "day_range"}
)
# The import of a factory attribute that calls a builtin through polyfactory's ``Use``.
USE = frozenset({("polyfactory", "Use")})
# Helpers a factory calls through polyfactory's ``Use``.
USE_HELPERS = frozenset(
    {
        "unique_text",
        "unique_number",
        "pattern_text",
        "unique_choice",
        "unique_interval",
        "unique_bytes",
        "unique_moment",
        "unique_day",
        *RANGE_HELPERS.values(),
    }
)


def _json_fields(entity: Entity) -> list[FactoryField]:
    """json fields polyfactory would fill wrongly: one whose default is an array is a list
    in its model (polyfactory makes a dict), and a nullable one with a default has a type
    of the models' own (``NullableJSONB``), which polyfactory does not know."""
    lists = _list_fields(entity)
    fields = []
    for f in entity.fields:
        if f.name in lists:
            fields.append(FactoryField(naming.attribute_name(f.name), "Use(list)", imports=USE))
        elif f.type.name == "json" and f.nullable and (f.default or f.default_sql):
            fields.append(FactoryField(naming.attribute_name(f.name), "Use(dict)", imports=USE))
    return fields


def _list_fields(entity: Entity) -> frozenset[str]:
    """The json fields whose default is an array: lists in their models."""
    return frozenset(
        f.name
        for f in entity.fields
        if f.type.name == "json" and f.default is not None and f.default.kind == "array"
    )


def _field(name: str, expression: Expression) -> FactoryField:
    return FactoryField(
        naming.attribute_name(name), expression.text, expression.helpers, expression.imports
    )


def _parents(entity: Entity, row: Row, required: bool) -> tuple[tuple[str, str], ...]:
    """References a new row gets a new parent for (``required``), or may be given one."""
    found = []
    for relation in entity.relations:
        if not relation.column or relation.kind not in ("many_to_one", "one_to_one"):
            continue
        chosen = row.get(relation.column)
        needed = not relation.nullable or (isinstance(chosen, Fixed) and chosen.value is PARENT)
        if needed == required and relation.target != entity.name:
            found.append((naming.attribute_name(relation.column), relation.target))
    return tuple(found)


@by_identity
def entity_factory_view(catalog: Catalog, entity: Entity) -> EntityFactoryView:
    checks, row = solved_row(catalog, entity)
    distinct = distinct_column(catalog, entity)
    return EntityFactoryView(
        model=entity.name,
        factory=f"{entity.name}Factory",
        repository=f"{entity.name}Repository",
        fields=factory_fields(checks, row, entity),
        required_parents=_parents(entity, row, required=True),
        optional_parents=_parents(entity, row, required=False),
        distinct=naming.attribute_name(distinct) if distinct else None,
    )


def shared_parents(schema: Schema, catalog: Catalog) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``(model, attributes)``: required many-to-one references whose target a unique key
    lets hold few rows (``row_capacity``). A new row refers to an existing target there,
    as a new target for every row would soon find no value of the key left."""
    bounded = {e.name for e in schema.entities if row_capacity(schema, catalog, e) is not None}
    found = []
    for entity in sorted(schema.entities, key=lambda e: e.name):
        attributes = tuple(
            naming.attribute_name(relation.column)
            for relation in entity.relations
            if relation.kind == "many_to_one"
            and relation.column
            and not relation.nullable
            and relation.target in bounded
            and relation.target != entity.name
        )
        if attributes:
            found.append((entity.name, attributes))
    return tuple(found)


def database_filled_columns(catalog: Catalog) -> tuple[str, ...]:
    return tuple(
        sorted(
            {
                column.name
                for table in catalog.tables
                for column in table.columns
                if column.role in DATABASE_FILLED_ROLES
            }
        )
    )


def admin_written_models(catalog: Catalog, schema: Schema) -> tuple[str, ...]:
    """The models whose rows the writer may not insert (the tenant's, read-only global
    ones) or whose policies restrict the writer (the factories cannot know what they
    accept): the generated tests write them as the admin."""
    return tuple(
        sorted(
            entity.name
            for entity in schema.entities
            if "INSERT" not in catalog.table(entity.table).writer_privileges
            or writer_restricted(catalog, entity)
        )
    )


def has_junction_tables(schema: Schema) -> bool:
    return any(r.kind == "many_to_many" for e in schema.entities for r in e.relations)


def isort_order(names: set[str]) -> tuple[str, ...]:
    """Names in the order ruff's isort wants them: constants, classes, then the rest."""

    def key(name: str) -> tuple[int, str]:
        kind = 0 if name.isupper() else 1 if name[:1].isupper() else 2
        return kind, name.lower()

    return tuple(sorted(names, key=key))


@dataclass(frozen=True)
class CheckViolation:
    """A row that breaks ``constraint`` alone: the overrides a test inserts it with.

    ``overrides`` are ``(attribute, expression)``; ``skipped`` says why no test is made.
    """

    constraint: str
    expression: str
    overrides: tuple[tuple[str, Expression], ...] = ()
    skipped: str | None = None


@by_identity
def check_violations(catalog: Catalog, entity: Entity) -> tuple[CheckViolation, ...]:
    """For each of the spec's checks, the row that breaks it and keeps every other."""
    checks, base = solved_row(catalog, entity)
    found = []
    for constraint, expression in checks.checks:
        if constraint in checks.trusted:
            reason = (
                "it reads a generated column, which the database computes"
                if reads_generated(entity, expression)
                else "the spec's examples stand in for the values it reads"
            )
            found.append(CheckViolation(constraint, expression, skipped=reason))
            continue
        row = solve(checks, constraint)
        if isinstance(row, NoRow):
            reason = _no_violation(constraint, row)
            found.append(CheckViolation(constraint, expression, skipped=reason))
            continue
        overrides = _overrides(
            checks, base, row, needed=check_columns(expression), lists=_list_fields(entity)
        )
        found.append(CheckViolation(constraint, expression, overrides))
    return tuple(found)


Overrides = tuple[tuple[str, Expression], ...]


def _overrides(
    checks: TableChecks,
    base: Row,
    row: Row,
    given: str | None = None,
    needed: tuple[str, ...] = (),
    lists: frozenset[str] = frozenset(),
) -> Overrides:
    """What a test sets so that a new row is ``row`` rather than the factory's ``base``.

    ``given`` is a column the test sets itself; ``needed`` the columns of a check to break;
    ``lists`` the json columns that hold arrays.
    """
    columns = {column.name: column for column in checks.columns}
    filled = {name for name, _ in checks.filled} | {given}
    # A fresh value serves unless a check compares it with another column (or breaks it).
    shared = set(needed)
    for name, _ in checks.checks:
        read = _reads(checks, name)
        if len(set(read) & set(columns)) > 1:
            shared |= set(read)
    overrides = []
    for name, source in row.sources:
        if name in filled or name not in columns or not isinstance(source, Fixed):
            continue
        if name not in shared and not isinstance(base.get(name), Fixed):
            continue
        value = _override(columns[name], source.value, base.get(name), name in lists)
        if value is not None:
            overrides.append((naming.attribute_name(name), value))
    return tuple(overrides)


@by_identity
def with_parent(catalog: Catalog, entity: Entity, column: str, nulled: bool) -> Overrides | None:
    """What a row pointing ``column`` at a parent also sets to keep its checks.

    ``nulled``: the row must keep them once ``ON DELETE SET NULL`` has emptied the
    column too. None when no such row exists.
    """
    checks, base = solved_row(catalog, entity)
    values: tuple[object, ...] = (PARENT, None) if nulled else (PARENT,)
    pinned = replace(checks, filled=(*checks.filled, (column, values)))
    row = solve(pinned)
    if isinstance(row, NoRow):
        return None
    return _overrides(checks, base, row, column, lists=_list_fields(entity))


def _override(column: ColumnSpec, value: object, base: object, a_list: bool) -> Expression | None:
    """What a violating row sets ``column`` to; None where the factory's value serves."""
    if isinstance(base, Fixed) and type(base.value) is type(value) and base.value == value:
        return None
    if value is PARENT:
        return NEW_PARENT if column.nullable and column.kind == "reference" else None
    if isinstance(value, Opaque) and isinstance(base, Fixed) and base.value is None:
        # Any value, where the factory's is NULL: a check counts it as present.
        return _PRESENT.get("list" if a_list else column.kind)
    return source_expression(column, Fixed(value))


# A value, not NULL, of the kinds the checks know nothing more of.
_PRESENT = {
    "json": Expression("{}"),
    "list": Expression("[]"),
    "array": Expression("[]"),
    "bytes": Expression('b"x"'),
    "uuid": Expression(
        'UUID("00000000-0000-4000-8000-000000000001")', imports=frozenset({("uuid", "UUID")})
    ),
}


def _no_violation(constraint: str, row: NoRow) -> str:
    if row.check == constraint:
        return "no value the columns' types allow breaks it"
    return f"every row that breaks it also breaks {row.check}"


def _test_overrides(catalog: Catalog, schema: Schema) -> set[Expression]:
    """Every value a generated test sets beside the factory's (check and relation tests)."""
    found = set()
    for entity in schema.entities:
        for violation in check_violations(catalog, entity):
            found |= {value for _, value in violation.overrides}
        for relation in entity.relations:
            if relation.column:
                for nulled in (False, True):
                    extra = with_parent(catalog, entity, relation.column, nulled) or ()
                    found |= {value for _, value in extra}
    return found


def _datetime_names(helpers: set[str], imports: set[tuple[str, str]]) -> list[str]:
    """What the factories import from ``datetime``, in isort's order."""
    names = {name for module, name in imports if module == "datetime"}
    if helpers & MOMENT_HELPERS:
        names |= {"UTC", "datetime", "timedelta"}
    if "unique_interval" in helpers:
        names.add("timedelta")
    if helpers & {"day", "unique_day", "day_range"}:
        names.add("date")
    return list(isort_order(names))


def generate(ctx: GenerationContext) -> dict[str, str]:
    entities = tuple(
        entity_factory_view(ctx.catalog, entity)
        for entity in sorted(ctx.schema.entities, key=lambda e: e.name)
    )
    helpers = {
        helper for entity in entities for field in entity.fields for helper in field.helpers
    }
    imports = {pair for entity in entities for field in entity.fields for pair in field.imports}
    overrides = _test_overrides(ctx.catalog, ctx.schema)
    helpers |= {helper for value in overrides for helper in value.helpers} - {"NEW_PARENT"}
    text = render(
        "fixtures/factories.py.jinja",
        package=ctx.package,
        entities=entities,
        models=isort_order({"Base"} | {entity.model for entity in entities}),
        repositories=isort_order({entity.repository for entity in entities}),
        database_filled=database_filled_columns(ctx.catalog),
        computed=any(c.generated for t in ctx.catalog.tables for c in t.columns),
        partition_keys=sorted(
            (table.name, table.partition.column)
            for table in ctx.catalog.tables
            if table.partition is not None and table.partition.column in table.primary_key[1:]
        ),
        helpers=helpers,
        uses_use=bool(helpers & USE_HELPERS) or bool(imports & USE),
        uses_moments=bool(helpers & MOMENT_HELPERS),
        datetime_names=_datetime_names(helpers, imports),
        uses_decimal=("decimal", "Decimal") in imports
        or bool(helpers & {"unique_number", "decimal_range"}),
        ranges=bool(helpers & set(RANGE_HELPERS.values())),
        uses_new_parent=NEW_PARENT in overrides,
        has_junctions=has_junction_tables(ctx.schema),
        schemas=bool(ctx.catalog.schemas),
        tenancy=ctx.schema.tenancy is not None,
        admin_written=admin_written_models(ctx.catalog, ctx.schema),
        shared_parents=shared_parents(ctx.schema, ctx.catalog),
    )
    return {"tests/factories.py": text}
