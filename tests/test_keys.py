"""Tenant-first keys: ``(tenant, id)`` primary keys, also for projects made before them.

``tests/legacy/spec_format_example_0001.py`` is the initial revision entityforge wrote
for ``tests/specs/spec_format_example.yaml`` before primary keys led with the tenant
column (commit c4c0437): ``PRIMARY KEY (id)`` and ``UNIQUE (tenant_id, id)`` on every
tenant-scoped table, composite foreign keys referring to the unique key. The next
``generate`` moves those keys on a database holding rows.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from entityforge.catalog import build_catalog
from entityforge.generators import GenerationContext, migrations
from entityforge.migrate.diff import compare_catalogs
from entityforge.migrate.history import recorded_state
from entityforge.migrate.operations.tenancy import BuildKeyIndex, MovePrimaryKey
from entityforge.spec import load_schema_text
from tests.test_incremental import execute, table_rows
from tests.test_migrations import (
    Project,
    assert_catalog_matches,
    guarantee_violations,
    new_project,
    query,
    schema_snapshot,
)

__all__ = ["new_project"]

ROOT = Path(__file__).resolve().parent
LEGACY_REVISION = ROOT / "legacy" / "spec_format_example_0001.py"
SPEC = (ROOT / "specs" / "spec_format_example.yaml").read_text(encoding="utf-8")
WORKSPACE = "00000000-0000-0000-0000-0000000000a0"
MEMBER = "00000000-0000-0000-0000-0000000000a1"
PROJECT = "00000000-0000-0000-0000-0000000000a2"
TASK = "00000000-0000-0000-0000-0000000000a3"
SEED = (
    f"INSERT INTO workspaces (id, name, slug) VALUES ('{WORKSPACE}', 'w', 'w')",
    f"INSERT INTO members (id, tenant_id, email) VALUES ('{MEMBER}', '{WORKSPACE}', 'm@x')",
    f"INSERT INTO projects (id, tenant_id, name, owner_id) "
    f"VALUES ('{PROJECT}', '{WORKSPACE}', 'p', '{MEMBER}')",
    f"INSERT INTO tasks (id, tenant_id, title, project_id) "
    f"VALUES ('{TASK}', '{WORKSPACE}', 't', '{PROJECT}')",
    f"INSERT INTO tasks (tenant_id, title, project_id, parent_id) "
    f"VALUES ('{WORKSPACE}', 'child', '{PROJECT}', '{TASK}')",
    f"INSERT INTO project_members VALUES ('{WORKSPACE}', '{PROJECT}', '{MEMBER}')",
)
PRIMARY_KEYS = """
SELECT c.conrelid::regclass::text, pg_get_constraintdef(c.oid) FROM pg_constraint c
WHERE c.contype IN ('p', 'u') AND c.connamespace = 'public'::regnamespace
  AND c.conrelid::regclass::text <> 'alembic_version' ORDER BY 1, 2
"""


def legacy_project(new_project: Callable[..., Project]) -> Project:
    """A project whose history is the legacy initial revision, generated again now."""
    project = new_project(load_schema_text(SPEC))
    for old in project.versions.glob("*.py"):
        old.unlink()
    shutil.copy(LEGACY_REVISION, project.versions / "0001_initial.py")
    return project.write(load_schema_text(SPEC), with_models=True)


def test_a_new_tenant_table_has_the_tenant_first_key_and_no_other_key_on_id(
    database_url: str, new_project: Callable[..., Project]
) -> None:
    project = new_project(load_schema_text(SPEC), with_models=True)
    project.alembic(database_url, "upgrade", "head")
    assert query(database_url, PRIMARY_KEYS) == [
        ("members", "PRIMARY KEY (tenant_id, id)"),
        ("project_members", "PRIMARY KEY (tenant_id, project_id, member_id)"),
        ("projects", "PRIMARY KEY (tenant_id, id)"),
        ("projects", "UNIQUE (tenant_id, name)"),
        ("tasks", "PRIMARY KEY (tenant_id, id)"),
        ("workspaces", "PRIMARY KEY (id)"),
        ("workspaces", "UNIQUE (slug)"),
    ]
    assert guarantee_violations(database_url, project.schema) == {}


def test_a_project_made_before_tenant_first_keys_moves_them_keeping_its_rows(
    database_url: str, new_project: Callable[..., Project]
) -> None:
    project = legacy_project(new_project)
    assert [name for name, _ in project.revisions()] == [
        "0001_initial.py",
        "0002_use_tenant_first_primary_keys_and_time_ordered_ids.py",
    ]
    project.alembic(database_url, "upgrade", "0001")
    execute(database_url, *SEED)
    at_legacy, rows = schema_snapshot(database_url), table_rows(database_url)
    assert ("tasks", "UNIQUE (tenant_id, id)") in query(database_url, PRIMARY_KEYS)

    project.alembic(database_url, "upgrade", "head")
    # The enum types stay until the spec opts out (tests/test_enum_storage.py).
    assert list(guarantee_violations(database_url, project.schema)) == ["T11"]
    assert_catalog_matches(database_url, project.catalog)
    project.alembic(database_url, "check")
    assert table_rows(database_url) == rows
    keys = query(database_url, PRIMARY_KEYS)
    assert ("tasks", "PRIMARY KEY (tenant_id, id)") in keys
    assert not [key for key in keys if key[1] == "UNIQUE (tenant_id, id)"]
    invalid = query(database_url, "SELECT conname FROM pg_constraint WHERE NOT convalidated")
    assert invalid == []
    at_head = schema_snapshot(database_url)

    project.alembic(database_url, "downgrade", "0001")
    assert schema_snapshot(database_url) == at_legacy
    assert table_rows(database_url) == rows
    project.alembic(database_url, "upgrade", "head")
    assert schema_snapshot(database_url) == at_head


def test_the_move_builds_its_index_concurrently_and_re_adds_the_references() -> None:
    legacy = LEGACY_REVISION.read_text(encoding="utf-8")
    revision = next_revision_from(legacy)
    upgrade = revision.split("def downgrade", 1)[0]
    build = upgrade.index("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS pk_tasks_next")
    attach = upgrade.index("ADD CONSTRAINT pk_tasks PRIMARY KEY USING INDEX pk_tasks_next")
    validate = upgrade.index("VALIDATE CONSTRAINT fk_tasks_tenant_id_parent_id_tasks")
    assert build < attach < validate
    assert "NOT VALID" in upgrade
    assert upgrade.count("autocommit_block") == 2


def next_revision_from(legacy: str) -> str:
    context = GenerationContext(load_schema_text(SPEC), revisions=(("0001_initial.py", legacy),))
    files = migrations.generate(context)
    return next(text for path, text in files.items() if "/versions/0002" in path)


def test_moves_are_planned_only_for_tables_with_the_old_keys() -> None:
    legacy = recorded_state((("0001_initial.py", LEGACY_REVISION.read_text()),))
    operations = compare_catalogs(legacy, build_catalog(load_schema_text(SPEC)))
    moved = sorted(op.table for op in operations if isinstance(op, MovePrimaryKey))
    assert moved == ["members", "projects", "tasks"]
    built = [op.name for op in operations if isinstance(op, BuildKeyIndex)]
    assert built == ["pk_members_next", "pk_projects_next", "pk_tasks_next"]
