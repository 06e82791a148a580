"""Range types and ``exclude``: no two bookings of one resource overlap.

Checked as the application writes: a LOGIN member of the writer role in a tenant's
transaction, under row-level security, on a database the generated revisions built.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from psycopg.types.range import Range

from entityforge.catalog import build_catalog
from entityforge.errors import EntityforgeError
from entityforge.spec import load_schema_text
from tests.inprocess import generate_project, unique_package
from tests.login_roles import login_role
from tests.test_incremental import execute, newest_revision, round_trip
from tests.test_migrations import Project, new_project
from tests.test_spec_errors import assert_refused_at, first_error

__all__ = ["new_project"]

BOOKINGS = """\
version: 1
tenancy: {entity: Account}
entities:
  Account:
    fields: {name: string(100)}
  Room:
    fields:
      name: string(100)
      seats: {type: int4range, nullable: true}
  Booking:
    soft_delete: true
    fields:
      during: tstzrange
      nights: {type: daterange, nullable: true}
      price: {type: numrange, nullable: true}
      odometer: {type: int8range, nullable: true}
      status: {type: enum, values: [held, confirmed, cancelled], default: held}
    relations:
      room: {kind: many_to_one, target: Room, on_delete: cascade}
    checks:
      - {name: bounded, expression: "NOT isempty(during) AND NOT upper_inf(during)"}
EXCLUDE"""

EXCLUDE = """\
    exclude:
      - name: no_overlap
        elements: [[room_id, "="], [during, "&&"]]
        where: "status <> 'cancelled'"
