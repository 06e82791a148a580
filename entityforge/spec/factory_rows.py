"""Every spec must give factories a valid row: checks no solver can keep are refused.

The generated factories write rows the row solver (``entityforge.rows``) chooses. Where
it finds none (a check it cannot compute, or checks that contradict each other within
the columns' types), the spec is refused at the check, saying how to give the factory
values by hand with a field's ``example:``.
"""

from __future__ import annotations

from entityforge.catalog import Catalog
from entityforge.rows.solver import NoRow, solve
from entityforge.rows.tables import spec_checks, table_checks
from entityforge.schema import Entity, Schema
from entityforge.spec.document import DocPath
from entityforge.spec.issues import Issues


def check_factory_rows(issues: Issues, schema: Schema, catalog: Catalog) -> None:
    """Refuse each entity whose checks leave the factory no row, at the check to blame."""
    for entity in schema.entities:
        row = solve(table_checks(catalog, entity))
        if isinstance(row, NoRow) and not row.check:
            issues.at_value(
                ("entities", entity.name),
                f"the generated factories find no values for its unique columns: {row.reason}",
                hint="widen the unique column's type (more digits or characters)",
            )
        elif isinstance(row, NoRow):
            issues.at_value(
                _check_path(entity, row.check),
                f"the generated factories find no row that keeps this check: {row.reason}",
                hint="give the fields it reads a value for the factories, e.g. "
                "'example: 42' beside 'type:' (the check must accept it), or simplify "
                "the check",
            )


def _check_path(entity: Entity, constraint: str) -> DocPath:
    base: DocPath = ("entities", entity.name)
    names = {name: spec_name for name, spec_name, _ in spec_checks(entity)}
    spec_name = names[constraint]
    if entity.field(spec_name) is not None and entity.field(spec_name).check:  # type: ignore[union-attr]
        return base + ("fields", spec_name, "check")
    position = next(i for i, check in enumerate(entity.checks) if check.name == spec_name)
    return base + ("checks", position, "expression")
