"""Enum columns stored as ``varchar`` with a check on their labels (guarantee 12).

Equality of ``varchar`` is leakproof, so a condition on such a column is an index
condition for the application role under row-level security; a native enum type's is
not. New enum columns are stored this way; a project whose revisions created enum types
keeps them until its spec says ``defaults: {enums: check}`` (a table rewrite).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from entityforge.catalog import build_catalog
from entityforge.catalog.index_warnings import index_warnings
from entityforge.errors import GenerationError
from entityforge.spec import load_schema_text
from tests.test_incremental import (
    ACCOUNT,
    ENUM_SEED,
    execute,
    newest_revision,
    next_revision,
    round_trip,
    table_rows,
)
from tests.test_keys import SEED, SPEC, legacy_project
from tests.test_migrations import (
    Project,
    assert_catalog_matches,
    guarantee_violations,
    new_project,
    query,
    schema_snapshot,
)

__all__ = ["new_project"]

ENUM_SPEC = """\
version: 1
tenancy: {entity: Account}
entities:
  Account:
    fields:
      name: string(100)
  Task:
    fields:
      title: string(100)
      status: {type: enum, values: VALUES, default: DEFAULT}
      hours: {type: integer, nullable: true}
    indexes:
      - {columns: [status, hours]}
      - {columns: [title], where: "status <> 'done'"}
    checks:
      - {name: todo_has_no_hours, expression: "status <> 'todo' OR hours IS NULL"}
"""
STATUS_CHECK = """
SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'ck_tasks_status_values'
"""


def enum_spec(values: str, default: str) -> str:
    return ENUM_SPEC.replace("VALUES", values).replace("DEFAULT", default)


def upgrade_of(project: Project) -> str:
    _, source = newest_revision(project)
    return source[source.index("def upgrade") : source.index("def downgrade")]


def test_an_enum_column_is_varchar_with_a_check_on_its_labels() -> None:
    tasks = build_catalog(load_schema_text(enum_spec("[todo, done]", "todo"))).table("tasks")
    status = tasks.column("status")
    assert status.type.enum_name is None
    check = next(check for check in tasks.checks if check.values)
    assert (check.name, check.expression) == (
        "ck_tasks_status_values",
        "status IN ('todo', 'done')",
    )


def test_an_added_label_replaces_the_check_without_a_scan_under_the_lock(
    database_url: str, new_project: Callable[..., Project]
) -> None:
    before = enum_spec("[todo, done]", "todo")
    after = enum_spec("[todo, doing, done]", "doing")
    changed = round_trip(new_project, database_url, before, after, ENUM_SEED)
    upgrade = upgrade_of(changed)
    assert "ALTER TYPE" not in upgrade and "type_=sa" not in upgrade
    drop = upgrade.index('op.drop_constraint(op.f("ck_tasks_status_values")')
    add = upgrade.index("postgresql_not_valid=True")
    validate = upgrade.index("VALIDATE CONSTRAINT ck_tasks_status_values")
    assert drop < add < upgrade.index("autocommit_block") < validate
    assert query(database_url, STATUS_CHECK) == [
        (
            "CHECK (((status)::text = ANY ((ARRAY['todo'::character varying, "
            "'doing'::character varying, 'done'::character varying])::text[])))",
        )
    ]
    execute(database_url, f"INSERT INTO tasks (tenant_id, title) VALUES ('{ACCOUNT}', 'c')")
    assert query(database_url, "SELECT status FROM tasks WHERE title = 'c'") == [("doing",)]


def test_a_removed_label_is_refused_unless_allowed(
    database_url: str, new_project: Callable[..., Project]
) -> None:
    before = enum_spec("[todo, doing, done]", "todo")
    after = enum_spec("[todo, done]", "todo")
    with pytest.raises(GenerationError, match=r"tasks.status: labels removed \(doing\)"):
        next_revision(before, after)
    round_trip(new_project, database_url, before, after, ENUM_SEED, allow_destructive=True)


def test_a_renamed_label_is_a_removal_and_an_addition() -> None:
    before = enum_spec("[todo, done]", "todo")
    after = enum_spec("[todo, finished]", "todo")
    with pytest.raises(GenerationError, match=r"tasks.status: labels removed \(done\)"):
        next_revision(before, after)


def test_a_project_with_enum_types_keeps_them_and_is_warned(
    database_url: str, new_project: Callable[..., Project]
) -> None:
    project = legacy_project(new_project)
    upgrade = upgrade_of(project)
    assert "member_role" not in upgrade and "task_status" not in upgrade
    assert "ck_tasks_status_values" not in upgrade
    project.alembic(database_url, "upgrade", "head")
    project.alembic(database_url, "check")
    assert guarantee_violations(database_url, project.schema) == {
        "T11": [("tasks", "ix_tasks_tenant_id_project_id_status", "status", "task_status")]
    }
    warnings = index_warnings(project_catalog(project))
    assert len(warnings) == 1
    assert warnings[0].startswith("tasks: index ix_tasks_tenant_id_project_id_status: the enum")


def project_catalog(project: Project):  # type: ignore[no-untyped-def]
    from entityforge.generators import GenerationContext

    return GenerationContext(project.schema, project.package, project.revisions()[:-1]).catalog


def test_opting_in_rewrites_enum_columns_as_varchar_keeping_the_rows(
    database_url: str, new_project: Callable[..., Project]
) -> None:
    project = legacy_project(new_project)
    project.alembic(database_url, "upgrade", "head")
    execute(database_url, *SEED)
    at_start, rows = schema_snapshot(database_url), table_rows(database_url)
    opted = load_schema_text(SPEC.replace("defaults:", "defaults:\n  enums: check", 1))
    with pytest.raises(GenerationError, match="tasks.status: stored as varchar.63. with a check"):
        project.write(opted, with_models=True)
    changed = project.write(opted, with_models=True, allow_destructive=True)
    changed.alembic(database_url, "upgrade", "head")
    assert guarantee_violations(database_url, changed.schema) == {}
    assert_catalog_matches(database_url, changed.catalog)
    changed.alembic(database_url, "check")
    assert query(database_url, "SELECT status FROM tasks ORDER BY title") == [
        ("todo",),
        ("todo",),
    ]
    changed.alembic(database_url, "downgrade", "-1")
    assert schema_snapshot(database_url) == at_start
    assert table_rows(database_url) == rows
