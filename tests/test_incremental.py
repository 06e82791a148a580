"""Incremental revisions on PostgreSQL databases holding rows.

Each scenario generates the initial revision from one spec, migrates a database and
fills it, changes the spec, generates the next revision, and then: upgrade (the rows are
still there, under their new names where renamed), catalog checks and `alembic check`,
downgrade (the database is as it was, rows included), upgrade again (as at head).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from entityforge.errors import GenerationError, SpecError
from entityforge.generators import GenerationContext, migrations
from entityforge.migrate import operations as ops
from entityforge.migrate.diff import compare_catalogs
from entityforge.migrate.operations.renames import (
    RenameColumn,
    RenameConstraint,
    RenameEnum,
    RenameTable,
)
from entityforge.schema import Schema
from entityforge.spec import crosscheck, load_schema_text
from tests.test_migrations import (
    USER_SCHEMAS,
    Project,
    assert_catalog_matches,
    assert_roles_and_grants,
    guarantee_violations,
    new_project,
    query,
    schema_snapshot,
)
from tests.test_operations import catalog_of

__all__ = ["new_project"]

ACCOUNT = "00000000-0000-0000-0000-00000000000a"
OTHER_ACCOUNT = "00000000-0000-0000-0000-00000000000b"


def execute(url: str, *statements: str) -> None:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(text(statement))
    finally:
        engine.dispose()


def table_rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but Alembic's, each table's rows sorted; a partitioned
    table's rows are its own, whichever partitions hold them."""
    tables = [
        name
        for (name,) in query(
            url,
            "SELECT relnamespace::regnamespace::text || '.' || quote_ident(relname) "
            f"FROM pg_class WHERE relkind IN ('r', 'p') AND relnamespace IN ({USER_SCHEMAS}) "
            "AND NOT relispartition AND relname <> 'alembic_version'",
        )
    ]
    return {
        table: sorted(query(url, f"SELECT * FROM {table}"), key=repr) for table in sorted(tables)
    }


EXISTING = Path(__file__).resolve().parent / "existing"


def legacy_schema(text: str) -> Schema:
    """A spec that entityforge accepted before guarantees 10-13: a table without the
    tenant column referencing a tenant-scoped one. Projects made then hold such tables;
    the revision that makes them tenant-scoped takes their tenants from those references."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(crosscheck, "_reference_into_tenancy", lambda *arguments: None)
        return load_schema_text(text)


def round_trip(
    make: Callable[..., Project],
    url: str,
    before: str | Schema,
    after: str,
    seed: Sequence[str],
    *,
    allow_destructive: bool = False,
    allow_rewrite: bool = False,
    check_rows: bool = True,
    initial_revision: Path | None = None,
) -> Project:
    """Initial revision, rows, next revision: up, check, down, up again.

    ``initial_revision`` replaces the first revision: one an earlier entityforge wrote."""
    schema = before if isinstance(before, Schema) else load_schema_text(before)
    initial = make(schema, with_models=True)
    if initial_revision is not None:
        (initial.versions / "0001_initial.py").write_text(initial_revision.read_text())
    initial.alembic(url, "upgrade", "head")
    execute(url, *seed)
    at_initial, rows_initial = schema_snapshot(url), table_rows(url)

    changed = initial.write(
        load_schema_text(after),
        with_models=True,
        allow_destructive=allow_destructive,
        allow_rewrite=allow_rewrite,
    )
    assert len(changed.revisions()) == 2, "the spec change gives one new revision"
    changed.alembic(url, "upgrade", "head")
    assert guarantee_violations(url, changed.schema) == {}
    assert_catalog_matches(url, changed.catalog)
    assert_roles_and_grants(url, changed.catalog)
    changed.alembic(url, "check")
    at_head, rows_head = schema_snapshot(url), table_rows(url)

    changed.alembic(url, "downgrade", "-1")
    assert schema_snapshot(url) == at_initial
    if check_rows:
        assert table_rows(url) == rows_initial
    changed.alembic(url, "upgrade", "head")
    assert schema_snapshot(url) == at_head
    if check_rows:
        assert table_rows(url) == rows_head
    return changed


def initial_history(spec: str) -> dict[str, tuple[tuple[str, str], ...]]:
    """The revisions (``0001_initial.py``) and snapshot a project generated from ``spec``
    has, as ``GenerationContext`` arguments."""
    files = migrations.generate(GenerationContext(load_schema_text(spec)))
    return {
        kind: tuple(
            (path.rsplit("/", 1)[1], content)
            for path, content in files.items()
            if f"/{directory}/" in path
        )
        for kind, directory in (("revisions", "versions"), ("snapshots", "schema"))
    }


def next_revision(
    before: str,
    after: str,
    *,
    allow_destructive: bool = False,
    allow_rewrite: bool = False,
    message: str | None = None,
) -> tuple[str, str]:
    """The file name and text of the revision after the initial one."""
    context = GenerationContext(
        load_schema_text(after),
        **initial_history(before),
        message=message,
        allow_destructive=allow_destructive,
        allow_rewrite=allow_rewrite,
    )
    (revision,) = [
        (path.rsplit("/", 1)[1], content)
        for path, content in migrations.generate(context).items()
        if "/versions/" in path
    ]
    return revision


def newest_revision(project: Project) -> tuple[str, str]:
    """The newest revision's file name and text, long strings joined back."""
    name, source = project.revisions()[-1]
    return name, re.sub(r'"\n\s*"', "", source)


# --- renames -----------------------------------------------------------------------------

RENAME_BEFORE = """\
version: 1
tenancy: {entity: Account}
defaults: {enums: native}
entities:
  Account:
    fields:
      name: string(100)
  Member:
    fields:
      email: {type: string, max_length: 200, unique: true}
      role: {type: enum, values: [owner, member], default: member}
    relations:
      mentors: {kind: many_to_many, target: Member}
  Task:
    fields:
      title: {type: string, max_length: 200, index: true}
      status: {type: enum, values: [todo, done], default: todo}
      hours: {type: integer, nullable: true, check: "hours > 0"}
    relations:
      assignee: {kind: many_to_one, target: Member, nullable: true, on_delete: set_null}
    indexes:
      - {columns: [title], where: "status <> 'done'"}
"""

