"""Diffs give the expected operations; each operation reverses; single operations render
to exact text; the recorded state round-trips. No database needed here."""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

import pytest

from entityforge.catalog import (
    Catalog,
    CheckConstraint,
    Column,
    EnumType,
    ForeignKey,
    Index,
    IndexColumn,
    Table,
    UniqueConstraint,
    build_catalog,
)
from entityforge.catalog.grants import WRITE
from entityforge.errors import GenerationError
from entityforge.generators.migrations import render_revision
from entityforge.generators.migrations.code import SA
from entityforge.generators.migrations.renderers import render_operation, render_validation
from entityforge.migrate import operations as ops
from entityforge.migrate.breaking import breaking_changes, notice
from entityforge.migrate.diff import compare_catalogs
from entityforge.migrate.operations.renames import (
    RenameColumn,
    RenameConstraint,
    RenameEnum,
    RenameIndex,
    RenameRole,
    RenameTable,
    RenameTrigger,
)
from entityforge.migrate.operations.tenancy import (
    AddFilledColumn,
    ColumnFill,
    DropFilledColumn,
    ReplacePrimaryKey,
)
from entityforge.migrate.safety import narrowing
from entityforge.parse_tree import rename_columns
from entityforge.schema import ColumnType, DefaultValue
from entityforge.spec import load_schema, load_schema_text

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "entityforge" / "examples" / "entities.yaml"
SPECS = [EXAMPLE, *sorted((REPO / "tests" / "specs").glob("*.yaml"))]

NOTES = """\
version: 1
tenancy: {entity: Account}
entities:
  Account:
    fields:
      name: string(100)
  Note:
    fields:
      title: string(200)
      status: {type: enum, values: [draft, live], default: draft}
      body: {type: text, nullable: true}
    indexes:
      - {columns: [status]}
      - {columns: [title], where: "status <> 'draft'"}
"""


def catalog_of(text: str) -> Catalog:
    return build_catalog(load_schema_text(text))


def kinds(operations: tuple[ops.Operation, ...]) -> list[tuple[str, str]]:
    """``(operation class, what it is about)`` for compact assertions."""
    result = []
    for operation in operations:
        subject = getattr(operation, "table", None) or getattr(operation, "name", "")
        if isinstance(subject, Table):
            subject = subject.name
        if isinstance(operation, ops.CreateEnum | ops.DropEnum):
            subject = operation.enum.name
        detail = getattr(operation, "index", None) or getattr(operation, "column", None)
        name = getattr(detail, "name", None) or getattr(operation, "role", None)
        result.append((type(operation).__name__, f"{subject}.{name}" if name else subject))
    return result


# --- the initial diff ------------------------------------------------------------------


def test_initial_diff_of_the_example_creates_everything_in_dependency_order() -> None:
    operations = compare_catalogs(None, build_catalog(load_schema(EXAMPLE)))
    observed = kinds(operations)
    assert observed[:8] == [
        ("CreateExtension", "btree_gin"),
        ("CreateExtension", "btree_gist"),
        ("CreateExtension", "pg_trgm"),
        ("CreateRole", "app_reader"),
        ("CreateRole", "app_writer"),
        ("CreateRole", "app_admin"),
        ("CreateUpdatedAtFunction", ""),
        ("CreateUuidv7Function", ""),
    ]
    tables = [subject for kind, subject in observed if kind == "CreateTable"]
    assert tables == [
        "workspaces",
        "members",
        "projects",
        "tasks",
        "task_details",
        "countries",
        "member_mentors",
        "project_members",
    ]
    tasks = [item for item in observed if item[1].split(".")[0] == "tasks"]
    assert tasks == [
        ("CreateTable", "tasks"),
        ("CreateIndex", "tasks.ix_tasks_tenant_id_project_id_status"),
        ("CreateIndex", "tasks.ix_tasks_tenant_id_due_at_partial"),
        ("CreateIndex", "tasks.ix_tasks_tenant_id_parent_id"),
        ("CreateIndex", "tasks.ix_tasks_tenant_id_assignee_id"),
        ("CreateUpdatedAtTrigger", "tasks"),
        ("EnableRowLevelSecurity", "tasks"),
        ("CreateTenantPolicy", "tasks"),
        ("GrantPrivileges", "tasks.app_reader"),
        ("GrantPrivileges", "tasks.app_writer"),
        ("GrantPrivileges", "tasks.app_admin"),
    ]
    # The tenant table's policy reads its id; the global table carries no RLS; no
    # foreign key waits.
    assert ("EnableRowLevelSecurity", "workspaces") in observed
    assert ("CreateTenantPolicy", "workspaces") in observed
    assert ("EnableRowLevelSecurity", "countries") not in observed
    assert ("EnableRowLevelSecurity", "member_mentors") in observed
    assert not any(kind == "AddForeignKey" for kind, _ in observed)


