"""The spec key ``policies``: restrictive row-level policies, end to end.

Malformed policies are reported where they stand, with a hint. A diff gives the
operations that make, change and remove policies, and one renders to its exact SQL. On
PostgreSQL, as login members of the writer and the reader (never the owner), the
policies narrow what tenant isolation (or, on a global table, the permissive policy for
the granted roles) allows, reading the user from ``app.user_id``. Adding policies to
tables that hold rows, then changing and removing them, goes up, down and up again with
the rows and the catalog as they were, and leaves nothing for a second generation.
"""

from __future__ import annotations

import textwrap
import uuid
from collections.abc import Callable

import psycopg
import pytest

from entityforge.catalog import build_catalog
from entityforge.catalog.policies import Policy
from entityforge.errors import EntityforgeError, SpecError, SpecErrors
from entityforge.generators.migrations.policy_renderers import create_policy
from entityforge.migrate import operations as ops
from entityforge.migrate.diff import compare_catalogs
from entityforge.migrate.operations.policies import (
    CreateGrantedRolesPolicy,
    CreatePolicy,
    DropGrantedRolesPolicy,
    DropPolicy,
)
from entityforge.spec import load_schema_text
from tests.login_roles import login_role
from tests.test_incremental import execute, next_revision, round_trip
from tests.test_migrations import Project, new_project, query

__all__ = ["new_project"]

USER = "current_setting('app.user_id', true)"
OWN = f"created_by = (SELECT NULLIF({USER}, '')::uuid)"
INSUFFICIENT_PRIVILEGE = "42501"

# --- validation --------------------------------------------------------------------------

HEAD = """\
version: 1
entities:
  Note:
    fields:
      body: text
      owner_id: {type: uuid, nullable: true}
    policies:
"""
MALFORMED = [
    ('- {name: Own-Notes, using: "true"}', "8:16", "policy name 'Own-Notes' is not snake_case"),
    (f'- {{name: {"n" * 64}, using: "true"}}', "8:16", "is 64 bytes long, over PostgreSQL's 63"),
    ('- {name: tenant_isolation, using: "true"}', "8:16", "is the generator's own"),
    ('- {name: own, for: [updte], using: "true"}', "8:27", "did you mean 'update'?"),
    ('- {name: own, for: updat, using: "true"}', "8:26", "unknown policy command 'updat'"),
    ('- {name: own, for: [all, select], using: "true"}', "8:26", "'all' already covers"),
    ('- {name: own, for: [select, select], using: "true"}', "8:35", "listed twice"),
    ("- {name: own, for: select}", "8:9", "has neither 'using' nor 'check'"),
    (
        '- {name: own, for: insert, using: "owner_id IS NOT NULL"}',
        "8:34",
        "a policy for insert takes no 'using'",
    ),
    (
        '- {name: own, for: [update, delete], check: "owner_id IS NOT NULL"}',
        "8:44",
        "a policy for delete takes no 'check'",
    ),
    (
        '- {name: own, for: select, using: "ownr_id IS NOT NULL"}',
        "8:41",
        "refers to 'ownr_id', which is no column of this table",
    ),
    ('- {name: own, for: select, using: "owner_id = = 1"}', "8:41", "invalid SQL expression"),
    (
        '- {name: own, for: select, using: "true; DROP TABLE notes"}',
        "8:41",
        "must be a single expression",
    ),
    ('- {name: own, for: select, using: "owner_id = $1"}', "8:41", "a parameter reference"),
    (
        '- {name: own, using: "owner_id IN (SELECT $1)"}',
        "8:28",
        "a parameter reference",
    ),
    ('- {name: own, for: select, using: "count(*) > 0"}', "8:41", "aggregate function count()"),
    (
        '- {name: own, for: select, using: "true", roles: [editor]}',
        "8:57",
        "'editor' is neither a role kind nor the name of one of the spec's roles",
    ),
    (
        '- {name: own, for: select, using: "true", roles: [writer, app_writer]}',
        "8:65",
        "the writer role is listed twice",
    ),
    ('- {name: own, for: select, usng: "true"}', "8:34", "did you mean 'using'?"),
    ('- {name: own, for: 3, using: "true"}', "8:26", "'for' in 'policies' of entity 'Note'"),
    (
        '- {name: own_select, using: "true", for: select}\n'
        '- {name: own, for: [select, delete], using: "true"}',
        "9:16",
        "makes the database policy 'own_select', which policy 'own_select'",
    ),
]


def first_error(error: EntityforgeError) -> SpecError:
    if isinstance(error, SpecErrors):
        return error.errors[0]
    assert isinstance(error, SpecError)
    return error