RENAME_AFTER = """\
version: 1
tenancy: {entity: Account}
entities:
  Account:
    fields:
      name: string(100)
  Person:
    renamed_from: Member
    fields:
      email: {type: string, max_length: 200, unique: true}
      role: {type: enum, values: [owner, member], default: member}
    relations:
      mentors: {kind: many_to_many, target: Person}
  Task:
    fields:
      name: {type: string, max_length: 200, index: true, renamed_from: title}
      status: {type: enum, values: [todo, done], default: todo}
      estimate: {type: integer, nullable: true, check: "estimate > 0", renamed_from: hours}
    relations:
      owner:
        kind: many_to_one
        target: Person
        nullable: true
        on_delete: set_null
        renamed_from: assignee
    indexes:
      - {columns: [name], where: "status <> 'done'"}
"""

MEMBER = "00000000-0000-0000-0000-0000000000c1"
MENTOR = "00000000-0000-0000-0000-0000000000c2"
RENAME_SEED = (
    f"INSERT INTO accounts (id, name) VALUES ('{ACCOUNT}', 'acme')",
    f"INSERT INTO members (id, tenant_id, email, role) VALUES "
    f"('{MEMBER}', '{ACCOUNT}', 'a@example.com', 'owner'), "
    f"('{MENTOR}', '{ACCOUNT}', 'b@example.com', 'member')",
    f"INSERT INTO member_mentors VALUES ('{ACCOUNT}', '{MEMBER}', '{MENTOR}')",
    f"INSERT INTO tasks (tenant_id, title, status, hours, assignee_id) VALUES "
    f"('{ACCOUNT}', 'write', 'todo', 3, '{MEMBER}'), ('{ACCOUNT}', 'read', 'done', NULL, NULL)",
)


def test_renames_keep_the_rows_and_rename_what_is_named_after_them(
    database_url: str, new_project: Callable[..., Project]
) -> None:
    changed = round_trip(new_project, database_url, RENAME_BEFORE, RENAME_AFTER, RENAME_SEED)
    name, source = newest_revision(changed)
    assert "drop_" not in source and "add_column" not in source and "create_table" not in source
    assert 'op.rename_table("members", "people")' in source
    assert 'op.alter_column("tasks", "title", new_column_name="name")' in source
    assert "ALTER TYPE member_role RENAME TO person_role" in source
    assert "ALTER TRIGGER trg_members_updated_at ON people RENAME TO trg_people_updated_at" in (
        source
    )
    assert "ALTER INDEX ix_tasks_tenant_id_title_partial RENAME TO" in source
    assert name == "0002_update_people_person_mentors_and_tasks.py"

    assert query(database_url, "SELECT name, estimate, owner_id::text FROM tasks ORDER BY 1") == [
        ("read", None, None),
        ("write", 3, MEMBER),
    ]
    assert query(database_url, "SELECT person_id::text, mentors_id::text FROM person_mentors") == [
        (MEMBER, MENTOR)
    ]
    assert query(database_url, "SELECT role::text FROM people ORDER BY 1") == [
        ("member",),
        ("owner",),
    ]
    # The spec keeps its renamed_from: nothing more to do.
    again = changed.write(changed.schema, with_models=True)
    assert len(again.revisions()) == 2


def test_a_rename_is_exactly_renames() -> None:
    operations = compare_catalogs(catalog_of(RENAME_BEFORE), catalog_of(RENAME_AFTER))
    assert not any(
        isinstance(op, ops.DropTable | ops.DropColumn | ops.CreateTable | ops.AddColumn)
        for op in operations
    )
    assert RenameTable("members", "people") in operations
    assert RenameColumn("tasks", "assignee_id", "owner_id") in operations
    assert RenameColumn("person_mentors", "member_id", "person_id") in operations


# --- additions to tables with rows ---------------------------------------------------------

ADD_BEFORE = """\
version: 1
tenancy: {entity: Account}
entities:
  Account:
    fields:
      name: string(100)
  Project:
    fields:
      name: string(100)
  Source:
    table: workflow_sources
    fields:
      url: text
"""

ADD_AFTER = """\
version: 1
tenancy: {entity: Account}
entities:
  Account:
    fields:
      name: string(100)
  Project:
    fields:
      name: {type: string, max_length: 100, unique: true}
  Source:
    table: workflow_sources
    fields:
      url: {type: text, index: trgm}
      timeout_seconds: {type: integer, default: 30, check: "timeout_seconds > 0"}
      note: {type: text, nullable: true}
    relations:
      project: {kind: many_to_one, target: Project, nullable: true, on_delete: cascade}
"""

ADD_SEED = (
    f"INSERT INTO accounts (id, name) VALUES ('{ACCOUNT}', 'acme')",
    f"INSERT INTO projects (tenant_id, name) VALUES ('{ACCOUNT}', 'p1'), ('{ACCOUNT}', 'p2')",
    f"INSERT INTO workflow_sources (tenant_id, url) VALUES ('{ACCOUNT}', 'https://a'), "
    f"('{ACCOUNT}', 'https://b')",
)


