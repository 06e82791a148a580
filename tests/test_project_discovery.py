"""The project is found from any directory in it; ``init`` writes only where it may."""

from __future__ import annotations

from pathlib import Path

from entityforge.project import find_project_root
from tests.inprocess import write_project_config
from tests.projects import entityforge

SPEC = """\
version: 1
entities:
  Label:
    fields:
      name: string(40)
"""


def test_the_root_is_the_nearest_directory_declaring_tool_entityforge(tmp_path: Path) -> None:
    write_project_config(tmp_path / "project", "labels")
    nested = tmp_path / "project" / "labels" / "models"
    nested.mkdir(parents=True)
    (nested.parent / "pyproject.toml").write_text('[project]\nname = "not this one"\n')
    found = find_project_root(nested)
    assert found.resolve() == (tmp_path / "project").resolve()
    assert found == nested / "../.."
    assert find_project_root(tmp_path / "project") == tmp_path / "project"
    assert find_project_root(tmp_path) == tmp_path


def test_generate_and_add_entity_work_from_a_subdirectory(tmp_path: Path) -> None:
    project = tmp_path / "project"
    write_project_config(project, "labels")
    (project / "entities.yaml").write_text(SPEC)
    assert entityforge("generate", cwd=project).returncode == 0
    inside = project / "labels" / "alembic"
    result = entityforge("generate", cwd=inside)
    assert result.returncode == 0, result.output
    assert "nothing to do" in result.stdout
    result = entityforge("add-entity", "Tag", "--field", "name:string(20)", cwd=inside)
    assert result.returncode == 0, result.output
    assert "Tag:" in (project / "entities.yaml").read_text()
    assert not (inside / "entities.yaml").exists() and not (inside / "labels").exists()
    (project / "entities.yaml").write_text(SPEC.replace("string(40)", "strng(40)"))
    result = entityforge("generate", cwd=inside)
    assert result.returncode == 2
    assert "../../entities.yaml:5:" in result.stderr, result.stderr


def test_init_refuses_a_directory_with_other_files_unless_forced(tmp_path: Path) -> None:
    directory = tmp_path / "existing"
    directory.mkdir()
    (directory / "notes.txt").write_text("keep me\n")
    result = entityforge("init", cwd=directory)
    assert result.returncode != 0
    assert "not empty (notes.txt)" in result.stderr and "--force" in result.stderr
    assert sorted(p.name for p in directory.iterdir()) == ["notes.txt"]
    result = entityforge("init", "--force", cwd=directory)
    assert result.returncode == 0, result.output
    assert (directory / "notes.txt").read_text() == "keep me\n"
    assert (directory / "entities.yaml").is_file()


def test_init_inside_a_project_points_to_generate(tmp_path: Path) -> None:
    project = tmp_path / "project"
    write_project_config(project, "labels")
    (project / "entities.yaml").write_text(SPEC)
    inside = project / "docs"
    inside.mkdir()
    result = entityforge("init", cwd=inside)
    assert result.returncode != 0
    assert "inside the entityforge project" in result.stderr
    assert "entityforge generate" in result.stderr
    assert list(inside.iterdir()) == []


def test_init_writes_into_an_empty_directory_or_beside_a_spec(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert entityforge("init", cwd=empty).returncode == 0
    with_spec = tmp_path / "with_spec"
    with_spec.mkdir()
    (with_spec / "entities.yaml").write_text(SPEC)
    result = entityforge("init", cwd=with_spec)
    assert result.returncode == 0, result.output
    assert entityforge("init", cwd=with_spec).returncode == 0
