"""``schema:``: an entity's table in a PostgreSQL schema of its own.

The revisions create the schemas, grant the roles ``USAGE`` on them and name every table
outside ``public`` qualified; relations cross schemas both ways; a table in another schema
is isolated like one in ``public``, as the application's login sees it; a table moves
between schemas with its rows.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.projects import REPO_ROOT, alembic, new_project, project_env, run

SPECS = REPO_ROOT / "tests" / "specs"
CLINICS = SPECS / "schemas.yaml"


@pytest.fixture(scope="module")
def clinics(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return new_project(tmp_path_factory.mktemp("clinics"), CLINICS)


def test_migrates_up_down_up_without_drift(
    clinics: Path, create_database: Callable[[], str]
) -> None:
    url = create_database()
    for step in (("upgrade", "head"), ("check",), ("downgrade", "base"), ("upgrade", "head")):
        result = alembic(clinics, url, *step)
        assert result.returncode == 0, f"alembic {' '.join(step)}:\n{result.output}"
    check = alembic(clinics, url, "check")
    assert "No new upgrade operations detected" in check.output, check.output


def test_the_generated_suite_passes(clinics: Path, server_url: str) -> None:
    result = run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x"],
        cwd=clinics,
        env=project_env(clinics, server_url),
        timeout=900,
    )
    assert result.returncode == 0, result.output[-6000:]
    assert " passed" in result.stdout