def test_additions_to_tables_with_rows_do_not_block_writes(
    database_url: str, new_project: Callable[..., Project]
) -> None:
    changed = round_trip(new_project, database_url, ADD_BEFORE, ADD_AFTER, ADD_SEED)
    name, source = newest_revision(changed)
    assert name == "0002_update_projects_and_workflow_sources.py"
    upgrade = source[source.index("def upgrade") : source.index("def downgrade")]
    transaction, _, autocommit = upgrade.partition("with op.get_context().autocommit_block():")
    # The new column with a default is added in place, required at once.
    assert re.search(
        r'"timeout_seconds",\s+sa.Integer\(\),\s+server_default=sa.text\("30"\),'
        r"\s+nullable=False",
        transaction,
    )
    # Constraints are added NOT VALID in the transaction, validated after it commits.
    assert "postgresql_not_valid=True" in transaction
    assert "VALIDATE CONSTRAINT ck_workflow_sources_timeout_seconds" in autocommit
    assert "VALIDATE CONSTRAINT fk_workflow_sources_tenant_id_project_id_projects" in autocommit
    # New indexes and unique keys are built concurrently after it.
    assert "postgresql_concurrently=True" not in transaction
    for index in (
        "ix_workflow_sources_tenant_id_url_trgm",
        "ix_workflow_sources_tenant_id_project_id",
        "uq_projects_tenant_id_name",
    ):
        assert index in autocommit
    assert "ADD CONSTRAINT uq_projects_tenant_id_name UNIQUE USING INDEX" in autocommit
    downgrade = source[source.index("def downgrade") :]
    assert downgrade.index("autocommit_block") < downgrade.index("op.drop_column")
    assert query(database_url, "SELECT timeout_seconds FROM workflow_sources") == [(30,), (30,)]
    invalid = query(
        database_url,
        "SELECT conname FROM pg_constraint WHERE NOT convalidated "
        "AND connamespace = 'public'::regnamespace",
    )
    assert invalid == []


# --- enum labels -------------------------------------------------------------------------

ENUM_SPEC = """\
version: 1
tenancy: {entity: Account}
defaults: {enums: native}
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
      - {columns: [title], where: "status <> 'done'"}
    checks:
      - {name: todo_has_no_hours, expression: "status <> 'todo' OR hours IS NULL"}
"""


def enum_spec(values: str, default: str) -> str:
    return ENUM_SPEC.replace("VALUES", values).replace("DEFAULT", default)


ENUM_SEED = (
    f"INSERT INTO accounts (id, name) VALUES ('{ACCOUNT}', 'acme')",
    f"INSERT INTO tasks (tenant_id, title, status, hours) VALUES "
    f"('{ACCOUNT}', 'a', 'todo', NULL), ('{ACCOUNT}', 'b', 'done', 2)",
)


def test_added_enum_labels_are_added_in_place_and_usable_at_once(
    database_url: str, new_project: Callable[..., Project]
) -> None:
    before = enum_spec("[todo, done]", "todo")
    after = enum_spec("[todo, doing, done, archived]", "doing")
    changed = round_trip(new_project, database_url, before, after, ENUM_SEED)
    _, source = newest_revision(changed)
    upgrade = source[source.index("def upgrade") : source.index("def downgrade")]
    assert upgrade.index("autocommit_block") < upgrade.index("ADD VALUE IF NOT EXISTS 'doing'")
    assert "ALTER TYPE task_status ADD VALUE IF NOT EXISTS 'doing' AFTER 'todo'" in upgrade
    assert "ALTER TYPE task_status ADD VALUE IF NOT EXISTS 'archived' AFTER 'done'" in upgrade
    assert "RENAME TO task_status_old" not in upgrade
    # The downgrade swaps the type back around the partial index and the check.
    downgrade = source[source.index("def downgrade") :]
    assert "RENAME TO task_status_old" in downgrade
    assert downgrade.index("drop_index") < downgrade.index("RENAME TO task_status_old")
    execute(database_url, f"INSERT INTO tasks (tenant_id, title) VALUES ('{ACCOUNT}', 'c')")
    assert query(database_url, "SELECT status::text FROM tasks WHERE title = 'c'") == [("doing",)]


def test_removed_enum_labels_swap_the_type_and_keep_the_rows(
    database_url: str, new_project: Callable[..., Project]
) -> None:
    before = enum_spec("[todo, doing, done]", "doing")
    after = enum_spec("[done, todo]", "todo")
    with pytest.raises(GenerationError, match=r"task_status: labels removed \(doing\)"):
        next_revision(before, after)
    with pytest.raises(GenerationError, match="tasks: swapping the type of status"):
        next_revision(before, after, allow_destructive=True)
    changed = round_trip(
        new_project,
        database_url,
        before,
        after,
        ENUM_SEED,
        allow_destructive=True,
        allow_rewrite=True,
    )
    labels = query(
        database_url,
        "SELECT enumlabel::text FROM pg_enum WHERE enumtypid = 'task_status'::regtype "
        "ORDER BY enumsortorder",
    )
    assert labels == [("done",), ("todo",)]
    assert query(database_url, "SELECT title, status::text FROM tasks ORDER BY 1") == [
        ("a", "todo"),
        ("b", "done"),
    ]
    assert len(changed.revisions()) == 2


# --- soft delete and timestamps -------------------------------------------------------------

NOTE_SPEC = """\
version: 1
tenancy: {entity: Account}
entities:
  Account:
    fields:
      name: string(100)
  Note:
    SWITCHES
    fields:
      title: {type: string, max_length: 100, unique: true}
      body: {type: text, nullable: true}
"""

NOTE_SEED = (
    f"INSERT INTO accounts (id, name) VALUES ('{ACCOUNT}', 'acme')",
    f"INSERT INTO notes (tenant_id, title, body) VALUES ('{ACCOUNT}', 'a', 'x'), "
    f"('{ACCOUNT}', 'b', NULL)",
)


def note_spec(switches: str) -> str:
    return NOTE_SPEC.replace("SWITCHES", switches)


