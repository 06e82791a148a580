"""What the generated project's tests check of the spec's row-level policies.

A policy's expression is any SQL: no generated test can know, in general, which rows
satisfy it. So ``tests/test_policies.py`` checks every policy as PostgreSQL holds it
(restrictive, its command, its roles; the tenant policy or, on a table without one, the
permissive ``granted_roles`` policy beside it; row-level security enabled and forced),
and checks behaviour for the one shape it understands: a policy that keeps a command
to the rows whose uuid column holds a keyword setting (``created_by = (SELECT
NULLIF(current_setting('app.user_id', true), '')::uuid)``), on a table whose every
policy for the writer has that shape. Rows of a table with policies for the writer are
written by the admin in the other tests (``writer_restricted``), which bypasses them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from entityforge import naming
from entityforge.catalog import Catalog, Table
from entityforge.catalog.grants import table_privileges
from entityforge.catalog.policies import Policy
from entityforge.schema import Entity, Schema

# The deparsed text of the one policy shape with a behavioural test.
_OWNER_SHAPE = re.compile(
    r"(?P<column>[a-z_][a-z0-9_]*) = \(SELECT CAST\(NULLIF\(current_setting\("
    r"'app\.(?P<key>[a-z_][a-z0-9_]*)', TRUE\), ''\) AS uuid\)\)"
)
# The commands an owner policy's test runs, for each command a policy restricts.
_TESTED_COMMANDS = {"update": ("update",), "delete": ("delete",), "all": ("update", "delete")}


@dataclass(frozen=True)
class ExpectedPolicy:
    """A row of ``pg_policies``: ``permissive`` is ``PERMISSIVE`` or ``RESTRICTIVE``,
    ``command`` as the view spells it (``UPDATE``, ``ALL``), roles sorted."""

    table: str
    name: str
    permissive: str
    command: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class OwnerCase:
    """A command the writer may run only on the rows whose ``column`` holds the
    setting ``app.<key>``."""

    model: str
    command: str
    attribute: str
    column: str
    key: str


@dataclass(frozen=True)
class PolicyTestView:
    tenancy: bool
    tables: tuple[str, ...]
    expected: tuple[ExpectedPolicy, ...]
    owner_cases: tuple[OwnerCase, ...]
    models: tuple[str, ...]
    # The tables' namespace in the catalog queries: public, or (``schema:``) any, as
    # table names are unique across the project's schemas.
    in_public: bool = True
    # How the tests find a table by its name (see ``tests.TenantIsolationView``).
    tables_by_name: str = "Base.metadata.tables"


def writer_restricted(catalog: Catalog, entity: Entity) -> bool:
    """Whether policies of the entity's table restrict the writer."""
    return any("writer" in policy.roles for policy in catalog.table(entity.table).policies)


def loads_hidden_rows(schema: Schema, catalog: Catalog, entity: Entity) -> bool:
    """Whether an entity related to ``entity`` (either way) has policies that restrict
    the writer: its rows may be hidden from the writer, and the factories write them as
    the admin in a transaction of their own, which sees no row the writer's test has not
    committed. The tests that load it through a relationship, or check what a delete did
    to it, then run as the admin."""
    related = {relation.target for relation in entity.relations}
    related |= {
        other.name
        for other in schema.entities
        for relation in other.relations
        if relation.target == entity.name
    }
    return any(
        writer_restricted(catalog, schema.entity(name)) for name in sorted(related - {entity.name})
    )


def policy_test_view(schema: Schema, catalog: Catalog) -> PolicyTestView | None:
    """The checks of every table with policies; ``None`` when the spec has none."""
    tables = [table for table in catalog.tables if table.policies]
    if not tables:
        return None
    expected = [row for table in tables for row in _expected(catalog, table)]
    by_table = {entity.table: entity for entity in schema.entities}
    setting = schema.tenancy.setting if schema.tenancy else None
    cases = [
        case for table in tables for case in _owner_cases(by_table[table.name], table, setting)
    ]
    return PolicyTestView(
        tenancy=schema.tenancy is not None,
        tables=tuple(sorted(table.name for table in tables)),
        expected=tuple(sorted(expected, key=lambda row: (row.table, row.name))),
        owner_cases=tuple(cases),
        models=tuple(sorted({case.model for case in cases})),
        in_public=not catalog.schemas,
        tables_by_name="TABLES_BY_NAME" if catalog.schemas else "Base.metadata.tables",
    )


def _expected(catalog: Catalog, table: Table) -> list[ExpectedPolicy]:
    rows = [
        ExpectedPolicy(
            table.name,
            policy.name,
            "RESTRICTIVE",
            policy.command.upper(),
            tuple(sorted(policy.role_names(catalog.roles))),
        )
        for policy in table.policies
    ]
    if table.granted_roles_policy:
        granted = tuple(sorted(role for role, _ in table_privileges(catalog, table)))
        rows.append(
            ExpectedPolicy(table.name, naming.GRANTED_ROLES_POLICY, "PERMISSIVE", "ALL", granted)
        )
    else:
        tenant = ExpectedPolicy(table.name, naming.TENANT_POLICY, "PERMISSIVE", "ALL", ("public",))
        rows.append(tenant)
    return rows


def _owner_cases(entity: Entity, table: Table, tenant_setting: str | None) -> list[OwnerCase]:
    """The behavioural tests of a table whose every writer policy is an owner policy on
    one uuid field and one setting (not the tenant's); none otherwise."""
    policies = [policy for policy in table.policies if "writer" in policy.roles]
    shapes = {_owner_shape(policy) for policy in policies}
    if len(shapes) != 1 or None in shapes:
        return []
    shape = shapes.pop()
    assert shape is not None
    column, key = shape
    field = entity.field(column)
    if field is None or field.type.name != "uuid" or field.unique:
        return []
    if f"app.{key}" == tenant_setting:
        return []
    tested = {c for p in policies for c in _TESTED_COMMANDS.get(p.command, ())}
    commands = sorted(c for c in tested if c.upper() in table.writer_privileges)
    return [
        OwnerCase(entity.name, command, naming.attribute_name(column), column, key)
        for command in commands
    ]


def _owner_shape(policy: Policy) -> tuple[str, str] | None:
    """``(column, setting key)`` of an owner policy: its ``using`` has the shape, and its
    ``check`` is absent or the same."""
    match = _OWNER_SHAPE.fullmatch(policy.using or "")
    if match is None or policy.check not in (None, policy.using):
        return None
    return match["column"], match["key"]