@pytest.mark.parametrize(
    ("policies", "where", "message"), MALFORMED, ids=[case[2] for case in MALFORMED]
)
def test_a_malformed_policy_is_reported_where_it_stands(
    policies: str, where: str, message: str
) -> None:
    with pytest.raises(EntityforgeError) as raised:
        load_schema_text(HEAD + textwrap.indent(policies, "      ") + "\n")
    error = first_error(raised.value)
    rendered = error.render()
    assert rendered.startswith(f"entities.yaml:{where}: "), rendered
    assert message in rendered, rendered
    assert error.hint and "\n  hint: " in rendered, rendered
    assert "Traceback" not in str(raised.value)


def test_policies_are_parsed_and_their_roles_resolved() -> None:
    schema = load_schema_text(
        HEAD.replace("version: 1\n", "version: 1\nroles: {reader: viewers}\n")
        + '      - {name: own, for: [update, delete], using: "owner_id = (SELECT 1)::text::uuid"}'
        + "\n"
        + "      - {name: shown, for: select, using: \"body <> ''\", roles: [viewers, admin]}\n"
    )
    (table,) = build_catalog(schema).tables
    assert [(p.name, p.command, p.roles) for p in table.policies] == [
        ("own_update", "update", ("writer",)),
        ("own_delete", "delete", ("writer",)),
        ("shown", "select", ("reader", "admin")),
    ]
    assert table.policies[0].using == "owner_id = CAST(CAST((SELECT 1) AS text) AS uuid)"
    assert table.granted_roles_policy


# --- operations and their SQL -----------------------------------------------------------

SPEC = """\
version: 1
tenancy: {entity: Account}
entities:
  Account:
    fields: {name: string(80)}
  Country:
    tenant_scoped: false
    fields:
      code: {type: string, max_length: 2, unique: true}
      retired: {type: boolean, default: false}
%(country)s
  Label:
    tenant_scoped: false
    writable: true
    fields:
      title: string(80)
      created_by: {type: uuid, nullable: true}
%(label)s
  Booking:
    fields:
      note: {type: text, nullable: true}
      created_by: {type: uuid, nullable: true}
%(booking)s
"""
POLICIES = {
    "country": '    policies:\n      - {name: current, for: select, using: "NOT retired", '
    "roles: [reader]}",
    "label": f'    policies:\n      - {{name: own_labels, for: all, using: "{OWN}"}}',
    "booking": "    policies:\n"
    f'      - {{name: own_bookings, for: [update, delete], using: "{OWN}"}}',
}
WITHOUT = SPEC % {key: "" for key in POLICIES}
WITH = SPEC % POLICIES


def label_policies(policies: str) -> str:
    """The spec without policies but ``policies`` on the global, writable ``Label``."""
    return SPEC % {"country": "", "label": "    policies:\n" + policies, "booking": ""}


def test_a_policy_on_a_global_table_comes_with_the_permissive_policy_it_narrows() -> None:
    before = build_catalog(load_schema_text(WITHOUT))
    after = build_catalog(
        load_schema_text(label_policies(f'      - {{name: own, using: "{OWN}"}}'))
    )
    (policy,) = after.table("labels").policies
    granted = ("app_reader", "app_writer", "app_admin")
    assert compare_catalogs(before, after) == (
        ops.EnableRowLevelSecurity("labels"),
        CreateGrantedRolesPolicy("labels", granted),
        CreatePolicy("labels", policy, ("app_writer",)),
    )
    assert compare_catalogs(after, before) == (
        DropPolicy("labels", policy, ("app_writer",)),
        DropGrantedRolesPolicy("labels", granted),
        ops.DisableRowLevelSecurity("labels"),
    )


def test_a_changed_policy_is_dropped_and_made_again() -> None:
    spec = label_policies('      - {name: own, for: update, using: "%s"}')
    before = build_catalog(load_schema_text(spec % OWN))
    after = build_catalog(load_schema_text(spec % "created_by IS NOT NULL"))
    (old,), (new,) = before.table("labels").policies, after.table("labels").policies
    assert compare_catalogs(before, after) == (
        DropPolicy("labels", old, ("app_writer",)),
        CreatePolicy("labels", new, ("app_writer",)),
    )


def test_a_policy_renders_restrictive_with_its_clauses() -> None:
    policy = Policy("own_update", "update", "created_by IS NOT NULL", "title <> ''", ("writer",))
    assert create_policy("labels", policy, ("app_writer", "user")) == (
        'CREATE POLICY own_update ON labels AS RESTRICTIVE FOR UPDATE TO app_writer, "user"\n'
        "USING (created_by IS NOT NULL)\n"
        "WITH CHECK (title <> '')"
    )


