"""A new user's path, for several specs: new project → migrate → guarantees → its own tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from entityforge.spec import load_schema
from tests.projects import (
    REPO_ROOT,
    alembic,
    assert_style_clean,
    assert_up_down_up,
    entityforge,
    guarantee_violations,
    new_project,
    project_env,
    run,
    writable_global_tables,
)

SPECS = {
    "example": REPO_ROOT / "entityforge" / "examples" / "entities.yaml",
    "spec_format": REPO_ROOT / "tests" / "specs" / "spec_format_example.yaml",
    "single_tenant": REPO_ROOT / "tests" / "specs" / "single_tenant_blog.yaml",
    "awkward_names": REPO_ROOT / "tests" / "specs" / "awkward_names.yaml",
    "saas_billing": REPO_ROOT / "tests" / "specs" / "saas_billing.yaml",
    # The spec format's example of its "More of PostgreSQL" keys, as it stands there.
    "more_postgresql": REPO_ROOT / "tests" / "specs" / "more_postgresql.yaml",
}


@pytest.fixture(scope="module", params=sorted(SPECS))
def project(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    name = request.param
    spec = None if name == "example" else SPECS[name]
    return new_project(tmp_path_factory.mktemp(name), spec)


def test_layout_is_complete(project: Path) -> None:
    for path in (
        "entities.yaml",
        "pyproject.toml",
        "alembic.ini",
        "README.md",
        ".copier-answers.yml",
        "app/db.py",
        "app/devdb.py",
        "app/models/__init__.py",
        "app/models/base.py",
        "app/repositories/__init__.py",
        "app/repositories/base.py",
        "app/alembic/env.py",
        "app/alembic/script.py.mako",
        "app/alembic/versions/0001_initial.py",
        "tests/conftest.py",
        "tests/factories.py",
        "tests/test_migrations.py",
    ):
        assert (project / path).is_file(), path


def test_generated_code_is_black_and_ruff_clean(project: Path) -> None:
    assert_style_clean(project)


def test_migrates_up_down_up_without_drift(
    project: Path, create_database: Callable[[], str]
) -> None:
    url = create_database()
    assert_up_down_up(project, url)


def test_database_keeps_the_guarantees(project: Path, create_database: Callable[[], str]) -> None:
    url = create_database()
    result = alembic(project, url, "upgrade", "head")
    assert result.returncode == 0, result.output
    schema = load_schema(project / "entities.yaml")
    tenancy = schema.tenancy
    violations = guarantee_violations(
        url,
        tenant_column=tenancy.column if tenancy else "tenant_id",
        tenant_table=schema.entity(tenancy.entity).table if tenancy else "",
        setting=tenancy.setting if tenancy else "app.tenant_id",
        writer=schema.roles.writer,
        writable_tables=writable_global_tables(schema),
    )
    assert violations == {}


def test_generated_project_tests_pass(project: Path, server_url: str) -> None:
    result = run(
        ["python", "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        env=project_env(project, server_url),
        timeout=900,
    )
    assert result.returncode == 0, result.output[-6000:]
    assert " passed" in result.stdout


def test_generating_again_changes_nothing(project: Path) -> None:
    before = {p: p.stat().st_mtime_ns for p in project.rglob("*") if p.is_file()}
    result = entityforge("generate", cwd=project)
    assert result.returncode == 0, result.output
    assert "nothing to do" in result.stdout
    after = {p: p.stat().st_mtime_ns for p in project.rglob("*") if p.is_file()}
    assert after == before
    check = entityforge("generate", "--check", cwd=project)
    assert check.returncode == 0, check.output


def test_copier_copy_makes_the_same_project(tmp_path: Path) -> None:
    spec = SPECS["single_tenant"]
    result = run(
        [
            "copier",
            "copy",
            "--trust",
            "--defaults",
            "--data",
            f"entities_file={spec}",
            str(REPO_ROOT),
            str(tmp_path / "my-app"),
        ],
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.output
    made = tmp_path / "my-app"
    # The spec is copied as written, below the line naming its JSON Schema for editors.
    assert (made / "entities.yaml").read_text() == (
        "# yaml-language-server: $schema=.entityforge/entities.schema.json\n" + spec.read_text()
    )
    assert (made / "app" / "alembic" / "versions" / "0001_initial.py").is_file()
    assert "_src_path" in (made / ".copier-answers.yml").read_text()
