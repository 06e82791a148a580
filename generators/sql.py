"""The raw SQL statements revisions execute: roles, enum types, triggers, RLS, grants.

Identifiers go through ``naming.quote_identifier`` and string literals through
``quote_literal``; callers emit the resulting text into Python with ``repr``.
"""

from __future__ import annotations

import re

from entityforge import naming
from entityforge.catalog import EnumType
from entityforge.catalog.sql import default_expression, quote_literal, sql_type
from entityforge.generators.table_schemas import quote_table, quote_type, table_schema, type_schema
from entityforge.migrate.operations import AlterEnum
from entityforge.migrate.operations.enums import ChangeEnumStorage
from entityforge.naming import quote_identifier

# ``:name`` inside ``text()`` is a bind parameter; SQLAlchemy's own pattern, escaped with ``\``.
_BIND_PARAMETER = re.compile(r"(?<![:\w\\]):(\w+)(?![:\w])")
# ``text()`` turns ``\:name`` (and ``\:``) into ``:name``; another ``\`` keeps the one written.
_ESCAPED_COLON = re.compile(r"\\(:\w*)(?![:\w])")


def create_extension(name: str) -> str:
    return f"CREATE EXTENSION IF NOT EXISTS {quote_identifier(name)}"


def drop_extension(name: str) -> str:
    return f"DROP EXTENSION IF EXISTS {quote_identifier(name)}"


def create_role(name: str, bypass_rls: bool) -> str:
    """Create a NOLOGIN role unless it exists (another database may have made it)."""
    attributes = "NOLOGIN BYPASSRLS" if bypass_rls else "NOLOGIN"
    return do_block(
        f"IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {quote_literal(name)}) THEN",
        "    BEGIN",
        f"        CREATE ROLE {quote_identifier(name)} {attributes};",
        "    EXCEPTION WHEN duplicate_object OR unique_violation THEN",
        "        NULL;",
        "    END;",
        "END IF;",
    )


def grant_schema_usage(role: str) -> str:
    return f"GRANT USAGE ON SCHEMA public TO {quote_identifier(role)}"


def drop_role(name: str) -> str:
    """Revoke the schema USAGE, then drop the role when nothing depends on it any more:
    no object it owns and no privilege it holds, in this database or any other."""
    literal = quote_literal(name)
    return do_block(
        f"IF EXISTS (SELECT FROM pg_roles WHERE rolname = {literal}) THEN",
        f"    REVOKE USAGE ON SCHEMA public FROM {quote_identifier(name)};",
        "    IF NOT EXISTS (",
        "        SELECT FROM pg_shdepend",
        "        WHERE refclassid = 'pg_authid'::regclass",
        f"          AND refobjid = (SELECT oid FROM pg_roles WHERE rolname = {literal})",
        "    ) THEN",
        f"        DROP ROLE {quote_identifier(name)};",
        "    END IF;",
        "END IF;",
    )


def do_block(*lines: str) -> str:
    body = "\n".join(f"    {line}" for line in lines)
    if "$$" in body:
        raise ValueError("a DO block body cannot contain $$")
    return f"DO $$\nBEGIN\n{body}\nEND\n$$"


def create_enum(enum: EnumType) -> str:
    labels = ", ".join(quote_literal(value) for value in enum.values)
    return f"CREATE TYPE {naming.quote_qualified(enum.qualified_name)} AS ENUM ({labels})"


def drop_enum(name: str) -> str:
    """``name``: the type's ``naming.qualified_name``."""
    return f"DROP TYPE {naming.quote_qualified(name)}"


def add_enum_values(
    name: str, old_values: tuple[str, ...], new_values: tuple[str, ...]
) -> tuple[str, ...]:
    """``ADD VALUE`` for each new label, placed where ``new_values`` puts it."""
    present = list(old_values)
    statements = []
    for position, value in enumerate(new_values):
        if value in present:
            continue
        if position == 0:
            place = f" BEFORE {quote_literal(present[0])}" if present else ""
        else:
            place = f" AFTER {quote_literal(new_values[position - 1])}"
        statements.append(
            f"ALTER TYPE {quote_type(name)} ADD VALUE IF NOT EXISTS "
            f"{quote_literal(value)}{place}"
        )
        present.append(value)
    return tuple(statements)


