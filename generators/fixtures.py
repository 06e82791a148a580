"""The generated project's factories: which value every column gets so each row is valid.

``tests/factories.py`` holds one polyfactory ``SQLAlchemyFactory`` per entity. Polyfactory
already respects column types, max lengths, numeric precision and enum values; this
module decides the rest from the spec (unique values, checked columns, required
parents) and the template only lays the decisions out.

The same reading of checks serves the tests: ``parse_bound`` recognises the simple
``column > N`` family of check expressions, and ``Bound`` knows a value that keeps the
check and one that breaks it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from entityforge import naming
from entityforge.catalog import SOFT_DELETE_PREDICATE, Catalog
from entityforge.generators import GenerationContext
from entityforge.generators.templating import render
from entityforge.schema import ColumnType, Entity, Field, Schema

NUMBER_TYPES = frozenset({"smallint", "integer", "bigint", "decimal", "float"})
TEXT_TYPES = frozenset({"string", "text"})
# Columns the database fills on its own; factories never set them.
DATABASE_FILLED_ROLES = ("created_at", "updated_at", "deleted_at")
# Longest value ``unique_text`` makes when a column allows more.
UNIQUE_TEXT_WIDTH = 12

Comparison = Literal[">", ">=", "<", "<="]

_BOUND = re.compile(
    r'^\s*\(?\s*"?(?P<column>[a-z_][a-z0-9_]*)"?\s*(?P<op>>=|>|<=|<)\s*'
    r"(?P<number>-?\d+(?:\.\d+)?)\s*\)?\s*$"
)
_STRING_LITERAL = re.compile(r"'(?:[^']|'')*'")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Bound:
    """A check of the form ``column <op> number``."""

    column: str
    op: Comparison
    number: Decimal

    @property
    def valid_value(self) -> int | float:
        """A value the check accepts, as close to the bound as is simple."""
        step = {">": 1, ">=": 0, "<": -1, "<=": 0}[self.op]
        return _plain_number(self.number + step)

    @property
    def violating_value(self) -> int | float:
        """A value the check refuses."""
        step = {">": 0, ">=": -1, "<": 0, "<=": 1}[self.op]
        return _plain_number(self.number + step)

    def accepts(self, value: int | float) -> bool:
        number = Decimal(str(value))
        return {
            ">": number > self.number,
            ">=": number >= self.number,
            "<": number < self.number,
            "<=": number <= self.number,
        }[self.op]


def _plain_number(number: Decimal) -> int | float:
    return int(number) if number == number.to_integral_value() else float(number)


INTEGER_LIMITS = {"smallint": 2**15 - 1, "integer": 2**31 - 1, "bigint": 2**63 - 1}


def number_fits(column_type: ColumnType, value: int | float) -> bool:
    """Whether a column of this type stores ``value`` exactly (no rounding, no overflow)."""
    number = Decimal(str(value))
    limit = INTEGER_LIMITS.get(column_type.name)
    if limit is not None:
        return number == number.to_integral_value() and abs(number) <= limit
    if column_type.name == "decimal" and column_type.precision is not None:
        scale = column_type.scale or 0
        exponent = number.as_tuple().exponent
        decimals = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        return decimals <= scale and abs(number) < 10 ** (column_type.precision - scale)
    return True


def parse_bound(expression: str) -> Bound | None:
    """``"budget >= 0"`` → ``Bound("budget", ">=", 0)``; anything less simple → None."""
    match = _BOUND.match(expression)
    if match is None:
        return None
    op: Comparison = match["op"]  # type: ignore[assignment]
    return Bound(match["column"], op, Decimal(match["number"]))


def referenced_columns(expression: str) -> frozenset[str]:
    """Words of a SQL expression outside string literals: the columns it may read."""
    return frozenset(_WORD.findall(_STRING_LITERAL.sub("''", expression)))


def entity_bounds(entity: Entity) -> tuple[Bound, ...]:
    """Every check of the entity (field or table level) that reads as a simple bound."""
    expressions = [f.check for f in entity.fields if f.check]
    expressions += [check.expression for check in entity.checks]
    bounds = (parse_bound(expression) for expression in expressions)
    return tuple(bound for bound in bounds if bound is not None)


def unique_column_sets(catalog: Catalog, entity: Entity) -> tuple[tuple[str, ...], ...]:
    """The column sets the database keeps unique among an entity's rows, tenant left out.

    Unique constraints and unique indexes whose only predicate is the soft-delete one
    count; the ``(tenant, id)`` key that composite foreign keys point at does not.
    """
    table = catalog.table(entity.table)
    tenant = catalog.tenancy.column if catalog.tenancy else None
    sets = [unique.columns for unique in table.uniques]
    sets += [
        index.column_names
        for index in table.indexes
        if index.unique and index.where in (None, SOFT_DELETE_PREDICATE)
    ]
    result = []
    for columns in sets:
        own = tuple(column for column in columns if column != tenant)
        if own and own != ("id",):
            result.append(own)
    return tuple(result)


@dataclass(frozen=True)
class FactoryField:
    """A factory attribute: what a column gets instead of polyfactory's own choice.

    ``value`` is a Python expression; ``helper`` names the value function it calls.
    """

    attribute: str
    value: str
    helper: str | None = None


@dataclass(frozen=True)
class EntityFactoryView:
    """``distinct`` is an attribute no two rows share a value of: tests filter by it."""

    model: str
    factory: str
    repository: str
    fields: tuple[FactoryField, ...]
    required_parents: tuple[tuple[str, str], ...]
    distinct: str | None


def factory_field(
    field: Field, unique: bool, checked_by_entity: bool, bounds: tuple[Bound, ...]
) -> FactoryField | None:
    """What the factory sets a field to, or None where polyfactory's value is valid.

    Unique values must be there for the unique keys' tests: unique text is lowercase
    letters within the length, unique numbers count up from what the field's simple
    bounds accept. Otherwise nullable checked fields stay empty, checked text is
    lowercase letters and checked numbers small and positive, or what the bounds accept.
    """
    attribute = naming.attribute_name(field.name)
    checked = field.check is not None or checked_by_entity
    kind = field.type.name
    if kind in TEXT_TYPES and (unique or (checked and not field.nullable)):
        width = min(field.type.max_length or UNIQUE_TEXT_WIDTH, UNIQUE_TEXT_WIDTH)
        return FactoryField(attribute, f"Use(unique_text, {width})", "unique_text")
    if kind in NUMBER_TYPES and unique:
        start = _safe_number(bounds)
        return FactoryField(attribute, f"Use(unique_number, {start})", "unique_number")
    if field.nullable and checked:
        return FactoryField(attribute, "None")
    if kind in NUMBER_TYPES and checked:
        return FactoryField(attribute, repr(_safe_number(bounds)))
    return None


def _with_distinct_field(
    entity: Entity, fields: list[FactoryField]
) -> tuple[list[FactoryField], str | None]:
    """Make sure one text or whole-number field gets a value of its own in every row.

    A field that already gets unique values serves; otherwise the first text field the
    factory does not leave empty is given unique text (polyfactory's random strings
    may be empty or short enough to repeat).
    """
    chosen = {field.attribute: field for field in fields}
    for field in fields:
        if field.helper in ("unique_text", "unique_number"):
            return fields, field.attribute
    for f in entity.fields:
        attribute = naming.attribute_name(f.name)
        if f.type.name in TEXT_TYPES and attribute not in chosen:
            width = min(f.type.max_length or UNIQUE_TEXT_WIDTH, UNIQUE_TEXT_WIDTH)
            distinct = FactoryField(attribute, f"Use(unique_text, {width})", "unique_text")
            return [*fields, distinct], attribute
    return fields, None


def _safe_number(bounds: tuple[Bound, ...]) -> int | float:
    """A small positive number, or the first bound's own choice, if every bound takes it."""
    for candidate in (1, *(bound.valid_value for bound in bounds)):
        if all(bound.accepts(candidate) for bound in bounds):
            return candidate
    return 1


