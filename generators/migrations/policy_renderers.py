"""Renderers of the spec's row-level policies (``entityforge.migrate.operations.policies``).

``migrations.renderers`` registers every function of ``RENDERERS`` on its dispatcher.
The expressions are the parser's own text of what the spec wrote (validated, never
pasted as written); names are quoted where PostgreSQL needs it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from entityforge import naming
from entityforge.catalog.policies import Policy
from entityforge.generators.migrations.code import execute
from entityforge.generators.python_source import Code
from entityforge.generators.table_schemas import quote_table
from entityforge.migrate.operations.policies import (
    CreateGrantedRolesPolicy,
    CreatePolicy,
    DropGrantedRolesPolicy,
    DropPolicy,
)
from entityforge.naming import quote_identifier


def _roles(roles: tuple[str, ...]) -> str:
    return ", ".join(map(quote_identifier, roles))


def create_policy(table: str, policy: Policy, roles: tuple[str, ...]) -> str:
    """``CREATE POLICY ... AS RESTRICTIVE``: it narrows what the permissive ones allow."""
    lines = [
        f"CREATE POLICY {quote_identifier(policy.name)} ON {quote_table(table)} "
        f"AS RESTRICTIVE FOR {policy.command.upper()} TO {_roles(roles)}"
    ]
    if policy.using is not None:
        lines.append(f"USING ({policy.using})")
    if policy.check is not None:
        lines.append(f"WITH CHECK ({policy.check})")
    return "\n".join(lines)


def drop_policy(table: str, name: str) -> str:
    return f"DROP POLICY {quote_identifier(name)} ON {quote_table(table)}"


def create_granted_roles_policy(table: str, roles: tuple[str, ...]) -> str:
    return (
        f"CREATE POLICY {quote_identifier(naming.GRANTED_ROLES_POLICY)} ON "
        f"{quote_table(table)} AS PERMISSIVE FOR ALL TO {_roles(roles)}\n"
        "USING (true)\n"
        "WITH CHECK (true)"
    )


def render_create_policy(operation: CreatePolicy) -> Code:
    return execute(create_policy(operation.table, operation.policy, operation.roles))


def render_drop_policy(operation: DropPolicy) -> Code:
    return execute(drop_policy(operation.table, operation.policy.name))


def render_create_granted_roles_policy(operation: CreateGrantedRolesPolicy) -> Code:
    return execute(create_granted_roles_policy(operation.table, operation.roles))


def render_drop_granted_roles_policy(operation: DropGrantedRolesPolicy) -> Code:
    return execute(drop_policy(operation.table, naming.GRANTED_ROLES_POLICY))


RENDERERS: tuple[Callable[[Any], Code], ...] = (
    render_create_policy,
    render_drop_policy,
    render_create_granted_roles_policy,
    render_drop_granted_roles_policy,
)
