"""Loading specs into the Schema: the examples, shorthands, defaults, SQL expressions.

The SQL tests run the deparsed expressions on a real PostgreSQL (``DATABASE_URL`` when
set, else an embedded server) in a database of their own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from entityforge.catalog import build_catalog
from entityforge.catalog.sql import sql_type as column_sql_type
from entityforge.errors import SpecError
from entityforge.schema import (
    CheckSpec,
    ColumnType,
    DefaultValue,
    Field,
    IndexSpec,
    Relation,
    Roles,
    Schema,
    Tenancy,
)
from entityforge.spec import SqlExpressionError, load_schema, load_schema_text, parse_expression
from tests.projects import psql_url

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "entityforge" / "examples" / "entities.yaml"
SPEC_FORMAT = ROOT / "docs" / "spec-format.md"


def spec_format_example() -> str:
    """The example of the spec format, as ``docs/spec-format.md`` gives it."""
    match = re.search(r"```yaml\n(.*?)```", SPEC_FORMAT.read_text(), re.DOTALL)
    assert match is not None, "docs/spec-format.md has no yaml example"
    return match.group(1)


def test_end_to_end_tests_use_the_spec_format_example() -> None:
    copy = ROOT / "tests" / "specs" / "spec_format_example.yaml"
    assert copy.read_text() == spec_format_example()


# --- the example specs ------------------------------------------------------------------


def test_example_spec_loads_with_every_feature() -> None:
    schema = load_schema(EXAMPLE)
    assert [e.name for e in schema.entities] == [
        "Workspace",
        "Member",
        "Project",
        "Task",
        "TaskDetail",
        "Country",
    ]
    assert schema.tenancy == Tenancy("Workspace", "tenant_id", "app.tenant_id")
    assert schema.roles == Roles("app_reader", "app_writer", "app_admin")
    assert schema.version == 1
    workspace = schema.entity("Workspace")
    assert (workspace.table, workspace.tenant_scoped, workspace.timestamps) == (
        "workspaces",
        False,
        True,
    )
    assert workspace.comment == "A customer account; every tenant-scoped row belongs to one."
    member = schema.entity("Member")
    assert (member.tenant_scoped, member.soft_delete) == (True, True)
    assert member.field("display_name") == Field(
        "display_name", ColumnType("string", max_length=120), nullable=True, index="trgm"
    )
    assert member.field("role") == Field(
        "role",
        ColumnType("enum", values=("owner", "member", "viewer"), enum_name="member_role"),
        default=DefaultValue("member"),
    )
    assert member.field("preferences") == Field(
        "preferences", ColumnType("json"), default=DefaultValue((), "object"), index="gin"
    )
    assert member.relation("mentors") == Relation(
        "mentors",
        "many_to_many",
        "Member",
        junction_table="member_mentors",
        source_column="member_id",
        target_column="mentors_id",
    )
    country = schema.entity("Country")
    assert (country.tenant_scoped, country.timestamps, country.soft_delete) == (
        False,
        False,
        False,
    )


def test_example_project_and_task() -> None:
    schema = load_schema(str(EXAMPLE))
    project = schema.entity("Project")
    assert project.field("budget") == Field(
        "budget", ColumnType("decimal", precision=12, scale=2), nullable=True, check="budget >= 0"
    )
    assert project.field("tags") == Field(
        "tags",
        ColumnType("array", item=ColumnType("string", max_length=40)),
        default=DefaultValue((), "array"),
        index="gin",
    )
    assert project.field("rating") == Field(
        "rating",
        ColumnType("enum", values=("G", "PG", "PG-13", "R"), enum_name="project_rating"),
        nullable=True,
    )
    assert project.relation("owner") == Relation(
        "owner", "many_to_one", "Member", on_delete="restrict", column="owner_id"
    )
    assert project.unique == (("name",),)


def test_example_task_and_task_detail() -> None:
    schema = load_schema(EXAMPLE)
    task = schema.entity("Task")
    assert [f.name for f in task.fields] == [
        "title",
        "status",
        "due_at",
        "estimate_hours",
        "order",
        "metadata",
    ]
    assert task.field("order") == Field(
        "order",
        ColumnType("smallint"),
        default=DefaultValue(0),
        comment="Position in the project's board.",
    )
    assert task.relation("parent") == Relation(
        "parent", "many_to_one", "Task", nullable=True, on_delete="set_null", column="parent_id"
    )
    assert task.indexes == (
        IndexSpec(("project_id", "status")),
        IndexSpec(("due_at",), where="status <> 'done'"),
    )
    assert task.checks == (
        CheckSpec("due_after_created", "due_at IS NULL OR due_at >= created_at"),
    )
    detail = schema.entity("TaskDetail")
    assert detail.relation("task") == Relation(
        "task",
        "one_to_one",
        "Task",
        on_delete="cascade",
        back_populates="detail",
        column="task_id",
    )
    assert detail.field("external_ref").index == "btree"  # type: ignore[union-attr]
    assert detail.field("notes").default == DefaultValue("")  # type: ignore[union-attr]
    assert detail.field("archived").default == DefaultValue(False)  # type: ignore[union-attr]


def test_spec_format_example_loads() -> None:
    schema = load_schema_text(spec_format_example())
    assert [e.name for e in schema.entities] == ["Workspace", "Member", "Project", "Task"]
    project = schema.entity("Project")
    assert project.relation("members") == Relation(
        "members",
        "many_to_many",
        "Member",
        back_populates="projects",
        junction_table="project_members",
        source_column="project_id",
        target_column="member_id",
    )
    assert schema.entity("Workspace").field("slug") == Field(
        "slug", ColumnType("string", max_length=63), unique=True, check="slug ~ '^[a-z0-9-]+$'"
    )
    build_catalog(schema)


def test_example_builds_a_catalog_and_loading_is_deterministic() -> None:
    first, second = load_schema(EXAMPLE), load_schema(EXAMPLE)
    assert first == second
    assert hash(first.entities) == hash(second.entities)
    catalog = build_catalog(first)
    assert {t.name for t in catalog.tables} >= {"member_mentors", "project_members", "tasks"}


# --- shorthands and defaults -------------------------------------------------------------


def load(entities: str, head: str = "") -> Schema:
    return load_schema_text(f"version: 1\n{head}entities:\n{entities}")


def test_type_shorthands_equal_their_mappings() -> None:
    short = load(
        "  A:\n    fields:\n"
        "      s: string(200)\n      d: decimal(12,2)\n      e: decimal\n"
        "      t: ' text '\n      a: {type: array, of: string(40)}\n"
        "      p: decimal( 5 , 0 )\n      i: integer\n"
    )
    long = load(
        "  A:\n    fields:\n"
        "      s: {type: string, max_length: 200}\n"
        "      d: {type: decimal, precision: 12, scale: 2}\n"
        "      e: {type: decimal}\n      t: {type: text}\n"
        "      a: {type: array, of: {type: string, max_length: 40}}\n"
        "      p: {type: decimal, precision: 5, scale: 0}\n      i: {type: integer}\n"
    )
    assert short == long
    fields = {f.name: f.type for f in short.entity("A").fields}
    assert fields["e"] == ColumnType("decimal")
    assert fields["a"] == ColumnType("array", item=ColumnType("string", max_length=40))
    assert fields["i"] == ColumnType("integer")


def test_decimal_precision_without_scale_and_string_in_mapping() -> None:
    schema = load(
        "  A:\n    fields:\n      d: decimal(7)\n      s: {type: string(9), nullable: true}\n"
    )
    entity = schema.entity("A")
    assert entity.field("d").type == ColumnType("decimal", precision=7)  # type: ignore[union-attr]
    assert entity.field("s") == Field("s", ColumnType("string", max_length=9), nullable=True)


def test_defaults_without_tenancy() -> None:
    schema = load("  BlogPost:\n    fields:\n      title: text\n")
    entity = schema.entities[0]
    assert schema.tenancy is None
    assert schema.roles == Roles()
    assert (entity.table, entity.tenant_scoped, entity.timestamps, entity.soft_delete) == (
        "blog_posts",
        False,
        True,
        False,
    )


def test_defaults_section_and_per_entity_overrides() -> None:
    schema = load(
        "  Org: {}\n  Category: {timestamps: true}\n  Box: {soft_delete: false, table: crates}\n",
        head="tenancy: {entity: Org}\ndefaults: {timestamps: false, soft_delete: true}\n",
    )
    org, category, box = schema.entities
    assert schema.tenancy == Tenancy("Org")
    assert (org.tenant_scoped, org.timestamps, org.soft_delete) == (False, False, True)
    assert (category.table, category.tenant_scoped, category.timestamps) == (
        "categories",
        True,
        True,
    )
    assert (box.table, box.soft_delete, box.timestamps) == ("crates", False, False)


def test_custom_tenancy_and_roles() -> None:
    schema = load(
        "  Account: {}\n  Note: {tenant_scoped: false}\n",
        head="tenancy: {entity: Account, column: account_id, setting: my.account}\n"
        "roles: {reader: r, writer: w, admin: a}\n",
    )
    assert schema.tenancy == Tenancy("Account", "account_id", "my.account")
    assert schema.roles == Roles("r", "w", "a")
    assert schema.entity("Note").tenant_scoped is False


def test_literal_defaults_of_every_kind() -> None:
    schema = load(
        "  A:\n    fields:\n"
        "      j: {type: json, default: {a: [1, {b: null}], c: 'x'}}\n"
        "      l: {type: json, default: [1, 2.5, true]}\n"
        "      r: {type: array, of: integer, default: [1, 2]}\n"
        "      n: {type: decimal, precision: 5, scale: 2, default: 123.45}\n"
        "      f: {type: float, default: 1}\n"
        "      d: {type: date, default: 2024-02-29}\n"
        "      t: {type: datetime, default: '2024-01-31T12:00:00+00:00'}\n"
        "      u: {type: uuid, default: 6f1c1bd6-8c7a-4f0e-9d2e-4f1f0ad8a0a1}\n"
        "      h: {type: time, default: '12:30'}\n"
        "      i: {type: interval, default: 1 day}\n"
        "      x: {type: text, nullable: true, default: null}\n"
        "      s: {type: text, default_sql: \"lower('ABC')\"}\n"
    )
    fields = {f.name: f for f in schema.entities[0].fields}
    assert fields["j"].default == DefaultValue((("a", (1, (("b", None),))), ("c", "x")), "object")
    assert fields["l"].default == DefaultValue((1, 2.5, True), "array")
    assert fields["r"].default == DefaultValue((1, 2), "array")
    assert fields["n"].default == DefaultValue(123.45)
    assert fields["d"].default == DefaultValue("2024-02-29")
    assert fields["u"].default == DefaultValue("6f1c1bd6-8c7a-4f0e-9d2e-4f1f0ad8a0a1")
    assert fields["i"].default == DefaultValue("1 day")
    assert fields["x"].default is None
    assert fields["s"].default_sql == "lower('ABC')"


def test_relations_naming() -> None:
    schema = load(
        "  Person:\n    relations:\n"
        "      friends: {kind: many_to_many, target: Person}\n"
        "      boss: {kind: many_to_one, target: Person, nullable: true, on_delete: set_null,"
        " back_populates: reports}\n"
        "      badge: {kind: one_to_one, target: Badge, on_delete: cascade}\n"
        "  Badge: {}\n"
    )
    person = schema.entity("Person")
    assert person.relation("friends") == Relation(
        "friends",
        "many_to_many",
        "Person",
        junction_table="person_friends",
        source_column="person_id",
        target_column="friends_id",
    )
    assert person.relation("boss") == Relation(
        "boss", "many_to_one", "Person", True, "set_null", "reports", column="boss_id"
    )
    assert person.relation("badge").column == "badge_id"  # type: ignore[union-attr]


def test_indexes_uniques_checks_and_extra_keys() -> None:
    schema = load(
        "  Doc:\n    soft_delete: true\n    fields:\n"
        "      title: {type: string, max_length: 50, index: true, comment: T}\n"
        "      body: {type: text, index: trgm, renamed_from: content}\n"
        "      n: {type: integer, check: n >= 0}\n"
        "    indexes:\n"
        "      - {columns: [title, n], unique: true, where: 'n > 0', name: doc_title_n}\n"
        "      - {columns: [created_at], using: brin}\n"
        "    unique: [[title, deleted_at]]\n"
        "    checks: [{name: positive, expression: n > 0 AND length(title) > 0}]\n"
        "    comment: documents\n    renamed_from: Paper\n"
    )
    doc = schema.entities[0]
    assert doc.field("title").index == "btree"  # type: ignore[union-attr]
    assert doc.field("body").renamed_from == "content"  # type: ignore[union-attr]
    assert doc.field("n").check == "n >= 0"  # type: ignore[union-attr]
    assert doc.indexes == (
        IndexSpec(("title", "n"), True, "btree", "n > 0", "doc_title_n"),
        IndexSpec(("created_at",), using="brin"),
    )
    assert doc.unique == (("title", "deleted_at"),)
    assert doc.checks == (CheckSpec("positive", "n > 0 AND length(title) > 0"),)
    assert (doc.comment, doc.renamed_from) == ("documents", "Paper")


def test_anchors_merge_keys_and_extension_keys() -> None:
    schema = load(
        "  A:\n    fields:\n      a: {<<: *short, nullable: true}\n      b: *short\n",
        head="x-types:\n  short: &short {type: string, max_length: 10}\n",
    )
    a, b = schema.entities[0].fields
    assert a == Field("a", ColumnType("string", max_length=10), nullable=True)
    assert b == Field("b", ColumnType("string", max_length=10))


def test_load_schema_reports_unreadable_files(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(SpecError) as raised:
        load_schema(missing)
    assert str(raised.value).startswith(f"{missing}:1:1: cannot read the spec")
    binary = tmp_path / "bad.yaml"
    binary.write_bytes(b"version: 1\nentities: \xff\n")
    with pytest.raises(SpecError) as raised:
        load_schema(binary)
    assert str(raised.value).startswith(f"{binary}:2:11: the spec is not valid UTF-8")


# --- SQL expressions ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "deparsed", "columns"),
    [
        ("slug ~ '^[a-z0-9-]+$'", "slug ~ '^[a-z0-9-]+$'", ("slug",)),
        ("due_at IS NULL OR due_at >= created_at", None, ("due_at", "created_at")),
        ('"order" > 0', '"order" > 0', ("order",)),
        ("Budget >= 0", "budget >= 0", ("budget",)),
        ("a /* note */ + 1 -- tail", "a + 1", ("a",)),
        ("coalesce(a, b) > lower(c)", "COALESCE(a, b) > lower(c)", ("a", "b", "c")),
        ("x::text <> ''", "CAST(x AS text) <> ''", ("x",)),
        ("$$it's$$ = 'it''s'", "'it''s' = 'it''s'", ()),
        ("now()", "now()", ()),
        ("a IN (1, 2) AND b BETWEEN 1 AND 9", None, ("a", "b")),
        ("CASE WHEN a THEN 1 ELSE 2 END = 1", None, ("a",)),
    ],
)
def test_parse_expression_deparses(
    text: str, deparsed: str | None, columns: tuple[str, ...]
) -> None:
    expression = parse_expression(text)
    assert expression.text == (deparsed or text)
    assert expression.columns == columns
    assert parse_expression(expression.text) == expression


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1) ; DROP TABLE x; --", "syntax error"),
        ("1; DROP TABLE x", "single expression"),
        ("x FROM t", "single expression"),
        ("x WHERE true", "single expression"),
        ("1 UNION SELECT 2", "single expression"),
        ("DISTINCT x", "single expression"),
        ("x AS y", "alias"),
        ("x IN (SELECT 1)", "subquery"),
        ("EXISTS (SELECT 1)", "subquery"),
        ("count(*) > 0", "aggregate"),
        ("sum(x) > 0", "aggregate"),
        ("max(x) FILTER (WHERE x > 0) > 1", "aggregate"),
        ("row_number() OVER () = 1", "window"),
        ("$1 > 0", "parameter"),
        ("t.x > 0", "qualified"),
        ("*", "'*'"),
        ("", "empty"),
        ("x > 0 \x00; DROP TABLE t", "NUL"),
        ("order > 0", "syntax error"),
    ],
)
def test_parse_expression_refuses(text: str, message: str) -> None:
    with pytest.raises(SqlExpressionError) as raised:
        parse_expression(text)
    assert message in raised.value.message


# --- the expressions on a real PostgreSQL ------------------------------------------------


@pytest.fixture(scope="module")
def database(create_database: Callable[[], str]) -> Iterator[psycopg.Connection]:
    """A connection to a fresh database on the test session's PostgreSQL."""
    with psycopg.connect(psql_url(create_database()), autocommit=True) as connection:
        yield connection