def test_soft_delete_switched_on_keeps_uniqueness_among_live_rows(
    database_url: str, new_project: Callable[..., Project]
) -> None:
    before, after = note_spec("timestamps: true"), note_spec("soft_delete: true")
    changed = round_trip(new_project, database_url, before, after, NOTE_SEED)
    name, source = newest_revision(changed)
    assert name == "0002_add_deleted_at_to_notes_and_index_title.py"
    # The unique constraint becomes a partial unique index of the same name, in the
    # transaction: no moment without the uniqueness.
    assert "autocommit_block" not in source
    execute(
        database_url,
        "UPDATE notes SET deleted_at = now() WHERE title = 'a'",
        f"INSERT INTO notes (tenant_id, title) VALUES ('{ACCOUNT}', 'a')",
    )
    assert query(database_url, "SELECT count(*) FROM notes WHERE title = 'a'") == [(2,)]
    assert query(database_url, "SELECT count(*) FROM notes WHERE updated_at >= created_at") == [
        (3,)
    ]


def test_soft_delete_and_timestamps_switched_off_are_destructive(
    database_url: str, new_project: Callable[..., Project]
) -> None:
    before = note_spec("soft_delete: true")
    after = note_spec("timestamps: false")
    with pytest.raises(GenerationError) as refused:
        next_revision(before, after)
    message = refused.value.render()
    for column in ("notes.deleted_at", "notes.created_at", "notes.updated_at"):
        assert f"{column}: column dropped with its data" in message
    assert "--allow-destructive" in message
    # Re-added columns get new timestamps: compare the schema, not the rows.
    round_trip(
        new_project,
        database_url,
        before,
        after,
        NOTE_SEED,
        allow_destructive=True,
        check_rows=False,
    )
    triggers = (
        "SELECT tgname FROM pg_trigger WHERE tgrelid = 'notes'::regclass AND NOT tgisinternal"
    )
    assert query(database_url, triggers) == []
    assert query(database_url, "SELECT title, body FROM notes ORDER BY 1") == [
        ("a", "x"),
        ("b", None),
    ]


# --- roles -----------------------------------------------------------------------------------


def role_spec(reader: str, writer: str, admin: str) -> str:
    return (
        f"version: 1\nroles: {{reader: {reader}, writer: {writer}, admin: {admin}}}\n"
        "entities:\n  Note:\n    fields:\n      title: string(50)\n"
    )


def roles_like(url: str, prefix: str) -> list[str]:
    rows = query(url, "SELECT rolname FROM pg_roles WHERE rolname LIKE :p ORDER BY 1", p=prefix)
    return [name for (name,) in rows]


def test_a_renamed_role_is_renamed_with_its_grants_and_members(
    database_url: str, new_project: Callable[..., Project]
) -> None:
    prefix = f"r{uuid.uuid4().hex[:8]}"
    before = role_spec(f"{prefix}_r", f"{prefix}_w", f"{prefix}_a")
    after = role_spec(f"{prefix}_r", f"{prefix}_writer", f"{prefix}_admin")
    seed = (
        f"CREATE ROLE {prefix}_app LOGIN IN ROLE {prefix}_w",
        "INSERT INTO notes (title) VALUES ('kept')",
    )
    changed = round_trip(new_project, database_url, before, after, seed)
    name, source = newest_revision(changed)
    assert name == "0002_rename_roles.py"
    assert f"ALTER ROLE {prefix}_w RENAME TO {prefix}_writer;" in source
    assert roles_like(database_url, f"{prefix}_%") == sorted(
        [f"{prefix}_admin", f"{prefix}_app", f"{prefix}_r", f"{prefix}_writer"]
    )
    member = query(
        database_url,
        "SELECT pg_has_role(:login, :writer, 'MEMBER')",
        login=f"{prefix}_app",
        writer=f"{prefix}_writer",
    )
    assert member == [(True,)]
    admin = query(
        database_url, "SELECT rolbypassrls FROM pg_roles WHERE rolname = :r", r=f"{prefix}_admin"
    )
    assert admin == [(True,)]
    execute(database_url, f"DROP ROLE {prefix}_app")


def test_a_role_another_database_uses_is_not_renamed_but_replaced(
    create_database: Callable[[], str], new_project: Callable[..., Project]
) -> None:
    prefix = f"r{uuid.uuid4().hex[:8]}"
    before = role_spec(f"{prefix}_r", f"{prefix}_w", f"{prefix}_a")
    after = role_spec(f"{prefix}_reader", f"{prefix}_w", f"{prefix}_a")
    first, second = create_database(), create_database()
    initial = new_project(load_schema_text(before), with_models=True)
    initial.alembic(second, "upgrade", "head")
    changed = round_trip(
        new_project, first, before, after, ["INSERT INTO notes (title) VALUES ('x')"]
    )
    # The other database still uses the old role: it is kept, and holds nothing here.
    assert roles_like(first, f"{prefix}_r%") == [f"{prefix}_r", f"{prefix}_reader"]
    held = query(first, "SELECT has_table_privilege(:r, 'notes', 'SELECT')", r=f"{prefix}_r")
    assert held == [(False,)]
    assert query(second, "SELECT has_table_privilege(:r, 'notes', 'SELECT')", r=f"{prefix}_r") == [
        (True,)
    ]
    changed.alembic(first, "downgrade", "base")
    initial.alembic(second, "downgrade", "base")
    assert roles_like(first, f"{prefix}_%") == []


# --- tenancy -----------------------------------------------------------------------------------

TENANCY_BEFORE = """\
version: 1
tenancy: {entity: Account}
entities:
  Account:
    fields:
      name: string(100)
  Project:
    fields:
      name: string(100)
  Comment:
    tenant_scoped: false
    fields:
      body: text
    relations:
      project: {kind: many_to_one, target: Project, on_delete: cascade}
      related: {kind: many_to_many, target: Comment}
"""

