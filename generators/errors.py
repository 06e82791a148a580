"""The errors generator: ``<package>/errors.py``, typed errors for failed reads and writes.

A failed statement reaches the application as one of a few exceptions that say what went
wrong in the spec's terms: ``ConflictError`` (a unique key, with its fields),
``BadReferenceError`` (a foreign key), ``CheckViolationError``, ``InvalidValueError``
(a NOT NULL column, a value the column type refuses), ``NotFoundError`` and
``InvalidCursorError``. Each carries the HTTP status an API answers it with. The
constraint names come from the catalog, so every constraint the database can name is
mapped to the fields the spec gave it.
"""

from __future__ import annotations

from dataclasses import dataclass

from entityforge import naming
from entityforge.catalog import Catalog, Table
from entityforge.generators import GenerationContext
from entityforge.generators.templating import render
from entityforge.rows.solver import check_columns


@dataclass(frozen=True)
class ConstraintView:
    name: str
    kind: str  # "unique", "exclusion", "foreign_key" or "check"
    table: str
    fields: tuple[str, ...]
    target: str | None = None


def _fields(table: Table, columns: tuple[str, ...], tenant: str | None) -> tuple[str, ...]:
    """The attributes of ``columns``, the tenant column left out (a spec never names it)."""
    known = {column.name for column in table.columns}
    return tuple(naming.attribute_name(c) for c in columns if c != tenant and c in known)


def constraints(catalog: Catalog) -> tuple[ConstraintView, ...]:
    """Every named constraint a failed write can report, with the fields it covers."""
    tenant = catalog.tenancy.column if catalog.tenancy else None
    found: list[ConstraintView] = []
    for table in catalog.tables:
        entity = table.entity or table.name
        primary = _fields(table, table.primary_key, tenant) or ("id",)
        found.append(ConstraintView(table.primary_key_name, "unique", entity, primary))
        for unique in table.uniques:
            fields = _fields(table, unique.columns, tenant)
            found.append(ConstraintView(unique.name, "unique", entity, fields))
        for index in table.indexes:
            if index.unique:
                fields = _fields(table, index.column_names, tenant)
                found.append(ConstraintView(index.name, "unique", entity, fields))
        for key in table.foreign_keys:
            target = catalog.table(key.referred_table)
            fields = _fields(table, key.columns, tenant)
            found.append(
                ConstraintView(
                    key.name, "foreign_key", entity, fields, target.entity or target.name
                )
            )
        for exclusion in table.exclusions:
            fields = _fields(table, exclusion.column_names, tenant)
            found.append(ConstraintView(exclusion.name, "exclusion", entity, fields))
        for check in table.checks:
            columns = tuple(sorted(check_columns(check.expression)))
            fields = _fields(table, columns, tenant)
            found.append(ConstraintView(check.name, "check", entity, fields))
    return tuple(sorted({view.name: view for view in found}.values(), key=lambda v: v.name))


def generate(ctx: GenerationContext) -> dict[str, str]:
    """``<package>/errors.py``."""
    return {
        f"{ctx.package}/errors.py": render(
            "errors/errors.py.jinja", constraints=constraints(ctx.catalog)
        )
    }