def sql_type(column_type: ColumnType) -> sql.Composable:
    return sql.SQL(column_sql_type(column_type))


def create_tables(connection: psycopg.Connection, schema: Schema) -> None:
    """A plain rendering of the catalog: enough for PostgreSQL to judge the expressions."""
    catalog = build_catalog(schema)
    for enum in catalog.enums:
        connection.execute(
            sql.SQL("CREATE TYPE {} AS ENUM ({})").format(
                sql.Identifier(enum.name), sql.SQL(", ").join(map(sql.Literal, enum.values))
            )
        )
    for table in catalog.tables:
        columns = [
            sql.SQL("{} {}{}").format(
                sql.Identifier(column.name),
                sql_type(column.type),
                sql.SQL(f" DEFAULT {column.default_sql}") if column.default_sql else sql.SQL(""),
            )
            for column in table.columns
        ]
        checks = [
            sql.SQL("CONSTRAINT {} CHECK ({})").format(
                sql.Identifier(check.name), sql.SQL(check.expression)
            )
            for check in table.checks
        ]
        connection.execute(
            sql.SQL("CREATE TABLE {} ({})").format(
                sql.Identifier(table.name), sql.SQL(", ").join(columns + checks)
            )
        )
        for index in table.indexes:
            if index.where:
                connection.execute(
                    sql.SQL("CREATE INDEX {} ON {} ({}) WHERE {}").format(
                        sql.Identifier(index.name),
                        sql.Identifier(table.name),
                        sql.SQL(", ").join(sql.Identifier(c) for c in index.column_names),
                        sql.SQL(index.where),
                    )
                )


