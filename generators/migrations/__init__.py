"""Alembic scaffolding and the next revision: the difference from the recorded schema.

The project's revisions are read as text, never imported (``entityforge.migrate.history``). With
one head, the schema it leads to is the starting point; if the spec's catalog differs
from it, one new revision holds the operations between the two and its downgrade their
inversion. With several heads (two branches that each generated a revision, merged in
git), the new revision is a merge revision (Alembic's: a tuple of parents) whose
upgrade takes the database from the branches' changes merged together to the spec.
A revision that would destroy data, or could not run on tables with rows, is refused
before anything is written (``migrations.safety``).

The schema the first revision creates is written to its snapshot
(``app/alembic/schema/<revision>.json``, one entry a line, written once); every later
revision records what it changes in each parent's schema, a few readable entries, so the
schema any revision leads to is the snapshot with the changes on the way applied.
Revision ids are digests of the revision's content, so two branches cannot give two
different revisions one id, and generating again from the same history writes the same
file.

Steps that cannot run in a transaction block run in Alembic's autocommit blocks; the
constraints a revision adds ``NOT VALID`` are validated in the last one, after the
revision's transaction has committed, so that the scan holds no lock that blocks writes.
"""

from __future__ import annotations

import hashlib
import re

from entityforge.catalog import Catalog, Table
from entityforge.generators import GenerationContext
from entityforge.generators.migrations import parts as revision_parts
from entityforge.generators.migrations.code import (
    STEPS,
    STEPS_IMPORT,
    Snippet,
    indent,
    join,
    statements_in_block,
)
from entityforge.generators.migrations.live import (
    live_steps,
    preflight_checks,
    resumable,
    with_rewrite_guards,
)
from entityforge.generators.migrations.messages import describe, slug
from entityforge.generators.migrations.renderers import render_operation, render_validation
from entityforge.generators.migrations.safety import check_revision
from entityforge.generators.templating import render
from entityforge.migrate.breaking import NOTICE, breaking_changes
from entityforge.migrate.diff import compare_catalogs
from entityforge.migrate.history import Graph, Start, project_history, project_start
from entityforge.migrate.operations import Operation, invert
from entityforge.migrate.renames import strip_renames
from entityforge.migrate.snapshot import (
    Change,
    change_between,
    entries,
    snapshot_text,
)

INITIAL_MESSAGE = "initial"
REVISION_ID_LENGTH = 12
SNAPSHOT_DIR = "schema"


def generate(ctx: GenerationContext) -> dict[str, str]:
    package = ctx.package
    files = {
        "alembic.ini": render("migrations/alembic.ini.jinja", package=package),
        f"{package}/alembic/env.py": render("migrations/env.py.jinja", package=package),
        f"{package}/alembic/script.py.mako": render("migrations/script.py.mako.jinja"),
        f"{package}/migration_steps.py": render("migrations/migration_steps.py.jinja"),
    }
    graph = project_history(ctx.revisions, ctx.snapshots)
    files.update(
        (snapshot_path(package, revision), text)
        for name, text in ctx.snapshots
        if (revision := name.removesuffix(".json")) in graph.snapshots
    )
    start = project_start(ctx.revisions, ctx.snapshots)
    operations = compare_catalogs(start.state, ctx.catalog)
    if not operations and len(start.parents) <= 1:
        return files
    check_revision(
        operations, allow_destructive=ctx.allow_destructive, allow_rewrite=ctx.allow_rewrite
    )
    message = ctx.message or _message(graph, start, operations, ctx.catalog)
    state = strip_renames(ctx.catalog)
    parts = revision_parts.split(operations)
    parents = start.parents
    changes = {
        parent: change_between(parent_state, state)
        for parent, parent_state in zip(parents, start.parent_states, strict=True)
    }
    for index, part in enumerate(parts):
        name, text, revision = render_revision(
            part,
            parents=parents,
            message=message if len(parts) == 1 else f"{message}, part {index + 1} of {len(parts)}",
            changes=changes if index == 0 else {},
            number=f"{graph.next_number + index:04d}",
            commits=(index > 0, index < len(parts) - 1),
            package=package,
        )
        files[f"{package}/alembic/versions/{name}"] = text
        if not parents:
            files[snapshot_path(package, revision)] = snapshot_text(revision, entries(state))
        parents = (revision,)
    return files


def snapshot_path(package: str, revision: str) -> str:
    return f"{package}/alembic/{SNAPSHOT_DIR}/{revision}.json"


def _message(
    graph: Graph, start: Start, operations: tuple[Operation, ...], catalog: Catalog
) -> str:
    if start.state is None:
        return INITIAL_MESSAGE
    tenancy = catalog.tenancy
    described = describe(operations, tenancy.column if tenancy else None)
    if len(start.parents) == 1:
        return described
    branches = [re.sub(r"^\d+_", "", graph.files[head].name[:-3]) for head in start.parents]
    merged = f"merge {' and '.join(branches)}"
    return f"{merged}; {described}" if operations else merged


