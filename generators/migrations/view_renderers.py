"""Views: ``CREATE VIEW`` / ``CREATE MATERIALIZED VIEW`` with their grants, and drops.

``migrations.renderers`` registers every function of ``RENDERERS`` on its dispatcher.
The query is the parser's own text of what the spec stage checked. A plain view runs
with ``security_invoker`` (PostgreSQL 15), so the row-level security of the tables it
reads applies to whoever reads it; the revision stops on an older server rather than
create a view that would read as its owner. A materialized view, which row-level
security cannot reach, is owned by the admin (who bypasses it, so a refresh reads every
tenant's rows, and who alone may refresh it) and granted to nobody else: when it is
tenant-scoped the reader and writer read it through a ``security_barrier`` view that
keeps the rows of the setting's tenant, read as the tenant policies read it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from entityforge.catalog.sql import quote_literal
from entityforge.catalog.views import storage_name, unique_index_name
from entityforge.generators.migrations.code import execute
from entityforge.generators.python_source import Code
from entityforge.generators.sql import do_block, tenant_condition
from entityforge.migrate.operations.views import CreateView, DropView
from entityforge.naming import quote_identifier
from entityforge.schema import View

SECURITY_INVOKER_VERSION = 150000


def create_view_sql(operation: CreateView) -> tuple[str, ...]:
    view, roles = operation.view, operation.roles
    name = quote_identifier(view.relation)
    readers = f"{quote_identifier(roles.reader)}, {quote_identifier(roles.writer)}"
    if not view.materialized:
        return (
            _server_check(view),
            f"CREATE VIEW {name} WITH (security_invoker = true) AS\n{view.query}",
            *_comment("VIEW", view.relation, view.comment),
            f"GRANT SELECT ON {name} TO {readers}, {quote_identifier(roles.admin)}",
        )
    storage = storage_name(view)
    statements = [
        f"CREATE MATERIALIZED VIEW {quote_identifier(storage)} AS\n{view.query}\nWITH NO DATA",
        f"ALTER MATERIALIZED VIEW {quote_identifier(storage)} "
        f"OWNER TO {quote_identifier(roles.admin)}",
    ]
    index = unique_index_name(view)
    if index is not None:
        columns = ", ".join(quote_identifier(column) for column in view.unique)
        statements.append(
            f"CREATE UNIQUE INDEX {quote_identifier(index)} "
            f"ON {quote_identifier(storage)} ({columns})"
        )
    statements.append(f"REFRESH MATERIALIZED VIEW {quote_identifier(storage)}")
    tenancy = operation.tenancy
    if storage == view.relation or tenancy is None:
        statements += _comment("MATERIALIZED VIEW", storage, view.comment)
    else:
        columns = ", ".join(quote_identifier(column.name) for column in view.columns)
        statements += [
            f"CREATE VIEW {name} WITH (security_barrier = true) AS\n"
            f"SELECT {columns} FROM {quote_identifier(storage)}\n"
            f"WHERE {tenant_condition(tenancy.column, tenancy.setting)}",
            f"ALTER VIEW {name} OWNER TO {quote_identifier(roles.admin)}",
            *_comment("VIEW", view.relation, view.comment),
        ]
    statements.append(f"GRANT SELECT ON {name} TO {readers}")
    return tuple(statements)


def drop_view_sql(operation: DropView) -> tuple[str, ...]:
    view = operation.view
    if not view.materialized:
        return (f"DROP VIEW {quote_identifier(view.relation)}",)
    storage = storage_name(view)
    statements = (
        [] if storage == view.relation else [f"DROP VIEW {quote_identifier(view.relation)}"]
    )
    return (*statements, f"DROP MATERIALIZED VIEW {quote_identifier(storage)}")


def _server_check(view: View) -> str:
    message = (
        f"view {view.relation} runs with security_invoker, which needs PostgreSQL 15 "
        "or later: upgrade the server"
    )
    return do_block(
        f"IF current_setting('server_version_num')::int < {SECURITY_INVOKER_VERSION} THEN",
        f"    RAISE EXCEPTION {quote_literal(message)};",
        "END IF;",
    )


def _comment(kind: str, relation: str, comment: str | None) -> tuple[str, ...]:
    if comment is None:
        return ()
    return (f"COMMENT ON {kind} {quote_identifier(relation)} IS {quote_literal(comment)}",)


def render_create_view(operation: CreateView) -> Code:
    return execute(*create_view_sql(operation))


def render_drop_view(operation: DropView) -> Code:
    return execute(*drop_view_sql(operation))


RENDERERS: tuple[Callable[[Any], Code], ...] = (render_create_view, render_drop_view)