def test_an_empty_catalog_is_the_empty_database() -> None:
    new = build_catalog(load_schema(EXAMPLE))
    assert compare_catalogs(Catalog(tables=()), new) == compare_catalogs(None, new)
    assert compare_catalogs(new, new) == ()


def test_foreign_keys_inline_unless_the_referred_table_comes_later() -> None:
    catalog = catalog_of("""\
version: 1
entities:
  Team:
    fields: {name: string(50)}
    relations:
      captain: {kind: many_to_one, target: Player, nullable: true, on_delete: set_null}
  Player:
    fields: {name: string(50)}
    relations:
      team: {kind: many_to_one, target: Team}
      mentor: {kind: many_to_one, target: Player, nullable: true}
""")
    operations = compare_catalogs(None, catalog)
    created = {op.table.name: op.table for op in operations if isinstance(op, ops.CreateTable)}
    assert list(created) == ["teams", "players"]
    assert created["teams"].foreign_keys == ()
    assert [fk.referred_table for fk in created["players"].foreign_keys] == ["teams", "players"]
    assert operations[-1] == ops.AddForeignKey("teams", catalog.table("teams").foreign_keys[0])


def test_operations_are_frozen() -> None:
    operation = ops.CreateExtension("pg_trgm")
    with pytest.raises(dataclasses.FrozenInstanceError):
        operation.name = "x"  # type: ignore[misc]


# --- reverse ---------------------------------------------------------------------------

_COLUMN = Column("title", ColumnType("string", max_length=200))
_INDEX = Index("ix_notes_title", (IndexColumn("title"),))
_FK = ForeignKey("fk_notes_account_id_accounts", ("account_id",), "accounts", ("id",))
_TABLE = Table("notes", (_COLUMN,), ("id",))
PAIRS = [
    (ops.CreateExtension("pg_trgm"), ops.DropExtension("pg_trgm")),
    (ops.CreateRole("app_admin", True), ops.DropRole("app_admin", True)),
    (ops.CreateEnum(EnumType("s", ("a",))), ops.DropEnum(EnumType("s", ("a",)))),
    (ops.CreateUpdatedAtFunction(), ops.DropUpdatedAtFunction()),
    (ops.CreateTable(_TABLE), ops.DropTable(_TABLE)),
    (ops.AddColumn("notes", _COLUMN), ops.DropColumn("notes", _COLUMN)),
    (
        ops.AddUniqueConstraint("notes", UniqueConstraint("uq_notes_title", ("title",))),
        ops.DropUniqueConstraint("notes", UniqueConstraint("uq_notes_title", ("title",))),
    ),
    (
        ops.AddCheckConstraint("notes", CheckConstraint("ck_notes_x", "x", "x > 0")),
        ops.DropCheckConstraint("notes", CheckConstraint("ck_notes_x", "x", "x > 0")),
    ),
    (ops.AddForeignKey("notes", _FK), ops.DropForeignKey("notes", _FK)),
    (ops.CreateIndex("notes", _INDEX), ops.DropIndex("notes", _INDEX)),
    (ops.CreateUpdatedAtTrigger("notes"), ops.DropUpdatedAtTrigger("notes")),
    (ops.EnableRowLevelSecurity("notes"), ops.DisableRowLevelSecurity("notes")),
    (
        ops.CreateTenantPolicy("notes", "tenant_id", "app.tenant_id"),
        ops.DropTenantPolicy("notes", "tenant_id", "app.tenant_id"),
    ),
    (
        ops.GrantPrivileges("notes", "app_reader", ("SELECT",)),
        ops.RevokePrivileges("notes", "app_reader", ("SELECT",)),
    ),
]


@pytest.mark.parametrize(("forward", "backward"), PAIRS, ids=lambda op: type(op).__name__)
def test_reverse_pairs(forward: ops.Operation, backward: ops.Operation) -> None:
    assert forward.reverse() == backward
    assert backward.reverse() == forward


