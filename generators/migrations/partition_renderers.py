"""Renderers of a partitioned table's partitions and maintenance function
(``entityforge.migrate.operations.partitions``).

``migrations.renderers`` registers every function of ``RENDERERS`` on its dispatcher.
Names are quoted identifiers, bounds are computed by PostgreSQL and passed through
``format('%L')``; nothing of the spec is pasted into SQL as text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from entityforge import naming
from entityforge.catalog import Catalog, Table
from entityforge.generators import sql
from entityforge.generators.migrations.code import execute
from entityforge.generators.python_source import Code
from entityforge.migrate.operations.partitions import (
    CreatePartitions,
    DropPartitions,
    ReplacePartitionMaintenance,
)
from entityforge.naming import quote_identifier
from entityforge.schema import PartitionSpec, Tenancy

DEFAULT_SUFFIX = "_default"
# Stands for the partition's name in statements the maintenance function formats.
PLACEHOLDER = "partition_name"


def qualified(name: str) -> str:
    return f"public.{quote_identifier(name)}"


def maintenance_function(table: str) -> str:
    return qualified(naming.partition_maintenance_function(table)) + "()"


def hash_partition_names(table: str, partition: PartitionSpec) -> tuple[str, ...]:
    prefix = naming.partition_prefix(table)
    return tuple(f"{prefix}_p{remainder}" for remainder in range(partition.partitions))


def partition_pattern(catalog: Catalog) -> str | None:
    """A regular expression that matches the name of every partition of the catalog's
    partitioned tables, and no other name the catalog holds."""
    tables = sorted(catalog.tables, key=lambda table: table.name)
    patterns = [pattern for table in tables if (pattern := table_partition_pattern(table))]
    return "|".join(patterns) or None


def table_partition_pattern(table: Table) -> str | None:
    """A regular expression matching the names of ``table``'s partitions."""
    if table.partition is None:
        return None
    suffix = r"p\d+" if table.partition.by == "hash" else rf"p\d{{8}}|{DEFAULT_SUFFIX[1:]}"
    return f"{re.escape(naming.partition_prefix(table.name))}_(?:{suffix})"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def isolated_partition(name: str, tenancy: Tenancy | None) -> tuple[str, ...]:
    """Row-level security of a partition of a tenant-scoped table: enabled, forced and
    the tenant policy, as on its table."""
    if tenancy is None:
        return ()
    return (
        *sql.enable_row_level_security(name),
        sql.create_tenant_policy(name, tenancy.column, tenancy.setting),
    )


def _formatted(statements: tuple[str, ...]) -> tuple[str, ...]:
    """Statements about ``PLACEHOLDER`` as ``format()`` strings of the partition's name."""
    return tuple(statement.replace(f" {PLACEHOLDER}", " public.%I") for statement in statements)


def _isolating(tenancy: Tenancy | None) -> str:
    """The statements of a PL/pgSQL loop giving the partition ``partition_name`` names
    its own row-level security (nothing without tenancy)."""
    return "".join(
        f"\n        EXECUTE format({_literal(statement)}, partition_name);"
        for statement in _formatted(isolated_partition(PLACEHOLDER, tenancy))
    )


def _to_bound(bound: str) -> str:
    """What turns a UTC ``timestamp`` into a bound of the partition column's type."""
    return "::date" if bound == "date" else " AT TIME ZONE 'UTC'"


def range_maintenance_sql(
    table: str,
    partition: PartitionSpec,
    bound: str,
    tenancy: Tenancy | None,
    stored: tuple[str, ...] = (),
) -> str:
    """The function making the current interval's partition and ``premake`` more ahead
    (in UTC), idempotently: a partition that exists is kept, and rows the default
    partition holds for a new one move into it. It returns how many it made."""
    assert partition.interval is not None
    parent = qualified(table)
    default = qualified(naming.partition_prefix(table) + DEFAULT_SUFFIX)
    column = quote_identifier(partition.column)
    step = f"interval '1 {partition.interval}'"
    to_bound = _to_bound(bound)
    prefix = _literal(naming.partition_prefix(table) + "_p")
    # Each EXECUTE's text is a format() string: doubled quotes inside the literal.
    between = f"{column} >= %L AND {column} < %L"
    # The new partition's own row-level security; the default partition's is lifted
    # while its rows are read and moved (the owner is bound by FORCE), in this
    # transaction only.
    isolate = _isolating(tenancy)
    lift, restore = "", ""
    if tenancy is not None:
        lift = f"\n        ALTER TABLE {default} NO FORCE ROW LEVEL SECURITY;"
        restore = f"\n        ALTER TABLE {default} FORCE ROW LEVEL SECURITY;"
    # The moved rows' generated columns are the database's to compute again.
    kept = ", ".join(quote_identifier(name) for name in stored)
    moved = f"WITH moved AS (DELETE FROM {default} WHERE {between} RETURNING *) " + (
        f"INSERT INTO public.%I ({kept}) SELECT {kept} FROM moved"
        if stored
        else "INSERT INTO public.%I SELECT * FROM moved"
    )
    return f"""CREATE OR REPLACE FUNCTION {maintenance_function(table)} RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    first_start timestamp := date_trunc('{partition.interval}', now() AT TIME ZONE 'UTC');
    lower_bound {bound};
    upper_bound {bound};
    partition_name text;
    made integer := 0;
BEGIN
    PERFORM pg_advisory_xact_lock(to_regclass('{parent}')::oid::bigint);
    FOR step IN 0..{partition.premake} LOOP
        lower_bound := (first_start + step * {step}){to_bound};
        upper_bound := (first_start + (step + 1) * {step}){to_bound};
        partition_name := {prefix} || to_char(first_start + step * {step}, 'YYYYMMDD');
        CONTINUE WHEN to_regclass(format('public.%I', partition_name)) IS NOT NULL;{lift}
        IF EXISTS (
            SELECT FROM {default} WHERE {column} >= lower_bound AND {column} < upper_bound
        ) THEN
            EXECUTE format(
                'CREATE TABLE public.%I (LIKE {parent} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
                partition_name
            );
            EXECUTE format({_literal(moved)}, lower_bound, upper_bound, partition_name);
            EXECUTE format(
                'ALTER TABLE {parent} ATTACH PARTITION public.%I FOR VALUES FROM (%L) TO (%L)',
                partition_name, lower_bound, upper_bound
            );
        ELSE
            EXECUTE format(
                'CREATE TABLE public.%I PARTITION OF {parent} FOR VALUES FROM (%L) TO (%L)',
                partition_name, lower_bound, upper_bound
            );
        END IF;{restore}{isolate}
        made := made + 1;
    END LOOP;
    RETURN made;
END
$fn$"""


