"""A table's restrictive row-level policies, one per command, as the database holds them.

A spec's policy for several commands becomes one policy per command
(``naming.policy_name``). Roles are kept as kinds (``writer``), so a role renamed under
``roles:`` leaves its policies as they are; revisions spell them with the roles' names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from entityforge import naming
from entityforge.parse_tree import qualify_tables
from entityforge.schema import Entity, PolicyCommand, PolicySpec, Roles


@dataclass(frozen=True)
class Policy:
    """``AS RESTRICTIVE FOR <command> TO <roles> USING (<using>) WITH CHECK (<check>)``;
    ``command`` is lower case (``update``), ``using`` and ``check`` parsed SQL."""

    name: str
    command: str
    using: str | None = None
    check: str | None = None
    roles: tuple[str, ...] = ("writer",)

    def role_names(self, roles: Roles) -> tuple[str, ...]:
        """The names of the roles it restricts, in the order reader, writer, admin."""
        return tuple(getattr(roles, kind) for kind in self.roles)


def entity_policies(entity: Entity, schemas: Mapping[str, str]) -> tuple[Policy, ...]:
    """The policies of an entity's table, in the spec's order, each command its own;
    the tables their subqueries read that ``schemas`` places outside public are named
    qualified."""

    def qualified(expression: str | None) -> str | None:
        return qualify_tables(expression, schemas) if expression is not None else None

    return tuple(
        Policy(name, command, qualified(spec.using), qualified(spec.check), spec.roles)
        for spec in entity.policies
        for command, name in policy_names(spec).items()
    )


def policy_names(policy: PolicySpec) -> dict[PolicyCommand, str]:
    """The database policy each command of ``policy`` becomes."""
    several = len(policy.commands) > 1
    return {
        command: naming.policy_name(policy.name, command if several else None)
        for command in policy.commands
    }
