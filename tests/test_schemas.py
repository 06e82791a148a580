"""``schema:``: an entity's table in a PostgreSQL schema of its own.

The revisions create the schemas, grant the roles ``USAGE`` on them and name every table
outside ``public`` qualified; relations cross schemas both ways; a table in another schema
is isolated like one in ``public``, as the application's login sees it; a table moves
between schemas with its rows, and a schema left empty is dropped.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from entityforge.catalog import build_catalog
from entityforge.errors import EntityforgeError
from entityforge.importer import import_database
from entityforge.migrate.diff import compare_catalogs
from entityforge.migrate.operations import CreateTable, DropTable, invert
from entityforge.migrate.operations.schemas import (
    CreateSchema,
    DropSchema,
    GrantSchemaUsage,
    MoveEnum,
    MoveTable,
)
from entityforge.parse_tree import qualify_tables
from entityforge.spec import load_schema_text
from tests.inprocess import generate_project, unique_package
from tests.login_roles import login_role
from tests.projects import (
    REPO_ROOT,
    assert_style_clean,
    assert_up_down_up,
    new_project,
    project_env,
    psql_url,
    run,
)
from tests.test_incremental import execute, newest_revision, round_trip
from tests.test_migrations import Project, query
from tests.test_migrations import new_project as new_test_project
from tests.test_spec_errors import first_error

__all__ = ["new_test_project"]

SPECS = REPO_ROOT / "tests" / "specs"
CLINICS = SPECS / "schemas.yaml"
JOURNAL = SPECS / "schemas_single_tenant.yaml"
BOOKINGS = SPECS / "schemas_bookings.yaml"

FIRST = "00000000-0000-7000-8000-000000000001"
SECOND = "00000000-0000-7000-8000-000000000002"


def clinic_spec() -> str:
    return CLINICS.read_text()


# --- the spec and the catalog -----------------------------------------------------------


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        pytest.param(
            "Booking", "schema name 'Booking' is not a plain lower-case name", id="upper_case"
        ),
        pytest.param("pg_booking", "the schema name 'pg_booking' is reserved", id="pg_prefix"),
        pytest.param(
            "information_schema",
            "the schema name 'information_schema' is reserved",
            id="information_schema",
        ),
        pytest.param(
            "book-ing", "schema name 'book-ing' is not a plain lower-case name", id="dash"
        ),
    ],
)
def test_a_bad_schema_name_is_reported_at_its_value(schema: str, message: str) -> None:
    spec = clinic_spec().replace(
        "schema: booking\n    fields:\n      name", f"schema: {schema}\n    fields:\n      name"
    )
    with pytest.raises(EntityforgeError) as raised:
        load_schema_text(spec)
    rendered = first_error(raised.value).render()
    line = spec.splitlines().index(f"    schema: {schema}") + 1
    assert rendered.startswith(f"entities.yaml:{line}:13: "), rendered
    assert message in rendered
    assert "\n  hint: " in rendered and "e.g. 'booking'" in rendered
    assert "Traceback" not in rendered


def test_tables_carry_their_schema_and_keep_their_names() -> None:
    catalog = build_catalog(load_schema_text(clinic_spec()))
    assert catalog.schemas == ("booking", "org", "reference")
    assert catalog.table("rooms").qualified_name == "booking.rooms"
    assert catalog.table("room_staff").schema == "booking"  # the owner's schema
    assert catalog.table("invoices").qualified_name == "invoices"
    appointments = catalog.table("appointments")
    assert {fk.name: fk.referred_qualified for fk in appointments.foreign_keys} == {
        "fk_appointments_tenant_id_clinics": "org.clinics",
        "fk_appointments_tenant_id_room_id_rooms": "booking.rooms",
        "fk_appointments_tenant_id_clinician_id_people": "org.people",
    }
    # From public into another schema, and back.
    invoice_keys = {fk.referred_qualified for fk in catalog.table("invoices").foreign_keys}
    assert invoice_keys == {"org.clinics", "booking.appointments"}
    people = {fk.referred_qualified for fk in catalog.table("people").foreign_keys}
    assert people == {"org.clinics", "reference.countries", "addresses"}
    assert appointments.primary_key_name == "pk_appointments"


def test_a_policy_subquery_names_the_tables_of_other_schemas_qualified() -> None:
    catalog = build_catalog(load_schema_text(clinic_spec()))
    (policy,) = catalog.table("invoices").policies
    assert policy.using == (
        "EXISTS (SELECT FROM booking.appointments AS a WHERE a.id = appointment_id "
        "AND a.status <> 'cancelled')"
    )
    assert qualify_tables("x IN (SELECT id FROM rooms JOIN public.t ON true)", {"rooms": "b"}) == (
        "x IN (SELECT id FROM b.rooms JOIN public.t ON true)"
    )


def test_an_unchanged_spec_without_schemas_has_no_schema_operations() -> None:
    public = clinic_spec().replace("    schema: booking\n", "").replace("    schema: org\n", "")
    public = public.replace("    schema: reference\n", "")
    catalog = build_catalog(load_schema_text(public))
    operations = compare_catalogs(None, catalog)
    assert not [op for op in operations if isinstance(op, (CreateSchema, GrantSchemaUsage))]


def test_a_move_is_a_move_and_an_emptied_schema_is_dropped_last() -> None:
    before = build_catalog(load_schema_text(clinic_spec()))
    moved = clinic_spec().replace("  Country:\n    schema: reference\n", "  Country:\n")
    moved = moved.replace("  Address:\n", "  Address:\n    schema: billing\n")
    operations = compare_catalogs(before, build_catalog(load_schema_text(moved)))
    assert operations[:3] == (
        CreateSchema("billing"),
        MoveTable("countries", "reference", None),
        MoveTable("addresses", None, "billing"),
    )
    assert operations[-1] == DropSchema("reference")
    assert GrantSchemaUsage("billing", ("app_reader", "app_writer", "app_admin")) in operations
    assert not [op for op in operations if isinstance(op, (CreateTable, DropTable))]
    # The foreign keys into the moved tables follow them: nothing is dropped and added.
    assert [type(op).__name__ for op in operations] == [
        "CreateSchema",
        "MoveTable",
        "MoveTable",
        "GrantSchemaUsage",
        "RevokeSchemaUsage",
        "DropSchema",
    ]
    downgrade = invert(operations)
    assert downgrade[0] == CreateSchema("reference")
    assert downgrade[-1] == DropSchema("billing")


# --- generated projects, migrated -------------------------------------------------------


@pytest.fixture(scope="module", params=["bookings", "clinics", "journal"])
def project(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    spec = {"bookings": BOOKINGS, "clinics": CLINICS, "journal": JOURNAL}[request.param]
    return new_project(tmp_path_factory.mktemp(request.param), spec)


def test_the_generated_code_is_black_and_ruff_clean(project: Path) -> None:
    assert_style_clean(project)


def test_migrates_up_down_up_without_drift(
    project: Path, create_database: Callable[[], str]
) -> None:
    url = create_database()
    assert_up_down_up(project, url)


def test_the_generated_suite_passes(project: Path, server_url: str) -> None:
    result = run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        env=project_env(project, server_url),
        timeout=900,
    )
    assert result.returncode == 0, result.output[-6000:]
    assert " passed" in result.stdout


def test_a_table_in_another_schema_is_isolated_from_the_writers_login(
    database_url: str, new_test_project: Callable[..., Project]
) -> None:
    """As a LOGIN member of the writer with an empty search_path: qualified names reach
    the tables, and row-level security keeps them to the tenant set."""
    project = new_test_project(load_schema_text(clinic_spec()), with_models=True)
    project.alembic(database_url, "upgrade", "head")
    execute(
        database_url,
        f"INSERT INTO org.clinics (id, name, slug) VALUES ('{FIRST}', 'North', 'north'), "
        f"('{SECOND}', 'South', 'south')",
        "INSERT INTO booking.rooms (tenant_id, name, equipment) VALUES "
        f"('{FIRST}', 'Blue', '{{\"projector\": true}}'), "
        f"('{SECOND}', 'Red', '{{\"projector\": true}}')",
    )
    with (
        login_role(database_url, "app_writer") as writer,
        psycopg.connect(writer.conninfo, autocommit=True) as connection,
    ):
        connection.execute("SET search_path = ''")
        connection.execute("SELECT set_config('app.tenant_id', %s, false)", (FIRST,))
        rooms = connection.execute("SELECT name FROM booking.rooms").fetchall()
        assert rooms == [("Blue",)]
        assert connection.execute("SELECT slug FROM org.clinics").fetchall() == [("north",)]
        # The search function lives beside its table and reads the tenant's rows only.
        found = connection.execute(
            "SELECT count(*) FROM booking.rooms_equipment_contains('{\"projector\": true}')"
        ).fetchone()
        assert found == (1,)
        moved = connection.execute("UPDATE booking.rooms SET name = 'Mine' WHERE name = 'Red'")
        assert moved.rowcount == 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            connection.execute(
                "INSERT INTO booking.rooms (tenant_id, name) VALUES (%s, 'Planted')", (SECOND,)
            )
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            connection.execute("DELETE FROM org.clinics")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            connection.execute("INSERT INTO reference.countries (code, name) VALUES ('XX', 'X')")
        connection.execute("SELECT set_config('app.tenant_id', '', false)")
        assert connection.execute("SELECT count(*) FROM booking.rooms").fetchone() == (0,)
    names = query(database_url, "SELECT tenant_id::text, name FROM booking.rooms ORDER BY name")
    assert names == [(FIRST, "Blue"), (SECOND, "Red")]


# --- incremental revisions --------------------------------------------------------------

ROOMS = [
    f"INSERT INTO org.clinics (id, name, slug) VALUES ('{FIRST}', 'North', 'north')",
    f"INSERT INTO booking.rooms (id, tenant_id, name, capacity) VALUES "
    f"('00000000-0000-7000-8000-0000000000a1', '{FIRST}', 'Blue', 4)",
    f"INSERT INTO org.people (id, tenant_id, email) VALUES "
    f"('00000000-0000-7000-8000-0000000000b1', '{FIRST}', 'ada@example.com')",
    f"INSERT INTO booking.room_staff (tenant_id, room_id, person_id) VALUES ('{FIRST}', "
    "'00000000-0000-7000-8000-0000000000a1', '00000000-0000-7000-8000-0000000000b1')",
    f"INSERT INTO booking.appointments (tenant_id, room_id, clinician_id, starts_at, ends_at) "
    f"VALUES ('{FIRST}', '00000000-0000-7000-8000-0000000000a1', "
    "'00000000-0000-7000-8000-0000000000b1', '2030-01-01 10:00+00', '2030-01-01 11:00+00')",
]


def test_tables_with_rows_move_between_schemas(
    database_url: str, new_test_project: Callable[..., Project]
) -> None:
    """Rooms (with its junction, referred to from another schema) move into a new schema,
    Country leaves ``reference`` for public, which drops ``reference``; rows stay."""
    moved = clinic_spec().replace("  Room:\n    schema: booking\n", "  Room:\n    schema: site\n")
    moved = moved.replace("  Country:\n    schema: reference\n", "  Country:\n")
    project = round_trip(new_test_project, database_url, clinic_spec(), moved, ROOMS)
    _, source = newest_revision(project)
    upgrade = source[source.index("def upgrade") : source.index("def downgrade")]
    assert "ALTER TABLE booking.rooms SET SCHEMA site" in upgrade
    assert "ALTER TABLE booking.room_staff SET SCHEMA site" in upgrade
    assert "ALTER TABLE reference.countries SET SCHEMA public" in upgrade
    assert "- table rooms moved from schema booking to site" in source
    assert "drop_table" not in source and "create_table" not in source
    assert "drop_constraint" not in source
    schemas = query(
        database_url,
        "SELECT nspname FROM pg_namespace WHERE nspname IN ('booking', 'reference', 'site')",
    )
    assert sorted(schemas) == [("booking",), ("site",)]
    staff = query(database_url, "SELECT count(*) FROM site.room_staff")
    assert staff == [(1,)]
    # The search function's body names its table: it is made again beside it.
    functions = query(
        database_url,
        "SELECT pronamespace::regnamespace::text FROM pg_proc "
        "WHERE proname = 'rooms_equipment_contains'",
    )
    assert functions == [("site",)]
    execute(
        database_url,
        "SELECT site.rooms_equipment_contains('{}'::jsonb)",
    )


def test_an_entity_in_a_new_schema_and_the_last_one_leaving_it(
    database_url: str, new_test_project: Callable[..., Project]
) -> None:
    added = clinic_spec() + (
        "\n  Claim:\n    schema: insurance\n    fields:\n      reference: string(40)\n"
        "    relations:\n"
        "      appointment: {kind: many_to_one, target: Appointment, on_delete: cascade}\n"
    )
    project = round_trip(new_test_project, database_url, clinic_spec(), added, ROOMS)
    _, source = newest_revision(project)
    assert "CREATE SCHEMA IF NOT EXISTS insurance" in source
    assert "GRANT USAGE ON SCHEMA insurance TO app_reader, app_writer, app_admin" in source
    assert '["booking.appointments.tenant_id", "booking.appointments.id"]' in source
    removed = project.write(
        load_schema_text(clinic_spec()), with_models=True, allow_destructive=True
    )
    removed.alembic(database_url, "upgrade", "head")
    removed.alembic(database_url, "check")
    schemas = query(database_url, "SELECT nspname FROM pg_namespace WHERE nspname = 'insurance'")
    assert schemas == []
    removed.alembic(database_url, "downgrade", "-1")
    assert query(database_url, "SELECT count(*) FROM insurance.claims") == [(0,)]


def journal_spec() -> str:
    return JOURNAL.read_text()


ARTICLES = [
    "INSERT INTO people.people (id, full_name, email) VALUES "
    "('00000000-0000-7000-8000-0000000000c1', 'Grace Hopper', 'grace@example.com')",
    "INSERT INTO content.articles (author_id, headline, body, state, published_at) VALUES "
    "('00000000-0000-7000-8000-0000000000c1', 'Nanoseconds', 'A wire this long.', "
    "'published', '2030-01-01 09:00+00')",
]


def test_a_table_moves_with_its_enum_type(
    database_url: str, new_test_project: Callable[..., Project]
) -> None:
    """Articles leave ``content`` for ``newsroom``: the table, its junction and its native
    enum type move; the state of the row survives both ways."""
    moved = journal_spec().replace(
        "  Article:\n    schema: content\n", "  Article:\n    schema: newsroom\n"
    )
    operations = compare_catalogs(
        build_catalog(load_schema_text(journal_spec())),
        build_catalog(load_schema_text(moved)),
    )
    assert operations[:4] == (
        CreateSchema("newsroom"),
        MoveEnum("article_state", "content", "newsroom"),
        MoveTable("articles", "content", "newsroom"),
        MoveTable("article_reviewers", "content", "newsroom"),
    )
    project = round_trip(new_test_project, database_url, journal_spec(), moved, ARTICLES)
    _, source = newest_revision(project)
    assert "ALTER TYPE content.article_state SET SCHEMA newsroom" in source
    states = query(database_url, "SELECT state::text FROM newsroom.articles")
    assert states == [("published",)]
    enum_schema = query(
        database_url,
        "SELECT typnamespace::regnamespace::text FROM pg_type WHERE typname = 'article_state'",
    )
    assert enum_schema == [("newsroom",)]


def test_a_schema_imported_on_its_own_keeps_its_name(
    database_url: str, new_test_project: Callable[..., Project]
) -> None:
    project = new_test_project(load_schema_text(journal_spec()), with_models=True)
    project.alembic(database_url, "upgrade", "head")
    imported = import_database(psql_url(database_url), "people")
    spec = load_schema_text(imported.text)
    (person,) = spec.entities
    assert (person.name, person.table, person.schema) == ("Person", "people", "people")


def test_a_column_renamed_in_two_steps_in_another_schema(
    database_url: str, new_test_project: Callable[..., Project]
) -> None:
    """``--expand`` then ``--contract`` on booking.rooms: the trigger function that keeps
    both names equal lives beside the table, and the batched copy reaches the table."""
    project = new_test_project(load_schema_text(clinic_spec()), with_models=True)
    project.alembic(database_url, "upgrade", "head")
    execute(database_url, *ROOMS[:2])
    renamed = clinic_spec().replace(
        "      name: string(100)\n      capacity:",
        "      label: {type: string, max_length: 100, renamed_from: name}\n      capacity:",
    )
    project = project.write(load_schema_text(renamed), with_models=True, expand=True)
    _, expand = project.revisions()[-1]
    assert "CREATE OR REPLACE FUNCTION booking.twin_rooms_label()" in expand
    project.alembic(database_url, "upgrade", "head")
    assert query(database_url, "SELECT name, label FROM booking.rooms") == [("Blue", "Blue")]
    project.alembic(database_url, "check")
    project = project.write(load_schema_text(renamed), with_models=True, contract=True)
    project.alembic(database_url, "upgrade", "head")
    project.alembic(database_url, "check")
    assert query(database_url, "SELECT label FROM booking.rooms") == [("Blue",)]
    functions = query(database_url, "SELECT count(*) FROM pg_proc WHERE proname LIKE 'twin_%'")
    assert functions == [(0,)]
    project.alembic(database_url, "downgrade", "-2")
    assert query(database_url, "SELECT name FROM booking.rooms") == [("Blue",)]


def test_a_schema_named_by_a_reserved_word_is_quoted(tmp_path: Path) -> None:
    spec = clinic_spec().replace("schema: booking", "schema: order")
    package = unique_package("sch")
    generate_project(tmp_path, spec, package)
    (revision,) = (tmp_path / package / "alembic" / "versions").glob("*.py")
    text = revision.read_text()
    assert """op.execute('CREATE SCHEMA IF NOT EXISTS "order"')""" in text
    assert """op.execute('ALTER TABLE "order".rooms ENABLE ROW LEVEL SECURITY')""" in text
    assert 'schema="order"' in text
    model = (tmp_path / package / "models" / "room.py").read_text()
    assert '"schema": "order"' in model


def test_renamed_roles_keep_their_usage_of_every_schema(
    database_url: str, new_test_project: Callable[..., Project]
) -> None:
    prefix = f"r{uuid.uuid4().hex[:8]}"
    before = clinic_spec().replace(
        "tenancy: {entity: Clinic}\n",
        f"tenancy: {{entity: Clinic}}\nroles: {{reader: {prefix}_r, writer: {prefix}_w, "
        f"admin: {prefix}_a}}\n",
    )
    after = before.replace(f"writer: {prefix}_w", f"writer: {prefix}_writer")
    round_trip(new_test_project, database_url, before, after, ROOMS[:2])
    usage = query(
        database_url,
        "SELECT nspname, has_schema_privilege(:role, nspname, 'USAGE') FROM pg_namespace "
        "WHERE nspname IN ('booking', 'org', 'reference') ORDER BY 1",
        role=f"{prefix}_writer",
    )
    assert usage == [("booking", True), ("org", True), ("reference", True)]


def test_a_schema_made_by_hand_is_adopted_and_kept(
    database_url: str, new_test_project: Callable[..., Project]
) -> None:
    """``booking`` exists before the first upgrade, owned by another role: the revision
    uses it, and the downgrade leaves it (and what else it holds) where it was."""
    owner = f"ops_{uuid.uuid4().hex[:8]}"
    execute(
        database_url,
        f"CREATE ROLE {owner} NOLOGIN",
        f"CREATE SCHEMA booking AUTHORIZATION {owner}",
        "GRANT CREATE, USAGE ON SCHEMA booking TO CURRENT_USER",
        "CREATE TABLE booking.legacy_slots (id integer)",
    )
    project = new_test_project(load_schema_text(clinic_spec()), with_models=True)
    project.alembic(database_url, "upgrade", "head")
    rooms = query(database_url, "SELECT count(*) FROM booking.rooms")
    assert rooms == [(0,)]
    project.alembic(database_url, "downgrade", "base")
    left = query(
        database_url,
        "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n "
        "ON n.oid = c.relnamespace WHERE n.nspname IN ('booking', 'org', 'reference') "
        "AND c.relkind = 'r'",
    )
    assert left == [("booking", "legacy_slots")]
    execute(database_url, "DROP SCHEMA booking CASCADE", f"DROP ROLE {owner}")