def test_example_expressions_are_accepted_by_postgresql(database: psycopg.Connection) -> None:
    schema = load_schema(EXAMPLE)
    with database.transaction(force_rollback=True):
        create_tables(database, schema)
        rows = database.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype = 'c' AND connamespace = current_schema()::regnamespace ORDER BY 1"
        ).fetchall()
        names = [name for name, _ in rows if not name.endswith("_values")]
        assert names == sorted(
            [
                "ck_projects_budget",
                "ck_tasks_due_after_created",
                "ck_tasks_estimate_hours",
                "ck_workspaces_slug",
            ]
        )
        # Enum fields stored as varchar carry a check of their labels.
        assert {name for name, _ in rows} - set(names) == {
            f"ck_{table.name}_{column.name}_values"
            for table in build_catalog(schema).tables
            for column in table.columns
            if column.type.name == "enum" and column.type.enum_name is None
        }
        partial = database.execute(
            "SELECT pg_get_expr(indpred, indrelid) FROM pg_index WHERE indpred IS NOT NULL "
            "AND indrelid = 'tasks'::regclass"
        ).fetchone()
        assert partial is not None and "done" in partial[0]


HOSTILE = [
    "it's",
    'say "hi"',
    "$$ dollar $$ and $tag$",
    "back\\slash \\n not a newline",
    "line one\nline two",
    "naïve café – 東京 🚀",
    "'''triple''' \"\"\"quotes\"\"\"",
    "'); DROP TABLE members; --",
]