def test_alterations_reverse_by_swapping_before_and_after() -> None:
    wider = dataclasses.replace(_COLUMN, type=ColumnType("string", max_length=300))
    assert ops.AlterColumn("notes", _COLUMN, wider).reverse() == ops.AlterColumn(
        "notes", wider, _COLUMN
    )
    assert ops.AlterTableComment("notes", None, "x").reverse() == ops.AlterTableComment(
        "notes", "x", None
    )
    use = ops.EnumUse("notes", _COLUMN, wider)
    altered = ops.AlterEnum("s", ("a",), ("a", "b"), (use,))
    assert altered.reverse() == ops.AlterEnum("s", ("a", "b"), ("a",), (use.reversed(),))
    assert altered.reverse().reverse() == altered


def test_every_operation_of_the_example_reverses_to_itself() -> None:
    for operation in compare_catalogs(None, build_catalog(load_schema(EXAMPLE))):
        assert operation.reverse().reverse() == operation
        assert type(operation.reverse()) is not type(operation)


def test_invert_reverses_order_and_operations() -> None:
    first, second = ops.CreateExtension("a"), ops.CreateRole("r")
    assert ops.invert([first, second]) == (ops.DropRole("r"), ops.DropExtension("a"))


# --- incremental diffs -----------------------------------------------------------------


def test_adding_a_field_adds_a_column() -> None:
    old = catalog_of(NOTES)
    new = catalog_of(
        NOTES.replace("      body:", "      pages: {type: integer, default: 1}\n      body:")
    )
    assert kinds(compare_catalogs(old, new)) == [("AddColumn", "notes.pages")]


def test_dropping_the_last_trigram_index_drops_unused_extensions() -> None:
    old = catalog_of(NOTES.replace("nullable: true}", "nullable: true, index: trgm}"))
    new = catalog_of(NOTES)
    assert kinds(compare_catalogs(old, new)) == [
        ("DropSearchFunction", "notes"),
        ("DropIndex", "notes.ix_notes_tenant_id_body_trgm"),
        ("DropExtension", "pg_trgm"),
        ("DropExtension", "btree_gin"),
    ]


def test_dropping_a_field_drops_its_index_before_the_column() -> None:
    old = catalog_of(
        NOTES.replace(
            "title: string(200)",
            "title: string(200)\n      code: {type: string, max_length: 9, index: true}",
        )
    )
    assert kinds(compare_catalogs(old, catalog_of(NOTES))) == [
        ("DropIndex", "notes.ix_notes_tenant_id_code"),
        ("DropColumn", "notes.code"),
    ]


def test_a_new_relation_adds_its_foreign_key_after_the_tables() -> None:
    old = catalog_of(NOTES)
    new = catalog_of(
        NOTES + "    relations:\n      parent: {kind: many_to_one, target: Note, nullable: true}\n"
    )
    operations = compare_catalogs(old, new)
    assert kinds(operations) == [
        ("AddColumn", "notes.parent_id"),
        ("AddForeignKey", "notes"),
        ("CreateIndex", "notes.ix_notes_tenant_id_parent_id"),
    ]
    # The table has rows: the key is validated later, the index built concurrently.
    foreign_key, index = operations[1:]
    assert isinstance(foreign_key, ops.AddForeignKey) and foreign_key.validate_later
    assert isinstance(index, ops.CreateIndex) and index.concurrently


def test_new_unique_keys_of_a_table_with_rows_are_built_concurrently() -> None:
    before = "version: 1\nentities:\n  Team:\n    fields: {code: string(9)}\n"
    after = (
        "version: 1\nentities:\n  Team:\n    fields:\n"
        "      code: {type: string, max_length: 9, unique: true}\n"
        "      name: {type: string, max_length: 9, unique: true, nullable: true}\n"
    )
    _, by_code, by_name = compare_catalogs(catalog_of(before), catalog_of(after))
    assert isinstance(by_code, ops.AddUniqueConstraint) and by_code.concurrently
    assert isinstance(by_name, ops.AddUniqueConstraint) and by_name.concurrently


POSTS = """\
version: 1
entities:
  Author:
    fields: {name: string(50)}
  Post:
    fields: {title: string(50)}
    relations:
      author: {kind: many_to_one, target: Author}
    indexes:
      - {columns: [author_id, title]}
"""


def test_losing_the_index_that_served_a_foreign_key_adds_one_for_it() -> None:
    old = catalog_of(POSTS)
    new = catalog_of(POSTS.replace("    indexes:\n      - {columns: [author_id, title]}\n", ""))
    operations = compare_catalogs(old, new)
    # The new index is built before the one it replaces is dropped, both concurrently.
    assert kinds(operations) == [
        ("CreateIndex", "posts.ix_posts_author_id"),
        ("DropIndex", "posts.ix_posts_author_id_title"),
    ]
    assert all(operation.outside_transaction for operation in operations)


