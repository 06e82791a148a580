"""``tests/test_audit.py``: each audited entity's history on PostgreSQL.

A row inserted, updated and deleted in one transaction, with a user id set, leaves
three history rows, newest first, each naming that user; another tenant sees none of
them; the application's role may read history but its INSERT, UPDATE and DELETE on it
are refused. The writes run as the application role (as the admin for a table the
application may only read); the update changes one plain field, chosen here: the first
that no check, exclusion or generated column reads, so that a fresh value of the
factories keeps every constraint.
"""

from __future__ import annotations

from dataclasses import dataclass

from entityforge import naming
from entityforge.catalog import Table
from entityforge.generators import GenerationContext
from entityforge.generators.fixtures import admin_written_models
from entityforge.generators.models.history import audited
from entityforge.generators.python_source import docstring
from entityforge.generators.schemas import history_read_name
from entityforge.generators.templating import render
from entityforge.parse_tree import references

PATH = "tests/test_audit.py"
MODULE_DOCSTRING = (
    "History of audited entities on PostgreSQL: the database's triggers record every "
    "insert, update and delete with the acting user, in the transaction that made it; "
    "another tenant sees none of it, and the application may read history but never "
    "insert, update or delete it."
)


@dataclass(frozen=True)
class AuditCase:
    """``changed`` is the attribute and column an update changes, or None."""

    table: str
    history: str
    model: str
    repository: str
    schema: str
    changed: tuple[str, str] | None
    tenant_scoped: bool
    admin: bool


def changed_column(table: Table) -> str | None:
    """The first plain field that no constraint or generated column reads."""
    read: set[str] = set()
    for expression in [
        *(check.expression for check in table.checks),
        *(column.generated for column in table.columns if column.generated),
    ]:
        read |= set(references(expression).columns)
    for exclusion in table.exclusions:
        read |= set(exclusion.column_names)
    return next(
        (
            column.name
            for column in table.columns
            if column.role == "field" and column.generated is None and column.name not in read
        ),
        None,
    )


def generate(ctx: GenerationContext) -> dict[str, str]:
    admin = set(admin_written_models(ctx.catalog, ctx.schema))
    cases = []
    for entity, history in audited(ctx):
        table = ctx.catalog.table(entity.table)
        column = changed_column(table)
        cases.append(
            AuditCase(
                table=table.name,
                history=history.name,
                model=entity.name,
                repository=f"{entity.name}Repository",
                schema=history_read_name(entity),
                changed=(naming.attribute_name(column), column) if column else None,
                tenant_scoped=table.tenant_scoped,
                admin=entity.name in admin,
            )
        )
    if not cases:
        return {}
    cases.sort(key=lambda case: case.table)
    text = render(
        "tests/test_audit.py.jinja",
        package=ctx.package,
        docstring=docstring(MODULE_DOCSTRING, 0),
        cases=cases,
        tenancy=ctx.schema.tenancy is not None,
        scoped=any(case.tenant_scoped for case in cases),
        admin=any(case.admin for case in cases),
        models=sorted(case.model for case in cases),
        repositories=sorted(case.repository for case in cases),
        schemas=sorted(case.schema for case in cases),
        qualified=bool(ctx.catalog.schemas),
        # Tables by their bare names: in schemas, the metadata keys them qualified.
        tables="TABLES_BY_NAME" if ctx.catalog.schemas else "Base.metadata.tables",
    )
    return {PATH: text}