def yaml_string(value: str) -> str:
    """A double-quoted YAML scalar for ``value``."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def test_hostile_strings_pass_through_as_data(database: psycopg.Connection) -> None:
    fields = "".join(
        f"      f{i}: {{type: text, default: {yaml_string(v)}, comment: {yaml_string(v)}}}\n"
        for i, v in enumerate(HOSTILE)
    )
    schema = load(f"  Note:\n    comment: {yaml_string(HOSTILE[0])}\n    fields:\n{fields}")
    note = schema.entities[0]
    assert note.comment == HOSTILE[0]
    for index, value in enumerate(HOSTILE):
        field = note.field(f"f{index}")
        assert field is not None and field.default == DefaultValue(value)
        assert field.comment == value
    with database.transaction(force_rollback=True):
        create_tables(database, schema)
        for field in note.fields:
            assert isinstance(field.default, DefaultValue) and isinstance(field.default.value, str)
            database.execute(
                sql.SQL("ALTER TABLE notes ALTER COLUMN {} SET DEFAULT {}").format(
                    sql.Identifier(field.name), sql.Literal(field.default.value)
                )
            )
            database.execute(
                sql.SQL("COMMENT ON COLUMN notes.{} IS {}").format(
                    sql.Identifier(field.name), sql.Literal(field.comment)
                )
            )
        database.execute("INSERT INTO notes DEFAULT VALUES")
        row = database.execute(
            sql.SQL("SELECT {} FROM notes").format(
                sql.SQL(", ").join(sql.Identifier(f.name) for f in note.fields)
            )
        ).fetchone()
        assert list(row or ()) == HOSTILE
        comments = database.execute(
            "SELECT col_description('notes'::regclass, attnum) FROM pg_attribute "
            "WHERE attrelid = 'notes'::regclass AND attname LIKE 'f%' ORDER BY attnum"
        ).fetchall()
        assert [comment for (comment,) in comments] == HOSTILE


def test_hostile_default_sql_and_checks_run_as_written(database: psycopg.Connection) -> None:
    expression = "'it''s $$ \\ \"q\" ü ''''''x'''''' ' || E'\\n' || $t$two$t$"
    check = "body <> 'x'';'"
    spec = (
        "  Note:\n    fields:\n"
        f"      body: {{type: text, default_sql: {yaml_string(expression)},"
        f" check: {yaml_string(check)}}}\n"
    )
    note = load(spec).entities[0]
    body = note.field("body")
    assert body is not None and body.default_sql is not None and body.check is not None
    with database.transaction(force_rollback=True):
        create_tables(database, load(spec))
        database.execute("INSERT INTO notes DEFAULT VALUES")
        value = database.execute("SELECT body FROM notes").fetchone()
        assert value == ("it's $$ \\ \"q\" ü '''x''' \ntwo",)
        with pytest.raises(psycopg.errors.CheckViolation):
            database.execute("INSERT INTO notes (body) VALUES ('x'';')")
