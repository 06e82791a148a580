"""Alembic scaffolding and the next revision: the difference from the recorded schema.

The project's revisions are read as text (never imported). The newest revision that
records a schema (see ``entityforge.state``) is the starting point; if the spec's
catalog differs from it, one new revision holds the operations between the two, its
downgrade their inversion, and the new catalog as its recorded state. A revision that
would destroy data, or could not run on tables with rows, is refused before anything is
written (``revision_safety``).

Steps that cannot run in a transaction block run in Alembic's autocommit blocks; the
constraints a revision adds ``NOT VALID`` are validated in the last one, after the
revision's transaction has committed, so that the scan holds no lock that blocks writes.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from entityforge.catalog import Catalog, Table
from entityforge.diff import compare_catalogs
from entityforge.errors import GenerationError
from entityforge.generators import GenerationContext
from entityforge.generators.revision_code import (
    OP,
    Snippet,
    indent,
    join,
    statements_in_block,
)
from entityforge.generators.revision_messages import describe, slug
from entityforge.generators.revision_renderers import render_operation, render_validation
from entityforge.generators.revision_safety import check_revision
from entityforge.generators.templating import render
from entityforge.operations import Operation, invert
from entityforge.renames import strip_renames
from entityforge.state import encode_state, read_state

INITIAL_MESSAGE = "initial"
AUTOCOMMIT = "with op.get_context().autocommit_block():"


@dataclass(frozen=True)
class RevisionFile:
    """What a revision file says about itself, read from its text."""

    name: str
    revision: str
    down_revision: str | None
    text: str

    def state(self) -> Catalog | None:
        """The schema the revision records (decoded only when asked: it can be large)."""
        try:
            return read_state(self.text)
        except GenerationError as error:
            raise GenerationError(
                f"revision {self.name}: {error.message}", hint=error.hint
            ) from None


@dataclass(frozen=True)
class History:
    """The head of the revision chain and the schema most recently recorded in it."""

    head: str | None
    state: Catalog | None
    next_revision: str


def generate(ctx: GenerationContext) -> dict[str, str]:
    package = ctx.package
    files = {
        "alembic.ini": render("migrations/alembic.ini.jinja", package=package),
        f"{package}/alembic/env.py": render("migrations/env.py.jinja", package=package),
        f"{package}/alembic/script.py.mako": render("migrations/script.py.mako.jinja"),
    }
    history = ctx.history
    operations = compare_catalogs(history.state, ctx.catalog)
    if operations:
        check_revision(operations, allow_destructive=ctx.allow_destructive)
        tenancy = ctx.catalog.tenancy
        message = ctx.message or (
            INITIAL_MESSAGE
            if history.state is None
            else describe(operations, tenancy.column if tenancy else None)
        )
        name = f"{history.next_revision}_{slug(message)}.py"
        files[f"{package}/alembic/versions/{name}"] = render_revision(
            operations,
            revision=history.next_revision,
            down_revision=history.head,
            message=message,
            state=strip_renames(ctx.catalog),
        )
    return files


def render_revision(
    operations: tuple[Operation, ...],
    *,
    revision: str,
    down_revision: str | None,
    message: str,
    state: Catalog,
) -> str:
    """A revision module: ``operations`` as its upgrade, their inversion as its downgrade."""
    upgrade = _body(operations)
    downgrade = _body(invert(operations))
    return render(
        "migrations/revision.py.jinja",
        message=_docstring_line(message),
        revision=revision,
        down_revision=down_revision,
        imports=_import_lines(upgrade.imports | downgrade.imports),
        upgrade=indent(upgrade.text),
        downgrade=indent(downgrade.text),
        state=encode_state(state),
    )


def _docstring_line(message: str) -> str:
    """The message on one line, safe inside a triple-quoted docstring."""
    line = " ".join(message.split()).replace("\\", "\\\\")
    return line.replace('"""', '\\"\\"\\"')


