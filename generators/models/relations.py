"""Relationship declarations of the models, both sides, derived from the catalog's keys.

A reference between two tenant-scoped tables is a composite foreign key
``(tenant_id, x_id)``; its relationship gets an explicit ``primaryjoin`` with both
pairs and ``foreign_keys`` naming only ``x_id``, so SQLAlchemy never writes the tenant
column through a relationship. Self references mark the far side with ``remote()``.
Many-to-many relationships go through the junction ``Table`` of ``associations.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

from entityforge import naming
from entityforge.catalog import Catalog, ForeignKey, Table
from entityforge.generators.models.columns import ModelNames
from entityforge.generators.python_source import Code, call, string_literal
from entityforge.schema import Entity, Relation, Schema

# Where a join stands once black has split ``relationship(...)``.
ARGUMENT_INDENT = 8


@dataclass(frozen=True)
class RelationshipView:
    """One ``relationship()`` attribute of a model class."""

    attribute: str
    declaration: Code
    target: str


def _reference_key(table: Table, column: str) -> ForeignKey:
    return next(fk for fk in table.foreign_keys if fk.columns[-1] == column)


def _attribute(entity: str, column: str) -> str:
    return f"{entity}.{naming.attribute_name(column)}"


def _join(terms: list[str]) -> str:
    return terms[0] if len(terms) == 1 else f"and_({', '.join(terms)})"


def _reference_join(source: str, target: str, fk: ForeignKey, reverse: bool) -> str:
    """The join condition of a many-to-one key; ``remote()`` marks a self reference."""
    terms = []
    for local, referred in zip(fk.columns, fk.referred_columns, strict=True):
        near, far = _attribute(source, local), _attribute(target, referred)
        if source == target:
            near, far = (f"remote({near})", far) if reverse else (near, f"remote({far})")
        terms.append(f"{near} == {far}")
    return _join(terms)


def _junction_join(entity: str, junction: str, fk: ForeignKey) -> str:
    pairs = zip(fk.columns, fk.referred_columns, strict=True)
    return _join([f"{_attribute(entity, far)} == {junction}.c.{near}" for near, far in pairs])


def _join_literal(keyword: str, join: str) -> str:
    return string_literal(join, ARGUMENT_INDENT, f"{keyword}=", ",")


def _keys_to(table: Table, referred_table: str) -> int:
    return sum(1 for fk in table.foreign_keys if fk.referred_table == referred_table)


def _keys_between(catalog: Catalog, table: Table, other: str) -> int:
    """Foreign keys linking two tables, either way: more than one leaves a choice."""
    back = _keys_to(catalog.table(other), table.name) if other != table.name else 0
    return _keys_to(table, other) + back


def _reference_arguments(
    schema: Schema, catalog: Catalog, owner: Entity, relation: Relation, reverse: bool
) -> list[str]:
    """Join arguments of a many-to-one key held by ``owner``, from either side."""
    assert relation.column is not None
    target = schema.entity(relation.target)
    table = catalog.table(owner.table)
    fk = _reference_key(table, relation.column)
    composite = len(fk.columns) > 1
    arguments = []
    if composite:
        join = _reference_join(owner.name, target.name, fk, reverse)
        arguments.append(f"primaryjoin={_join_literal('primaryjoin', join)}")
    if composite or _keys_between(catalog, table, target.table) > 1:
        foreign_keys = f"[{_attribute(owner.name, relation.column)}]"
        arguments.append(f"foreign_keys={foreign_keys!r}")
    if not composite and owner.name == target.name and not reverse:
        arguments.append(f"remote_side={_attribute(owner.name, 'id')!r}")
    return arguments


def _many_to_many_arguments(
    schema: Schema, catalog: Catalog, owner: Entity, relation: Relation, reverse: bool
) -> list[str]:
    """Explicit joins through the junction table, where its keys leave a choice."""
    assert relation.junction_table and relation.source_column and relation.target_column
    junction = catalog.table(relation.junction_table)
    target = schema.entity(relation.target)
    if _keys_to(junction, owner.table) == 1 and _keys_to(junction, target.table) == 1:
        return []
    near_key = _reference_key(junction, relation.source_column)
    far_key = _reference_key(junction, relation.target_column)
    near = _junction_join(owner.name, junction.name, near_key)
    far = _junction_join(target.name, junction.name, far_key)
    if reverse:
        near, far = far, near
    return [
        f"primaryjoin={_join_literal('primaryjoin', near)}",
        f"secondaryjoin={_join_literal('secondaryjoin', far)}",
    ]


def _annotation(names: ModelNames, target: str, many: bool, nullable: bool) -> Code:
    mapped = names.symbols.name("sqlalchemy.orm", "Mapped")
    quoted = f'"{target} | None"' if nullable else f'"{target}"'
    inner = f'list["{target}"]' if many else quoted
    return mapped.wrap("", f"[{inner}]")


def _relationship(
    schema: Schema,
    catalog: Catalog,
    names: ModelNames,
    owner: Entity,
    relation: Relation,
    reverse: bool,
) -> RelationshipView:
    arguments: list[Code | str] = []
    secondary = relation.junction_table if relation.kind == "many_to_many" else None
    if secondary:
        table = names.symbols.name(".associations", secondary)
        arguments.append(table.wrap("secondary="))
        arguments += _many_to_many_arguments(schema, catalog, owner, relation, reverse)
    else:
        arguments += _reference_arguments(schema, catalog, owner, relation, reverse)
    back_populates = relation.name if reverse else relation.back_populates
    if back_populates:
        arguments.append(f"back_populates={back_populates!r}")
    if secondary:
        arguments.append("passive_deletes=True")
    elif reverse:
        # The database's ON DELETE decides what happens to the rows pointing here.
        arguments.append('passive_deletes="all"')
    # Loading is explicit (a repository's ``load``): touching a relationship that was not
    # loaded raises SQLAlchemy's clear "not available due to lazy='raise_on_sql'" error
    # instead of emitting a query an async session cannot run.
    arguments.append('lazy="raise_on_sql"')
    if reverse:
        attribute, target = relation.back_populates, owner.name
        many, nullable = relation.kind != "one_to_one", True
    else:
        attribute, target = relation.name, relation.target
        many, nullable = relation.kind == "many_to_many", relation.nullable
    assert attribute is not None
    annotation = _annotation(names, target, many, nullable)
    value = call(names.symbols.name("sqlalchemy.orm", "relationship"), *arguments)
    declaration = Code(f"{attribute}: {annotation.text} = {value.text}").with_imports(
        annotation.imports, value.imports
    )
    return RelationshipView(attribute, declaration, target)


def relationships(
    schema: Schema, catalog: Catalog, entity: Entity, names: ModelNames
) -> tuple[RelationshipView, ...]:
    """Every relationship of ``entity``: its own relations, then reverse sides, in spec order."""
    views = [
        _relationship(schema, catalog, names, entity, relation, reverse=False)
        for relation in entity.relations
    ]
    views += [
        _relationship(schema, catalog, names, owner, relation, reverse=True)
        for owner, relation in schema.relations_to(entity.name)
        if relation.back_populates
    ]
    return tuple(views)