def test_changing_a_column_alters_it_in_place() -> None:
    old = catalog_of(NOTES)
    new = catalog_of(NOTES.replace("title: string(200)", "title: string(300)"))
    (operation,) = compare_catalogs(old, new)
    assert isinstance(operation, ops.AlterColumn)
    assert (operation.old.type.max_length, operation.new.type.max_length) == (200, 300)
    assert compare_catalogs(new, old) == (operation.reverse(),)


def test_new_entity_is_created_with_everything_it_carries() -> None:
    old = catalog_of(NOTES)
    new = catalog_of(NOTES + "  Tag:\n    fields:\n      label: string(40)\n")
    assert [kind for kind, _ in kinds(compare_catalogs(old, new))] == [
        "CreateTable",
        "CreateUpdatedAtTrigger",
        "EnableRowLevelSecurity",
        "CreateTenantPolicy",
        "GrantPrivileges",
        "GrantPrivileges",
        "GrantPrivileges",
    ]
    assert compare_catalogs(new, old) == ops.invert(compare_catalogs(old, new))


NATIVE_NOTES = NOTES.replace("entities:\n", "defaults: {enums: native}\nentities:\n", 1)


def test_added_enum_labels_are_added_in_place_and_removed_by_a_swap() -> None:
    old = catalog_of(NATIVE_NOTES)
    new = catalog_of(NATIVE_NOTES.replace("[draft, live]", "[draft, live, archived]"))
    (added,) = compare_catalogs(old, new)
    assert isinstance(added, ops.AddEnumValues) and added.outside_transaction
    assert added.added_values == ("archived",)
    assert [(use.table, use.after.name) for use in added.uses] == [("notes", "status")]
    # Undone by the swap, which rebuilds the partial index holding a constant of the type.
    swap = added.reverse()
    assert isinstance(swap, ops.AlterEnum) and swap.removed_values == ("archived",)
    assert [type(op).__name__ for op in swap.dependents] == ["CreateIndex"]


def test_removed_enum_labels_swap_the_type_around_what_holds_its_constants() -> None:
    old = catalog_of(NATIVE_NOTES)
    new = catalog_of(
        NATIVE_NOTES.replace("[draft, live]", "[live, gone]").replace(
            "default: draft", "default: live"
        )
    )
    (swap,) = compare_catalogs(old, new)
    assert isinstance(swap, ops.AlterEnum) and not swap.outside_transaction
    assert swap.removed_values == ("draft",)
    (use,) = swap.uses
    assert (use.before.default, use.after.default) == (DefaultValue("draft"), DefaultValue("live"))
    (dependent,) = swap.dependents
    assert isinstance(dependent, ops.CreateIndex)
    assert dependent.index.name == "ix_notes_tenant_id_title_partial"
    assert compare_catalogs(new, old) == (swap.reverse(),)


def test_switching_soft_delete_on_turns_uniques_into_partial_indexes() -> None:
    unique = NOTES.replace(
        "title: string(200)", "title: {type: string, max_length: 200, unique: true}"
    )
    old = catalog_of(unique)
    new = catalog_of(unique.replace("  Note:\n", "  Note:\n    soft_delete: true\n"))
    assert kinds(compare_catalogs(old, new)) == [
        ("DropUniqueConstraint", "notes"),
        ("AddColumn", "notes.deleted_at"),
        ("CreateIndex", "notes.uq_notes_tenant_id_title"),
    ]


def test_renamed_roles_move_the_grants() -> None:
    old = catalog_of(NOTES)
    new = catalog_of(NOTES.replace("entities:", "roles: {reader: ro}\nentities:"))
    assert compare_catalogs(old, new) == (
        RenameRole("app_reader", "ro", False, (("accounts", ("SELECT",)), ("notes", ("SELECT",)))),
    )
    swapped = catalog_of(
        NOTES.replace("entities:", "roles: {reader: app_writer, writer: app_reader}\nentities:")
    )
    observed = kinds(compare_catalogs(old, swapped))
    assert ("RevokePrivileges", "notes.app_reader") in observed
    assert ("GrantPrivileges", "notes.app_writer") in observed


def test_a_new_setting_replaces_the_policies() -> None:
    old = catalog_of(NOTES)
    new = catalog_of(NOTES.replace("{entity: Account}", "{entity: Account, setting: x.org}"))
    assert kinds(compare_catalogs(old, new)) == [
        ("DropTenantPolicy", "notes"),
        ("DropTenantPolicy", "accounts"),
        ("CreateTenantPolicy", "accounts"),
        ("CreateTenantPolicy", "notes"),
    ]