PROJECT_A = "00000000-0000-0000-0000-0000000000a1"
PROJECT_B = "00000000-0000-0000-0000-0000000000b1"
COMMENT_A = "00000000-0000-0000-0000-0000000000a2"
COMMENT_A2 = "00000000-0000-0000-0000-0000000000a3"
COMMENT_B = "00000000-0000-0000-0000-0000000000b2"
TENANCY_SEED = (
    f"INSERT INTO accounts (id, name) VALUES ('{ACCOUNT}', 'a'), ('{OTHER_ACCOUNT}', 'b')",
    f"INSERT INTO projects (id, tenant_id, name) VALUES ('{PROJECT_A}', '{ACCOUNT}', 'pa'), "
    f"('{PROJECT_B}', '{OTHER_ACCOUNT}', 'pb')",
    f"INSERT INTO comments (id, body, project_id) VALUES ('{COMMENT_A}', 'a', '{PROJECT_A}'), "
    f"('{COMMENT_A2}', 'a2', '{PROJECT_A}'), ('{COMMENT_B}', 'b', '{PROJECT_B}')",
    f"INSERT INTO comment_related VALUES ('{COMMENT_A}', '{COMMENT_A2}')",
)


def test_a_table_becoming_tenant_scoped_takes_its_tenants_from_its_parents(
    database_url: str, new_project: Callable[..., Project]
) -> None:
    after = TENANCY_BEFORE.replace("    tenant_scoped: false\n", "")
    # The first revision as entityforge wrote it before guarantees 10-13 (commit 3ff7195).
    changed = round_trip(
        new_project,
        database_url,
        legacy_schema(TENANCY_BEFORE),
        after,
        TENANCY_SEED,
        initial_revision=EXISTING / "comments_0001_initial.py",
    )
    _, source = newest_revision(changed)
    assert "UPDATE comments AS child SET tenant_id = parent.tenant_id" in source
    assert "ALTER TABLE projects NO FORCE ROW LEVEL SECURITY" in source
    assert "UPDATE comment_related AS child SET tenant_id = parent.tenant_id" in source
    assert "DISABLE TRIGGER trg_comments_updated_at" in source
    assert source.index("UPDATE comments") < source.index("UPDATE comment_related")
    # The junction's new foreign keys need the (tenant, id) key, the table's new primary
    # key: made in the transaction.
    upgrade = source[source.index("def upgrade") : source.index("def downgrade")]
    assert "ADD CONSTRAINT pk_comments PRIMARY KEY (tenant_id, id)" in upgrade
    assert "pk_comments_next" not in upgrade
    tenants = query(database_url, "SELECT body, tenant_id::text FROM comments ORDER BY 1")
    assert tenants == [("a", ACCOUNT), ("a2", ACCOUNT), ("b", OTHER_ACCOUNT)]
    assert query(database_url, "SELECT tenant_id::text FROM comment_related") == [(ACCOUNT,)]
    keys = query(
        database_url,
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'pk_comment_related'",
    )
    assert keys == [("PRIMARY KEY (tenant_id, comment_id, related_id)",)]


def test_a_reference_to_the_tenant_becomes_the_tenant_column(
    database_url: str, new_project: Callable[..., Project]
) -> None:
    before = """\
version: 1
tenancy: {entity: Account}
entities:
  Account:
    fields:
      name: string(100)
  Note:
    tenant_scoped: false
    fields:
      title: string(100)
    relations:
      account: {kind: many_to_one, target: Account}
"""
    after = """\
version: 1
tenancy: {entity: Account}
entities:
  Account:
    fields:
      name: string(100)
  Note:
    fields:
      title: string(100)
"""
    seed = (
        f"INSERT INTO accounts (id, name) VALUES ('{ACCOUNT}', 'a'), ('{OTHER_ACCOUNT}', 'b')",
        f"INSERT INTO notes (title, account_id) VALUES ('x', '{ACCOUNT}'), "
        f"('y', '{OTHER_ACCOUNT}')",
    )
    changed = round_trip(new_project, database_url, before, after, seed)
    _, source = newest_revision(changed)
    assert 'op.alter_column("notes", "account_id", new_column_name="tenant_id")' in source
    assert "drop_column" not in source[: source.index("def downgrade")]
    tenants = query(database_url, "SELECT title, tenant_id::text FROM notes ORDER BY 1")
    assert tenants == [("x", ACCOUNT), ("y", OTHER_ACCOUNT)]


def test_tenancy_switched_on_for_a_database_with_rows(
    database_url: str, new_project: Callable[..., Project]
) -> None:
    before = """\
version: 1
entities:
  Account:
    fields:
      name: string(100)
  Project:
    fields:
      name: string(100)
    relations:
      account: {kind: many_to_one, target: Account, on_delete: cascade}
  Task:
    fields:
      title: string(100)
    relations:
      project: {kind: many_to_one, target: Project, on_delete: cascade}
"""
    after = """\
version: 1
tenancy: {entity: Account}
entities:
  Account:
    fields:
      name: string(100)
  Project:
    fields:
      name: string(100)
  Task:
    fields:
      title: string(100)
    relations:
      project: {kind: many_to_one, target: Project, on_delete: cascade}
"""
    seed = (
        f"INSERT INTO accounts (id, name) VALUES ('{ACCOUNT}', 'a'), ('{OTHER_ACCOUNT}', 'b')",
        f"INSERT INTO projects (id, name, account_id) VALUES ('{PROJECT_A}', 'pa', '{ACCOUNT}'), "
        f"('{PROJECT_B}', 'pb', '{OTHER_ACCOUNT}')",
        f"INSERT INTO tasks (title, project_id) VALUES ('ta', '{PROJECT_A}'), "
        f"('tb', '{PROJECT_B}')",
    )
    round_trip(new_project, database_url, before, after, seed)
    tenants = query(database_url, "SELECT title, tenant_id::text FROM tasks ORDER BY 1")
    assert tenants == [("ta", ACCOUNT), ("tb", OTHER_ACCOUNT)]


