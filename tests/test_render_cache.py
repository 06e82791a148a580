"""A generation whose inputs did not change plans from the last generated copies."""

from __future__ import annotations

from pathlib import Path

import pytest

from entityforge import pipeline
from entityforge.migrate.history import read_graph
from entityforge.output import render_cache
from entityforge.project import ProjectConfig, read_project_config
from entityforge.schema import Schema

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "entityforge" / "examples" / "entities.yaml"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "entities.yaml").write_text(EXAMPLE.read_text(encoding="utf-8"))
    pipeline.apply_plan(pipeline.generate(tmp_path))
    return tmp_path


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The specs the pipeline parses from now on."""
    seen: list[Path] = []
    load = pipeline.load_schema

    def counting(path: Path) -> Schema:
        seen.append(path)
        return load(path)

    monkeypatch.setattr(pipeline, "load_schema", counting)
    return seen


def test_unchanged_inputs_skip_the_render(project: Path, loads: list[Path]) -> None:
    plan = pipeline.generate(project)
    assert plan.is_empty and not loads
    pipeline.apply_plan(plan)
    assert pipeline.generate(project).is_empty and not loads


def test_the_cached_plan_is_what_a_render_gives(project: Path, loads: list[Path]) -> None:
    (project / "app" / "models" / "base.py").unlink()
    edited = project / "app" / "repositories" / "base.py"
    edited.write_text(edited.read_text() + "# mine\n")
    cached = pipeline.generate(project)
    render_cache.record(ProjectConfig(project), None)
    rendered = pipeline.generate(project)
    assert loads == [project / "entities.yaml"]
    assert [change.path for change in cached.changes] == ["app/models/base.py"]
    assert cached.changes == rendered.changes and cached.removals == rendered.removals


def test_a_changed_spec_is_rendered(project: Path, loads: list[Path]) -> None:
    spec = project / "entities.yaml"
    spec.write_text(spec.read_text().replace("entities:\n", "entities:\n  Extra: {}\n", 1))
    plan = pipeline.generate(project)
    assert loads and any("/versions/0002_" in path for path in plan.paths)
    pipeline.apply_plan(plan)
    loads.clear()
    assert pipeline.generate(project).is_empty and not loads


def test_a_revision_added_by_hand_is_rendered(project: Path, loads: list[Path]) -> None:
    versions = project / "app" / "alembic" / "versions"
    (head,) = read_graph(pipeline.read_revisions(read_project_config(project))).heads
    (versions / "0002_data.py").write_text(f'revision = "0002"\ndown_revision = "{head}"\n')
    assert pipeline.generate(project).is_empty
    assert loads


def test_another_generator_version_is_rendered(
    project: Path, loads: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(render_cache, "generator_fingerprint", lambda: "another version")
    assert pipeline.generate(project).is_empty
    assert loads


def test_add_entity_records_the_spec_it_writes(project: Path, loads: list[Path]) -> None:
    entity = pipeline.NewEntity("Extra", ("note:text",), (), True, False, None)
    spec_change, plan = pipeline.add_entity(project, entity)
    (project / "entities.yaml").write_text(spec_change.new)
    pipeline.apply_plan(plan)
    loads.clear()
    assert pipeline.generate(project).is_empty and not loads


def test_untouched_files_are_not_read_again(
    project: Path, loads: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The files the last generation left, each of the same size and time, need no
    reading: nothing is planned from them."""

    def unread(config: ProjectConfig) -> None:
        raise AssertionError("the last generated copies were read")

    with monkeypatch.context() as patched:
        patched.setattr(pipeline, "_last_outputs", unread)
        assert pipeline.generate(project).is_empty and not loads
    touched = project / "app" / "models" / "base.py"
    touched.write_text(touched.read_text())  # the same text, a new modification time
    plan = pipeline.generate(project)
    assert plan.is_empty and not loads
    pipeline.apply_plan(plan)
    monkeypatch.setattr(pipeline, "_last_outputs", unread)
    assert pipeline.generate(project).is_empty


def test_a_skipped_render_gives_the_warnings_again(tmp_path: Path, loads: list[Path]) -> None:
    spec = EXAMPLE.read_text(encoding="utf-8").replace(
        "entities:\n",
        "entities:\n  Price:\n    fields: {amount: decimal}\n    indexes: [{columns: [amount]}]\n",
        1,
    )
    (tmp_path / "entities.yaml").write_text(spec)
    first = pipeline.generate(tmp_path)
    pipeline.apply_plan(first)
    loads.clear()
    again = pipeline.generate(tmp_path)
    assert not loads and first.warnings
    assert again.warnings == first.warnings