def test_leaving_tenancy_drops_row_level_security() -> None:
    old = catalog_of(NOTES)
    new = catalog_of(NOTES.replace("  Note:\n", "  Note:\n    tenant_scoped: false\n"))
    observed = kinds(compare_catalogs(old, new))
    assert ("DisableRowLevelSecurity", "notes") in observed
    assert ("DropTenantPolicy", "notes") in observed
    assert observed.index(("DropTenantPolicy", "notes")) < observed.index(
        ("DisableRowLevelSecurity", "notes")
    )
    assert ("DropColumn", "notes.tenant_id") in observed


def test_a_changed_primary_key_is_refused() -> None:
    old = catalog_of(NOTES)
    table = old.table("notes")
    new = dataclasses.replace(
        old, tables=(old.tables[0], dataclasses.replace(table, primary_key=("title",)))
    )
    with pytest.raises(GenerationError, match="primary key of table notes"):
        compare_catalogs(old, new)


# --- single-operation renders ----------------------------------------------------------


def test_render_trigram_index() -> None:
    index = Index(
        "ix_members_tenant_id_display_name_trgm",
        (IndexColumn("tenant_id"), IndexColumn("display_name", "gin_trgm_ops")),
        method="gin",
    )
    assert render_operation(ops.CreateIndex("members", index)).text == (
        "op.create_index(\n"
        "    op.f('ix_members_tenant_id_display_name_trgm'),\n"
        "    'members',\n"
        "    ['tenant_id', 'display_name'],\n"
        "    unique=False,\n"
        "    postgresql_using='gin',\n"
        "    postgresql_ops={'display_name': 'gin_trgm_ops'},\n"
        ")"
    )
    dropped = render_operation(ops.DropIndex("members", index)).text
    assert dropped == (
        "op.drop_index(op.f('ix_members_tenant_id_display_name_trgm'), table_name='members')"
    )


def test_render_partial_unique_index() -> None:
    index = Index("uq_t_a", (IndexColumn("a"),), unique=True, where="deleted_at IS NULL")
    snippet = render_operation(ops.CreateIndex("t", index))
    assert "    postgresql_where=sa.text('deleted_at IS NULL'),\n" in snippet.text
    assert SA in snippet.imports


def test_render_tenant_policy() -> None:
    text = render_operation(ops.CreateTenantPolicy("order", "org_id", "my.org")).text
    condition = "org_id = (SELECT NULLIF(current_setting('my.org', true), '')::uuid)"
    pieces = [
        'CREATE POLICY tenant_isolation ON "order" FOR ALL\n',
        f"USING ({condition})\n",
        f"WITH CHECK ({condition})",
    ]
    assert text == "op.execute(\n" + "".join(f"    {piece!r}\n" for piece in pieces) + ")"


def test_render_role_creation_and_guarded_drop() -> None:
    created = render_operation(ops.CreateRole("app_admin", bypass_rls=True)).text
    assert "CREATE ROLE app_admin NOLOGIN BYPASSRLS;" in created
    assert "rolname = 'app_admin'" in created
    assert created.endswith("op.execute('GRANT USAGE ON SCHEMA public TO app_admin')")
    dropped = render_operation(ops.DropRole("app_admin", bypass_rls=True)).text
    assert "REVOKE USAGE ON SCHEMA public FROM app_admin;" in dropped
    assert "SELECT FROM pg_shdepend" in dropped
    assert dropped.index("pg_shdepend") < dropped.index("DROP ROLE app_admin;")