def test_a_table_becoming_tenant_scoped_without_a_derivable_tenant_is_refused() -> None:
    before = TENANCY_BEFORE.replace(
        "      project: {kind: many_to_one, target: Project, on_delete: cascade}\n", ""
    )
    after = before.replace("    tenant_scoped: false\n", "")
    with pytest.raises(GenerationError) as refused:
        next_revision(before, after, allow_destructive=True)
    message = refused.value.render()
    assert "comments.tenant_id: the table becomes tenant-scoped, but no row's tenant" in message
    assert "comment_related.tenant_id: the table becomes tenant-scoped" in message
    assert "required many_to_one relation to a tenant-scoped entity" in message


def test_a_table_leaving_tenancy_drops_its_tenant_column(
    database_url: str, new_project: Callable[..., Project]
) -> None:
    unreferenced = TENANCY_BEFORE.replace(
        "      project: {kind: many_to_one, target: Project, on_delete: cascade}\n", ""
    )
    before = unreferenced.replace("    tenant_scoped: false\n", "")
    seed = (f"INSERT INTO accounts (id, name) VALUES ('{ACCOUNT}', 'a')",)
    with pytest.raises(GenerationError, match="comments.tenant_id: column dropped"):
        next_revision(before, unreferenced)
    round_trip(new_project, database_url, before, unreferenced, seed, allow_destructive=True)
    keys = query(
        database_url,
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'pk_comment_related'",
    )
    assert keys == [("PRIMARY KEY (comment_id, related_id)",)]


def test_a_table_cannot_leave_tenancy_while_it_references_tenant_rows() -> None:
    with pytest.raises(SpecError, match="'Comment' is not tenant-scoped, so it cannot reference"):
        load_schema_text(TENANCY_BEFORE)


def test_renamed_tenancy_column_and_setting_move_the_policies(
    database_url: str, new_project: Callable[..., Project]
) -> None:
    before = TENANCY_BEFORE.replace("    tenant_scoped: false\n", "")
    after = before.replace(
        "{entity: Account}", "{entity: Account, column: org_id, setting: app.org}"
    )
    seed = (
        f"INSERT INTO accounts (id, name) VALUES ('{ACCOUNT}', 'a')",
        f"INSERT INTO projects (id, tenant_id, name) VALUES ('{PROJECT_A}', '{ACCOUNT}', 'pa')",
        f"INSERT INTO comments (id, tenant_id, body, project_id) VALUES "
        f"('{COMMENT_A}', '{ACCOUNT}', 'a', '{PROJECT_A}'), "
        f"('{COMMENT_A2}', '{ACCOUNT}', 'a2', '{PROJECT_A}')",
        f"INSERT INTO comment_related VALUES ('{ACCOUNT}', '{COMMENT_A}', '{COMMENT_A2}')",
    )
    changed = round_trip(new_project, database_url, before, after, seed)
    _, source = newest_revision(changed)
    upgrade = source[: source.index("def downgrade")]
    assert "drop_column" not in upgrade and "add_column" not in upgrade
    assert 'op.alter_column("comments", "tenant_id", new_column_name="org_id")' in upgrade
    assert "current_setting('app.org', true)" in upgrade
    assert query(database_url, "SELECT org_id::text FROM comments") == [(ACCOUNT,), (ACCOUNT,)]


# --- what is refused -----------------------------------------------------------------------

BASE = """\
version: 1
tenancy: {entity: Account}
entities:
  Account:
    fields:
      name: string(100)
  Task:
    fields:
      title: string(300)
      body: {type: text, nullable: true}
      hours: {type: integer, nullable: true}
      price: {type: decimal, precision: 10, scale: 2, nullable: true}
      status: {type: enum, values: [todo, done], default: todo}
  LegacyNote:
    fields:
      text: text
"""


def changed(*replacements: tuple[str, str]) -> str:
    spec = BASE
    for old, new in replacements:
        assert old in spec, old
        spec = spec.replace(old, new)
    return spec


def refusal(after: str, *, allow_destructive: bool = False) -> str:
    with pytest.raises(GenerationError) as refused:
        next_revision(BASE, after, allow_destructive=allow_destructive)
    return refused.value.render()


def test_destructive_changes_are_listed_and_refused() -> None:
    after = changed(
        (
            "      body: {type: text, nullable: true}\n",
            "      content: {type: text, nullable: true}\n",
        ),
        ("title: string(300)", "title: string(100)"),
        ("precision: 10, scale: 2", "precision: 10, scale: 1"),
        (
            "      hours: {type: integer, nullable: true}\n",
            "      hours: {type: smallint, nullable: true}\n",
        ),
        ("  LegacyNote:\n    fields:\n      text: text\n", ""),
    )
    message = refusal(after)
    assert message.splitlines()[:7] == [
        "the new revision would destroy data:",
        "  legacy_notes: table dropped with its rows",
        "  tasks.body: column dropped with its data (probable rename to content: add "
        "renamed_from: body to the field to keep the data)",
        "  tasks.title: type narrowed from varchar(300) to varchar(100)",
        "  tasks.hours: type narrowed from integer to smallint",
        "  tasks.price: type narrowed from numeric(10, 2) to numeric(10, 1)",
        "the new revision would rewrite tables under an ACCESS EXCLUSIVE lock (no query runs "
        "meanwhile):",
    ]
    assert "  tasks: changing title from varchar(300) to varchar(100)" in message
    assert "hint: pass --allow-destructive to generate the revision anyway" in message
    with pytest.raises(GenerationError, match="tasks: changing hours from integer to smallint"):
        next_revision(BASE, after, allow_destructive=True)
    name, _ = next_revision(BASE, after, allow_destructive=True, allow_rewrite=True)
    assert name == "0002_drop_legacy_notes_and_update_tasks.py"


def test_widening_is_not_destructive_but_may_rewrite() -> None:
    in_place = changed(
        ("title: string(300)", "title: text"),
        ("precision: 10, scale: 2", "precision: 14, scale: 2"),
        ("[todo, done]", "[todo, done, archived]"),
    )
    name, _ = next_revision(BASE, in_place)
    assert name == "0002_update_tasks.py"
    rewriting = changed(
        ("hours: {type: integer,", "hours: {type: bigint,"),
        ("precision: 10, scale: 2", "precision: 14, scale: 3"),
    )
    assert refusal(rewriting).splitlines()[1:3] == [
        "  tasks: changing hours from integer to bigint",
        "  tasks: changing price from numeric(10, 2) to numeric(14, 3)",
    ]
    assert next_revision(BASE, rewriting, allow_rewrite=True)


