"""What the generated project and this README tell users: it must be true and runnable."""

from __future__ import annotations

import re
from pathlib import Path

from entityforge.generators import GenerationContext, guide
from entityforge.output.headers import NOTICE
from entityforge.spec import load_schema
from tests.projects import REPO_ROOT, new_project, run

RENTALS_SPEC = REPO_ROOT / "tests" / "specs" / "rentals.yaml"
SINGLE_TENANT_SPEC = REPO_ROOT / "tests" / "specs" / "single_tenant_blog.yaml"


def database_guide(spec: Path) -> str:
    return guide.generate(GenerationContext(load_schema(spec)))["docs/database.md"]


def test_the_single_tenant_guide_speaks_of_no_tenant_session() -> None:
    text = database_guide(SINGLE_TENANT_SPEC)
    assert "tenant_session" not in text and "row-level security" not in text
    assert "session_scope(sessions)" in text


def test_the_guide_uses_the_spec_s_role_names() -> None:
    text = database_guide(RENTALS_SPEC)
    assert "CREATE ROLE myapp LOGIN PASSWORD '...' IN ROLE rent_app;" in text
    assert "SET ROLE rent_ops" in text and "tenant_session(sessions, tenant_id)" in text
    assert "app_writer" not in text


def readme_add_entity_command() -> str:
    readme = (REPO_ROOT / "README.md").read_text()
    block = re.search(r"```bash\n(entityforge add-entity.*?)```", readme, re.DOTALL)
    assert block is not None
    return block[1]


def test_the_readme_add_entity_example_runs(tmp_path: Path) -> None:
    project = new_project(tmp_path, None)
    command = readme_add_entity_command()
    syntax = run(["bash", "-n", "-c", command], cwd=project)
    assert syntax.returncode == 0, syntax.output
    result = run(["bash", "-c", command], cwd=project)
    assert result.returncode == 0, result.output
    spec = (project / "entities.yaml").read_text()
    assert "Label:" in spec and "set_null" in spec
    assert (project / "app" / "models" / "label.py").is_file()


def test_every_generated_file_but_revisions_says_it_is_generated(tmp_path: Path) -> None:
    project = new_project(tmp_path, SINGLE_TENANT_SPEC)
    generated = project / ".entityforge" / "generated"
    # Markdown pages say it in prose; JSON (the spec's JSON Schema) has no comments.
    paths = [
        path
        for path in generated.rglob("*")
        if path.is_file() and path.suffix not in {".md", ".json"}
    ]
    assert paths
    for path in paths:
        first = (project / path.relative_to(generated)).read_text().splitlines()[0]
        assert NOTICE in first, path
    revision = next((project / "app" / "alembic" / "versions").glob("0001_*.py"))
    assert NOTICE not in revision.read_text()
