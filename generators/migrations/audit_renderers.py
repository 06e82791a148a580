"""Renderers of the history triggers of audited tables (``entityforge.migrate.operations.audit``).

One ``INSERT ... SELECT`` per statement writes the statement's rows: the new row on
insert, the old row on delete (both without the id and tenant column, which have their
own columns), and on update the new values of the compared columns that changed, each
compared by the generated code itself (no per-row walk over a jsonb object); a row
whose compared columns all kept their values records nothing. ``docs/benchmarks.md``
measures the cost of each choice. ``migrations.renderers`` registers ``RENDERERS``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from entityforge import naming
from entityforge.catalog import HISTORY_OPERATIONS
from entityforge.catalog.sql import quote_literal
from entityforge.generators.migrations.code import execute
from entityforge.generators.python_source import Code
from entityforge.migrate.operations.audit import (
    AuditTrigger,
    CreateAuditTrigger,
    DropAuditTrigger,
)
from entityforge.naming import quote_identifier

USER_SETTING = "app.user_id"
_TRANSITIONS = {
    "insert": "REFERENCING NEW TABLE AS new_rows",
    "update": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "delete": "REFERENCING OLD TABLE AS old_rows",
}


def _function(trigger: AuditTrigger) -> str:
    return f"public.{quote_identifier(trigger.audit.function)}()"


def _table(trigger: AuditTrigger, name: str) -> str:
    """The audited table or its history, qualified (they live in one schema)."""
    return naming.quote_qualified(naming.qualified_name(trigger.schema or "public", name))


def _row_values(trigger: AuditTrigger, alias: str) -> str:
    """The row as jsonb, without the columns the history keeps apart."""
    audit = trigger.audit
    kept_apart = ["id", *([audit.tenant] if audit.tenant else []), *audit.unrecorded]
    return f"pg_catalog.to_jsonb({alias})" + "".join(
        f" - {quote_literal(name)}" for name in kept_apart
    )


def _insert(trigger: AuditTrigger, operation: str, values: str, source: str) -> str:
    """``INSERT INTO <history> ... SELECT`` from ``source`` (aliased ``n`` or ``o``)."""
    audit, alias = trigger.audit, "o" if operation == "delete" else "n"
    tenant = [quote_identifier(audit.tenant)] if audit.tenant else []
    columns = ", ".join([*tenant, "row_id", "operation", "actor", "changes"])
    selected = ", ".join(
        [*(f"{alias}.{c}" for c in tenant), f"{alias}.id", f"'{operation}'", "acting_user"]
    )
    return (
        f"    INSERT INTO {_table(trigger, audit.history)} ({columns})\n"
        f"    SELECT {selected},\n      {values}\n    FROM {source}"
    )


def _update(trigger: AuditTrigger) -> str:
    audit = trigger.audit
    if not audit.compared:
        return "    NULL;"
    columns = [quote_identifier(name) for name in audit.compared]
    changed = "\n      || ".join(
        f"CASE WHEN n.{c} IS DISTINCT FROM o.{c} THEN pg_catalog.jsonb_build_object("
        f"{quote_literal(name)}, n.{c}) ELSE '{{}}'::jsonb END"
        for name, c in zip(audit.compared, columns, strict=True)
    )
    keys = ([quote_identifier(audit.tenant)] if audit.tenant else []) + ["id"]
    join = " AND ".join(f"o.{key} = n.{key}" for key in keys)
    new = ", ".join(f"n.{c}" for c in columns)
    old = ", ".join(f"o.{c}" for c in columns)
    source = f"new_rows n JOIN old_rows o ON {join}\n    WHERE ({new}) IS DISTINCT FROM ({old})"
    return _insert(trigger, "update", changed, source) + ";"


def create_audit_trigger(trigger: AuditTrigger) -> tuple[str, ...]:
    """The function, its owner and privileges, and its three triggers."""
    audit = trigger.audit
    setting = quote_literal(USER_SETTING)
    copying = quote_literal(naming.COPYING_SETTING)
    body = (
        "DECLARE\n"
        f"  acting_user text := NULLIF(pg_catalog.current_setting({setting}, true), '');\n"
        "BEGIN\n"
        # A two-step rename's copy of one column into another changes no value.
        f"  IF TG_OP = 'UPDATE' AND pg_catalog.current_setting({copying}, true) = 'on' THEN\n"
        "    RETURN NULL;\n"
        "  END IF;\n"
        "  IF TG_OP = 'INSERT' THEN\n"
        f"{_insert(trigger, 'insert', _row_values(trigger, 'n'), 'new_rows n')};\n"
        "  ELSIF TG_OP = 'UPDATE' THEN\n"
        f"{_update(trigger)}\n"
        "  ELSE\n"
        f"{_insert(trigger, 'delete', _row_values(trigger, 'o'), 'old_rows o')};\n"
        "  END IF;\n"
        "  RETURN NULL;\n"
        "END\n"
    )
    function = _function(trigger)
    statements = [
        f"CREATE FUNCTION {function} RETURNS trigger\n"
        "LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp\n"
        f"AS $fn$\n{body}$fn$",
        f"ALTER FUNCTION {function} OWNER TO {quote_identifier(trigger.admin)}",
        f"REVOKE ALL ON FUNCTION {function} FROM PUBLIC",
    ]
    statements += [
        f"CREATE TRIGGER {quote_identifier(name)} AFTER {operation.upper()} ON "
        f"{_table(trigger, trigger.table)} {_TRANSITIONS[operation]} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {function}"
        for name, operation in zip(audit.triggers, HISTORY_OPERATIONS, strict=True)
    ]
    return tuple(statements)


def drop_audit_trigger(trigger: AuditTrigger) -> tuple[str, ...]:
    table = _table(trigger, trigger.table)
    return (
        *(
            f"DROP TRIGGER IF EXISTS {quote_identifier(t)} ON {table}"
            for t in trigger.audit.triggers
        ),
        f"DROP FUNCTION IF EXISTS {_function(trigger)}",
    )


def render_create_audit_trigger(operation: CreateAuditTrigger) -> Code:
    return execute(*create_audit_trigger(operation.trigger))


def render_drop_audit_trigger(operation: DropAuditTrigger) -> Code:
    return execute(*drop_audit_trigger(operation.trigger))


RENDERERS: tuple[Callable[[Any], Code], ...] = (
    render_create_audit_trigger,
    render_drop_audit_trigger,
)