def test_render_composite_foreign_key_with_set_null_columns() -> None:
    fk = ForeignKey(
        "fk_tasks_tenant_id_parent_id_tasks",
        ("tenant_id", "parent_id"),
        "tasks",
        ("tenant_id", "id"),
        "SET NULL",
        ("parent_id",),
    )
    assert render_operation(ops.AddForeignKey("tasks", fk)).text == (
        "op.create_foreign_key(\n"
        "    op.f('fk_tasks_tenant_id_parent_id_tasks'),\n"
        "    'tasks',\n"
        "    'tasks',\n"
        "    ['tenant_id', 'parent_id'],\n"
        "    ['tenant_id', 'id'],\n"
        "    ondelete='SET NULL (parent_id)',\n"
        ")"
    )


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        (
            Column("class", ColumnType("string", max_length=10), default=DefaultValue("it's")),
            "sa.Column('class', sa.String(10), server_default=sa.text(\"'it''s'\"), "
            "nullable=False)",
        ),
        (
            Column("prefs", ColumnType("json"), default=DefaultValue((), "object")),
            "sa.Column('prefs', postgresql.JSONB(), server_default=sa.text(\"'{}'::jsonb\"), "
            "nullable=False)",
        ),
        (
            Column(
                "tags",
                ColumnType("array", item=ColumnType("text")),
                default=DefaultValue(("a'b",), "array"),
            ),
            "sa.Column('tags', postgresql.ARRAY(sa.Text()), "
            "server_default=sa.text(\"ARRAY['a''b']::text[]\"), nullable=False)",
        ),
        (
            Column("on", ColumnType("boolean"), nullable=True, default=DefaultValue(False)),
            "sa.Column('on', sa.Boolean(), server_default=sa.text('false'), nullable=True)",
        ),
        (
            Column("at", ColumnType("datetime"), default_sql="now()", comment="When."),
            "sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), "
            "nullable=False, comment='When.')",
        ),
    ],
)
def test_render_column_defaults_as_sql_literals(column: Column, expected: str) -> None:
    assert render_operation(ops.AddColumn("t", column)).text == f"op.add_column('t', {expected})"


def test_render_check_constraint_keeps_the_catalog_name() -> None:
    check = CheckConstraint("ck_notes_positive", "positive", "pages > 0")
    assert render_operation(ops.AddCheckConstraint("notes", check)).text == (
        "op.create_check_constraint(op.f('ck_notes_positive'), 'notes', 'pages > 0')"
    )


def test_render_enum_labels_are_quoted_literals() -> None:
    enum = EnumType("rating", ("PG-13", "it's"))
    assert render_operation(ops.CreateEnum(enum)).text == (
        "op.execute(\"CREATE TYPE rating AS ENUM ('PG-13', 'it''s')\")"
    )


def test_an_operation_without_renderer_fails_loudly() -> None:
    @dataclasses.dataclass(frozen=True)
    class Unknown(ops.Operation):
        def reverse(self) -> ops.Operation:
            return self

    with pytest.raises(TypeError, match="no renderer registered for Unknown"):
        render_operation(Unknown())


# --- renames, fills, enum additions: reverse and render ----------------------------------

_FILL = ColumnFill("project_id", "projects", "tenant_id", parent_forces_rls=True)
_TENANT = Column("tenant_id", ColumnType("uuid"), role="tenant")
NEW_PAIRS = [
    (RenameTable("a", "b"), RenameTable("b", "a")),
    (RenameColumn("t", "a", "b"), RenameColumn("t", "b", "a")),
    (RenameConstraint("t", "a", "b"), RenameConstraint("t", "b", "a")),
    (RenameIndex("t", "a", "b"), RenameIndex("t", "b", "a")),
    (RenameEnum("a", "b"), RenameEnum("b", "a")),
    (RenameTrigger("t", "a", "b"), RenameTrigger("t", "b", "a")),
    (
        RenameRole("r", "s", True, (("t", ("SELECT",)),)),
        RenameRole("s", "r", True, (("t", ("SELECT",)),)),
    ),
    (
        AddFilledColumn("comments", _TENANT, _FILL),
        DropFilledColumn("comments", _TENANT, _FILL),
    ),
    (
        ReplacePrimaryKey("j", ("a", "b"), ("t", "a", "b")),
        ReplacePrimaryKey("j", ("t", "a", "b"), ("a", "b")),
    ),
    (ops.CreateIndex("notes", _INDEX, True), ops.DropIndex("notes", _INDEX, True)),
    (ops.AddForeignKey("notes", _FK, True), ops.DropForeignKey("notes", _FK, True)),
]


@pytest.mark.parametrize(("forward", "backward"), NEW_PAIRS, ids=lambda op: type(op).__name__)
def test_new_reverse_pairs(forward: ops.Operation, backward: ops.Operation) -> None:
    assert forward.reverse() == backward
    assert backward.reverse() == forward


def test_only_concurrent_builds_and_label_additions_run_outside_the_transaction() -> None:
    assert ops.CreateIndex("notes", _INDEX, concurrently=True).outside_transaction
    assert not ops.CreateIndex("notes", _INDEX).outside_transaction
    assert ops.AddEnumValues("s", ("a",), ("a", "b")).outside_transaction
    assert not ops.AddForeignKey("notes", _FK, validate_later=True).outside_transaction
    assert not RenameTable("a", "b").outside_transaction