def alter_enum(operation: AlterEnum) -> tuple[str, ...]:
    """Replace the labels: rename the old type, create the new one, convert every column
    through text (dropping and restoring defaults, which hold the old type), drop the old."""
    name = quote_type(operation.name)
    replaced = naming.replaced_enum_name(operation.name)
    old_name = quote_type(replaced, type_schema(operation.name))
    statements = [
        f"{_alter_column(use.table, use.before.name)} DROP DEFAULT"
        for use in operation.uses
        if default_expression(use.before) is not None or default_expression(use.after) is not None
    ]
    statements.append(f"ALTER TYPE {name} RENAME TO {quote_identifier(replaced)}")
    statements.append(
        create_enum(EnumType(operation.name, operation.new_values, type_schema(operation.name)))
    )
    for use in operation.uses:
        column = quote_identifier(use.after.name)
        statements.append(
            f"{_alter_column(use.table, use.after.name)} TYPE {name} USING {column}::text::{name}"
        )
        default = default_expression(use.after)
        if default is not None:
            statements.append(f"{_alter_column(use.table, use.after.name)} SET DEFAULT {default}")
    statements.append(f"DROP TYPE {old_name}")
    return tuple(statements)


def change_enum_storage(operation: ChangeEnumStorage) -> tuple[str, ...]:
    """Convert a column between an enum type and ``varchar`` through text, its default
    dropped first (it holds the old type) and set again."""
    alter = _alter_column(operation.table, operation.after.name)
    column = quote_identifier(operation.after.name)
    target = sql_type(operation.after.type)
    statements = []
    if default_expression(operation.before) is not None:
        statements.append(f"{alter} DROP DEFAULT")
    statements.append(f"{alter} TYPE {target} USING {column}::text::{target}")
    default = default_expression(operation.after)
    if default is not None:
        statements.append(f"{alter} SET DEFAULT {default}")
    return tuple(statements)


# RFC 9562's version 7 from a random version 4 UUID: the first 48 bits become the Unix
# time in milliseconds, and setting bits 52 and 53 turns version 4 (0100) into 7 (0111).
UUIDV7_BODY = (
    "SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) placing "
    "substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) "
    "FROM 3) FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid"
)


def uuidv7_function(name: str) -> str:
    """``CREATE FUNCTION name()``: a version 7 UUID, as PostgreSQL 18's ``uuidv7()``."""
    return (
        f"CREATE FUNCTION {name}() RETURNS uuid LANGUAGE sql VOLATILE PARALLEL SAFE\n"
        f"AS $fn${UUIDV7_BODY}$fn$"
    )


def create_uuidv7_function() -> str:
    """``public.uuidv7()`` on a server older than PostgreSQL 18, which has it built in."""
    create = uuidv7_function("public.uuidv7").replace("\n", "\n    ")
    return do_block(
        "IF current_setting('server_version_num')::int < 180000",
        "   AND to_regprocedure('public.uuidv7()') IS NULL THEN",
        f"    {create};",
        "END IF;",
    )


def drop_uuidv7_function() -> str:
    return "DROP FUNCTION IF EXISTS public.uuidv7()"


def _alter_column(table: str, column: str) -> str:
    return f"ALTER TABLE {quote_table(table)} ALTER COLUMN {quote_identifier(column)}"


def create_updated_at_function() -> str:
    return (
        f"CREATE FUNCTION {quote_identifier(naming.UPDATED_AT_FUNCTION)}() RETURNS trigger\n"
        "LANGUAGE plpgsql AS $$\n"
        "BEGIN\n"
        "    NEW.updated_at := clock_timestamp();\n"
        "    RETURN NEW;\n"
        "END\n"
        "$$"
    )


def drop_updated_at_function() -> str:
    return f"DROP FUNCTION {quote_identifier(naming.UPDATED_AT_FUNCTION)}()"


def create_updated_at_trigger(table: str) -> str:
    """The trigger of a table outside ``public`` names the function where it lives."""
    trigger = quote_identifier(naming.trigger_name(table))
    function = quote_identifier(naming.UPDATED_AT_FUNCTION)
    if table_schema(table):
        function = f"{naming.DEFAULT_SCHEMA}.{function}"
    return (
        f"CREATE TRIGGER {trigger} BEFORE UPDATE ON {quote_table(table)}\n"
        f"FOR EACH ROW EXECUTE FUNCTION {function}()"
    )


def drop_updated_at_trigger(table: str) -> str:
    return f"DROP TRIGGER {quote_identifier(naming.trigger_name(table))} ON {quote_table(table)}"


def enable_row_level_security(table: str) -> tuple[str, ...]:
    return (
        f"ALTER TABLE {quote_table(table)} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {quote_table(table)} FORCE ROW LEVEL SECURITY",
    )


def disable_row_level_security(table: str) -> tuple[str, ...]:
    return (
        f"ALTER TABLE {quote_table(table)} NO FORCE ROW LEVEL SECURITY",
        f"ALTER TABLE {quote_table(table)} DISABLE ROW LEVEL SECURITY",
    )


def tenant_condition(column: str, setting: str) -> str:
    """The policy's test, reading the setting once per statement (an InitPlan)."""
    return (
        f"{quote_identifier(column)} = "
        f"(SELECT NULLIF(current_setting({quote_literal(setting)}, true), '')::uuid)"
    )


