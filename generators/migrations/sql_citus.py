"""The SQL that distributes tables over a Citus cluster, run only where Citus is installed.

Each statement is a ``DO`` block that looks for the ``citus`` extension when the
revision runs and does nothing without it. PL/pgSQL plans a statement when it first
runs it, so the Citus functions and catalogs are named only in branches that run with
Citus present. A table already distributed (a revision run again) is left as it is.
"""

from __future__ import annotations

from entityforge.catalog.sql import quote_literal
from entityforge.generators.sql import do_block
from entityforge.generators.table_schemas import quote_table

_CITUS_PRESENT = "IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN"


def _relation(table: str) -> str:
    return quote_literal(quote_table(table))


def _distributed(table: str) -> str:
    return (
        "EXISTS (SELECT 1 FROM pg_dist_partition "
        f"WHERE logicalrelid = {_relation(table)}::regclass)"
    )


def distribute_table(table: str, column: str | None, colocate_with: str | None) -> str:
    """``create_distributed_table`` (by ``column``) or ``create_reference_table``."""
    if column is None:
        call = f"PERFORM create_reference_table({_relation(table)});"
    else:
        colocation = f", colocate_with => {_relation(colocate_with)}" if colocate_with else ""
        call = (
            f"PERFORM create_distributed_table({_relation(table)}, "
            f"{quote_literal(column)}{colocation});"
        )
    return do_block(
        _CITUS_PRESENT,
        f"    IF NOT {_distributed(table)} THEN",
        f"        {call}",
        "    END IF;",
        "END IF;",
    )


def undistribute_table(table: str) -> str:
    """``undistribute_table``: the table back to a plain local table, with its rows."""
    return do_block(
        _CITUS_PRESENT,
        f"    IF {_distributed(table)} THEN",
        f"        PERFORM undistribute_table({_relation(table)}, "
        "cascade_via_foreign_keys => true);",
        "    END IF;",
        "END IF;",
    )
