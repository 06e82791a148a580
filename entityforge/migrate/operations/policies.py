"""Operations on the spec's restrictive row-level policies.

``CreatePolicy`` carries the policy and the names of the roles it restricts, so its SQL
and its reverse are complete. A table without a tenant policy that has restrictive
policies also gets ``CreateGrantedRolesPolicy``: the permissive policy that lets the
roles granted the table through (with row-level security on and no permissive policy,
a table shows nothing to anyone, which the restrictive policies could only narrow).
"""

from __future__ import annotations

from dataclasses import dataclass

from entityforge.catalog.policies import Policy
from entityforge.migrate.operations import Operation


@dataclass(frozen=True)
class CreatePolicy(Operation):
    table: str
    policy: Policy
    roles: tuple[str, ...]

    def reverse(self) -> DropPolicy:
        return DropPolicy(self.table, self.policy, self.roles)


@dataclass(frozen=True)
class DropPolicy(Operation):
    table: str
    policy: Policy
    roles: tuple[str, ...]

    def reverse(self) -> CreatePolicy:
        return CreatePolicy(self.table, self.policy, self.roles)


@dataclass(frozen=True)
class CreateGrantedRolesPolicy(Operation):
    """The permissive ``granted_roles`` policy: ``roles`` reach every row."""

    table: str
    roles: tuple[str, ...]

    def reverse(self) -> DropGrantedRolesPolicy:
        return DropGrantedRolesPolicy(self.table, self.roles)


@dataclass(frozen=True)
class DropGrantedRolesPolicy(Operation):
    table: str
    roles: tuple[str, ...]

    def reverse(self) -> CreateGrantedRolesPolicy:
        return CreateGrantedRolesPolicy(self.table, self.roles)
