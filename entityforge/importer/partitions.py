"""Reading a partitioned table back as the entity's ``partition``.

Range partitioning is the spec's when the table has the maintenance function a revision
makes (its interval and ``premake`` are read from its source); hash partitioning when it
hashes the tenant column. Partitions themselves, and the copies PostgreSQL keeps of a
foreign key to each partition, are left out of the database as read.
"""

from __future__ import annotations

import re
from typing import Any

from entityforge.importer.live import LiveTable

_KEY = re.compile(r"(RANGE|HASH) \((\w+)\)")
_INTERVAL = re.compile(r"date_trunc\('(day|week|month|year)'")
_PREMAKE = re.compile(r"FOR step IN 0\.\.(\d+) LOOP")


def read_partition(table: LiveTable, tenant_column: str | None) -> dict[str, Any] | str | None:
    """The ``partition`` of ``table``; a string saying why the spec cannot say it; or
    None for a table that is not partitioned."""
    if table.partition_key is None:
        return None
    found = _KEY.fullmatch(table.partition_key)
    if found is None:
        return f"it is partitioned by {table.partition_key}"
    by, column = found[1].lower(), found[2]
    if by == "hash":
        if column != tenant_column:
            return f"it is partitioned by hash of {column}, not of the tenant column"
        return {"by": "hash", "column": column, "partitions": table.partitions}
    source = table.maintenance or ""
    interval, premake = _INTERVAL.search(source), _PREMAKE.search(source)
    if interval is None or premake is None:
        return f"it is partitioned by range of {column} without the spec's maintenance function"
    return {"by": "range", "column": column, "interval": interval[1], "premake": int(premake[1])}


def range_column(partition: Any) -> str | None:
    """The column a range partitioning adds to the primary key."""
    if isinstance(partition, dict) and partition.get("by") == "range":
        return str(partition["column"])
    return None
