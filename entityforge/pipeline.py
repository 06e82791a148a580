"""spec → schema → generators → formatting → plan → atomic write.

Rendering is pure (``render_project``); ``plan_changes`` decides what each file on disk
becomes without writing; ``apply_plan`` is the only step with side effects.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from entityforge.errors import GenerationError
from entityforge.formatting import format_outputs
from entityforge.project import ProjectConfig, read_project_config
from entityforge.schema import Schema
from entityforge.spec import load_schema
from entityforge.writer import read_text, write_atomic

GENERATORS = ("models", "repositories", "runtime", "migrations", "fixtures", "tests", "devdb")
BASE_DIR = "generated"


@dataclass(frozen=True)
class FileChange:
    """One file the generator would write: its path, old text (None if new) and new text."""

    path: str
    old: str | None
    new: str

    def unified_diff(self) -> str:
        return "".join(
            difflib.unified_diff(
                (self.old or "").splitlines(keepends=True),
                self.new.splitlines(keepends=True),
                fromfile=f"a/{self.path}" if self.old is not None else "/dev/null",
                tofile=f"b/{self.path}",
            )
        )


@dataclass(frozen=True)
class Plan:
    """What a generation would change: file writes, and the last-generated copies."""

    config: ProjectConfig
    changes: tuple[FileChange, ...]
    base_updates: Mapping[str, str] = field(default_factory=dict)

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(change.path for change in self.changes)


def render_project(schema: Schema, config: ProjectConfig) -> dict[str, str]:
    """Every generated file's text for ``schema``, formatted; pure apart from reading history."""
    from entityforge.generators import GenerationContext

    context = GenerationContext(schema, config.package, read_revisions(config))
    outputs: dict[str, str] = {}
    for name in GENERATORS:
        module = importlib.import_module(f"entityforge.generators.{name}")
        for path, text in module.generate(context).items():
            if path in outputs:
                raise GenerationError(f"two generators emit {path}")
            outputs[path] = text
    return format_outputs(outputs)


def read_revisions(config: ProjectConfig) -> tuple[tuple[str, str], ...]:
    """The project's revision files as ``(name, text)``, in file-name order."""
    if not config.versions_dir.is_dir():
        return ()
    return tuple(
        (path.name, path.read_text(encoding="utf-8"))
        for path in sorted(config.versions_dir.glob("*.py"))
        if not path.name.startswith("_")
    )


def plan_changes(config: ProjectConfig, outputs: Mapping[str, str]) -> Plan:
    """Decide each file's new text; refuse to overwrite anything written by hand."""
    changes: list[FileChange] = []
    base_updates: dict[str, str] = {}
    hand_written: list[str] = []
    for path in sorted(outputs):
        new = outputs[path]
        current = read_text(config.root / path)
        base = read_text(config.state_dir / BASE_DIR / path)
        if base != new:
            base_updates[path] = new
        if current == new:
            continue
        if current is not None and current != base:
            hand_written.append(path)
            continue
        changes.append(FileChange(path, current, new))
    if hand_written:
        listing = "\n".join(f"  {path}" for path in hand_written)
        raise GenerationError(
            f"these files were changed by hand since they were generated:\n{listing}",
            hint="move your changes into a module of your own (or commit them and "
            "restore the generated text), then generate again; nothing was written",
        )
    return Plan(config, tuple(changes), base_updates)


def apply_plan(plan: Plan) -> None:
    for change in plan.changes:
        write_atomic(plan.config.root / change.path, change.new)
    for path, text in sorted(plan.base_updates.items()):
        write_atomic(plan.config.state_dir / BASE_DIR / path, text)


def generate(project_dir: Path, spec: Path | None = None) -> Plan:
    """Plan the generation of ``project_dir`` from its spec (or ``spec``)."""
    config = read_project_config(project_dir)
    schema = load_schema(spec or config.spec_path)
    return plan_changes(config, render_project(schema, config))
