"""Alembic scaffolding and the next revision's files, from its plan.

``entityforge.migrate.plan`` decides the revision: its parents (one head, or several
heads to merge, as two branches that each generated a revision leave after a git
merge), its operations, their refusal when they would destroy data or could not run on
tables with rows, and its message. This module turns the plan into Alembic revision
modules: the operations as the upgrade, their inversion as the downgrade.

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
import textwrap

from entityforge import naming
from entityforge.catalog import Table
from entityforge.generators import GenerationContext
from entityforge.generators.migrations import parts as revision_parts
from entityforge.generators.migrations.code import (
    STEPS,
    STEPS_IMPORT,
    join,
    python_data,
    statements_in_block,
)
from entityforge.generators.migrations.live import (
    live_steps,
    preflight_checks,
    resumable,
    with_rewrite_guards,
)
from entityforge.generators.migrations.partition_renderers import partition_pattern
from entityforge.generators.migrations.renderers import render_operation, render_validation
from entityforge.generators.python_source import LINE_LENGTH, Code, Import, indent, render_imports
from entityforge.generators.table_schemas import (
    IN_PUBLIC,
    Placement,
    schemas_of,
    tables_in_schemas,
)
from entityforge.generators.templating import render
from entityforge.migrate.breaking import NOTICE, breaking_changes
from entityforge.migrate.expand import kept_columns
from entityforge.migrate.history import project_history
from entityforge.migrate.messages import slug
from entityforge.migrate.operations import Operation, invert
from entityforge.migrate.plan import RevisionPlan, plan_revision
from entityforge.migrate.snapshot import (
    Change,
    entries,
    snapshot_text,
)

REVISION_ID_LENGTH = 12
SNAPSHOT_DIR = "schema"


def generate(ctx: GenerationContext) -> dict[str, str]:
    """The Alembic scaffolding, the snapshots the history keeps, and the files of the next
    revision as ``plan_revision`` plans it."""
    package = ctx.package
    plan = plan_revision(
        ctx.catalog,
        ctx.revisions,
        ctx.snapshots,
        message=ctx.message,
        allow_destructive=ctx.allow_destructive,
        allow_rewrite=ctx.allow_rewrite,
        expand=ctx.expand,
        contract=ctx.contract,
    )
    kept = kept_columns(plan.state if plan is not None else ctx.recorded)
    files = {
        "alembic.ini": render("migrations/alembic.ini.jinja", package=package),
        f"{package}/alembic/env.py": render(
            "migrations/env.py.jinja",
            package=package,
            kept=kept,
            schemas=[repr(name) for name in ctx.catalog.schemas],
            expressions=any(
                column.expression
                for table in ctx.catalog.tables
                for index in table.indexes
                for column in index.columns
            ),
            audit_triggers=sorted(
                (table.name, trigger)
                for table in ctx.catalog.tables
                if table.audit
                for trigger in table.audit.triggers
            ),
            partitions=partition_pattern(ctx.catalog),
        ),
        f"{package}/alembic/script.py.mako": render("migrations/script.py.mako.jinja"),
        f"{package}/migration_steps.py": render(
            "migrations/migration_steps.py.jinja",
            copying_setting=naming.COPYING_SETTING,
            schemas=bool(ctx.catalog.schemas),
            partitions=any(table.partition for table in ctx.catalog.tables),
        ),
    }
    known = project_history(ctx.revisions, ctx.snapshots).snapshots
    files.update(
        (snapshot_path(package, revision), text)
        for name, text in ctx.snapshots
        if (revision := name.removesuffix(".json")) in known
    )
    if plan is not None:
        files.update(plan_files(plan, package))
    return files


def plan_files(plan: RevisionPlan, package: str) -> dict[str, str]:
    """The revision files of ``plan`` (and the first revision's snapshot)."""
    files = {}
    parents = plan.parents
    for index, part in enumerate(plan.parts):
        name, text, revision = render_revision(
            part.operations,
            parents=parents,
            message=part.message,
            changes=dict(plan.changes) if index == 0 else {},
            number=f"{part.number:04d}",
            commits=(part.commits_first, part.commits_last),
            package=package,
            schemas=schemas_of(plan.state, part.operations),
        )
        files[f"{package}/alembic/versions/{name}"] = text
        if plan.initial and index == 0:
            files[snapshot_path(package, revision)] = snapshot_text(revision, entries(plan.state))
        parents = (revision,)
    return files


def snapshot_path(package: str, revision: str) -> str:
    return f"{package}/alembic/{SNAPSHOT_DIR}/{revision}.json"


def render_revision(
    operations: tuple[Operation, ...],
    *,
    parents: tuple[str, ...],
    message: str,
    changes: dict[str, Change],
    number: str,
    commits: tuple[bool, bool] = (False, False),
    package: str = "app",
    schemas: Placement | None = None,
) -> tuple[str, str, str]:
    """``(file name, text, revision id)`` of a revision module: ``operations`` as its
    upgrade, their inversion as its downgrade, ``changes`` as its recorded changes;
    ``commits`` says whether the upgrade and the downgrade first commit what the
    revisions before them did (``entityforge.migrate.plan``); ``schemas`` where the tables
    outside ``public`` live (``table_schemas.schemas_of``)."""
    with tables_in_schemas(schemas or IN_PUBLIC):
        upgrade = _body(operations, "upgrade")
        downgrade = _body(invert(operations), "downgrade")
    if commits[0]:
        upgrade = join([revision_parts.COMMIT, Code(""), upgrade])
    if commits[1]:
        downgrade = join([revision_parts.COMMIT, Code(""), downgrade])
    revision = _revision_id(parents, message, upgrade.text, downgrade.text, changes)
    text = render(
        "migrations/revision.py.jinja",
        message=_docstring_line(message),
        revision=revision,
        parents=parents,
        imports=render_imports(
            (
                Import(package, STEPS) if item == STEPS_IMPORT else item
                for item in upgrade.imports | downgrade.imports
            ),
            first_party=package,
        ).splitlines(),
        breaking=[_listed(_docstring_line(line)) for line in breaking_changes(operations)],
        notice=NOTICE,
        upgrade=indent(upgrade.text),
        downgrade=indent(downgrade.text),
        changes=python_data(changes) if changes else None,
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


def _listed(line: str) -> str:
    """``- line``, wrapped to the line length under its dash (long names and all)."""
    return textwrap.fill(
        line,
        width=LINE_LENGTH,
        initial_indent="- ",
        subsequent_indent="  ",
        break_long_words=False,
    )


def _docstring_line(message: str) -> str:
    """The message on one line, safe inside a triple-quoted docstring."""
    line = " ".join(message.split()).replace("\\", "\\\\")
    return line.replace('"""', '\\"\\"\\"')


def _body(operations: tuple[Operation, ...], direction: str) -> Code:
    """The rendered operations: runs of steps that cannot run in a transaction block in
    autocommit blocks, the validations of ``NOT VALID`` constraints in the last one.

    A transactional run that an autocommit block follows commits before the revision
    does; it records that it ran, so that a rerun after an interruption skips it."""
    if not operations:
        return Code("pass")
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
            blocks[-1] = (True, join([blocks[-1][1], Code(""), checked]))
        else:
            blocks.append((True, checked))
    return resumable(blocks, direction, preflight_checks(operations))


def _statements(operations: list[Operation], *, nested: bool) -> Code:
    """The rendered operations, a blank line between groups about different things;
    ``nested`` when they stand in a block of the upgrade rather than in its body."""
    snippets: list[Code] = []
    previous: str | None = None
    with statements_in_block(nested):
        for operation in operations:
            subject = _subject(operation)
            if previous is not None and subject != previous:
                snippets.append(Code(""))
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
