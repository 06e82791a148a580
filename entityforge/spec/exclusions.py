"""Building an entity's ``exclude`` list: exclusion constraints.

Each element is a column of the table or a parsed, immutable SQL expression, and an
operator PostgreSQL can enforce it with. Operators are a fixed set of names, never text
from the spec pasted into SQL.
"""

from __future__ import annotations

from collections.abc import Sequence

from entityforge.schema import RANGE_ELEMENTS, ExclusionSpec
from entityforge.spec.constraints import Columns, checked_immutable
from entityforge.spec.document import DocPath
from entityforge.spec.issues import Issues, did_you_mean
from entityforge.spec.names import check_identifier
from entityforge.spec.raw import RawExclusion

# Equality and its opposite, which btree_gist gives plain columns, and the operators of
# ranges (overlap, adjacency, containment, position).
SCALAR_OPERATORS = ("=", "<>")
RANGE_OPERATORS = ("&&", "-|-", "@>", "<@", "<<", ">>", "&<", "&>", "=", "<>")
OPERATORS = tuple(dict.fromkeys(SCALAR_OPERATORS + RANGE_OPERATORS))
METHODS = ("gist",)
# Types no gist operator class compares.
_UNCOMPARABLE = ("json", "array", "bytes")


def build_exclusions(
    issues: Issues,
    base: DocPath,
    raws: Sequence[RawExclusion],
    columns: Columns,
    tenant: str | None,
    taken: set[str],
) -> tuple[ExclusionSpec, ...]:
    """The entity's exclusion constraints; ``taken`` holds its check names (one namespace
    of short names per table)."""
    result: list[ExclusionSpec] = []
    names = set(taken)
    for position, raw in enumerate(raws):
        path = base + ("exclude", position)
        if not check_identifier(issues, path + ("name",), raw.name, "exclusion name"):
            continue
        if raw.name in names:
            issues.at_value(
                path + ("name",),
                f"the name '{raw.name}' is already used by a check or an exclusion here",
                hint="choose another name",
            )
            continue
        names.add(raw.name)
        exclusion = _exclusion(issues, path, raw, columns, tenant)
        if exclusion is not None:
            result.append(exclusion)
    return tuple(result)


def _exclusion(
    issues: Issues, path: DocPath, raw: RawExclusion, columns: Columns, tenant: str | None
) -> ExclusionSpec | None:
    if raw.using not in METHODS:
        issues.at_value(
            path + ("using",),
            f"an exclusion constraint here is enforced by gist, not '{raw.using}'",
            hint="leave out 'using' (gist)",
        )
        return None
    if not raw.elements:
        issues.at_value(
            path + ("elements",),
            "the list of elements is empty",
            hint='give [column, operator] pairs, such as [during, "&&"]',
        )
        return None
    elements = []
    for position, pair in enumerate(raw.elements):
        element = _element(issues, path + ("elements", position), pair, columns, tenant)
        if element is None:
            return None
        elements.append(element)
    where = checked_immutable(issues, path + ("where",), raw.where, columns, "predicate")
    if raw.where is not None and where is None:
        return None
    return ExclusionSpec(raw.name, tuple(elements), raw.using, where)


def _element(
    issues: Issues, path: DocPath, pair: Sequence[str], columns: Columns, tenant: str | None
) -> tuple[str, str] | None:
    if len(pair) != 2:
        issues.at_value(
            path,
            "an element is a pair: [column or expression, operator]",
            hint='write e.g. [resource_id, "="] or [during, "&&"]',
        )
        return None
    subject, operator = pair
    if operator not in OPERATORS:
        issues.at_value(
            path + (1,),
            f"'{operator}' is no operator an exclusion constraint here uses",
            hint=did_you_mean(operator, OPERATORS) or f"use one of: {', '.join(OPERATORS)}",
        )
        return None
    if tenant is not None and subject == tenant:
        issues.at_value(
            path + (0,),
            f"'{subject}' is the tenant column, which the generator puts first by itself",
            hint=f"remove this element: on a tenant-scoped table '{subject}' joins with = first",
        )
        return None
    if subject not in columns:
        expression = checked_immutable(issues, path + (0,), subject, columns, "expression")
        return None if expression is None else (expression, operator)
    column_type = columns[subject]
    kind = column_type.name if column_type is not None else None
    if kind in _UNCOMPARABLE:
        issues.at_value(
            path + (0,),
            f"an exclusion constraint cannot compare a {kind} column",
            hint="exclude by plain columns and ranges",
        )
        return None
    if kind is not None and kind not in RANGE_ELEMENTS and operator not in SCALAR_OPERATORS:
        issues.at_value(
            path + (1,),
            f"'{operator}' compares ranges, and '{subject}' is a {kind} column",
            hint="use = or <> for a plain column, or make the column a range type "
            "(tstzrange, daterange, int4range, int8range, numrange)",
        )
        return None
    return subject, operator
