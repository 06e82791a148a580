"""What the generated tests check of an entity's exclusion constraints.

A row that copies the constrained attributes of another breaks the constraint when every
operator holds of a value and itself (``=``, ``&&``, ``@>``, ``<@``; a factory's range is
never empty); a range beside a taken one, sharing only its bound, is accepted where the
range is compared by overlap. A constraint limited by the spec's own ``where`` is left
out: which rows it holds among depends on values no generic test chooses.
"""

from __future__ import annotations

from dataclasses import dataclass

from entityforge import naming
from entityforge.catalog import SOFT_DELETE_PREDICATE, Catalog
from entityforge.schema import RANGE_ELEMENTS, Entity

# Operators that hold between a value and itself.
_SELF_CONFLICTING = frozenset({"=", "&&", "@>", "<@"})


@dataclass(frozen=True)
class ExclusionCase:
    """``attributes``: what a conflicting row copies; ``adjacent``: the range attribute a
    row beside the taken one moves, if the constraint compares it by overlap."""

    constraint: str
    attributes: tuple[str, ...]
    adjacent: str | None = None


def untested_exclusions(catalog: Catalog, entity: Entity) -> tuple[tuple[str, str], ...]:
    """``(constraint, why)`` of each exclusion constraint the generated tests leave out."""
    found = []
    for exclusion in catalog.table(entity.table).exclusions:
        if exclusion.where not in (None, SOFT_DELETE_PREDICATE):
            found.append((exclusion.name, "the spec's where decides which rows it compares"))
        elif any(e.expression or e.operator not in _SELF_CONFLICTING for e in exclusion.elements):
            found.append((exclusion.name, "a copied row need not conflict under its operators"))
    return tuple(found)


def exclusion_cases(catalog: Catalog, entity: Entity) -> tuple[ExclusionCase, ...]:
    table = catalog.table(entity.table)
    tenant = catalog.tenancy.column if catalog.tenancy else None
    untested = {name for name, _ in untested_exclusions(catalog, entity)}
    cases = []
    for exclusion in table.exclusions:
        own = [e for e in exclusion.elements if e.expression or e.name != tenant]
        if exclusion.name in untested:
            continue
        overlapping = [
            e.name
            for e in own
            if e.operator == "&&" and table.column(e.name).type.name in RANGE_ELEMENTS
        ]
        adjacent = naming.attribute_name(overlapping[0]) if len(overlapping) == 1 else None
        attributes = tuple(naming.attribute_name(e.name) for e in own)
        cases.append(ExclusionCase(exclusion.name, attributes, adjacent))
    return tuple(cases)