def render_revision(
    operations: tuple[Operation, ...],
    *,
    parents: tuple[str, ...],
    message: str,
    changes: dict[str, Change],
    number: str,
    commits: tuple[bool, bool] = (False, False),
    package: str = "app",
) -> tuple[str, str, str]:
    """``(file name, text, revision id)`` of a revision module: ``operations`` as its
    upgrade, their inversion as its downgrade, ``changes`` as its recorded changes;
    ``commits`` says whether the upgrade and the downgrade first commit what the
    revisions before them did (``migrations.parts``)."""
    upgrade = _body(operations, "upgrade")
    downgrade = _body(invert(operations), "downgrade")
    if commits[0]:
        upgrade = join([revision_parts.COMMIT, Snippet(""), upgrade])
    if commits[1]:
        downgrade = join([revision_parts.COMMIT, Snippet(""), downgrade])
    revision = _revision_id(parents, message, upgrade.text, downgrade.text, changes)
    text = render(
        "migrations/revision.py.jinja",
        message=_docstring_line(message),
        revision=revision,
        parents=parents,
        imports=_import_lines(
            frozenset(
                line.format(package=package) if line == STEPS_IMPORT else line
                for line in upgrade.imports | downgrade.imports
            )
        ),
        breaking=[_docstring_line(line) for line in breaking_changes(operations)],
        notice=NOTICE,
        upgrade=indent(upgrade.text),
        downgrade=indent(downgrade.text),
        changes=changes,
    )
    return f"{number}_{slug(message)}.py", text, revision


def _revision_id(parents: tuple[str, ...], *parts: object) -> str:
    """A digest of what the revision holds: the same revision gets the same id, two
    different ones (two branches' revisions on one parent) different ids."""
    hasher = hashlib.sha256()
    for part in (*parents, *map(repr, parts)):
        hasher.update(part.encode())
        hasher.update(b"\0")
    return hasher.hexdigest()[:REVISION_ID_LENGTH]


def _docstring_line(message: str) -> str:
    """The message on one line, safe inside a triple-quoted docstring."""
    line = " ".join(message.split()).replace("\\", "\\\\")
    return line.replace('"""', '\\"\\"\\"')


def _body(operations: tuple[Operation, ...], direction: str) -> Snippet:
    """The rendered operations: runs of steps that cannot run in a transaction block in
    autocommit blocks, the validations of ``NOT VALID`` constraints in the last one.

    A transactional run that an autocommit block follows commits before the revision
    does; it records that it ran, so that a rerun after an interruption skips it."""
    if not operations:
        return Snippet("pass")
    operations = live_steps(operations)
    runs: list[tuple[bool, list[Operation]]] = []
    for operation in operations:
        outside = operation.outside_transaction
        if runs and runs[-1][0] == outside:
            runs[-1][1].append(operation)
        else:
            runs.append((outside, [operation]))
    validations = [v for v in map(render_validation, operations) if v is not None]
    # Runs before the last autocommit block are indented: autocommit blocks, and
    # transactional runs inside the check that they have not already run.
    last = (
        len(runs)
        if validations and not runs[-1][0]
        else max((position for position, (outside, _) in enumerate(runs) if outside), default=-1)
    )
    blocks = [
        (outside, _statements(run, nested=outside or position < last))
        for position, (outside, run) in enumerate(runs)
    ]
    if validations:
        checked = join(validations)
        if blocks[-1][0]:
            blocks[-1] = (True, join([blocks[-1][1], Snippet(""), checked]))
        else:
            blocks.append((True, checked))
    return resumable(blocks, direction, preflight_checks(operations))


def _statements(operations: list[Operation], *, nested: bool) -> Snippet:
    """The rendered operations, a blank line between groups about different things;
    ``nested`` when they stand in a block of the upgrade rather than in its body."""
    snippets: list[Snippet] = []
    previous: str | None = None
    with statements_in_block(nested):
        for operation in operations:
            subject = _subject(operation)
            if previous is not None and subject != previous:
                snippets.append(Snippet(""))
            snippets.append(with_rewrite_guards(operation, render_operation(operation)))
            previous = subject
    return join(snippets)


def _subject(operation: Operation) -> str:
    """The table an operation is about, or its kind for schema-wide operations."""
    table = getattr(operation, "table", None)
    if isinstance(table, Table):
        return table.name
    if isinstance(table, str):
        return table
    return type(operation).__name__


def _import_lines(imports: frozenset[str]) -> list[str]:
    """``import x`` lines first, then ``from x import y``, each sorted (isort's order)."""
    first_party = [line for line in imports if line.endswith(f" import {STEPS}")]
    plain = sorted(line for line in imports if line.startswith("import "))
    from_imports = sorted(
        line for line in imports if line.startswith("from ") and line not in first_party
    )
    return plain + from_imports + (["", *first_party] if first_party else [])
