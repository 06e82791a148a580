"""What a new user meets first: `entityforge new` and `copier copy`, quietly right.

No copier notice about git tags or dirty checkouts, a relative spec path resolved where
copier was run, the generator's version pinned in the project, the spec pointing editors
at its JSON Schema, and a development database that starts without warnings.
"""

from __future__ import annotations

import importlib.metadata
import shutil
import sys
import tomllib
from pathlib import Path

from entityforge.project import SCHEMA_PATH
from entityforge.spec.json_schema import SCHEMA_FILE
from entityforge.spec.modeline import SCHEMA_LINE
from tests.conftest import REPO_ROOT, SPECS
from tests.projects import entityforge, project_env, run

NOISE = ("No git tags", "Warning", "warn(", "Traceback", "RuntimeDirWarning")


def assert_quiet(output: str) -> None:
    assert not [word for word in NOISE if word in output], output


def assert_project_basics(project: Path) -> None:
    assert (project / "entities.yaml").read_text().startswith(SCHEMA_LINE)
    assert (project / SCHEMA_PATH).read_text() == SCHEMA_FILE.read_text()
    assert (project / "docs" / "schema.md").read_text().startswith("# The database schema")
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    version = importlib.metadata.version("entityforge")
    assert f"entityforge=={version}" in pyproject["project"]["optional-dependencies"]["dev"]


def test_new_is_quiet_and_its_devdb_starts_and_stops_without_warnings(tmp_path: Path) -> None:
    result = entityforge("new", "dev", cwd=tmp_path)
    assert result.returncode == 0, result.output
    assert_quiet(result.output)
    project = tmp_path / "dev"
    assert_project_basics(project)
    check = entityforge("generate", "--check", cwd=project)
    assert check.returncode == 0, check.output

    env = {**project_env(project), "XDG_RUNTIME_DIR": ""}
    try:
        started = run([sys.executable, "-m", "app.devdb"], cwd=project, env=env)
        assert started.returncode == 0, started.output
        assert_quiet(started.output)
        assert "DATABASE_URL=" in started.stdout
    finally:
        stopped = run([sys.executable, "-m", "app.devdb", "--stop"], cwd=project, env=env)
    assert stopped.returncode == 0, stopped.output
    assert_quiet(stopped.output)


def test_copier_copy_reads_a_relative_spec_from_where_it_runs(tmp_path: Path) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    shutil.copyfile(SPECS / "single_tenant_blog.yaml", specs / "base.yaml")
    copier = Path(sys.executable).parent / "copier"
    result = run(
        [str(copier), "copy", "--trust", "--defaults", "--vcs-ref", "HEAD", "--quiet"]
        + ["--data", "entities_file=base.yaml", str(REPO_ROOT), "../blog"],
        cwd=specs,
    )
    assert result.returncode == 0, result.output
    project = tmp_path / "blog"
    assert "Author:" in (project / "entities.yaml").read_text()
    assert_project_basics(project)