def test_render_renames() -> None:
    assert render_operation(RenameTable("members", "order")).text == (
        "op.rename_table('members', 'order')"
    )
    assert render_operation(RenameColumn("tasks", "title", "name")).text == (
        "op.alter_column('tasks', 'title', new_column_name='name')"
    )
    assert render_operation(RenameConstraint("order", "pk_a", "pk_order")).text == (
        "op.execute('ALTER TABLE \"order\" RENAME CONSTRAINT pk_a TO pk_order')"
    )
    assert render_operation(RenameIndex("t", "ix_a", "ix_b")).text == (
        "op.execute('ALTER INDEX ix_a RENAME TO ix_b')"
    )
    assert render_operation(RenameEnum("member_role", "person_role")).text == (
        "op.execute('ALTER TYPE member_role RENAME TO person_role')"
    )
    assert render_operation(RenameTrigger("people", "trg_a", "trg_b")).text == (
        "op.execute('ALTER TRIGGER trg_a ON people RENAME TO trg_b')"
    )


def test_render_role_rename_renames_or_creates_then_moves_the_grants() -> None:
    text = render_operation(RenameRole("app_w", "app_writer", False, (("notes", WRITE),))).text
    sql = "".join(
        ast.literal_eval(node.args[0])
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.Call) and node.args
    )
    assert "IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'app_w')" in sql
    assert "AND dbid <> (SELECT oid FROM pg_database WHERE datname = current_database())" in sql
    assert text.index("ALTER ROLE app_w RENAME TO app_writer;") < text.index(
        "CREATE ROLE app_writer NOLOGIN;"
    )
    assert "op.execute('GRANT SELECT, INSERT, UPDATE, DELETE ON notes TO app_writer')" in text
    assert "REVOKE SELECT, INSERT, UPDATE, DELETE ON notes FROM app_w;" in text
    assert text.index("REVOKE SELECT") < text.index("DROP ROLE app_w;")


def test_render_filled_column() -> None:
    fill = ColumnFill("project_id", "projects", "tenant_id", "id", True, True)
    text = render_operation(AddFilledColumn("comments", _TENANT, fill)).text
    assert text.splitlines()[0] == (
        "op.add_column('comments', sa.Column('tenant_id', sa.Uuid(), nullable=True))"
    )
    statements = re.findall(r"op\.execute\((.*?)\)\n", text, flags=re.DOTALL)
    assert [ast.literal_eval(f"({statement})") for statement in statements] == [
        "ALTER TABLE comments DISABLE TRIGGER trg_comments_updated_at",
        "ALTER TABLE projects NO FORCE ROW LEVEL SECURITY",
        "UPDATE comments AS child SET tenant_id = parent.tenant_id\n"
        "FROM projects AS parent WHERE parent.id = child.project_id",
        "ALTER TABLE projects FORCE ROW LEVEL SECURITY",
        "ALTER TABLE comments ENABLE TRIGGER trg_comments_updated_at",
    ]
    assert text.endswith(
        "op.alter_column('comments', 'tenant_id', existing_type=sa.Uuid(), nullable=False)"
    )


def test_render_enum_labels_added_where_they_belong() -> None:
    operation = ops.AddEnumValues("s", ("b", "d"), ("a", "b", "c", "d", "e"))
    assert render_operation(operation).text.splitlines() == [
        "op.execute(\"ALTER TYPE s ADD VALUE IF NOT EXISTS 'a' BEFORE 'b'\")",
        "op.execute(\"ALTER TYPE s ADD VALUE IF NOT EXISTS 'c' AFTER 'b'\")",
        "op.execute(\"ALTER TYPE s ADD VALUE IF NOT EXISTS 'e' AFTER 'd'\")",
    ]


def test_render_concurrent_index_and_later_validation() -> None:
    created = render_operation(ops.CreateIndex("notes", _INDEX, concurrently=True)).text
    # A rerun after an interrupted build drops an invalid leftover and keeps a valid one.
    assert created.startswith("migration_steps.drop_invalid_index('ix_notes_title')\n")
    assert created.endswith("    postgresql_concurrently=True,\n    if_not_exists=True,\n)")
    dropped = render_operation(ops.DropIndex("notes", _INDEX, concurrently=True)).text
    assert dropped == (
        "op.drop_index(op.f('ix_notes_title'), table_name='notes', "
        "postgresql_concurrently=True, if_exists=True)"
    )
    added = render_operation(ops.AddForeignKey("notes", _FK, validate_later=True)).text
    assert "    postgresql_not_valid=True,\n" in added
    validation = render_validation(ops.AddForeignKey("notes", _FK, validate_later=True))
    assert validation is not None and validation.text == (
        "op.execute('ALTER TABLE notes VALIDATE CONSTRAINT fk_notes_account_id_accounts')"
    )
    assert render_validation(ops.AddForeignKey("notes", _FK)) is None
    assert render_validation(ops.CreateIndex("notes", _INDEX)) is None


