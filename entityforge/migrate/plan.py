"""The next revision, planned: what it changes, from which parents, under what name.

``plan_revision`` decides everything about the revision ``entityforge generate`` writes:
the schema the project's revisions lead to (``history``), the operations from there to
the spec's catalog (``diff``), the refusal of changes that would lose data or stall a
busy table (``safety``), the message that names it (``messages``) and what it records.
The migrations generator only turns a plan into files.

A revision creating more than ``TABLES_PER_PART`` tables is cut into parts. Every lock a
transaction takes is held until it commits, and a server's lock table has room for
``max_locks_per_transaction`` (64 by default, as managed services keep it) times its
connections: one transaction creating a thousand tables with their indexes, keys,
policies and triggers needs more (``out of shared memory``). Each part after the first
commits what came before it, so each part is one transaction with its Alembic version:
interrupted, the upgrade resumes at the part that did not commit. The first part records
the whole change; the parts after it record none.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from entityforge.catalog import Catalog
from entityforge.migrate.diff import compare_catalogs
from entityforge.migrate.expand import two_step_message, two_step_renames
from entityforge.migrate.history import Graph, Start, project_history, project_start
from entityforge.migrate.messages import describe
from entityforge.migrate.operations import CreateTable, Operation
from entityforge.migrate.renames import strip_renames
from entityforge.migrate.safety import check_revision
from entityforge.migrate.snapshot import Change, change_between

INITIAL_MESSAGE = "initial"
# A table with its indexes, keys, policy, trigger and grants takes about a dozen locks;
# a hundred tables stay well inside a default server's 6,400 (64 × 100 connections).
TABLES_PER_PART = 100


@dataclass(frozen=True)
class RevisionPart:
    """One revision file of a plan: its operations, message and number."""

    operations: tuple[Operation, ...]
    message: str
    number: int
    commits_first: bool
    """Whether its upgrade first commits the parts before it (its downgrade, the parts
    after it: ``commits_last``)."""
    commits_last: bool


@dataclass(frozen=True)
class RevisionPlan:
    """The next revision: ``parents`` (none for the first revision, several for a merge
    revision), its ``parts`` in order, the schema it leads to (``state``, renames left
    out) and what it changes in each parent's schema (``changes``, recorded by the
    first part)."""

    parents: tuple[str, ...]
    parts: tuple[RevisionPart, ...]
    state: Catalog
    changes: Mapping[str, Change]

    @property
    def initial(self) -> bool:
        return not self.parents


def plan_revision(
    catalog: Catalog,
    revisions: tuple[tuple[str, str], ...],
    snapshots: tuple[tuple[str, str], ...] = (),
    *,
    message: str | None = None,
    allow_destructive: bool = False,
    allow_rewrite: bool = False,
    expand: bool = False,
    contract: bool = False,
) -> RevisionPlan | None:
    """The revision from the project's history to ``catalog``; None when there is
    nothing to write (no change, and no heads to merge). A refused change raises
    ``GenerationError`` listing every refusal. ``expand`` makes the spec's column renames
    two-step renames, ``contract`` ends those the history holds (``migrate.expand``)."""
    graph = project_history(revisions, snapshots)
    start = project_start(revisions, snapshots)
    steps = two_step_renames(start.state, catalog, expand=expand, contract=contract)
    operations = (*steps.prefix, *compare_catalogs(steps.base, steps.target))
    if not operations and len(start.parents) <= 1:
        return None
    check_revision(
        [operation for operation in operations if not steps.allowed(operation)],
        allow_destructive=allow_destructive,
        allow_rewrite=allow_rewrite,
    )
    named = message or _message(graph, start, operations, catalog)
    state = strip_renames(steps.target)
    changes = {
        parent: change_between(parent_state, state)
        for parent, parent_state in zip(start.parents, start.parent_states, strict=True)
    }
    pieces = split(operations)
    parts = tuple(
        RevisionPart(
            piece,
            named if len(pieces) == 1 else f"{named}, part {index + 1} of {len(pieces)}",
            graph.next_number + index,
            commits_first=index > 0,
            commits_last=index < len(pieces) - 1,
        )
        for index, piece in enumerate(pieces)
    )
    return RevisionPlan(start.parents, parts, state, changes)


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


def _message(
    graph: Graph, start: Start, operations: tuple[Operation, ...], catalog: Catalog
) -> str:
    if start.state is None:
        return INITIAL_MESSAGE
    tenancy = catalog.tenancy
    described = two_step_message(operations) or describe(
        operations, tenancy.column if tenancy else None
    )
    if len(start.parents) == 1:
        return described
    branches = [re.sub(r"^\d+_", "", graph.files[head].name[:-3]) for head in start.parents]
    merged = f"merge {' and '.join(branches)}"
    return f"{merged}; {described}" if operations else merged