def create_tenant_policy(table: str, column: str, setting: str) -> str:
    condition = tenant_condition(column, setting)
    policy = quote_identifier(naming.TENANT_POLICY)
    return (
        f"CREATE POLICY {policy} ON {quote_table(table)} FOR ALL\n"
        f"USING ({condition})\n"
        f"WITH CHECK ({condition})"
    )


def drop_tenant_policy(table: str) -> str:
    return f"DROP POLICY {quote_identifier(naming.TENANT_POLICY)} ON {quote_table(table)}"


def grant_privileges(table: str, role: str, privileges: tuple[str, ...]) -> str:
    return f"GRANT {', '.join(privileges)} ON {quote_table(table)} TO {quote_identifier(role)}"


def revoke_privileges(table: str, role: str, privileges: tuple[str, ...]) -> str:
    on_table = quote_table(table)
    return f"REVOKE {', '.join(privileges)} ON {on_table} FROM {quote_identifier(role)}"


def validate_constraint(table: str, name: str) -> str:
    return f"ALTER TABLE {quote_table(table)} VALIDATE CONSTRAINT {quote_identifier(name)}"


def _constraint_exists(table: str, name: str) -> str:
    return (
        "EXISTS (SELECT FROM pg_constraint WHERE conname = "
        f"{quote_literal(name)} AND conrelid = {quote_literal(quote_table(table))}::regclass)"
    )


def unique_using_index(table: str, name: str) -> str:
    """Attach a unique index built concurrently as the table's unique constraint, unless
    an earlier, interrupted run did."""
    quoted = quote_identifier(name)
    return do_block(
        f"IF NOT {_constraint_exists(table, name)} THEN",
        f"    ALTER TABLE {quote_table(table)} "
        f"ADD CONSTRAINT {quoted} UNIQUE USING INDEX {quoted};",
        "END IF;",
    )


def validate_if_present(table: str, name: str) -> str:
    """Validate a constraint unless a rerun finds it gone (a temporary one)."""
    return do_block(
        f"IF {_constraint_exists(table, name)} THEN",
        f"    {validate_constraint(table, name)};",
        "END IF;",
    )


def drop_constraint_if_exists(table: str, name: str) -> str:
    return f"ALTER TABLE {quote_table(table)} DROP CONSTRAINT IF EXISTS {quote_identifier(name)}"


def escape_text(sql: str) -> str:
    """SQL for ``text()``: colons that would read as bind parameters are escaped, and
    backslashes before colons doubled, so ``text()`` gives back exactly ``sql``."""
    kept = _ESCAPED_COLON.sub(lambda match: "\\" + match.group(0), sql)
    return _BIND_PARAMETER.sub(lambda match: "\\" + match.group(0), kept)


def create_schema(name: str) -> str:
    return f"CREATE SCHEMA IF NOT EXISTS {quote_identifier(name)}"


def drop_schema(name: str) -> str:
    """Drop the schema when nothing is left in it and the role running the revision owns
    it: one made by hand, or still holding objects the project does not own, stays."""
    literal = quote_literal(name)
    return do_block(
        "IF EXISTS (",
        f"    SELECT FROM pg_namespace WHERE nspname = {literal}",
        "      AND nspowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)",
        ") THEN",
        "    BEGIN",
        f"        DROP SCHEMA {quote_identifier(name)};",
        "    EXCEPTION WHEN dependent_objects_still_exist THEN",
        "        NULL;",
        "    END;",
        "END IF;",
    )


def grant_usage_on_schema(schema: str, roles: tuple[str, ...]) -> str:
    return f"GRANT USAGE ON SCHEMA {quote_identifier(schema)} TO {_role_list(roles)}"


def revoke_usage_on_schema(schema: str, roles: tuple[str, ...]) -> str:
    return f"REVOKE USAGE ON SCHEMA {quote_identifier(schema)} FROM {_role_list(roles)}"


def move_table(table: str, old: str | None, new: str | None) -> str:
    """``ALTER TABLE ... SET SCHEMA``: the table, its indexes, constraints and sequences
    move; its rows stay where they are."""
    source = naming.quote_qualified(naming.qualified_name(old, table))
    return f"ALTER TABLE {source} SET SCHEMA {quote_identifier(new or naming.DEFAULT_SCHEMA)}"


def move_enum(name: str, old: str | None, new: str | None) -> str:
    source = naming.quote_qualified(naming.qualified_name(old, name))
    return f"ALTER TYPE {source} SET SCHEMA {quote_identifier(new or naming.DEFAULT_SCHEMA)}"


def _role_list(roles: tuple[str, ...]) -> str:
    return ", ".join(map(quote_identifier, roles))
