"""An entity's checks and columns as the solver sees them, read from the schema model.

Only the checks the spec states are solved for (a field's ``check`` and the entity's
``checks``), under the constraint names the catalog gives them; constraints the
generator adds on its own (such as the allowed values of an enum column) follow from
the column's type, which the candidates already respect.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from entityforge import naming
from entityforge.catalog import SOFT_DELETE_PREDICATE, Catalog
from entityforge.memo import by_identity
from entityforge.parse_tree import references
from entityforge.rows.candidates import ColumnSpec
from entityforge.rows.solver import TableChecks, check_columns, filled_values
from entityforge.rows.values import Opaque
from entityforge.schema import ColumnType, DefaultValue, Entity, Field, Schema


@by_identity
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


@by_identity
def row_capacity(schema: Schema, catalog: Catalog, entity: Entity) -> int | None:
    """How many rows of ``entity`` one tenant can hold; None when nothing bounds it.

    A unique key over enum and boolean columns alone allows the product of their values'
    counts; a required one-to-one reference, no more rows than its target can hold.
    """
    return _capacity(schema, catalog, entity, frozenset())


def key_capacity(types: Iterable[ColumnType]) -> int | None:
    """How many rows a unique key over columns of ``types`` allows: the product of their
    values' counts if all are enum or boolean columns (nullable ones too, as a factory
    gives them a value in every row), else None (any number)."""
    counts = []
    for type_ in types:
        if type_.name not in ("enum", "boolean"):
            return None
        counts.append(len(type_.values) if type_.name == "enum" else 2)
    return math.prod(counts)


def _capacity(
    schema: Schema, catalog: Catalog, entity: Entity, seen: frozenset[str]
) -> int | None:
    table = catalog.table(entity.table)
    capacities = []
    for key in unique_column_sets(catalog, entity):
        capacity = key_capacity(table.column(name).type for name in key)
        if capacity is not None:
            capacities.append(capacity)
    for relation in entity.relations:
        if relation.kind != "one_to_one" or relation.nullable or relation.target in seen:
            continue
        target = schema.entity(relation.target)
        bound = _capacity(schema, catalog, target, seen | {entity.name})
        if bound is not None:
            capacities.append(bound)
    return min(capacities, default=None)


def spec_checks(entity: Entity) -> tuple[tuple[str, str, str], ...]:
    """``(constraint, spec name, expression)`` of every check the spec gives the entity."""
    found = [(f.name, f.check) for f in entity.fields if f.check]
    found += [(check.name, check.expression) for check in entity.checks]
    return tuple((naming.check_name(entity.table, name), name, text) for name, text in found)


@by_identity
def table_checks(catalog: Catalog, entity: Entity, distinct: str | None = None) -> TableChecks:
    """The solver's view of an entity; ``distinct`` is a column to give fresh values too."""
    unique = {column for columns in unique_column_sets(catalog, entity) for column in columns}
    if distinct is not None:
        unique.add(distinct)
    if entity.partition is not None and entity.partition.by == "range":
        # In the primary key, as the database returns it: a moment of the test run, aware.
        unique.add(entity.partition.column)
    unique |= _generation_sources(entity, unique)
    if entity.search is not None:
        # Words that tell rows apart: the generated search tests find one row by them.
        unique |= {name for name, _ in entity.search.fields}
    columns = [_field_column(f, f.name in unique) for f in entity.fields if not f.generated]
    for relation in entity.relations:
        if relation.column:
            kind = "self_reference" if relation.target == entity.name else "reference"
            columns.append(ColumnSpec(relation.column, kind, relation.nullable))
    filled = filled_values(entity.soft_delete, entity.timestamps)
    filled["id"] = (Opaque("the row's key"),)
    for generated in (f for f in entity.fields if f.generated):
        filled[generated.name] = (Opaque("a value the database computes"),)
    if catalog.tenancy and catalog.table(entity.table).tenant_scoped:
        filled[catalog.tenancy.column] = (Opaque("the tenant's key"),)
    checks = spec_checks(entity)
    trusted = tuple(
        name
        for name, _, expression in checks
        if _all_given(entity, expression) or reads_generated(entity, expression)
    )
    return TableChecks(
        checks=tuple((constraint, expression) for constraint, _, expression in checks),
        columns=tuple(columns),
        filled=tuple(sorted(filled.items())),
        trusted=trusted,
    )


def _generation_sources(entity: Entity, unique: set[str]) -> set[str]:
    """The fields the generated columns among ``unique`` are computed from: fresh values
    of these keep a unique generated column's values apart."""
    sources: set[str] = set()
    for f in entity.fields:
        if f.generated and f.name in unique:
            sources |= references(f.generated).columns
    return {name for name in sources if (field := entity.field(name)) and not field.generated}


def reads_generated(entity: Entity, expression: str) -> bool:
    """Whether a check reads a generated column, whose value the database computes: the
    factories cannot choose it, and take the check on trust."""
    fields = [entity.field(name) for name in check_columns(expression)]
    return any(f is not None and f.generated for f in fields)


def _all_given(entity: Entity, expression: str) -> bool:
    """Whether every field a check reads has an ``example``: the spec vouches for it."""
    fields = [entity.field(name) for name in check_columns(expression)]
    given = [f for f in fields if f is not None]
    return bool(given) and all(f.example is not None for f in given)


def _field_column(field: Field, unique: bool) -> ColumnSpec:
    examples = () if field.example is None else (example_value(field, field.example),)
    return ColumnSpec(field.name, field.type.name, field.nullable, field.type, unique, examples)


def example_value(field: Field, example: DefaultValue) -> object:
    """An ``example:`` as the solver's value (numbers exact, moments as given)."""
    value = example.value
    kind = field.type.name
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return Decimal(str(value))
    if kind in ("datetime", "date") and isinstance(value, str):
        return ISODate(value)
    if kind == "time" and isinstance(value, str):
        return datetime.time.fromisoformat(value)
    if example.kind != "scalar":
        return Opaque("the example")
    return value


@dataclass(frozen=True)
class ISODate(Opaque):
    """A date or moment the spec gives in ISO form (``what``), written as it is."""
