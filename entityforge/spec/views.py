"""The ``views`` key: read-only views over the spec's tables, checked and typed.

A view reads tables by their names and the views declared above it (so the spec's order
is an order in which they can be created). One that reads a tenant-isolated table is
tenant-scoped and must select the tenant column: a materialized view, which cannot carry
row-level security, is read through a view filtering on it. Its ``key`` (the model's
primary key) is ``unique`` or the ``id`` it selects, the tenant column first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from entityforge import naming
from entityforge.catalog import Catalog
from entityforge.parse_tree import qualify_tables
from entityforge.schema import Schema, View, ViewColumn
from entityforge.spec.document import DocPath
from entityforge.spec.entities import check_comment
from entityforge.spec.issues import Issues, Problem, did_you_mean
from entityforge.spec.names import check_entity_name
from entityforge.spec.raw import RawView
from entityforge.spec.sql import SqlExpressionError
from entityforge.spec.view_query import Relation, parse_view_query


def build_views(
    issues: Issues, raw: Mapping[str, RawView], schema: Schema, catalog: Catalog
) -> tuple[View, ...]:
    """The views ``raw`` declares, each checked against the tables and earlier views."""
    tenancy = schema.tenancy
    relations: dict[str, Relation] = {
        table.name: Relation(
            {c.name: ViewColumn(c.name, c.type, c.nullable) for c in table.columns},
            tenant_scoped=tenancy is not None and table.has_tenant_policy,
            read_policies=any(
                policy.command in ("select", "all") and set(policy.roles) - {"admin"}
                for policy in table.policies
            ),
            schema=table.schema,
        )
        for table in catalog.tables
    }
    schemas = {table.name: table.schema for table in catalog.tables if table.schema}
    views: list[View] = []
    for name, raw_view in raw.items():
        view = _view(issues, ("views", name), name, raw_view, relations, schema)
        if view is None:
            continue
        # Named qualified where they live outside public: no search_path decides.
        view = replace(view, query=qualify_tables(view.query, schemas, query=True))
        views.append(view)
        read = [relations[source.relation] for source in view.sources]
        relations[view.relation] = Relation(
            {c.name: c for c in view.columns},
            view.tenant_scoped,
            view.materialized,
            read_policies=not view.materialized and any(r.read_policies for r in read),
        )
    return tuple(views)


def _view(
    issues: Issues,
    path: DocPath,
    name: str,
    raw: RawView,
    relations: Mapping[str, Relation],
    schema: Schema,
) -> View | None:
    if not check_entity_name(issues, path, name, "view"):
        return None
    try:
        relation = _free_relation(name, relations, schema)
        try:
            query = parse_view_query(raw.query, relations)
        except SqlExpressionError as error:
            raise Problem(f"view '{name}': {error.message}", error.hint, ("query",)) from None
        read = [relations[source.relation] for source in query.sources]
        columns = {column.name: column for column in query.columns}
        lead = _tenant_lead(name, raw, read, columns, schema)
        unique = _unique(raw, columns, lead)
        key = _key(lead, unique, columns, query.grouped)
        if not key:
            raise Problem(
                f"view '{name}' has no key: it neither selects id, nor says unique, nor "
                "groups by output columns only",
                "add 'unique: [<column>, ...]' naming the output columns that identify a row",
                on_key=True,
            )
    except Problem as problem:
        issues.add(problem, path)
        return None
    return View(
        name=name,
        relation=relation,
        query=query.text,
        columns=query.columns,
        sources=query.sources,
        key=key,
        materialized=raw.materialized,
        unique=(*lead, *unique) if unique else (),
        tenant_scoped=bool(lead),
        comment=check_comment(issues, path, raw.comment),
    )


def _free_relation(name: str, relations: Mapping[str, Relation], schema: Schema) -> str:
    """The view's relation, unless it or its materialized rows would take a taken name."""
    relation = naming.table_name(name)
    taken = {*relations, *(naming.materialized_view_name(r) for r in relations)}
    names = (relation, naming.materialized_view_name(relation))
    if any(n in taken for n in names) or name in {e.name for e in schema.entities}:
        raise Problem(
            f"view '{name}' (relation {relation}) has the name of a table or another view",
            "choose another name for the view",
            on_key=True,
        )
    return relation


def _tenant_lead(
    name: str,
    raw: RawView,
    read: list[Relation],
    columns: Mapping[str, ViewColumn],
    schema: Schema,
) -> tuple[str, ...]:
    """``(tenant column,)`` for a view reading tenant-isolated rows, else ``()``; a
    materialized view may read no rows its refresh would see otherwise than its readers."""
    if raw.materialized and any(source.read_policies for source in read):
        raise Problem(
            f"materialized view '{name}' reads a table whose row-level policies restrict "
            "what the reader or writer may select",
            "make it a plain view (materialized: false): its readers' policies then apply "
            "to it; a materialized view is refreshed by the admin, past them",
            ("query",),
        )
    tenancy = schema.tenancy
    if tenancy is None or not any(source.tenant_scoped for source in read):
        return ()
    tenant = columns.get(tenancy.column)
    if tenant is None or tenant.type.name != "uuid":
        raise Problem(
            f"view '{name}' reads tenant-scoped rows but does not select the tenant "
            f"column '{tenancy.column}'",
            f'select it, e.g. "SELECT {tenancy.column}, ..." (and GROUP BY it), so that '
            "each tenant sees its own rows only",
            ("query",),
        )
    if raw.materialized and any(source.materialized for source in read):
        raise Problem(
            f"materialized view '{name}' reads a tenant-scoped materialized view",
            "read the tables it reads instead: a materialized view refreshes with no "
            "tenant set, and would read no rows through the tenant filter",
            ("query",),
        )
    return (tenancy.column,)


def _key(
    lead: tuple[str, ...],
    unique: tuple[str, ...],
    columns: Mapping[str, ViewColumn],
    grouped: tuple[str, ...],
) -> tuple[str, ...]:
    """What identifies a row of the view: the tenant column, then the ``unique`` columns,
    else ``id``, else the output columns the query groups by (empty if none of these)."""
    if unique:
        return (*lead, *unique)
    if "id" in columns:
        return (*lead, "id")
    if grouped:
        return (*lead, *(column for column in grouped if column not in lead))
    return ()


def _unique(
    raw: RawView, columns: Mapping[str, ViewColumn], lead: tuple[str, ...]
) -> tuple[str, ...]:
    """The ``unique`` columns as given (the tenant column left to the generator)."""
    given = tuple(raw.unique or ())
    for position, column in enumerate(given):
        where = ("unique", position)
        if column in lead:
            raise Problem(
                f"'{column}' is the tenant column, which leads the view's key by itself",
                "leave it out of 'unique'",
                where,
            )
        if column not in columns:
            raise Problem(
                f"'{column}' is no output column of the view",
                did_you_mean(column, columns) or "name columns the query selects",
                where,
            )
        if given.count(column) > 1:
            raise Problem(f"'{column}' is named twice", "name each column once", where)
    return given
