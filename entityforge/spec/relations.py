"""Building the relations of one entity (what can be checked without the other side)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from entityforge import naming
from entityforge.schema import ON_DELETE_ACTIONS, RELATION_KINDS, Relation, Tenancy
from entityforge.spec.document import DocPath
from entityforge.spec.issues import Issues, did_you_mean
from entityforge.spec.names import check_identifier
from entityforge.spec.raw import RawRelation


def relation_column(raw: RawRelation, name: str) -> str | None:
    """The foreign-key column a relation adds to its own table, if any."""
    return naming.relation_column(name) if raw.kind in ("many_to_one", "one_to_one") else None


def build_relation(
    issues: Issues,
    base: DocPath,
    entity: str,
    name: str,
    raw: RawRelation,
    entities: Sequence[str],
    tenancy: Tenancy | None,
) -> Relation | None:
    """The ``Relation`` at ``base``; ``None`` (with errors recorded) if it is unusable.

    ``tenancy``, when on: no junction column may take the tenant column's name, but for
    the column of a junction of the tenant entity that refers to the tenant table (its
    rows are that tenant's links, and row-level security reads that column).
    """
    errors_before = len(issues.errors)
    _check_kind_and_target(issues, base, entity, name, raw, entities)
    on_delete = _on_delete(issues, base, raw)
    if raw.back_populates is not None:
        check_identifier(issues, base + ("back_populates",), raw.back_populates, "back_populates")
    if raw.renamed_from is not None:
        check_identifier(issues, base + ("renamed_from",), raw.renamed_from, "renamed_from")
    if len(issues.errors) > errors_before:
        return None
    relation = Relation(
        name=name,
        kind=raw.kind,  # type: ignore[arg-type]
        target=raw.target,
        nullable=bool(raw.nullable),
        on_delete=on_delete,  # type: ignore[arg-type]
        back_populates=raw.back_populates,
        renamed_from=raw.renamed_from,
        comment=raw.comment,
    )
    if raw.kind == "many_to_many":
        return _with_junction(issues, base, entity, relation, tenancy)
    column = relation_column(raw, name)
    if column is None or not naming.SNAKE_CASE.match(name):
        return None
    if check_identifier(issues, base, column, "the relation's column", on_key=True):
        return replace(relation, column=column)
    return None


def _check_kind_and_target(
    issues: Issues,
    base: DocPath,
    entity: str,
    name: str,
    raw: RawRelation,
    entities: Sequence[str],
) -> None:
    if raw.kind not in RELATION_KINDS:
        issues.at_value(
            base + ("kind",),
            f"unknown relation kind '{raw.kind}'",
            hint=did_you_mean(raw.kind, RELATION_KINDS)
            or f"use one of: {', '.join(RELATION_KINDS)}",
        )
    if raw.target not in entities:
        issues.at_value(
            base + ("target",),
            f"relation '{name}' of entity '{entity}' targets '{raw.target}', which is no entity",
            hint=did_you_mean(raw.target, entities) or f"the entities are: {', '.join(entities)}",
        )


def _on_delete(issues: Issues, base: DocPath, raw: RawRelation) -> str:
    if raw.kind == "many_to_many":
        for key in ("nullable", "on_delete"):
            if getattr(raw, key) is not None:
                issues.at_key(
                    base + (key,),
                    f"'{key}' does not apply to a many_to_many relation",
                    hint="remove it: junction rows are deleted with either side",
                )
        return "restrict"
    on_delete = raw.on_delete or "restrict"
    if on_delete not in ON_DELETE_ACTIONS:
        issues.at_value(
            base + ("on_delete",),
            f"unknown on_delete action '{on_delete}'",
            hint=did_you_mean(on_delete, ON_DELETE_ACTIONS)
            or f"use one of: {', '.join(ON_DELETE_ACTIONS)}",
        )
    elif on_delete == "set_null" and not raw.nullable:
        issues.at_value(
            base + ("on_delete",),
            "on_delete: set_null needs a nullable relation",
            hint="add 'nullable: true', or choose restrict or cascade",
        )
    return on_delete


def _with_junction(
    issues: Issues, base: DocPath, entity: str, relation: Relation, tenancy: Tenancy | None
) -> Relation | None:
    table = naming.junction_table(entity, relation.name)
    source, target = naming.junction_columns(entity, relation.target, relation.name)
    if target == source:
        issues.at_key(
            base,
            f"the junction table '{table}' would have two columns named '{target}'",
            hint="rename the relation",
        )
        return None
    referred = {source: entity, target: relation.target}
    if tenancy is not None and referred.get(tenancy.column, tenancy.entity) != tenancy.entity:
        issues.at_key(
            base,
            f"the junction table '{table}' would have a column named '{tenancy.column}', "
            "the tenant column's name",
            hint="rename the relation, or choose another tenancy column",
        )
        return None
    names_ok = all(
        check_identifier(issues, base, name, what, on_key=True)
        for name, what in (
            (table, "the junction table"),
            (source, "a junction column"),
            (target, "a junction column"),
        )
    )
    if not names_ok:
        return None
    return replace(relation, junction_table=table, source_column=source, target_column=target)
