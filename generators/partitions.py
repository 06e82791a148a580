"""Partitioned tables in the generated project: ``<package>/partitions.py``, the
maintenance entry point that makes range partitions ahead of time, and
``tests/test_partitions.py``, which checks where rows land, that a query on one interval
or one tenant reads one partition, that the writer reaches partitions only through their
table, and that the maintenance is idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass

from entityforge import naming
from entityforge.catalog import Table
from entityforge.generators import GenerationContext
from entityforge.generators.migrations.partition_renderers import (
    DEFAULT_SUFFIX,
    maintenance_function,
)
from entityforge.generators.templating import render
from entityforge.naming import quote_identifier

# The most days an interval spans: a day far enough ahead lies beyond every partition.
_INTERVAL_DAYS = {"day": 1, "week": 7, "month": 31, "year": 366}


@dataclass(frozen=True)
class PartitionedTable:
    """What the maintenance module and the generated tests need of one partitioned table."""

    name: str
    model: str
    table: str
    by: str
    column: str
    attribute: str
    interval: str
    premake: int
    date: bool
    prefix: str
    default: str
    beyond: int
    function: str
    isolated: bool


def partitioned_tables(ctx: GenerationContext) -> tuple[PartitionedTable, ...]:
    return tuple(
        _case(table)
        for table in sorted(ctx.catalog.tables, key=lambda table: table.name)
        if table.partition is not None and table.entity is not None
    )


def _case(table: Table) -> PartitionedTable:
    partition = table.partition
    assert partition is not None and table.entity is not None
    prefix = naming.partition_prefix(table.name)
    interval = partition.interval or ""
    return PartitionedTable(
        name=naming.snake_case(table.entity),
        model=table.entity,
        table=quote_identifier(table.name),
        by=partition.by,
        column=quote_identifier(partition.column),
        attribute=naming.attribute_name(partition.column),
        interval=interval,
        premake=partition.premake,
        date=table.column(partition.column).type.name == "date",
        prefix=f"{prefix}_p",
        default=prefix + DEFAULT_SUFFIX,
        beyond=_INTERVAL_DAYS.get(interval, 0) * (partition.premake + 2),
        function=maintenance_function(table.name),
        isolated=table.tenant_scoped,
    )


def maintenance_module(ctx: GenerationContext) -> dict[str, str]:
    """``<package>/partitions.py`` when some table is partitioned by range."""
    tables = [case for case in partitioned_tables(ctx) if case.by == "range"]
    if not tables:
        return {}
    text = render("partitions/partitions.py.jinja", package=ctx.package, tables=tables)
    return {f"{ctx.package}/partitions.py": text}


def partition_tests(ctx: GenerationContext) -> dict[str, str]:
    """``tests/test_partitions.py`` when some table is partitioned."""
    cases = partitioned_tables(ctx)
    if not cases:
        return {}
    text = render(
        "partitions/test_partitions.py.jinja",
        package=ctx.package,
        cases=cases,
        models=sorted({case.model for case in cases}),
        ranged=any(case.by == "range" for case in cases),
        tenancy=any(case.isolated for case in cases),
    )
    return {"tests/test_partitions.py": text}
