"""Entity modules kept from the last generation are byte for byte what a full render gives.

Each case generates a project, edits its spec, then generates it twice from the same
state: once keeping the entity modules whose keys did not change, once with the keys
forgotten (every module rendered). The two projects must be identical, and a change to
one entity must leave the modules of entities it does not touch unrendered.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from bench.synthetic import synthetic_spec
from entityforge import pipeline
from entityforge.catalog import build_catalog
from entityforge.generators.docs import table_statements
from entityforge.generators.reuse import entity_scope
from entityforge.naming import snake_case
from entityforge.project import read_project_config
from entityforge.spec import load_schema

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "tests" / "specs"

Spec = dict[str, Any]
Edit = Callable[[Spec], None]


def _yaml() -> YAML:
    yaml = YAML()
    yaml.width = 4096
    return yaml


def edited(text: str, edit: Edit) -> str:
    yaml = _yaml()
    data = yaml.load(text)
    edit(data)
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def tree(root: Path) -> dict[str, bytes]:
    """Every file of the project but the machine-local cache."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".entityforge/cache" not in path.relative_to(root).as_posix()
    }


def new_project(directory: Path, spec: str) -> Path:
    directory.mkdir(parents=True)
    (directory / "entities.yaml").write_text(spec, encoding="utf-8")
    pipeline.apply_plan(pipeline.generate(directory))
    return directory


def regenerate_both(project: Path, spec: str, scratch: Path) -> tuple[Path, Path]:
    """The project generated again from ``spec`` keeping entity modules, and without."""
    kept, rendered = scratch / "kept", scratch / "rendered"
    for copy in (kept, rendered):
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(project, copy)
        (copy / "entities.yaml").write_text(spec, encoding="utf-8")
    (rendered / ".entityforge" / pipeline.ENTITY_KEYS_FILE).unlink()
    for copy in (kept, rendered):
        pipeline.apply_plan(pipeline.generate(copy))
    return kept, rendered


def rendered_paths(project: Path) -> set[str]:
    """The entity modules a generation of ``project`` would render (not keep)."""
    config = read_project_config(project)
    schema = load_schema(config.spec_path)
    context = pipeline.generation_context(schema, config, reuse=True)
    pipeline.render_project(schema, config, context=context)
    return set(context.reuse.keys) - set(context.reuse.texts)


def assert_same_as_a_full_render(project: Path, spec: str, scratch: Path) -> None:
    kept, rendered = regenerate_both(project, spec, scratch)
    assert tree(kept) == tree(rendered)
    assert (kept / ".entityforge" / pipeline.ENTITY_KEYS_FILE).read_bytes() == (
        rendered / ".entityforge" / pipeline.ENTITY_KEYS_FILE
    ).read_bytes()


def add_field(entity: str) -> Edit:
    def edit(spec: Spec) -> None:
        spec["entities"][entity].setdefault("fields", {})["reviewed_on"] = {
            "type": "date",
            "nullable": True,
        }

    return edit


def widen_strings(entity: str) -> Edit:
    """Every string(n) field of ``entity`` made longer (a widening, safe on a live table),
    but those its full-text search reads (its vector would be computed again)."""

    def edit(spec: Spec) -> None:
        searched = spec["entities"][entity].get("search", {}).get("fields", {})
        for name, field in spec["entities"][entity].get("fields", {}).items():
            if name in searched:
                continue
            if isinstance(field, str) and field.startswith("string("):
                length = int(field.removeprefix("string(").removesuffix(")"))
                spec["entities"][entity]["fields"][name] = f"string({length + 50})"
            elif isinstance(field, dict) and "max_length" in field:
                field["max_length"] = int(field["max_length"]) + 50

    return edit


