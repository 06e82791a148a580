"""The generated test suite: the decisions behind it, and that it passes on PostgreSQL.

The fast tests check what the fixtures and tests generators decide (safe values, which
keys and checks can be tested, which tables need isolation tests). The slow ones make
whole projects, run their own pytest in a subprocess with this environment's packages
and the project on ``PYTHONPATH``, and check the counts; one adds a leaking policy to
see the isolation tests fail.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from entityforge.generators import GenerationContext, fixtures
from entityforge.generators import tests as tests_generator
from entityforge.generators.fixtures import FactoryField
from entityforge.migrate.history import read_graph
from entityforge.spec import load_schema
from tests.projects import REPO_ROOT, new_project

EXAMPLE_SPEC = REPO_ROOT / "entityforge" / "examples" / "entities.yaml"
SINGLE_TENANT_SPEC = REPO_ROOT / "tests" / "specs" / "single_tenant_blog.yaml"
AWKWARD_SPEC = REPO_ROOT / "tests" / "specs" / "awkward_names.yaml"
# Shaped like real specs: checks across columns, patterns, irregular plurals, json, trees,
# stored generated columns.
REALISTIC_SPECS = {
    "rentals": REPO_ROOT / "tests" / "specs" / "rentals.yaml",
    "commerce": REPO_ROOT / "tests" / "specs" / "commerce.yaml",
    "helpdesk": REPO_ROOT / "tests" / "specs" / "helpdesk.yaml",
    "catalogue": REPO_ROOT / "tests" / "specs" / "catalogue.yaml",
    # Restrictive row-level policies on tenant, tenant-table and global tables.
    "policies": REPO_ROOT / "tests" / "specs" / "policies.yaml",
}

# What each project's suite holds; a change here is a change to the generated tests.
EXPECTED_TESTS = {
    "example": 135,
    "single_tenant": 71,
    "rentals": 211,
    "commerce": 224,
    "helpdesk": 169,
    "catalogue": 66,
    "policies": 91,
}

# A revision that lets every tenant see every project and every tenant, create and
# delete tenants and change a global lookup: isolation must fail for it.
LEAKING_REVISION = '''"""Permissive policies beside the tenant policies (OR-ed), and grants."""

from alembic import op

revision = "0002"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE POLICY leak ON projects FOR ALL USING (true) WITH CHECK (true)")
    op.execute("CREATE POLICY leak ON workspaces FOR ALL USING (true) WITH CHECK (true)")
    op.execute("GRANT INSERT, DELETE ON workspaces TO app_writer")
    op.execute("GRANT INSERT, UPDATE, DELETE ON countries TO app_writer")


def downgrade() -> None:
    op.execute("REVOKE INSERT, UPDATE, DELETE ON countries FROM app_writer")
    op.execute("REVOKE INSERT, DELETE ON workspaces FROM app_writer")
    op.execute("DROP POLICY leak ON workspaces")
    op.execute("DROP POLICY leak ON projects")
'''


def context(spec: Path) -> GenerationContext:
    return GenerationContext(load_schema(spec))


def factory_fields(spec: Path, entity: str) -> dict[str, FactoryField]:
    ctx = context(spec)
    view = fixtures.entity_factory_view(ctx.catalog, ctx.schema.entity(entity))
    return {field.attribute: field for field in view.fields}


def test_factories_choose_values_the_example_constraints_accept() -> None:
    slug = factory_fields(EXAMPLE_SPEC, "Workspace")["slug"].value
    assert slug == "Use(pattern_text, '^[a-z0-9-]{1,8}$', 63)"  # unique, drawn from its check
    assert factory_fields(EXAMPLE_SPEC, "Country")["code"].value == "Use(unique_text, 2, 'lower')"
    project = factory_fields(EXAMPLE_SPEC, "Project")
    assert project["name"].value == "Use(unique_text, 12, 'lower')"  # unique: [[name]]
    assert project["budget"].value == "None"  # nullable, checked
    task = factory_fields(EXAMPLE_SPEC, "Task")
    assert task["due_at"].value == "None"  # read by a table check
    assert task["estimate_hours"].value == "None"
    assert task["title"].value == "Use(unique_text, 12, 'lower')"  # the field tests filter by
    assert "metadata_" not in task  # polyfactory's own value fits
    assert factory_fields(SINGLE_TENANT_SPEC, "Author")["karma"].value == "0"


def test_required_parents_leave_out_optional_and_self_references() -> None:
    ctx = context(EXAMPLE_SPEC)
    task = fixtures.entity_factory_view(ctx.catalog, ctx.schema.entity("Task"))
    assert task.required_parents == (("project_id", "Project"),)


def test_unique_keys_that_hold_a_smaller_key_are_not_tested_alone() -> None:
    ctx = context(AWKWARD_SPEC)
    entity = ctx.schema.entity("ExtraordinarilyLongEntityNameForTestingTruncationOfIdentifiers")
    keys = tests_generator.unique_key_cases(ctx.catalog, entity)
    assert [key.attributes for key in keys] == [
        ("an_extremely_long_column_name_that_pushes_identifiers_over_lim",)
    ]


def test_check_cases_break_each_check_alone() -> None:
    ctx = context(EXAMPLE_SPEC)
    cases = {
        name: {
            case.constraint: {attribute: value.text for attribute, value in case.overrides}
            for case in tests_generator.check_cases(ctx.catalog, ctx.schema.entity(name))
        }
        for name in ("Workspace", "Project", "Task")
    }
    assert cases["Workspace"] == {"ck_workspaces_slug": {"slug": "'ABC'"}}
    assert cases["Project"] == {"ck_projects_budget": {"budget": "Decimal('-0.01')"}}
    assert cases["Task"] == {
        "ck_tasks_estimate_hours": {"estimate_hours": "0"},
        "ck_tasks_due_after_created": {"due_at": "moment(-2)"},
    }


def test_tenant_isolation_covers_every_tenant_table_and_reference() -> None:
    ctx = context(EXAMPLE_SPEC)
    view = tests_generator.tenant_isolation_view(ctx.schema, ctx.catalog)
    assert view.entity_models == ("Member", "Project", "Task", "TaskDetail")
    assert [table for table, _ in view.junction_tables] == ["member_mentors", "project_members"]
    assert len(view.references) == 9
    assert {reference.table for reference in view.references} == {
        "member_mentors",
        "project_members",
        "projects",
        "task_details",
        "tasks",
    }


def test_a_single_tenant_project_has_no_tenant_machinery() -> None:
    ctx = context(SINGLE_TENANT_SPEC)
    files = tests_generator.generate(ctx)
    assert "tests/test_tenant_isolation.py" not in files
    assert "tenant" not in files["tests/conftest.py"]
    assert "refused_by_row_security" not in files["tests/support.py"]


def test_generation_does_not_depend_on_the_hash_seed() -> None:
    script = (
        "import hashlib; from pathlib import Path\n"
        "from entityforge.generators import GenerationContext, devdb, fixtures, tests\n"
        "from entityforge.spec import load_schema\n"
        f"ctx = GenerationContext(load_schema(Path({str(EXAMPLE_SPEC)!r})))\n"
        "files = {**fixtures.generate(ctx), **tests.generate(ctx), **devdb.generate(ctx)}\n"
        "print(hashlib.sha256(repr(sorted(files.items())).encode()).hexdigest())\n"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(digests) == 1


def run_project_tests(project: Path, database_url: str | None, *args: str) -> str:
    """Run the project's pytest as a user would; return its output."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("DATABASE_URL")}
    env |= {"PYTHONPATH": str(project), "PYTHONDONTWRITEBYTECODE": "1"}
    if database_url:
        env["TEST_DATABASE_URL"] = database_url
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args]
    result = subprocess.run(
        command, cwd=project, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    return result.stdout + result.stderr


def outcome_counts(output: str) -> dict[str, int]:
    """``{"passed": 127, "failed": 2}`` from pytest's closing line."""
    counts = re.findall(r"(\d+) (passed|failed|skipped|errors?)", output)
    return {word: int(count) for count, word in counts}


def test_the_example_suite_passes_on_an_embedded_server(tmp_path: Path) -> None:
    project = new_project(tmp_path, None)
    output = run_project_tests(project, None)
    assert outcome_counts(output) == {"passed": EXPECTED_TESTS["example"]}, output[-6000:]


def test_the_single_tenant_suite_passes_on_a_given_server(tmp_path: Path, server_url: str) -> None:
    project = new_project(tmp_path, SINGLE_TENANT_SPEC)
    output = run_project_tests(project, server_url)
    assert outcome_counts(output) == {"passed": EXPECTED_TESTS["single_tenant"]}, output[-6000:]


@pytest.mark.parametrize("name", sorted(REALISTIC_SPECS))
def test_a_realistic_suite_passes(tmp_path: Path, server_url: str, name: str) -> None:
    project = new_project(tmp_path, REALISTIC_SPECS[name])
    output = run_project_tests(project, server_url)
    assert outcome_counts(output) == {"passed": EXPECTED_TESTS[name]}, output[-6000:]


FACTORY_ROWS = (
    "from tests.factories import CustomerFactory, ProductFactory, StoreFactory\n"
    "print([f.process_kwargs() for f in (StoreFactory, ProductFactory, CustomerFactory)])\n"
)


def test_a_seed_replays_the_factories_rows(tmp_path: Path) -> None:
    project = new_project(tmp_path, REALISTIC_SPECS["commerce"])
    env = {**os.environ, "PYTHONPATH": str(project)}

    def rows(seed: str) -> str:
        result = subprocess.run(
            [sys.executable, "-c", FACTORY_ROWS],
            cwd=project,
            env={**env, "TEST_SEED": seed},
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout

    assert rows("7") == rows("7")
    assert rows("7") != rows("8")


def test_the_isolation_tests_catch_a_leaking_policy(tmp_path: Path, server_url: str) -> None:
    project = new_project(tmp_path, None)
    versions = project / "app" / "alembic" / "versions"
    (head,) = read_graph((p.name, p.read_text()) for p in versions.glob("*.py")).heads
    (versions / "0002_leak.py").write_text(LEAKING_REVISION.replace("{head}", head))
    output = run_project_tests(project, server_url, "tests/test_tenant_isolation.py", "-rf")
    failed = set(
        re.findall(
            r"FAILED tests/test_tenant_isolation.py::(\w+(?:\[(?:projects|countries)\])?)", output
        )
    )
    assert failed == {
        "test_rows_of_another_tenant_are_invisible[projects]",
        "test_updates_and_deletes_miss_another_tenants_rows[projects]",
        "test_inserting_a_row_for_another_tenant_is_refused[projects]",
        "test_moving_a_row_to_another_tenant_is_refused[projects]",
        "test_without_a_tenant_nothing_is_visible_or_changed[projects]",
        "test_the_tenant_table_shows_only_the_own_tenant",
        "test_another_tenant_cannot_be_changed",
        "test_tenants_are_neither_created_nor_deleted_by_the_application",
        "test_the_application_may_only_read_a_global_table[countries]",
    }, output[-6000:]
    assert outcome_counts(output)["failed"] == len(failed), output[-6000:]
    assert re.search(r"replay with TEST_SEED=\d+ pytest", output), output[-2000:]
