"""spec → schema → generators → formatting → plan → atomic write.

Rendering is pure (``render_project``); ``plan_changes`` decides what each file on disk
becomes without writing; ``apply_plan`` is the only step with side effects.
"""

from __future__ import annotations

import difflib
import gc
import importlib
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from entityforge import memo
from entityforge.catalog.index_warnings import index_warnings
from entityforge.catalog.table_names import keep_recorded_table_names
from entityforge.errors import GenerationError
from entityforge.migrate.history import recorded_schema
from entityforge.output import render_cache
from entityforge.output.formatting import format_outputs
from entityforge.output.headers import with_header
from entityforge.output.merge import merge_generated
from entityforge.output.writer import write_all, write_atomic
from entityforge.project import ProjectConfig, find_project_root, read_project_config, read_text
from entityforge.schema import Schema
from entityforge.spec import load_schema, load_schema_text
from entityforge.spec.add_entity import NewEntity, add_entity_to_spec

if TYPE_CHECKING:
    from entityforge.generators import GenerationContext

GENERATORS = (
    "models",
    "schemas",
    "errors",
    "repositories",
    "runtime",
    "migrations",
    "fixtures",
    "tests",
    "views",
    "devdb",
    "docs",
    "spec_schema",
    "guide",
)
BASE_DIR = "generated"
# Machine-local (under cache/, kept out of version control): a missing file only means
# every module is formatted once more.
DIGESTS_FILE = "cache/render-digests.json"
ENTITY_KEYS_FILE = "cache/entity-keys.json"


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
    """What a generation would change, decided before anything is written.

    ``changes`` are file writes (hand edits already merged in), ``removals`` generated
    files the spec no longer produces, ``conflicts`` the files whose hand edits could
    not be merged (they are written with conflict markers), ``base_updates`` the new
    last-generated copies that later merges start from.
    """

    config: ProjectConfig
    changes: tuple[FileChange, ...]
    removals: tuple[str, ...] = ()
    conflicts: tuple[str, ...] = ()
    base_updates: Mapping[str, str | None] = field(default_factory=dict)
    digests: Mapping[str, str] = field(default_factory=dict)
    spec_text: str | None = None
    """The spec the plan was made from, when ``generate`` made it: writing the plan then
    records the digest of the render's inputs (``entityforge.output.render_cache``)."""
    warnings: tuple[str, ...] = ()
    """Indexes the application role cannot use fully (``entityforge.catalog.index_warnings``)."""
    outputs: tuple[str, ...] = ()
    """Every file of the generation (written or already as it should be), when
    ``generate`` made the plan from a render: writing the plan records their state."""
    inputs: str | None = None
    """The digest of the generation's inputs, when ``generate`` computed it."""
    entity_keys: str | None = None
    """The keys of the entity modules rendered (``entityforge.generators.reuse``), when
    ``generate`` rendered them: writing the plan keeps them with the copies."""

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(change.path for change in self.changes) + self.removals

    @property
    def is_empty(self) -> bool:
        return not self.changes and not self.removals


@dataclass(frozen=True)
class Options:
    """How the user asked for the generation: the revision message, destructive or not,
    renames in two steps or not."""

    message: str | None = None
    allow_destructive: bool = False
    allow_rewrite: bool = False
    expand: bool = False
    contract: bool = False


def generation_context(
    schema: Schema, config: ProjectConfig, options: Options = Options(), reuse: bool = False
) -> GenerationContext:
    """What the generators see for ``schema`` in the project of ``config``; with ``reuse``,
    entity modules whose render would not change are the last generated copies
    (``entityforge.generators.reuse``)."""
    from entityforge.generators import GenerationContext

    revisions, snapshots = read_revisions(config), read_snapshots(config)
    context = GenerationContext(
        keep_recorded_table_names(schema, recorded_schema(revisions, snapshots)),
        config.package,
        revisions,
        snapshots,
        message=options.message,
        allow_destructive=options.allow_destructive,
        allow_rewrite=options.allow_rewrite,
        expand=options.expand,
        contract=options.contract,
    )
    if not reuse:
        return context
    from entityforge.generators import reuse as kept

    fingerprint = kept.shared_fingerprint(
        context.schema,
        render_cache.generator_fingerprint(),
        config.package,
        context.native_enums,
    )
    keys = kept.load(config.state_dir / ENTITY_KEYS_FILE, config.state_dir / BASE_DIR, fingerprint)
    return replace(context, reuse=keys)