def entity_factory_view(catalog: Catalog, entity: Entity) -> EntityFactoryView:
    unique = {column for columns in unique_column_sets(catalog, entity) for column in columns}
    entity_checked: set[str] = set()
    for check in entity.checks:
        entity_checked |= referenced_columns(check.expression)
    bounds = entity_bounds(entity)
    fields = []
    for f in entity.fields:
        own_bounds = tuple(bound for bound in bounds if bound.column == f.name)
        chosen = factory_field(f, f.name in unique, f.name in entity_checked, own_bounds)
        if chosen is not None:
            fields.append(chosen)
    fields, distinct = _with_distinct_field(entity, fields)
    parents = tuple(
        (naming.attribute_name(relation.column), relation.target)
        for relation in entity.relations
        if relation.column
        and relation.kind in ("many_to_one", "one_to_one")
        and not relation.nullable
        and relation.target != entity.name
    )
    return EntityFactoryView(
        model=entity.name,
        factory=f"{entity.name}Factory",
        repository=f"{entity.name}Repository",
        fields=tuple(fields),
        required_parents=parents,
        distinct=distinct,
    )


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
    ones): the generated tests write them as the admin."""
    return tuple(
        sorted(
            entity.name
            for entity in schema.entities
            if "INSERT" not in catalog.table(entity.table).writer_privileges
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


def generate(ctx: GenerationContext) -> dict[str, str]:
    entities = tuple(
        entity_factory_view(ctx.catalog, entity)
        for entity in sorted(ctx.schema.entities, key=lambda e: e.name)
    )
    helpers = {field.helper for entity in entities for field in entity.fields}
    text = render(
        "fixtures/factories.py.jinja",
        package=ctx.package,
        entities=entities,
        models=isort_order({"Base"} | {entity.model for entity in entities}),
        repositories=isort_order({entity.repository for entity in entities}),
        database_filled=database_filled_columns(ctx.catalog),
        uses_unique_text="unique_text" in helpers,
        uses_unique_number="unique_number" in helpers,
        has_junctions=has_junction_tables(ctx.schema),
        tenancy=ctx.schema.tenancy is not None,
        admin_written=admin_written_models(ctx.catalog, ctx.schema),
    )
    return {"tests/factories.py": text}
