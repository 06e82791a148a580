"""A field's ``generated`` key: the expression of a stored generated column.

PostgreSQL computes a stored generated column from the other columns of its row
(``GENERATED ALWAYS AS (expression) STORED``). It refuses, when the migration runs, an
expression that calls a function not marked IMMUTABLE, one that refers to another
generated column or to a system column, and a generated column that also has a
default; the spec refuses the same, pointing at the key. Such a column is never
written by the application, so an ``example`` for the factories means nothing either.
"""

from __future__ import annotations

from collections.abc import Collection

from entityforge.parse_tree import references
from entityforge.spec.document import DocPath
from entityforge.spec.issues import Issues
from entityforge.spec.raw import RawField
from entityforge.spec.volatility import non_immutable_calls

# Columns every PostgreSQL table has, which a generation expression may not read.
SYSTEM_COLUMNS = frozenset({"tableoid", "xmin", "cmin", "xmax", "cmax", "ctid"})
# Keys a generated field may not have, and why.
_CONFLICTING_KEYS = {
    "default": "the database computes a generated column; it takes no default",
    "default_sql": "the database computes a generated column; it takes no default",
    "example": "the factories never write a generated column; the database computes it",
}


def conflicting_keys(issues: Issues, base: DocPath, raw: RawField) -> bool:
    """Whether a generated field has keys it cannot have (each reported)."""
    conflicts = [key for key in _CONFLICTING_KEYS if key in raw.model_fields_set]
    for key in conflicts:
        issues.at_key(
            base + (key,),
            f"a generated field cannot have '{key}'",
            hint=f"{_CONFLICTING_KEYS[key]}; remove '{key}' or 'generated'",
        )
    return bool(conflicts)


def system_column(issues: Issues, path: DocPath, columns: Collection[str]) -> bool:
    """Whether the expression's ``columns`` name a system column (reported)."""
    system = sorted(set(columns) & SYSTEM_COLUMNS)
    if system:
        issues.at_value(
            path,
            f"a generated column may not read the system column '{system[0]}'",
            hint="PostgreSQL computes a generated column from the row's own columns only",
        )
    return bool(system)


def generation_expression(
    issues: Issues, path: DocPath, expression: str, generated: Collection[str]
) -> str | None:
    """``expression`` (parsed, over the table's columns) if PostgreSQL can generate a
    column with it: immutable, over columns that are not generated themselves."""
    chained = sorted(references(expression).columns & set(generated))
    if chained:
        issues.at_value(
            path,
            f"the generation expression refers to '{chained[0]}', which is a generated "
            "column itself",
            hint="PostgreSQL computes generated columns from stored ones only: repeat "
            f"the expression of '{chained[0]}' here instead",
        )
        return None
    calls = non_immutable_calls(expression)
    if calls:
        issues.at_value(
            path,
            f"the generation expression calls {', '.join(calls)}, which PostgreSQL does not "
            "mark IMMUTABLE: it refuses such a generated column",
            hint="a generated value must depend on the row alone; give a plain column "
            "default_sql for a moment or a random value instead",
        )
        return None
    return expression