def test_a_renamed_entity_without_renamed_from_is_a_probable_rename() -> None:
    after = changed(("  LegacyNote:\n", "  Note:\n"))
    assert (
        "legacy_notes: table dropped with its rows (probable rename to notes: add "
        "renamed_from: LegacyNote to the entity to keep the data)"
    ) in refusal(after)
    renamed = changed(("  LegacyNote:\n", "  Note:\n    renamed_from: LegacyNote\n"))
    assert next_revision(BASE, renamed)[0] == "0002_rename_legacy_notes_to_notes.py"
    by_table = changed(("  LegacyNote:\n", "  Note:\n    renamed_from: legacy_notes\n"))
    assert next_revision(BASE, by_table)[0] == "0002_rename_legacy_notes_to_notes.py"


def test_required_columns_without_values_are_refused_even_when_destructive() -> None:
    after = changed(
        ("      hours:", "      code: string(10)\n      hours:"),
        (
            "      text: text\n",
            "      text: text\n    relations:\n      task: {kind: many_to_one, target: Task}\n",
        ),
    )
    message = refusal(after, allow_destructive=True)
    assert "tasks.code: a required column without a default" in message
    assert "legacy_notes.task_id: a required relation, without a value for the existing rows" in (
        message
    )
    assert "give the field a default; or add it with nullable: true, fill it" in message
    with_default = changed(
        ("      hours:", "      code: {type: string, max_length: 10, default: x}\n      hours:")
    )
    assert next_revision(BASE, with_default)[0] == "0002_add_code_to_tasks.py"


def test_a_stale_renamed_from_changes_nothing() -> None:
    spec = changed(
        (
            "      title: string(300)",
            "      title: {type: string, max_length: 300, renamed_from: name}",
        )
    )
    files = migrations.generate(GenerationContext(load_schema_text(spec), **initial_history(BASE)))
    assert not any("/versions/" in path for path in files)


# --- messages and file names -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (
            changed(
                (
                    "      hours:",
                    "      timeout_seconds: {type: integer, default: 30}\n      hours:",
                )
            ),
            "0002_add_timeout_seconds_to_tasks.py",
        ),
        (
            changed(
                (
                    "      title: string(300)",
                    "      name: {type: string, max_length: 300, renamed_from: title}",
                )
            ),
            "0002_rename_title_to_name_in_tasks.py",
        ),
        (BASE + "  Label:\n    fields:\n      name: string(40)\n", "0002_add_labels.py"),
        (
            BASE
            + "  Label:\n    fields: {name: string(40)}\n  Tag:\n    fields: {name: string(40)}\n",
            "0002_add_labels_and_tags.py",
        ),
        (
            changed(("  LegacyNote:\n    fields:\n      text: text\n", "")),
            "0002_drop_legacy_notes.py",
        ),
        (
            changed(("      body: {type: text, nullable: true}\n", "")),
            "0002_drop_body_from_tasks.py",
        ),
        (changed(("[todo, done]", "[todo, doing, done]")), "0002_add_doing_to_tasks_status.py"),
        (
            changed(
                ("title: string(300)", "title: string(400)"),
                ("      text: text", "      text: {type: text, nullable: true}"),
            ),
            "0002_make_text_optional_in_legacy_notes_and_widen_title_in_tasks.py",
        ),
        (
            changed(
                ("      body: {type: text, nullable: true}\n", ""),
                (
                    "      text: text\n",
                    "      text: text\n      memo: {type: text, nullable: true}\n",
                ),
            ),
            "0002_add_memo_to_legacy_notes_and_drop_body_from_tasks.py",
        ),
        (
            changed(
                ("      body: {type: text, nullable: true}\n", ""),
                ("      hours: {type: integer, nullable: true}\n", ""),
            ),
            "0002_drop_body_and_hours_from_tasks.py",
        ),
        (
            changed(
                (
                    "hours: {type: integer, nullable: true}",
                    "hours: {type: integer, nullable: true, index: true}",
                ),
            ),
            "0002_add_index_on_hours_to_tasks.py",
        ),
        (changed(("title: string(300)", "title: string(400)")), "0002_widen_title_in_tasks.py"),
        (
            changed(
                (
                    "      hours:",
                    "      channel: {type: string, max_length: 20, nullable: true, index: true}\n"
                    "      hours:",
                ),
            ),
            "0002_add_channel_to_tasks_and_index_channel.py",
        ),
        (
            changed(("      text: text", "      text: {type: text, nullable: true}")),
            "0002_make_text_optional_in_legacy_notes.py",
        ),
    ],
    ids=[
        "add-column",
        "rename-column",
        "add-table",
        "add-tables",
        "drop-table",
        "drop-column",
        "enum",
        "several",
        "mixed",
        "drop-columns",
        "index",
        "widen",
        "add-and-index",
        "optional",
    ],
)
def test_revision_file_names_say_what_changes(after: str, expected: str) -> None:
    name, source = next_revision(BASE, after, allow_destructive=True)
    assert name == expected
    message = expected[len("0002_") : -len(".py")].replace("_", " ")
    assert source.startswith('"""') and source.splitlines()[0].replace("_", " ") == f'"""{message}'


def test_the_message_option_names_the_revision() -> None:
    after = changed(("title: string(300)", "title: string(400)"))
    name, source = next_revision(BASE, after, message="Widen títle: see ticket #12!")
    assert name == "0002_widen_title_see_ticket_12.py"
    assert source.splitlines()[0] == '"""Widen títle: see ticket #12!'
    long_name, _ = next_revision(BASE, after, message="word " * 40)
    assert len(long_name) <= len("0002_.py") + 60