def test_revision_body_runs_outside_steps_in_autocommit_blocks() -> None:
    operations = (
        ops.AddEnumValues("note_status", ("draft", "live"), ("draft", "live", "gone")),
        ops.AddForeignKey("notes", _FK, validate_later=True),
        ops.CreateIndex("notes", _INDEX, concurrently=True),
    )
    _, text, _ = render_revision(
        operations, parents=("0001",), message="m", changes={}, number="0002"
    )
    upgrade = text[text.index("def upgrade") : text.index("def downgrade")]
    assert upgrade.count("with op.get_context().autocommit_block():") == 2
    first, second = upgrade.split("with op.get_context().autocommit_block():")[1:]
    assert "ADD VALUE" in first and "create_foreign_key" in first
    assert first.index("ADD VALUE") < first.index("create_foreign_key")
    assert "postgresql_concurrently=True" in second and "VALIDATE CONSTRAINT" in second
    downgrade = text[text.index("def downgrade") :]
    assert downgrade.index("autocommit_block") < downgrade.index("drop_constraint")


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (ColumnType("string", max_length=10), ColumnType("string", max_length=20), None),
        (ColumnType("string", max_length=10), ColumnType("text"), None),
        (ColumnType("smallint"), ColumnType("bigint"), None),
        (ColumnType("integer"), ColumnType("decimal", precision=12, scale=2), None),
        (
            ColumnType("decimal", precision=8, scale=2),
            ColumnType("decimal", precision=9, scale=3),
            None,
        ),
        (
            ColumnType("enum", values=("a", "bb"), enum_name="e"),
            ColumnType("string", max_length=2),
            None,
        ),
        (
            ColumnType("array", item=ColumnType("string", max_length=5)),
            ColumnType("array", item=ColumnType("text")),
            None,
        ),
        (
            ColumnType("string", max_length=20),
            ColumnType("string", max_length=10),
            "type narrowed from varchar(20) to varchar(10)",
        ),
        (ColumnType("bigint"), ColumnType("integer"), "type narrowed from bigint to integer"),
        (
            ColumnType("decimal", precision=8, scale=2),
            ColumnType("decimal", precision=8, scale=1),
            "type narrowed from numeric(8, 2) to numeric(8, 1)",
        ),
        (
            ColumnType("text"),
            ColumnType("integer"),
            "type changed from text to integer, which can lose values",
        ),
        (
            ColumnType("enum", values=("abc",), enum_name="e"),
            ColumnType("string", max_length=2),
            "type changed from e to varchar(2), which can lose values",
        ),
    ],
)
def test_narrowing(old: ColumnType, new: ColumnType, expected: str | None) -> None:
    assert narrowing(old, new) == expected


def test_a_rename_reaches_columns_and_nothing_else_of_the_same_spelling() -> None:
    """A check's columns follow a rename; a function, a type, a literal and the spacing
    of the same spelling stay as written."""
    check = "lower(code)  = code AND t.code::text <> 'code' AND \"code\" ~ '^[a-z]+$'"
    renamed = rename_columns(check, {"code": "Short Code", "text": "body"})
    assert renamed == (
        'lower("Short Code")  = "Short Code" AND t."Short Code"::text <> \'code\''
        " AND \"Short Code\" ~ '^[a-z]+$'"
    )
    assert rename_columns("lower = 'é' AND lower(lower) > ''", {"lower": "name"}) == (
        "name = 'é' AND lower(name) > ''"
    )


def test_a_long_breaking_change_wraps_in_the_docstring_and_reads_back_whole() -> None:
    long = "a_column_with_a_name_as_long_as_postgresql_allows_it_to_be_abcdefgh"
    rename = RenameColumn("project_watchers", long, long[::-1])
    _, text, _ = render_revision(
        (rename,), parents=("a1",), message="rename", changes={}, number="0002"
    )
    docstring = text[: text.index('"""', 3)]
    assert max(len(line) for line in docstring.splitlines()) <= 99
    assert notice(text) == breaking_changes((rename,))
