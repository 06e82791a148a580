"""The raw SQL of renames, of a role moving to a new name, and of a tenant column filled
from the parent rows. Identifiers are quoted, literals too; callers emit the text with
``repr``."""

from __future__ import annotations

from entityforge import naming
from entityforge.catalog.sql import quote_literal
from entityforge.generators.sql import do_block
from entityforge.generators.table_schemas import (
    project_schemas,
    quote_table,
    quote_type,
    table_schema,
)
from entityforge.migrate.operations.renames import RenameRole
from entityforge.migrate.operations.tenancy import ColumnFill
from entityforge.naming import quote_identifier


def rename_constraint(table: str, old: str, new: str) -> str:
    return (
        f"ALTER TABLE {quote_table(table)} "
        f"RENAME CONSTRAINT {quote_identifier(old)} TO {quote_identifier(new)}"
    )


def rename_index(table: str, old: str, new: str) -> str:
    """Rename an index of ``table``, in its table's schema."""
    index = naming.quote_qualified(naming.qualified_name(table_schema(table), old))
    return f"ALTER INDEX {index} RENAME TO {quote_identifier(new)}"


def rename_enum(old: str, new: str) -> str:
    return f"ALTER TYPE {quote_type(old)} RENAME TO {quote_identifier(new)}"


def rename_trigger(table: str, old: str, new: str) -> str:
    return (
        f"ALTER TRIGGER {quote_identifier(old)} ON {quote_table(table)} "
        f"RENAME TO {quote_identifier(new)}"
    )


def _role_exists(name: str) -> str:
    return f"EXISTS (SELECT FROM pg_roles WHERE rolname = {quote_literal(name)})"


def _used_elsewhere(name: str) -> str:
    """Whether anything in another database depends on the role."""
    return (
        "EXISTS (SELECT FROM pg_shdepend WHERE refclassid = 'pg_authid'::regclass "
        f"AND refobjid = (SELECT oid FROM pg_roles WHERE rolname = {quote_literal(name)}) "
        "AND dbid <> (SELECT oid FROM pg_database WHERE datname = current_database()))"
    )


def take_over_role(operation: RenameRole) -> str:
    """Rename the old role when it exists, the new one does not and no other database
    uses the old one; otherwise create the new role unless it exists."""
    old, new = quote_identifier(operation.old), quote_identifier(operation.new)
    attributes = "NOLOGIN BYPASSRLS" if operation.bypass_rls else "NOLOGIN"
    return do_block(
        f"IF {_role_exists(operation.old)} AND NOT {_role_exists(operation.new)}",
        f"        AND NOT {_used_elsewhere(operation.old)} THEN",
        f"    ALTER ROLE {old} RENAME TO {new};",
        f"ELSIF NOT {_role_exists(operation.new)} THEN",
        "    BEGIN",
        f"        CREATE ROLE {new} {attributes};",
        "    EXCEPTION WHEN duplicate_object OR unique_violation THEN",
        "        NULL;",
        "    END;",
        "END IF;",
    )


def release_role(operation: RenameRole) -> str:
    """If the old role is still there: revoke what it held here, and drop it once
    nothing depends on it any more."""
    old, literal = quote_identifier(operation.old), quote_literal(operation.old)
    revokes = [
        f"    REVOKE {', '.join(privileges)} ON {quote_table(table)} FROM {old};"
        for table, privileges in operation.grants
    ]
    return do_block(
        f"IF {_role_exists(operation.old)} THEN",
        *revokes,
        f"    REVOKE USAGE ON SCHEMA public FROM {old};",
        *(
            f"    REVOKE USAGE ON SCHEMA {quote_identifier(schema)} FROM {old};"
            for schema in project_schemas()
        ),
        "    IF NOT EXISTS (",
        "        SELECT FROM pg_shdepend",
        "        WHERE refclassid = 'pg_authid'::regclass",
        f"          AND refobjid = (SELECT oid FROM pg_roles WHERE rolname = {literal})",
        "    ) THEN",
        f"        DROP ROLE {old};",
        "    END IF;",
        "END IF;",
    )


def fill_column(table: str, column: str, fill: ColumnFill) -> tuple[str, ...]:
    """Copy each row's value from the parent row its reference points at."""
    quoted_table, parent = quote_table(table), quote_table(fill.parent_table)
    update = (
        f"UPDATE {quoted_table} AS child SET {quote_identifier(column)} = "
        f"parent.{quote_identifier(fill.parent_column)}\n"
        f"FROM {parent} AS parent WHERE parent.{quote_identifier(fill.parent_key)} = "
        f"child.{quote_identifier(fill.reference)}"
    )
    statements = [update]
    if fill.parent_forces_rls:
        statements = [
            f"ALTER TABLE {parent} NO FORCE ROW LEVEL SECURITY",
            *statements,
            f"ALTER TABLE {parent} FORCE ROW LEVEL SECURITY",
        ]
    if fill.pauses_updated_at:
        trigger = quote_identifier(naming.trigger_name(table))
        statements = [
            f"ALTER TABLE {quoted_table} DISABLE TRIGGER {trigger}",
            *statements,
            f"ALTER TABLE {quoted_table} ENABLE TRIGGER {trigger}",
        ]
    return tuple(statements)


def replace_primary_key(table: str, columns: tuple[str, ...]) -> tuple[str, ...]:
    quoted, key = quote_table(table), quote_identifier(naming.primary_key_name(table))
    listing = ", ".join(quote_identifier(column) for column in columns)
    return (
        f"ALTER TABLE {quoted} DROP CONSTRAINT {key}",
        f"ALTER TABLE {quoted} ADD CONSTRAINT {key} PRIMARY KEY ({listing})",
    )