@pytest.mark.parametrize(
    "spec_name", ["commerce.yaml", "policies.yaml", "single_tenant_blog.yaml", "clinic_base.yaml"]
)
def test_each_entity_changed_gives_a_full_render(spec_name: str, tmp_path: Path) -> None:
    text = (SPECS / spec_name).read_text(encoding="utf-8")
    project = new_project(tmp_path / "project", text)
    for entity in list(_yaml().load(text)["entities"]):
        for edit in (add_field(entity), widen_strings(entity)):
            assert_same_as_a_full_render(project, edited(text, edit), tmp_path / "scratch")


def test_one_field_renders_the_entity_and_its_neighbours(tmp_path: Path) -> None:
    spec = synthetic_spec(30)
    project = new_project(tmp_path / "project", spec)
    changed = edited(spec, add_field("Entity0015"))
    (project / "entities.yaml").write_text(changed, encoding="utf-8")
    schema = load_schema(project / "entities.yaml")
    readers = {e.name for e in schema.entities if "Entity0015" in entity_scope(schema, e)}
    # Itself, its relations' targets and the entities that refer to it.
    assert len(readers) < len(schema.entities) / 3
    modules = {path.rsplit("/", 1)[1].removeprefix("test_") for path in rendered_paths(project)}
    assert modules == {f"{snake_case(name)}.py" for name in readers}
    assert_same_as_a_full_render(project, changed, tmp_path / "scratch")


def rename_entity(old: str, new: str) -> Edit:
    def edit(spec: Spec) -> None:
        entities = spec["entities"]
        entities.insert(list(entities).index(old), new, entities.pop(old))
        entities[new]["renamed_from"] = old
        for definition in entities.values():
            for relation in (definition.get("relations") or {}).values():
                if relation.get("target") == old:
                    relation["target"] = new

    return edit


def rename_tenant_column(spec: Spec) -> None:
    spec["tenancy"]["column"] = "shop_id"


@pytest.mark.parametrize(
    "edit",
    [rename_entity("Category", "Collection"), rename_tenant_column],
    ids=["renamed entity others refer to", "tenant column renamed"],
)
def test_a_change_others_read_renders_them_again(edit: Edit, tmp_path: Path) -> None:
    text = (SPECS / "commerce.yaml").read_text(encoding="utf-8")
    project = new_project(tmp_path / "project", text)
    changed = edited(text, edit)
    (project / "entities.yaml").write_text(changed, encoding="utf-8")
    assert len(rendered_paths(project)) == 4 * len(_yaml().load(text)["entities"])
    assert_same_as_a_full_render(project, changed, tmp_path / "scratch")


@pytest.mark.parametrize("spec", sorted(SPECS.glob("*.yaml")), ids=lambda path: path.stem)
def test_a_tables_statements_alone_are_those_of_the_whole_catalog(spec: Path) -> None:
    """The page renders the SQL of the sections it does not keep from those tables alone."""
    catalog = build_catalog(load_schema(spec))
    whole = table_statements(catalog)
    for table in catalog.tables:
        alone = table_statements(catalog, [table])
        assert alone.get(table.name, ()) == whole.get(table.name, ()), table.name


def test_a_broken_cache_or_a_missing_copy_is_rendered(tmp_path: Path) -> None:
    """The keys are only a cache: unreadable, they keep nothing; a copy gone, its module
    is rendered."""
    spec = synthetic_spec(8)
    project = new_project(tmp_path / "project", spec)
    keys = project / ".entityforge" / pipeline.ENTITY_KEYS_FILE
    keys.write_text("{not json", encoding="utf-8")
    changed = edited(spec, add_field("Entity0005"))
    (project / "entities.yaml").write_text(changed, encoding="utf-8")
    assert len(rendered_paths(project)) == 4 * 9
    pipeline.apply_plan(pipeline.generate(project))
    copy = project / ".entityforge" / "generated" / "app" / "models" / "entity0003.py"
    copy.unlink()
    assert rendered_paths(project) == {"app/models/entity0003.py"}
    assert_same_as_a_full_render(project, edited(changed, add_field("Entity0001")), tmp_path)
