"""The operations that give a table its restrictive policies (and, on a table without a
tenant policy, row-level security and the permissive policy they narrow).

They come after every table and foreign key of the revision, since a policy's
subquery may read another table; on removal they go first, for the same reason.
"""

from __future__ import annotations

from entityforge.catalog import Catalog, Table
from entityforge.catalog.grants import table_privileges
from entityforge.migrate.operations import EnableRowLevelSecurity, Operation
from entityforge.migrate.operations.policies import CreateGrantedRolesPolicy, CreatePolicy


def policy_operations(table: Table, catalog: Catalog) -> list[Operation]:
    """What makes ``table``'s policies, in order."""
    operations: list[Operation] = []
    if table.granted_roles_policy:
        granted = tuple(role for role, _ in table_privileges(catalog, table))
        operations.append(EnableRowLevelSecurity(table.name))
        operations.append(CreateGrantedRolesPolicy(table.name, granted))
    operations += [
        CreatePolicy(table.name, policy, policy.role_names(catalog.roles))
        for policy in table.policies
    ]
    return operations