def create_partitions(operation: CreatePartitions) -> tuple[str, ...]:
    table, partition = operation.table, operation.partition
    parent = qualified(table)
    tenancy = operation.tenancy
    if partition.by == "hash":
        return tuple(
            statement
            for remainder, name in enumerate(hash_partition_names(table, partition))
            for statement in (
                f"CREATE TABLE {qualified(name)} PARTITION OF {parent} "
                f"FOR VALUES WITH (MODULUS {partition.partitions}, REMAINDER {remainder})",
                *isolated_partition(name, tenancy),
            )
        )
    function = maintenance_function(table)
    default_name = naming.partition_prefix(table) + DEFAULT_SUFFIX
    return (
        f"CREATE TABLE {qualified(default_name)} PARTITION OF {parent} DEFAULT",
        *isolated_partition(default_name, tenancy),
        range_maintenance_sql(table, partition, operation.bound, tenancy, operation.stored),
        f"REVOKE ALL ON FUNCTION {function} FROM PUBLIC",
        f"GRANT EXECUTE ON FUNCTION {function} TO {quote_identifier(operation.roles.admin)}",
        f"SELECT {function}",
    )


def render_replace_maintenance(operation: ReplacePartitionMaintenance) -> Code:
    new = operation.new
    function = range_maintenance_sql(new.table, new.partition, new.bound, new.tenancy, new.stored)
    return execute(function, f"SELECT {maintenance_function(new.table)}")


def render_create_partitions(operation: CreatePartitions) -> Code:
    return execute(*create_partitions(operation))


def render_drop_partitions(operation: DropPartitions) -> Code:
    table, partition = operation.table, operation.partition
    if partition.by == "hash":
        names = ", ".join(qualified(name) for name in hash_partition_names(table, partition))
        return execute(f"DROP TABLE IF EXISTS {names}")
    return execute(f"DROP FUNCTION IF EXISTS {maintenance_function(table)}")


def spanned_partitions_sql(
    table: str, rows: str, partition: PartitionSpec, bound: str, tenancy: Tenancy | None
) -> str:
    """A block making a partition of ``table`` for each interval the rows of the table
    ``rows`` span, so that the rows a rebuild moves land in their own partitions rather
    than in the default one (a partition that exists is kept)."""
    assert partition.interval is not None
    parent = qualified(table)
    column = quote_identifier(partition.column)
    step = f"interval '1 {partition.interval}'"
    moment = f"{column}::timestamp" if bound == "date" else f"{column} AT TIME ZONE 'UTC'"
    to_bound = _to_bound(bound)
    prefix = _literal(naming.partition_prefix(table) + "_p")
    isolate = _isolating(tenancy)
    return f"""DO $block$
DECLARE
    start timestamp;
    partition_name text;
BEGIN
    FOR start IN
        SELECT DISTINCT date_trunc('{partition.interval}', {moment}) FROM {qualified(rows)}
    LOOP
        partition_name := {prefix} || to_char(start, 'YYYYMMDD');
        CONTINUE WHEN to_regclass(format('public.%I', partition_name)) IS NOT NULL;
        EXECUTE format(
            'CREATE TABLE public.%I PARTITION OF {parent} FOR VALUES FROM (%L) TO (%L)',
            partition_name, (start){to_bound}, (start + {step}){to_bound}
        );{isolate}
    END LOOP;
END
$block$"""


RENDERERS: tuple[Callable[[Any], Code], ...] = (
    render_create_partitions,
    render_drop_partitions,
    render_replace_maintenance,
)