def render_project(
    schema: Schema,
    config: ProjectConfig,
    options: Options = Options(),
    context: GenerationContext | None = None,
) -> dict[str, str]:
    """Every generated file's text for ``schema``, as rendered (not yet formatted), but
    for the entity modules the context's ``reuse`` keeps."""
    context = context or generation_context(schema, config, options)
    outputs: dict[str, str] = {}
    for name in GENERATORS:
        module = importlib.import_module(f"entityforge.generators.{name}")
        for path, text in module.generate(context).items():
            if path in outputs:
                raise GenerationError(f"two generators emit {path}")
            outputs[path] = with_header(path, text, config.package)
    return outputs


def build_outputs(
    schema: Schema,
    config: ProjectConfig,
    options: Options = Options(),
    context: GenerationContext | None = None,
) -> tuple[dict[str, str], dict[str, str]]:
    """Render and format; a module whose render did not change is not formatted again,
    and an entity module the context keeps is not rendered either."""
    context = context or generation_context(schema, config, options)
    rendered = render_project(schema, config, options, context)
    previous = _read_digests(config)
    base_dir = config.state_dir / BASE_DIR
    formatted_before = {
        path: text
        for path in rendered
        if path in previous and (text := read_text(base_dir / path)) is not None
    }
    texts, digests = format_outputs(rendered, previous, formatted_before)
    kept = context.reuse.texts
    texts.update(kept)
    digests.update((path, previous[path]) for path in kept if path in previous)
    return texts, digests


def _read_digests(config: ProjectConfig) -> dict[str, str]:
    text = read_text(config.state_dir / DIGESTS_FILE)
    if text is None:
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return {}
    return {k: v for k, v in data.items() if isinstance(v, str)} if isinstance(data, dict) else {}


def read_revisions(config: ProjectConfig) -> tuple[tuple[str, str], ...]:
    """The project's revision files as ``(name, text)``, in file-name order."""
    if not config.versions_dir.is_dir():
        return ()
    return tuple(
        (path.name, path.read_text(encoding="utf-8"))
        for path in sorted(config.versions_dir.glob("*.py"))
        if not path.name.startswith("_")
    )


def read_snapshots(config: ProjectConfig) -> tuple[tuple[str, str], ...]:
    """The schema snapshots beside the revisions as ``(name, text)``, in name order."""
    if not config.snapshots_dir.is_dir():
        return ()
    return tuple(
        (path.name, path.read_text(encoding="utf-8"))
        for path in sorted(config.snapshots_dir.glob("*.json"))
    )


def history_inputs(config: ProjectConfig) -> tuple[tuple[str, str], ...]:
    """What the next revision is computed from: the revisions, then the snapshots."""
    snapshots = tuple((f"schema/{name}", text) for name, text in read_snapshots(config))
    return read_revisions(config) + snapshots


