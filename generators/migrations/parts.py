"""What a part of a revision cut into parts (``entityforge.migrate.plan``) starts with."""

from __future__ import annotations

from entityforge.generators.migrations.code import OP
from entityforge.generators.python_source import Code

COMMIT = Code(
    "# Commit the revisions before this one: a transaction creating every table of a\n"
    "# large schema needs more locks than the server's lock table holds.\n"
    "with op.get_context().autocommit_block():\n"
    "    pass",
    frozenset({OP}),
)