def _body(operations: tuple[Operation, ...]) -> Snippet:
    """The rendered operations: runs of steps that cannot run in a transaction block in
    autocommit blocks, the validations of ``NOT VALID`` constraints in the last one."""
    if not operations:
        return Snippet("pass")
    runs: list[tuple[bool, list[Operation]]] = []
    for operation in operations:
        outside = operation.outside_transaction
        if runs and runs[-1][0] == outside:
            runs[-1][1].append(operation)
        else:
            runs.append((outside, [operation]))
    blocks = [(outside, _statements(run, nested=outside)) for outside, run in runs]
    validations = [v for v in map(render_validation, operations) if v is not None]
    if validations:
        checked = join(validations)
        if blocks[-1][0]:
            blocks[-1] = (True, join([blocks[-1][1], Snippet(""), checked]))
        else:
            blocks.append((True, checked))
    return join(
        (_autocommit(snippet) if outside else snippet for outside, snippet in blocks),
        separator="\n\n",
    )


def _autocommit(snippet: Snippet) -> Snippet:
    return Snippet(f"{AUTOCOMMIT}\n{indent(snippet.text)}", snippet.imports | {OP})


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
            snippets.append(render_operation(operation))
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
    plain = sorted(line for line in imports if line.startswith("import "))
    from_imports = sorted(line for line in imports if line.startswith("from "))
    return plain + from_imports


def read_history(revisions: tuple[tuple[str, str], ...]) -> History:
    """Find the head and the newest recorded schema among ``(file name, text)`` pairs."""
    files = [_read_revision_file(name, text) for name, text in revisions]
    if not files:
        return History(head=None, state=None, next_revision=_revision_id(1))
    by_id = {file.revision: file for file in files}
    referred = {file.down_revision for file in files}
    heads = sorted(file.revision for file in files if file.revision not in referred)
    if len(heads) != 1:
        raise GenerationError(
            f"the revisions have {len(heads)} heads ({', '.join(heads)}), not one",
            hint="merge them (`alembic merge heads`) before generating the next revision",
        )
    state = _newest_state(by_id, heads[0])
    numbers = [int(file.revision) for file in files if file.revision.isdigit()]
    return History(heads[0], state, _revision_id(max(numbers, default=0) + 1))


def _newest_state(by_id: dict[str, RevisionFile], head: str) -> Catalog:
    current: str | None = head
    while current is not None and current in by_id:
        file = by_id[current]
        state = file.state()
        if state is not None:
            return state
        current = file.down_revision
    raise GenerationError(
        "no revision records the schema it leads to, so the next one cannot be computed",
        hint="keep the generated revisions (they end with ENTITYFORGE_STATE) in the "
        "versions directory",
    )


def _read_revision_file(name: str, text: str) -> RevisionFile:
    try:
        values = _identifiers(text)
    except SyntaxError as error:
        raise GenerationError(
            f"revision {name} is not valid Python: {error}", hint="fix or remove it"
        ) from None
    if not isinstance(values.get("revision"), str):
        raise GenerationError(f"revision {name} sets no revision id", hint="fix or remove it")
    down = values.get("down_revision")
    if down is not None and not isinstance(down, str):
        raise GenerationError(
            f"revision {name} merges several revisions; entityforge expects one chain",
            hint="generate from a linear history",
        )
    return RevisionFile(name, values["revision"], down, text)


def _identifiers(text: str) -> dict[str | None, object]:
    """``revision`` and ``down_revision`` of a revision module.

    They stand before the first function in every revision Alembic or entityforge
    writes, so only that head is parsed; the whole module when the head lacks them.
    """
    head, found, _ = text.partition("\ndef ")
    if found:
        try:
            values = _module_identifiers(ast.parse(head))
        except SyntaxError:
            values = {}
        if "revision" in values:
            return values
    return _module_identifiers(ast.parse(text))


def _module_identifiers(module: ast.Module) -> dict[str | None, object]:
    return {
        target: ast.literal_eval(value)
        for target, value in map(_assignment, module.body)
        if target in ("revision", "down_revision") and value is not None
    }


def _assignment(statement: ast.stmt) -> tuple[str | None, ast.expr | None]:
    """``(name, value)`` of a module-level ``name = value`` or ``name: type = value``."""
    if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
        return statement.target.id, statement.value
    if (
        isinstance(statement, ast.Assign)
        and len(statement.targets) == 1
        and isinstance(statement.targets[0], ast.Name)
    ):
        return statement.targets[0].id, statement.value
    return None, None


def _revision_id(number: int) -> str:
    return f"{number:04d}"