# --- determinism and history -----------------------------------------------------------------

DETERMINISM = """\
import hashlib, sys
from pathlib import Path
from entityforge.spec import load_schema_text
from entityforge.generators import GenerationContext
from entityforge.generators import migrations
first = migrations.generate(GenerationContext(load_schema_text(Path(sys.argv[1]).read_text())))
revisions = tuple((p.rsplit("/", 1)[1], t) for p, t in first.items() if "/versions/" in p)
snapshots = tuple((p.rsplit("/", 1)[1], t) for p, t in first.items() if "/schema/" in p)
after = load_schema_text(Path(sys.argv[2]).read_text())
files = migrations.generate(GenerationContext(after, revisions=revisions, snapshots=snapshots))
print(hashlib.sha256(repr(sorted(files.items())).encode()).hexdigest())
"""


def test_incremental_revisions_are_the_same_bytes_under_any_hash_seed(tmp_path: Path) -> None:
    (tmp_path / "before.yaml").write_text(RENAME_BEFORE)
    (tmp_path / "after.yaml").write_text(
        RENAME_AFTER.replace("[todo, done]", "[todo, doing, done]")
        + ADD_AFTER.split("entities:\n")[1].replace(
            "  Account:\n    fields:\n      name: string(100)\n", ""
        )
    )
    digests = {
        subprocess.run(
            [
                sys.executable,
                "-c",
                DETERMINISM,
                str(tmp_path / "before.yaml"),
                str(tmp_path / "after.yaml"),
            ],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("0", "1", "2", "3")
    }
    assert len(digests) == 1


def test_a_deleted_newest_revision_comes_back_identical(
    new_project: Callable[..., Project],
) -> None:
    project = new_project(load_schema_text(RENAME_BEFORE))
    project = project.write(load_schema_text(RENAME_AFTER))
    name, text_ = project.revisions()[-1]
    (project.versions / name).unlink()
    again = project.write(load_schema_text(RENAME_AFTER))
    assert again.revisions()[-1] == (name, text_)


def test_a_spec_edited_back_gives_the_revision_that_reverses_the_change(
    database_url: str, new_project: Callable[..., Project]
) -> None:
    project = new_project(load_schema_text(ADD_BEFORE), with_models=True)
    project.alembic(database_url, "upgrade", "head")
    execute(database_url, *ADD_SEED)
    at_first, rows = schema_snapshot(database_url), table_rows(database_url)
    project = project.write(load_schema_text(ADD_AFTER), with_models=True)
    project.alembic(database_url, "upgrade", "head")
    back = project.write(load_schema_text(ADD_BEFORE), with_models=True, allow_destructive=True)
    names = [name for name, _ in back.revisions()]
    assert names[2] == "0003_update_projects_and_workflow_sources.py"
    back.alembic(database_url, "upgrade", "head")
    assert schema_snapshot(database_url) == at_first
    assert table_rows(database_url) == rows
    back.alembic(database_url, "check")
    back.alembic(database_url, "downgrade", "-2")
    assert schema_snapshot(database_url) == at_first


def test_an_entity_renamed_under_the_same_table_renames_its_types() -> None:
    before = RENAME_BEFORE.replace("  Member:\n", "  Member:\n    table: members\n")
    after = RENAME_BEFORE.replace(
        "  Member:\n", "  Person:\n    table: members\n    renamed_from: Member\n"
    ).replace("target: Member", "target: Person")
    operations = compare_catalogs(catalog_of(before), catalog_of(after))
    assert RenameEnum("member_role", "person_role") in operations
    assert RenameTable("member_mentors", "person_mentors") in operations
    assert not any(isinstance(op, RenameTable) and op.old == "members" for op in operations)


def test_a_renamed_many_to_many_relation_renames_its_junction() -> None:
    after = RENAME_BEFORE.replace(
        "      mentors: {kind: many_to_many, target: Member}",
        "      coaches: {kind: many_to_many, target: Member, renamed_from: mentors}",
    )
    operations = compare_catalogs(catalog_of(RENAME_BEFORE), catalog_of(after))
    assert operations[:2] == (
        RenameTable("member_mentors", "member_coaches"),
        RenameConstraint("member_coaches", "pk_member_mentors", "pk_member_coaches"),
    )
    assert RenameColumn("member_coaches", "mentors_id", "coaches_id") in operations
    assert not any(isinstance(op, ops.DropTable | ops.CreateTable) for op in operations)


def test_types_widened_and_narrowed_keep_values_that_fit(
    database_url: str, new_project: Callable[..., Project]
) -> None:
    before = changed(("      hours:", "      code: {type: string, max_length: 20}\n      hours:"))
    after = changed(
        ("      hours:", "      code: {type: string, max_length: 10}\n      hours:"),
        ("title: string(300)", "title: text"),
        ("hours: {type: integer,", "hours: {type: bigint,"),
        ("precision: 10, scale: 2", "precision: 14, scale: 3"),
    )
    seed = (
        f"INSERT INTO accounts (id, name) VALUES ('{ACCOUNT}', 'a')",
        f"INSERT INTO tasks (tenant_id, title, code, hours, price) VALUES "
        f"('{ACCOUNT}', 't', 'short', 3, 12.5)",
        f"INSERT INTO legacy_notes (tenant_id, text) VALUES ('{ACCOUNT}', 'n')",
    )
    with pytest.raises(GenerationError, match="tasks.code: type narrowed"):
        next_revision(before, after)
    with pytest.raises(GenerationError, match="tasks: changing hours from integer to bigint"):
        next_revision(before, after, allow_destructive=True)
    round_trip(
        new_project,
        database_url,
        before,
        after,
        seed,
        allow_destructive=True,
        allow_rewrite=True,
    )
    assert query(database_url, "SELECT title, code, hours, price::text FROM tasks") == [
        ("t", "short", 3, "12.500")
    ]
