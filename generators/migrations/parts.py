"""A revision that creates many tables, cut into parts that each commit.

Every lock a transaction takes is held until it commits, and a server's lock table has
room for ``max_locks_per_transaction`` (64 by default, as managed services keep it)
times its connections. One transaction creating a thousand tables with their indexes,
keys, policies and triggers needs more than that: ``out of shared memory``. So a
revision creating more than ``TABLES_PER_PART`` tables becomes several revisions, one
after the other, each creating at most that many; each part after the first commits
what came before it (an empty autocommit block) before it starts, so each part is one
transaction with its Alembic version: interrupted, the upgrade resumes at the part that
did not commit.

The first part records the whole change (the first revision's snapshot holds the whole
schema); the parts after it record none, as the schema entityforge diffs against is the
one after the last part.
"""

from __future__ import annotations

from entityforge.generators.migrations.code import OP, Snippet
from entityforge.migrate.operations import CreateTable, Operation

# A table with its indexes, keys, policy, trigger and grants takes about a dozen locks;
# a hundred tables stay well inside a default server's 6,400 (64 × 100 connections).
TABLES_PER_PART = 100
COMMIT = Snippet(
    "# Commit the revisions before this one: a transaction creating every table of a\n"
    "# large schema needs more locks than the server's lock table holds.\n"
    "with op.get_context().autocommit_block():\n"
    "    pass",
    frozenset({OP}),
)


def split(operations: tuple[Operation, ...]) -> list[tuple[Operation, ...]]:
    """The operations cut before every ``TABLES_PER_PART + 1``-th table they create;
    one part (all of them) when they create fewer."""
    parts: list[list[Operation]] = [[]]
    tables = 0
    for operation in operations:
        if isinstance(operation, CreateTable):
            if tables == TABLES_PER_PART:
                parts.append([])
                tables = 0
            tables += 1
        parts[-1].append(operation)
    return [tuple(part) for part in parts]
