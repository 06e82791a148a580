"""Render generated projects into a directory, check their style and import them.

The database-layer tests render only the modules under test (models, repositories,
runtime), format them the way the pipeline does, write them into a temporary
directory and import the package from there.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import ModuleType

from sqlalchemy import Connection, text

from entityforge.catalog import Catalog, build_catalog
from entityforge.generators import (
    GenerationContext,
    errors,
    models,
    repositories,
    runtime,
    schemas,
)
from entityforge.output.formatting import format_python
from entityforge.schema import Schema
from entityforge.spec import load_schema, load_schema_text

REPO_ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_SPEC = REPO_ROOT / "entityforge" / "examples" / "entities.yaml"
RUFF_RULES = "E,F,W,I,UP,B,SIM"

# A schema without tenancy: plain foreign keys, a self reference, a many-to-many with
# back_populates, a one-to-one, awkward names and defaults that need quoting.
SINGLE_TENANT_SPEC = """\
version: 1
roles: {reader: blog_reader, writer: blog_writer, admin: blog_admin}
entities:
  Author:
    soft_delete: true
    comment: "Someone who writes: \\"quoted\\" and 'single' text, a colon :here too."
    fields:
      name: {type: string, max_length: 120, unique: true}
      bio: {type: text, nullable: true, default: "It's: a ':bio'"}
      settings: {type: json, nullable: true, default: {theme: dark}}
      karma: {type: integer, default: -3, check: "karma > -100"}
  Post:
    fields:
      title: {type: string, max_length: 200}
      slug: {type: string, max_length: 200, check: "slug LIKE '%-%' OR slug ~ '^[a-z]+$'"}
      status: {type: enum, values: [draft, "in review", published], default: "in review"}
      labels: {type: array, of: text, default: [news, "it's"]}
      rating: {type: decimal, precision: 5, scale: 2, default: 1.5}
      class: {type: string, max_length: 20, nullable: true, index: true}
      date: {type: date, nullable: true}
      text: {type: text, nullable: true, index: trgm}
    relations:
      author: {kind: many_to_one, target: Author, on_delete: cascade, back_populates: posts}
      editor: {kind: many_to_one, target: Author, nullable: true, on_delete: set_null}
      parent: {kind: many_to_one, target: Post, nullable: true, on_delete: set_null,
               back_populates: replies}
      tags: {kind: many_to_many, target: Tag, back_populates: posts}
    unique:
      - [author_id, title]
    indexes:
      - {columns: [author_id, slug], where: "status = 'published'"}
  PostStats:
    timestamps: false
    fields:
      views: {type: bigint, default: 0}
    relations:
      post: {kind: one_to_one, target: Post, on_delete: cascade, back_populates: stats}
  Tag:
    timestamps: false
    fields:
      label: {type: string, max_length: 40, unique: true}
      an_extraordinarily_long_descriptive_field_name_for_naming_tests:
        {type: string, max_length: 10, nullable: true, unique: true, index: true,
         check: "an_extraordinarily_long_descriptive_field_name_for_naming_tests <> ''"}
"""

# Tenancy under other names; a tenant-scoped entity referencing a global one, a self
# one-to-one and a self many-to-many, both with reverse sides; fields named like the
# imports a model needs (``uuid``, ``time``).
EDGE_SPEC = """\
version: 1
tenancy: {entity: Org, column: org_id, setting: app.org}
roles: {reader: r_reader, writer: r_writer, admin: r_admin}
entities:
  Org:
    fields:
      name: string(100)
  Region:
    tenant_scoped: false
    timestamps: false
    fields:
      code: {type: string, max_length: 8, unique: true}
  Site:
    soft_delete: true
    fields:
      uuid: {type: uuid, nullable: true}
      time: {type: time, nullable: true}
      label: {type: string, max_length: 50}
    relations:
      twin: {kind: one_to_one, target: Site, nullable: true, on_delete: set_null,
             back_populates: twin_of}
      neighbours: {kind: many_to_many, target: Site, back_populates: neighbour_of}
      region: {kind: many_to_one, target: Region, nullable: true, back_populates: sites}
    unique:
      - [label]
"""


def example_schema() -> Schema:
    return load_schema(EXAMPLE_SPEC)


def single_tenant_schema() -> Schema:
    return load_schema_text(SINGLE_TENANT_SPEC)


def edge_schema() -> Schema:
    return load_schema_text(EDGE_SPEC)


def awkward_schema() -> Schema:
    """Names that collide with Python, SQLAlchemy and SQL, and names that truncate."""
    return load_schema(REPO_ROOT / "tests" / "specs" / "awkward_names.yaml")


def render_layer(schema: Schema, package: str) -> dict[str, str]:
    """The models, repositories and runtime modules of ``schema``, formatted like the pipeline."""
    context = GenerationContext(schema, package)
    files: dict[str, str] = {}
    for generator in (models, schemas, errors, repositories, runtime):
        files.update(generator.generate(context))
    return {path: format_python(path, text) for path, text in files.items()}


def write_files(files: dict[str, str], root: Path) -> Path:
    for path, content in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    return root


def style_problems(root: Path, package: str) -> str:
    """What ``black --check`` and ``ruff check`` report for the written package ('' if clean)."""
    commands = [
        [sys.executable, "-m", "black", "--check", "-q", "-l", "99", "-t", "py311", package],
        [
            sys.executable, "-m", "ruff", "check", "--isolated", "--quiet",
            "--select", RUFF_RULES, "--line-length", "99", "--target-version", "py311",
            package,
        ],
    ]  # fmt: skip
    problems = []
    for command in commands:
        result = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            problems.append(f"$ {' '.join(command[2:4])}\n{result.stdout}{result.stderr}")
    return "\n".join(problems)


@contextmanager
def imported_package(root: Path, package: str) -> Iterator[ModuleType]:
    """Import ``package`` from ``root``; forget it (and its submodules) afterwards."""
    sys.path.insert(0, str(root))
    importlib.invalidate_caches()
    try:
        yield importlib.import_module(package)
    finally:
        sys.path.remove(str(root))
        for name in [n for n in sys.modules if n == package or n.startswith(f"{package}.")]:
            del sys.modules[name]


@dataclass(frozen=True)
class RenderedLayer:
    """A rendered, written and imported database layer."""

    schema: Schema
    package: str
    root: Path
    files: dict[str, str]

    @cached_property
    def catalog(self) -> Catalog:
        return build_catalog(self.schema)

    def module(self, name: str) -> ModuleType:
        """A module of the package, e.g. ``models`` or ``repositories.base``."""
        return importlib.import_module(f"{self.package}.{name}")


@contextmanager
def rendered_layer(schema: Schema, package: str, root: Path) -> Iterator[RenderedLayer]:
    """Render ``schema`` into ``root`` and keep the package imported while in use."""
    files = render_layer(schema, package)
    write_files(files, root)
    with imported_package(root, package):
        yield RenderedLayer(schema, package, root, files)


def create_extensions(connection: Connection, catalog: Catalog) -> None:
    """The extensions the catalog's indexes need (the migrations create them too)."""
    for extension in catalog.extensions:
        connection.execute(text(f'CREATE EXTENSION IF NOT EXISTS "{extension}"'))