def plan_changes(
    config: ProjectConfig,
    outputs: Mapping[str, str],
    digests: Mapping[str, str] | None = None,
    settled: frozenset[str] = frozenset(),
) -> Plan:
    """Decide each file's new text, merging hand edits; never overwrite a user's file.

    ``settled`` paths are known to be, with their last generated copies, as the last
    generation left them, which is their new text: they are not read."""
    base_dir = config.state_dir / BASE_DIR
    changes: list[FileChange] = []
    conflicts: list[str] = []
    base_updates: dict[str, str | None] = {}
    foreign: list[str] = []
    for path in sorted(outputs):
        if path in settled:
            continue
        new = outputs[path]
        current = read_text(config.root / path)
        if is_history(config, path):
            if current is None:
                changes.append(FileChange(path, None, new))
            continue
        base = read_text(base_dir / path)
        if base != new:
            base_updates[path] = new
        if current == new:
            continue
        if current is None or current == base:
            changes.append(FileChange(path, current, new))
        elif base is None:
            foreign.append(path)
        else:
            merged = merge_generated(base, current, new)
            if merged.conflicted:
                conflicts.append(path)
            if merged.text != current:
                changes.append(FileChange(path, current, merged.text))
    if foreign:
        listing = "\n".join(f"  {path}" for path in foreign)
        raise GenerationError(
            f"these files exist but were not generated by entityforge:\n{listing}",
            hint="move or rename them, then generate again; nothing was written",
        )
    dropped = _dropped(base_dir, outputs)
    base_updates.update(dict.fromkeys(dropped))
    unedited = tuple(
        path for path in dropped if read_text(config.root / path) == read_text(base_dir / path)
    )
    removals = unedited + _stale_snapshots(config, outputs)
    kept_digests = {
        path: value for path, value in (digests or {}).items() if not is_history(config, path)
    }
    return Plan(config, tuple(changes), removals, tuple(conflicts), base_updates, kept_digests)


def is_history(config: ProjectConfig, path: str) -> bool:
    """Revisions, once written, are history: never rewritten, never removed. So is the
    first revision's snapshot (removed only with its revision)."""
    return path.startswith(
        (f"{config.package}/alembic/versions/", f"{config.package}/alembic/schema/")
    )


def _stale_snapshots(config: ProjectConfig, outputs: Mapping[str, str]) -> tuple[str, ...]:
    """The snapshots of revisions no longer in the project."""
    relative = config.snapshots_dir.relative_to(config.root).as_posix()
    return tuple(
        path for name, _ in read_snapshots(config) if (path := f"{relative}/{name}") not in outputs
    )


def _dropped(base_dir: Path, outputs: Mapping[str, str]) -> tuple[str, ...]:
    """Generated files no longer produced (their last-generated copies are forgotten; the
    files themselves are removed when unedited, else left alone)."""
    if not base_dir.is_dir():
        return ()
    paths = (p.relative_to(base_dir).as_posix() for p in base_dir.rglob("*") if p.is_file())
    return tuple(sorted(path for path in paths if path not in outputs))


def apply_plan(plan: Plan) -> None:
    """Write the plan: files first, then the last-generated copies and their keys."""
    keys = plan.config.state_dir / ENTITY_KEYS_FILE
    if plan.base_updates and read_text(keys) != plan.entity_keys:
        keys.unlink(missing_ok=True)  # the copies change: no key may outlive them
    write_all({plan.config.root / change.path: change.new for change in plan.changes})
    for path in plan.removals:
        (plan.config.root / path).unlink(missing_ok=True)
    base_dir = plan.config.state_dir / BASE_DIR
    for path, text in sorted(plan.base_updates.items()):
        if text is None:
            (base_dir / path).unlink(missing_ok=True)
    write_all(
        {
            base_dir / path: text
            for path, text in sorted(plan.base_updates.items())
            if text is not None
        }
    )
    if plan.entity_keys is not None and read_text(keys) != plan.entity_keys:
        write_atomic(keys, plan.entity_keys)
    digests = json.dumps(dict(sorted(plan.digests.items())), indent=1) + "\n"
    if plan.digests and read_text(plan.config.state_dir / DIGESTS_FILE) != digests:
        write_atomic(plan.config.state_dir / DIGESTS_FILE, digests)
    inputs = None
    if plan.is_empty and plan.inputs is not None:
        inputs = plan.inputs  # nothing written: the history is as it was read
    elif plan.spec_text is not None and not plan.conflicts:
        inputs = render_cache.inputs_digest(
            plan.config, plan.spec_text, history_inputs(plan.config)
        )
    written = [plan.config.root / path for path in plan.outputs]
    written += [base_dir / path for path in plan.outputs if not is_history(plan.config, path)]
    render_cache.record(plan.config, inputs, written, plan.warnings)


