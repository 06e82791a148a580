"""The ``entityforge`` command. The only module that prints."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click

from entityforge import pipeline
from entityforge.catalog import build_catalog
from entityforge.errors import EntityforgeError, GenerationError
from entityforge.generators.erd import FORMATS, render_diagram
from entityforge.migrate.breaking import NOTICE, notice
from entityforge.output.writer import write_atomic
from entityforge.project import (
    DEFAULT_SPEC,
    ProjectConfig,
    find_project_root,
    read_project_config,
)
from entityforge.project.template import EXAMPLE_SPEC, copy_project
from entityforge.spec import load_schema
from entityforge.spec.add_entity import NewEntity
from entityforge.spec.modeline import with_schema_line


def _reports_errors(command: Callable[..., None]) -> Callable[..., None]:
    """Turn the library's errors into a red message and an exit status; no traceback."""

    @wraps(command)
    def run(*args: Any, **kwargs: Any) -> None:
        try:
            command(*args, **kwargs)
        except EntityforgeError as error:
            click.secho(f"error: {error.render()}", fg="red", err=True)
            sys.exit(error.exit_code)

    return run


@click.group()
@click.version_option(package_name="entityforge")
def main() -> None:
    """Generate a PostgreSQL database layer from one spec file."""


@main.command()
@click.option(
    "--project-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The project to generate into.",
)
@click.option(
    "--spec",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The spec to generate from (default: the project's entities.yaml).",
)
@click.option("-m", "--message", default=None, help="The new revision's message.")
@click.option(
    "--allow-destructive",
    is_flag=True,
    help="Allow dropping tables, columns and enum values, and narrowing types.",
)
@click.option(
    "--allow-rewrite",
    is_flag=True,
    help="Allow steps that rewrite a table under an ACCESS EXCLUSIVE lock "
    "(volatile defaults, type changes, enum type swaps).",
)
@click.option(
    "--expand",
    is_flag=True,
    help="Rename columns in two steps: add the new name beside the old one, kept equal "
    "by a trigger, so that running code keeps working (see docs/live-migrations.md).",
)
@click.option(
    "--contract",
    is_flag=True,
    help="End the two-step renames: drop the old names, once no running code uses them.",
)
@click.option("--check", is_flag=True, help="Exit 1 and list stale files; write nothing.")
@click.option("--dry-run", is_flag=True, help="Print the diff of every file; write nothing.")
@_reports_errors
def generate(
    project_dir: Path,
    spec: Path | None,
    message: str | None,
    allow_destructive: bool,
    allow_rewrite: bool,
    expand: bool,
    contract: bool,
    check: bool,
    dry_run: bool,
) -> None:
    """Generate models, repositories, revisions and tests from the spec."""
    if expand and contract:
        raise click.UsageError("--expand and --contract are two revisions: give one")
    options = pipeline.Options(message, allow_destructive, allow_rewrite, expand, contract)
    plan = pipeline.generate(project_dir, spec, options)
    _warn(plan)
    if check:
        if not plan.is_empty:
            click.echo("stale:", err=True)
            for path in plan.paths:
                click.echo(f"  {path}", err=True)
            sys.exit(1)
        click.echo("up to date")
        return
    if dry_run:
        _print_diffs(plan)
        return
    _apply(plan)


def _print_diffs(plan: pipeline.Plan) -> None:
    """What a generation would write, as unified diffs, and what it would remove."""
    for change in plan.changes:
        click.echo(change.unified_diff(), nl=False)
    for path in plan.removals:
        click.echo(f"would remove {path}")
    if plan.is_empty:
        click.echo("nothing to do: the generated files match the spec")


def _warn(plan: pipeline.Plan) -> None:
    for warning in plan.warnings:
        click.secho(f"warning: {warning}", fg="yellow", err=True)


def _apply(plan: pipeline.Plan) -> None:
    """Write the plan, say what changed, and fail when hand edits could not be merged."""
    pipeline.apply_plan(plan)
    if plan.is_empty:
        click.echo("nothing to do: the generated files match the spec")
    for change in plan.changes:
        verb = "created" if change.old is None else "updated"
        click.echo(f"{verb} {change.path}")
        breaking = notice(change.new) if change.old is None and "/versions/" in change.path else []
        if breaking:
            click.echo(f"warning: {change.path}: {NOTICE}", err=True)
            for line in breaking:
                click.echo(f"  {line}", err=True)
    for path in plan.removals:
        click.echo(f"removed {path}")
    if plan.conflicts:
        listing = "\n".join(f"  {path}" for path in plan.conflicts)
        raise GenerationError(
            f"your edits conflict with the regenerated text in:\n{listing}",
            hint="resolve the <<<<<<< ======= >>>>>>> markers in these files; the rest was merged",
        )


@main.command()
@click.option(
    "--project-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
)
@click.option(
    "--spec",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="The spec to start from (default: the built-in example).",
)
@click.option("--force", is_flag=True, help="Write into a directory that holds other files.")
@_reports_errors
def init(project_dir: Path, spec: Path | None, force: bool) -> None:
    """Put a spec into a project (when it has none yet) and generate everything."""
    _refuse_nested_project(project_dir)
    config = read_project_config(project_dir)
    if not force:
        _refuse_other_files(config)
    if not config.spec_path.exists():
        source = spec or EXAMPLE_SPEC
        load_schema(source)
        write_atomic(config.spec_path, with_schema_line(source.read_text(encoding="utf-8")))
        click.echo(f"created {config.spec} from {source}")
    elif spec is not None and spec.resolve() != config.spec_path.resolve():
        raise GenerationError(
            f"{config.spec_path} exists already; not replacing it with {spec}",
            hint=f"edit {config.spec} instead, or remove it first",
        )
    plan = pipeline.generate(project_dir)
    _warn(plan)
    _apply(plan)


# What a directory may hold for ``init`` to write into it without ``--force``.
INIT_KEEPS = frozenset({".git", ".gitignore", ".entityforge", "pyproject.toml", "README.md"})


def _refuse_nested_project(project_dir: Path) -> None:
    root = find_project_root(project_dir)
    if root != project_dir:
        raise GenerationError(
            f"{project_dir} is inside the entityforge project {root}",
            hint="run 'entityforge generate' here (it finds the project from any directory "
            "in it), or init a directory outside it",
        )


def _refuse_other_files(config: ProjectConfig) -> None:
    """``init`` writes some forty files: not among files it did not write, unless forced."""
    if (config.state_dir).is_dir() or not config.root.is_dir():
        return
    others = sorted(
        path.name
        for path in config.root.iterdir()
        if path.name not in INIT_KEEPS and path.name != config.spec
    )
    if others:
        listing = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
        raise GenerationError(
            f"{config.root} is not empty ({listing}); init writes a whole project into it",
            hint="run it in an empty directory (or one holding only your spec and "
            "pyproject.toml), or pass --force to write into this one",
        )


@main.command()
@click.argument("destination", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--spec",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help=f"The spec to start from (default: a built-in example); becomes {DEFAULT_SPEC}.",
)
@click.option("--package", default="app", show_default=True, help="The Python package name.")
@click.option("--name", "project_name", default=None, help="The project name.")
@_reports_errors
def new(destination: Path, spec: Path | None, package: str, project_name: str | None) -> None:
    """Create a new project from the template (what `copier copy` does)."""
    if spec is not None:
        load_schema(spec)
    copy_project(destination, spec=spec, package=package, project_name=project_name)
    click.echo(f"created {destination}")
    click.echo(f"next: cd {destination} && pip install -e '.[test]' && pytest")


@main.command("add-entity")
@click.argument("name")
@click.option(
    "--field",
    "fields",
    multiple=True,
    metavar="NAME:TYPE[:OPTION...]",
    help="A field, e.g. name:string(64):unique or weight:integer:nullable.",
)
@click.option(
    "--relation",
    "relations",
    multiple=True,
    metavar="NAME:KIND:TARGET[:ON_DELETE][:nullable]",
    help="A relation, e.g. workflow:many_to_one:Workflow:cascade.",
)
@click.option("--no-tenant", is_flag=True, help="Not tenant-scoped.")
@click.option("--soft-delete", is_flag=True, help="Rows are soft-deleted.")
@click.option("--table", default=None, help="The table name (default: snake_case plural).")
@click.option(
    "--schema", default=None, help="The PostgreSQL schema of the table (default: public)."
)
@click.option(
    "--project-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
)
@click.option("--allow-destructive", is_flag=True, help="As for generate.")
@click.option("--allow-rewrite", is_flag=True, help="As for generate.")
@click.option("--dry-run", is_flag=True, help="Print the diffs; write nothing.")
@_reports_errors
def add_entity(
    name: str,
    fields: tuple[str, ...],
    relations: tuple[str, ...],
    no_tenant: bool,
    soft_delete: bool,
    table: str | None,
    schema: str | None,
    project_dir: Path,
    allow_destructive: bool,
    allow_rewrite: bool,
    dry_run: bool,
) -> None:
    """Add an entity to entities.yaml (comments kept) and regenerate."""
    entity = NewEntity(name, fields, relations, not no_tenant, soft_delete, table, schema)
    options = pipeline.Options(allow_destructive=allow_destructive, allow_rewrite=allow_rewrite)
    spec_change, plan = pipeline.add_entity(project_dir, entity, options)
    if dry_run:
        click.echo(spec_change.unified_diff(), nl=False)
        _print_diffs(plan)
        return
    write_atomic(plan.config.spec_path, spec_change.new)
    click.echo(f"updated {spec_change.path}")
    _warn(plan)
    _apply(plan)


_PROJECT_DIR = click.option(
    "--project-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The project (its pyproject.toml says where its spec is).",
)


@main.command()
@_PROJECT_DIR
@click.option(
    "--spec",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The spec to draw (default: the project's entities.yaml).",
)
@click.option(
    "--format",
    "form",
    type=click.Choice(FORMATS),
    default="mermaid",
    show_default=True,
    help="Mermaid erDiagram or Graphviz DOT.",
)
@_reports_errors
def erd(project_dir: Path, spec: Path | None, form: str) -> None:
    """Print the entity-relationship diagram of the spec's database."""
    schema = load_schema(spec or read_project_config(find_project_root(project_dir)).spec_path)
    click.echo(render_diagram(build_catalog(schema), form), nl=False)


@main.command("import")
@click.argument("database_url")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path(DEFAULT_SPEC),
    show_default=True,
    help="Where to write the spec ('-' for standard output); an existing file is kept.",
)
@click.option(
    "--schema",
    "schemas",
    multiple=True,
    default=("public",),
    show_default=True,
    help="A schema to read; repeat it to read several (their entities get schema:).",
)
@_reports_errors
def import_command(database_url: str, output: Path, schemas: tuple[str, ...]) -> None:
    """Write a spec for an existing database; report what it cannot express."""
    from entityforge.importer import import_from_url, render_report

    writing = str(output) != "-"
    if writing and output.exists():
        raise GenerationError(
            f"{output} exists already; not replacing it",
            hint="give another file with -o, or '-o -' to print the spec",
        )
    result = import_from_url(database_url, schemas)
    if writing:
        write_atomic(output, result.text)
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(result.text, nl=False)
    click.echo(render_report(result.findings), err=True, nl=False)