def test_a_revision_names_the_policies_it_adds_changes_and_drops() -> None:
    one = SPEC % {"country": POLICIES["country"], "label": "", "booking": ""}
    other = one.replace("NOT retired", "retired IS FALSE")
    assert next_revision(WITHOUT, one)[0] == "0002_add_policy_current_to_countries.py"
    assert next_revision(one, other)[0] == "0002_change_policy_current_in_countries.py"
    assert next_revision(one, WITHOUT)[0] == "0002_drop_policy_current_from_countries.py"


# --- behaviour on PostgreSQL, as the application connects --------------------------------

ACCOUNT = "00000000-0000-0000-0000-00000000000a"
ALICE, BOB = uuid.uuid4(), uuid.uuid4()
SEED = (
    f"INSERT INTO accounts (id, name) VALUES ('{ACCOUNT}', 'a')",
    "INSERT INTO countries (code, retired) VALUES ('fr', false), ('zz', true)",
    f"INSERT INTO labels (title, created_by) VALUES ('alice', '{ALICE}'), ('bob', '{BOB}')",
    f"INSERT INTO bookings (tenant_id, note, created_by) VALUES ('{ACCOUNT}', 'alice', "
    f"'{ALICE}'), ('{ACCOUNT}', 'bob', '{BOB}')",
)


def acting(connection: psycopg.Connection, user: uuid.UUID | None) -> None:
    """Act for the account and ``user`` in this transaction, as ``tenant_session`` does."""
    connection.execute("SELECT set_config('app.tenant_id', %s, true)", (ACCOUNT,))
    connection.execute("SELECT set_config('app.user_id', %s, true)", (str(user or ""),))


def changed(connection: psycopg.Connection, statement: str, user: uuid.UUID | None) -> int:
    """Rows ``statement`` changes acting for ``user``, rolled back."""
    with connection.transaction(force_rollback=True):
        acting(connection, user)
        return connection.execute(statement).rowcount


def test_policies_narrow_what_the_writer_and_the_reader_reach(
    new_project: Callable[..., Project], database_url: str
) -> None:
    project = new_project(load_schema_text(WITH), with_models=True)
    project.alembic(database_url, "upgrade", "head")
    execute(database_url, *SEED)
    with (
        login_role(database_url, "app_writer") as writer,
        psycopg.connect(writer.conninfo, autocommit=True) as connection,
    ):
        for table, text in (("bookings", "note"), ("labels", "title")):
            own = f"UPDATE {table} SET {text} = {text} WHERE {text} = 'alice'"
            assert changed(connection, own, ALICE) == 1
            assert changed(connection, own, BOB) == 0
            assert changed(connection, own, None) == 0
            assert changed(connection, f"DELETE FROM {table}", ALICE) == 1
        with connection.transaction(force_rollback=True):
            acting(connection, ALICE)
            assert connection.execute("SELECT count(*) FROM bookings").fetchone() == (2,)
            # for: all reads as it writes: the writer sees and adds its own labels only.
            titles = connection.execute("SELECT title FROM labels").fetchall()
            assert titles == [("alice",)]
            codes = connection.execute("SELECT code FROM countries ORDER BY code").fetchall()
            assert codes == [("fr",), ("zz",)]  # the country policy is the reader's
        with connection.transaction(force_rollback=True):
            acting(connection, ALICE)
            connection.execute(f"INSERT INTO labels (title, created_by) VALUES ('x', '{ALICE}')")
        with pytest.raises(psycopg.Error) as refused, connection.transaction():
            acting(connection, ALICE)
            connection.execute(f"INSERT INTO labels (title, created_by) VALUES ('x', '{BOB}')")
        assert refused.value.sqlstate == INSUFFICIENT_PRIVILEGE
    with (
        login_role(database_url, "app_reader") as reader,
        psycopg.connect(reader.conninfo) as connection,
    ):
        assert connection.execute("SELECT code FROM countries").fetchall() == [("fr",)]


# --- incremental revisions on tables with rows ------------------------------------------


def test_policies_added_to_tables_with_rows_go_up_and_down(
    new_project: Callable[..., Project], database_url: str
) -> None:
    project = round_trip(new_project, database_url, WITHOUT, WITH, SEED)
    again = project.write(load_schema_text(WITH), with_models=True)
    assert len(again.revisions()) == 2, "a second generation has nothing to do"
    project.alembic(database_url, "downgrade", "-1")
    secured = query(
        database_url,
        "SELECT relname FROM pg_class WHERE relrowsecurity OR relforcerowsecurity "
        "ORDER BY relname",
    )
    assert secured == [("accounts",), ("bookings",)]  # the tenant policies' tables alone


def test_policies_changed_and_removed_on_tables_with_rows_go_up_and_down(
    new_project: Callable[..., Project], database_url: str
) -> None:
    fewer = SPEC % {
        "country": "",
        "label": POLICIES["label"].replace("for: all", "for: [select, update]"),
        "booking": POLICIES["booking"],
    }
    round_trip(new_project, database_url, WITH, fewer, SEED)