def generate(project_dir: Path, spec: Path | None = None, options: Options = Options()) -> Plan:
    """Plan the generation of the project ``project_dir`` is in from its spec (or ``spec``)."""
    config = read_project_config(find_project_root(project_dir))
    spec_path = spec or config.spec_path
    spec_text = read_text(spec_path)
    # A two-step rename's steps change the output of an unchanged spec.
    if spec_text is not None and not (options.expand or options.contract):
        inputs = render_cache.inputs_digest(config, spec_text, history_inputs(config))
        if render_cache.is_current(config, inputs):
            warnings = render_cache.recorded_warnings(config)
            if render_cache.untouched(config):
                return Plan(config, (), spec_text=spec_text, warnings=warnings, inputs=inputs)
            outputs, digests = _last_outputs(config)
            plan = plan_changes(config, outputs, digests)
            return replace(
                plan, spec_text=spec_text, warnings=warnings, outputs=tuple(outputs), inputs=inputs
            )
    try:
        with collector_paused():
            schema = load_schema(spec_path)
            context = generation_context(schema, config, options, reuse=True)
            outputs, digests = build_outputs(schema, config, options, context)
            plan = plan_changes(config, outputs, digests, settled_paths(config, context))
        return replace(
            plan,
            spec_text=spec_text,
            warnings=index_warnings(context.catalog),
            outputs=tuple(outputs),
            entity_keys=entity_keys(context, outputs),
        )
    finally:
        memo.forget()


def settled_paths(config: ProjectConfig, context: GenerationContext) -> frozenset[str]:
    """The kept entity modules that, with their last generated copies, are as the last
    generation left them (``render_cache.as_left``): nothing to plan for them."""
    kept = context.reuse.texts
    base = (config.state_dir / BASE_DIR).relative_to(config.root).as_posix()
    left = render_cache.as_left(config, [*kept, *(f"{base}/{path}" for path in kept)])
    return frozenset(path for path in kept if path in left and f"{base}/{path}" in left)


def entity_keys(context: GenerationContext, outputs: Mapping[str, str]) -> str:
    """The text of the keys file for what ``context`` rendered or kept of ``outputs``."""
    from entityforge.generators import reuse

    return reuse.dump(context.reuse, outputs)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector off for a generation, back on afterwards.

    A generation allocates millions of objects that reference counting frees; the
    collector's passes over them cost a third of a 1,000-entity generation (2.8 s of
    6.7 s) and find next to nothing.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _last_outputs(config: ProjectConfig) -> tuple[dict[str, str], dict[str, str]]:
    """The last generation's files (its copies, revisions aside) and render digests."""
    base_dir = config.state_dir / BASE_DIR
    outputs = {
        path.relative_to(base_dir).as_posix(): text
        for path in sorted(base_dir.rglob("*"))
        if path.is_file() and (text := read_text(path)) is not None
    }
    relative = config.snapshots_dir.relative_to(config.root).as_posix()
    outputs.update((f"{relative}/{name}", text) for name, text in read_snapshots(config))
    return outputs, _read_digests(config)


def add_entity(
    project_dir: Path, entity: NewEntity, options: Options = Options()
) -> tuple[FileChange, Plan]:
    """Plan adding ``entity`` to the spec and regenerating; validated, nothing written.

    The spec is validated as it is first (its errors point into the file), then with the
    entity added, exactly as ``generate`` validates it.
    """
    config = read_project_config(find_project_root(project_dir))
    load_schema(config.spec_path)
    with config.spec_path.open(encoding="utf-8", newline="") as spec:
        old = spec.read()  # line endings as they are: only the new block is added
    new = add_entity_to_spec(old, entity, str(config.spec_path))
    spec_change = FileChange(config.spec, old, new)
    with collector_paused():
        schema = load_schema_text(new, str(config.spec_path))
        context = generation_context(schema, config, options, reuse=True)
        outputs, digests = build_outputs(schema, config, options, context)
        plan = plan_changes(config, outputs, digests)
    keys = entity_keys(context, outputs)
    return spec_change, replace(plan, spec_text=new, entity_keys=keys)
