"""entityforge's own shapes, recognised in a live catalog.

Tenancy (a tenant column compared with a setting by a row-level-security policy, and a
foreign key from it to the tenant table), the three roles (by their grants and
BYPASSRLS), junction tables of many-to-many relations, and the generated timestamp
columns with their trigger.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from entityforge import naming
from entityforge.catalog import HISTORY_OPERATIONS
from entityforge.importer.live import LiveColumn, LiveConstraint, LiveDatabase, LiveTable

# pg_policies prints the generated policy's test as
#   (tenant_id = ( SELECT (NULLIF(current_setting('app.tenant_id'::text, true),
#                                 ''::text))::uuid AS "nullif"))
_SETTING_TEST = re.compile(
    r"""^\(*"?(?P<column>[a-z_][a-z0-9_]*)"?\s*=\s*\(\s*SELECT\s.*"""
    r"""current_setting\('(?P<setting>[^']+)'(::text)?,\s*true\)""",
    re.DOTALL,
)
TRIGGER_FUNCTION = naming.UPDATED_AT_FUNCTION
IMPLIED_EXTENSIONS = frozenset({"pg_trgm", "btree_gin", "btree_gist"})
# Functions generated revisions create: the updated_at trigger's, and uuidv7() where
# the server predates PostgreSQL 18.
IMPLIED_FUNCTIONS = frozenset({f"{TRIGGER_FUNCTION}()", "uuidv7()"})


@dataclass(frozen=True)
class TenancyShape:
    column: str
    setting: str
    tenant_table: str
    scoped_tables: frozenset[str]


@dataclass(frozen=True)
class JunctionShape:
    """A junction table: ``source`` holds the relation, ``relation`` is its name."""

    table: str
    source_table: str
    target_table: str
    relation: str


def is_audited(table: LiveTable, tables: frozenset[str]) -> bool:
    """``audit: true``'s shape: the history table beside ``table`` and the three
    triggers that call its function."""
    function = naming.history_function(table.name)
    triggers = {trigger.name for trigger in table.triggers if trigger.function == function}
    wanted = {naming.history_trigger(table.name, op) for op in HISTORY_OPERATIONS}
    return naming.history_table(table.name) in tables and triggers == wanted


def setting_test(expression: str | None) -> tuple[str, str] | None:
    """``(column, setting)`` when ``expression`` compares a column with a setting."""
    match = _SETTING_TEST.match(expression or "")
    return (match["column"], match["setting"]) if match else None


def tenancy_shape(db: LiveDatabase) -> TenancyShape | None:
    """The tenancy the policies show: the most used (column, setting) whose column is a
    foreign key to another table's ``id``."""
    votes: dict[tuple[str, str, str], set[str]] = {}
    for table in db.tables:
        for policy in table.policies:
            test = setting_test(policy.using)
            if test is None or test[0] == "id":
                continue
            target = tenant_target(table, test[0])
            if target is not None:
                votes.setdefault((test[0], test[1], target), set()).add(table.name)
    if not votes:
        return None
    (column, setting, target), scoped = max(
        votes.items(), key=lambda item: (len(item[1]), item[0])
    )
    return TenancyShape(column, setting, target, frozenset(scoped))


def tenant_target(table: LiveTable, column: str) -> str | None:
    for fk in table.of_kind("f"):
        if fk.columns == (column,) and fk.referred_columns == ("id",):
            return fk.referred_table
    return None


def junction_shape(
    table: LiveTable, tenant_column: str | None, entity_of: dict[str, str]
) -> JunctionShape | None:
    """The many-to-many relation ``table`` is the junction of, if it is one."""
    names = tuple(column.name for column in table.columns)
    own = tuple(name for name in names if name != tenant_column)
    primary = table.of_kind("p")
    if len(own) != 2 or not primary or set(primary[0].columns) != set(names):
        return None
    references = [fk for fk in table.of_kind("f") if fk.columns[-1:] and fk.columns[-1] in own]
    if len(references) != 2:
        return None
    for source, target in (references, references[::-1]):
        source_entity = entity_of.get(source.referred_table or "")
        target_entity = entity_of.get(target.referred_table or "")
        if source_entity is None or target_entity is None:
            continue
        prefix = f"{naming.snake_case(source_entity)}_"
        if not table.name.startswith(prefix):
            continue
        relation = table.name[len(prefix) :]
        columns = naming.junction_columns(source_entity, target_entity, relation)
        if (
            columns == (source.columns[-1], target.columns[-1])
            and primary[0].columns[-2:] == columns
        ):
            return JunctionShape(
                table.name, source.referred_table or "", target.referred_table or "", relation
            )
    return None


def is_generated_timestamp(column: LiveColumn, nullable: bool) -> bool:
    return (
        column.type.name == "timestamptz"
        and column.nullable == nullable
        and (column.default == "now()" if not nullable else column.default is None)
    )


def has_timestamps(table: LiveTable) -> bool:
    """created_at and updated_at as generated, with the trigger that moves updated_at."""
    names = {column.name: column for column in table.columns}
    created, updated = names.get("created_at"), names.get("updated_at")
    return (
        created is not None
        and updated is not None
        and is_generated_timestamp(created, False)
        and is_generated_timestamp(updated, False)
        and any(trigger.function == TRIGGER_FUNCTION for trigger in table.triggers)
    )


def has_soft_delete(table: LiveTable) -> bool:
    column = next((c for c in table.columns if c.name == "deleted_at"), None)
    return column is not None and is_generated_timestamp(column, True)


def role_shape(db: LiveDatabase) -> dict[str, str]:
    """``{"reader": name, "writer": name, "admin": name}`` for the roles the grants show."""
    privileges: dict[str, set[str]] = {}
    for table in db.tables:
        for role, privilege in table.grants:
            privileges.setdefault(role, set()).add(privilege)
    found: dict[str, str] = {}
    for role in sorted(privileges):
        held = privileges[role]
        if role in db.bypass_rls_roles and "INSERT" in held:
            found.setdefault("admin", role)
        elif held == {"SELECT"}:
            found.setdefault("reader", role)
        elif "INSERT" in held:
            found.setdefault("writer", role)
    return found


def is_foreign_key_to_id(fk: LiveConstraint, tenant_column: str | None) -> bool:
    if fk.referred_columns == ("id",) and len(fk.columns) == 1:
        return True
    return (
        tenant_column is not None
        and len(fk.columns) == 2
        and fk.columns[0] == tenant_column
        and fk.referred_columns == (tenant_column, "id")
    )