"""


def bookings(exclude: str = EXCLUDE) -> str:
    return BOOKINGS.replace("EXCLUDE", exclude)


def test_the_exclusion_leads_with_the_tenant_and_holds_among_live_rows() -> None:
    catalog = build_catalog(load_schema_text(bookings()))
    (exclusion,) = catalog.table("bookings").exclusions
    assert exclusion.name == "ex_bookings_no_overlap"
    assert [(e.name, e.operator) for e in exclusion.elements] == [
        ("tenant_id", "="),
        ("room_id", "="),
        ("during", "&&"),
    ]
    assert exclusion.where == "(status <> 'cancelled') AND deleted_at IS NULL"
    assert "btree_gist" in catalog.extensions


@pytest.mark.parametrize(
    ("exclude", "where", "message"),
    [
        pytest.param(
            '    exclude:\n      - {name: x, elements: [[room_id, "=="]]}\n',
            "23:40",
            "'==' is no operator an exclusion constraint here uses",
            id="unknown_operator",
        ),
        pytest.param(
            '    exclude:\n      - {name: x, elements: [[room_id, "&&"]]}\n',
            "23:40",
            "'&&' compares ranges, and 'room_id' is a uuid column",
            id="range_operator_on_a_plain_column",
        ),
        pytest.param(
            '    exclude:\n      - {name: x, elements: [[tenant_id, "="]]}\n',
            "23:31",
            "'tenant_id' is the tenant column",
            id="tenant_column",
        ),
        pytest.param(
            '    exclude:\n      - {name: x, elements: [[room, "="]]}\n',
            "23:31",
            "refers to 'room', which is no column of this table",
            id="unknown_column",
        ),
        pytest.param(
            '    exclude:\n      - {name: bounded, elements: [[during, "&&"]]}\n',
            "23:16",
            "the name 'bounded' is already used by a check or an exclusion here",
            id="name_of_a_check",
        ),
        pytest.param(
            "    exclude:\n      - {name: x, elements: [[during]]}\n",
            "23:30",
            "an element is a pair",
            id="not_a_pair",
        ),
        pytest.param(
            '    exclude:\n      - {name: x, elements: [[during, "&&"]], using: btree}\n',
            "23:54",
            "an exclusion constraint here is enforced by gist, not 'btree'",
            id="not_gist",
        ),
    ],
)
def test_bad_exclusions_are_refused(exclude: str, where: str, message: str) -> None:
    assert_refused_at(bookings(exclude), where, message)


def test_a_range_default_is_sql() -> None:
    spec = bookings("").replace("during: tstzrange", 'during: {type: tstzrange, default: "[1,2)"}')
    with pytest.raises(EntityforgeError) as raised:
        load_schema_text(spec)
    rendered = first_error(raised.value).render()
    assert "cannot be a literal for a tstzrange field" in rendered
    assert "default_sql" in rendered


def test_the_writer_cannot_double_book_a_room(
    database_url: str, new_project: Callable[..., Project]
) -> None:
    project = new_project(load_schema_text(bookings()), with_models=True)
    project.alembic(database_url, "upgrade", "head")
    tenant = "00000000-0000-7000-8000-000000000001"
    room = "00000000-0000-7000-8000-0000000000a1"
    execute(
        database_url,
        f"INSERT INTO accounts (id, name) VALUES ('{tenant}', 'a')",
        f"INSERT INTO rooms (id, tenant_id, name) VALUES ('{room}', '{tenant}', 'Blue')",
    )
    start = datetime.datetime(2030, 1, 1, 10, tzinfo=datetime.UTC)
    hour = datetime.timedelta(hours=1)
    insert = "INSERT INTO bookings (tenant_id, room_id, during, status) VALUES (%s, %s, %s, %s)"
    with (
        login_role(database_url, "app_writer") as writer,
        psycopg.connect(writer.conninfo, autocommit=True) as connection,
    ):
        connection.execute("SELECT set_config('app.tenant_id', %s, false)", (tenant,))
        connection.execute(insert, (tenant, room, Range(start, start + hour), "held"))
        with pytest.raises(psycopg.errors.ExclusionViolation) as raised:
            overlapping = Range(start + hour / 2, start + 2 * hour)
            connection.execute(insert, (tenant, room, overlapping, "confirmed"))
        assert raised.value.diag.constraint_name == "ex_bookings_no_overlap"
        # Adjacent, and overlapping but cancelled: both accepted.
        connection.execute(insert, (tenant, room, Range(start + hour, start + 2 * hour), "held"))
        connection.execute(insert, (tenant, room, Range(start, start + hour), "cancelled"))
        connection.execute("UPDATE bookings SET deleted_at = now() WHERE status = 'held'")
        # Deleted bookings free their time.
        connection.execute(insert, (tenant, room, Range(start, start + 2 * hour), "held"))
        count = connection.execute("SELECT count(*) FROM bookings").fetchone()
    assert count == (4,)


SEED = [
    "INSERT INTO accounts (id, name) VALUES ('00000000-0000-7000-8000-000000000001', 'a')",
    "INSERT INTO rooms (id, tenant_id, name) VALUES "
    "('00000000-0000-7000-8000-0000000000a1', '00000000-0000-7000-8000-000000000001', 'Blue')",
    "INSERT INTO bookings (tenant_id, room_id, during) VALUES "
    "('00000000-0000-7000-8000-000000000001', '00000000-0000-7000-8000-0000000000a1', "
    "'[2030-01-01 10:00+00, 2030-01-01 11:00+00)'), "
    "('00000000-0000-7000-8000-000000000001', '00000000-0000-7000-8000-0000000000a1', "
    "'[2030-01-01 11:00+00, 2030-01-01 12:00+00)')",
]


def test_adding_an_exclusion_to_a_table_with_rows_needs_allow_rewrite(tmp_path: Path) -> None:
    package = unique_package("excl")
    generate_project(tmp_path, bookings(""), package)
    with pytest.raises(EntityforgeError) as raised:
        generate_project(tmp_path, bookings(), package)
    message = f"{raised.value} {getattr(raised.value, 'hint', '')}"
    assert "building the exclusion constraint ex_bookings_no_overlap" in message
    assert "--allow-rewrite" in message


def test_adding_and_removing_an_exclusion_on_a_table_with_rows(
    database_url: str, create_database: Callable[[], str], new_project: Callable[..., Project]
) -> None:
    added = round_trip(
        new_project, database_url, bookings(""), bookings(), SEED, allow_rewrite=True
    )
    _, source = newest_revision(added)
    assert "ADD CONSTRAINT ex_bookings_no_overlap EXCLUDE USING gist" in source
    assert "rewrite_allowed" in source
    removed = round_trip(new_project, create_database(), bookings(), bookings(""), SEED)
    _, source = newest_revision(removed)
    upgrade = source[source.index("def upgrade") : source.index("def downgrade")]
    assert "DROP CONSTRAINT ex_bookings_no_overlap" in upgrade
