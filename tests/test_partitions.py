"""``partition``: tables partitioned by range of a datetime or date, or by hash of the
tenant column.

Checked as the application reaches them: the plan of a query is the one a LOGIN member
of the writer role gets under row-level security, on a database the generated revisions
built; the maintenance entry point runs as the owner, twice.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from entityforge import pipeline
from entityforge.catalog import build_catalog
from entityforge.errors import EntityforgeError, GenerationError
from entityforge.migrate.diff import compare_catalogs
from entityforge.migrate.operations import CreateTable, DropTable, invert
from entityforge.migrate.operations.partitions import CreatePartitions, DropPartitions
from entityforge.spec import load_schema, load_schema_text
from tests.inprocess import generate_project, unique_package
from tests.login_roles import login_role
from tests.projects import (
    REPO_ROOT,
    alembic,
    assert_up_down_up,
    guarantee_violations,
    new_project,
    project_env,
    psql_url,
    run,
    writable_global_tables,
)
from tests.test_generated_tests import outcome_counts, run_project_tests
from tests.test_incremental import newest_revision, round_trip
from tests.test_migrations import Project
from tests.test_migrations import new_project as migration_projects
from tests.test_spec_errors import assert_refused_at

__all__ = ["migration_projects"]  # a fixture

FLEET = REPO_ROOT / "tests" / "specs" / "partition_fleet.yaml"
SHOP = REPO_ROOT / "tests" / "specs" / "partition_single_tenant.yaml"

EVENTS = """\
version: 1
tenancy: {entity: Account}
entities:
  Account:
    fields: {name: string(100)}
  Device:
    fields: {name: string(100)}
  Event:
PARTITION    fields:
      occurred_at: datetime
      happened_on: {type: date, nullable: true}
      kind: {type: enum, values: [created, changed, removed]}
      serial: integer
    relations:
      device: {kind: many_to_one, target: Device, on_delete: cascade}
EXTRA"""

BY_MONTH = "    partition: {by: range, column: occurred_at, interval: month, premake: 2}\n"


def events(partition: str = BY_MONTH, extra: str = "") -> str:
    return EVENTS.replace("PARTITION", partition).replace("EXTRA", extra)


@pytest.mark.parametrize(
    ("spec", "where", "message"),
    [
        pytest.param(
            events("    partition: {by: list, column: occurred_at}\n"),
            "9:21",
            "unknown partitioning 'list'",
            id="unknown_method",
        ),
        pytest.param(
            events("    partition: {by: range, column: occured_at, interval: month}\n"),
            "9:36",
            "'occured_at' is not a field of 'Event'",
            id="unknown_column",
        ),
        pytest.param(
            events("    partition: {by: range, column: serial, interval: month}\n"),
            "9:36",
            "'serial' is a integer field",
            id="not_a_moment",
        ),
        pytest.param(
            events("    partition: {by: range, column: happened_on, interval: month}\n"),
            "9:36",
            "'happened_on' is nullable",
            id="nullable",
        ),
        pytest.param(
            events("    partition: {by: range, column: occurred_at, interval: fortnight}\n"),
            "9:59",
            "a range partition needs an interval, not 'fortnight'",
            id="interval",
        ),
        pytest.param(
            events(
                "    partition: {by: range, column: occurred_at, interval: day, premake: 500}\n"
            ),
            "9:73",
            "premake 500 is out of range",
            id="premake",
        ),
        pytest.param(
            events("    partition: {by: hash, column: device_id, partitions: 4}\n"),
            "9:35",
            "a hash partition column is the tenant column 'tenant_id', not 'device_id'",
            id="hash_not_tenant",
        ),
        pytest.param(
            events("    partition: {by: hash, column: tenant_id, partitions: 1}\n"),
            "9:58",
            "a hash partition needs 2 to 256 partitions, not 1",
            id="hash_count",
        ),
        pytest.param(
            events("    partition: {by: hash, column: tenant_id, interval: day, partitions: 4}\n"),
            "9:46",
            "'interval' is for range partitions",
            id="hash_interval",
        ),
        pytest.param(
            events(extra="    unique: [[device_id, serial]]\n"),
            "9:5",
            "the unique key ['device_id', 'serial'], and a unique key of a table partitioned "
            "by 'occurred_at' must include 'occurred_at'",
            id="unique_without_partition_column",
        ),
        pytest.param(
            events().replace("serial: integer", "serial: {type: integer, unique: true}"),
            "9:5",
            "the field 'serial' is unique",
            id="unique_field",
        ),
        pytest.param(
            events(extra='    exclude:\n      - {name: one_kind, elements: [[kind, "="]]}\n'),
            "9:5",
            "the exclusion constraint 'one_kind' must compare 'occurred_at' with =",
            id="exclusion_without_partition_column",
        ),
        pytest.param(
            events().replace(
                "  Event:\n",
                "  Alarm:\n    relations:\n"
                "      event: {kind: many_to_one, target: Event}\n  Event:\n",
            ),
            "10:42",
            "'Event' is partitioned by range of 'occurred_at', and a foreign key to it "
            "would have to hold 'occurred_at' too",
            id="foreign_key_to_range",
        ),
        pytest.param(
            events().replace(
                "    fields: {name: string(100)}\n  Device",
                "    partition: {by: hash, column: tenant_id, partitions: 4}\n"
                "    fields: {name: string(100)}\n  Device",
                1,
            ),
            "5:5",
            "the tenant entity 'Account' cannot be partitioned",
            id="tenant_entity",
        ),
    ],
)
def test_bad_partitions_are_refused_at_the_key(spec: str, where: str, message: str) -> None:
    assert_refused_at(spec, where, message)


def test_hash_needs_tenancy() -> None:
    spec = (
        "version: 1\nentities:\n  Hit:\n"
        "    partition: {by: hash, column: tenant_id, partitions: 4}\n"
        "    fields: {at: datetime}\n"
    )
    with pytest.raises(EntityforgeError) as raised:
        load_schema_text(spec)
    assert "'Hit' has no tenant column to partition by hash" in str(raised.value)


def test_keys_include_the_partition_column() -> None:
    fleet = build_catalog(load_schema(FLEET))
    readings, trips = fleet.table("readings"), fleet.table("trips")
    assert readings.primary_key == ("tenant_id", "id", "recorded_at")
    assert readings.partition_by == "RANGE (recorded_at)"
    assert all("recorded_at" in unique.columns for unique in readings.uniques)
    # Hash partitions of the tenant column keep the tenant-first key a foreign key uses.
    assert trips.primary_key == ("tenant_id", "id")
    assert trips.partition_by == "HASH (tenant_id)"
    stopovers = fleet.table("stopovers")
    assert [fk.referred_columns for fk in stopovers.foreign_keys if fk.referred_table == "trips"]
    shop = build_catalog(load_schema(SHOP))
    assert shop.table("page_views").primary_key == ("id", "viewed_on")


def test_a_new_partitioned_table_gets_its_partitions_after_it_and_loses_them_before() -> None:
    operations = compare_catalogs(None, build_catalog(load_schema(FLEET)))
    made = [op for op in operations if isinstance(op, CreatePartitions)]
    assert [(op.table, op.partition.by, op.bound) for op in made] == [
        ("fuel_prices", "range", "date"),
        ("trips", "hash", "uuid"),
        ("readings", "range", "timestamptz"),
    ]
    for op in made:
        created = next(
            i
            for i, o in enumerate(operations)
            if isinstance(o, CreateTable) and o.table.name == op.table
        )
        assert created < operations.index(op)
    undone = invert(operations)
    for op in undone:
        if isinstance(op, DropPartitions):
            dropped = next(
                i
                for i, o in enumerate(undone)
                if isinstance(o, DropTable) and o.table.name == op.table
            )
            assert undone.index(op) < dropped


BY_TENANT = "    partition: {by: hash, column: tenant_id, partitions: 4}\n"
DEVICE_EVENTS = """\
views:
  DeviceEvents:
    query: "SELECT id, tenant_id, device_id, kind, occurred_at FROM events WHERE serial > 10"
"""


def rebuilt(event: str, device: str) -> str:
    """``EVENTS`` with a view over ``Event``, ``event`` and ``device`` its partitionings."""
    spec = events(event, DEVICE_EVENTS)
    marker = "  Device:\n"
    return spec.replace(marker, marker + device)


ACCOUNT = "00000000-0000-7000-8000-000000000001"
DEVICES = ("00000000-0000-7000-8000-0000000000d1", "00000000-0000-7000-8000-0000000000d2")
REBUILT_SEED = [
    f"INSERT INTO accounts (id, name) VALUES ('{ACCOUNT}', 'north')",
    "INSERT INTO devices (id, tenant_id, name) VALUES "
    + ", ".join(f"('{device}', '{ACCOUNT}', 'gauge {n}')" for n, device in enumerate(DEVICES)),
    "INSERT INTO events (tenant_id, device_id, occurred_at, happened_on, kind, serial) "
    f"SELECT '{ACCOUNT}', (ARRAY['{DEVICES[0]}', '{DEVICES[1]}']::uuid[])[1 + n % 2], "
    "timestamptz '2025-01-31 23:30+00' + n * interval '9 days', NULL, 'created', n "
    "FROM generate_series(0, 79) AS n",
]


def test_partitioning_a_table_with_rows_needs_allow_rewrite(tmp_path: Path) -> None:
    package = unique_package("part")
    generate_project(tmp_path, rebuilt("", ""), package)
    with pytest.raises(GenerationError) as raised:
        generate_project(tmp_path, rebuilt(BY_MONTH, BY_TENANT), package)
    message = f"{raised.value} {raised.value.hint}"
    assert "events: moving every row into a table partitioned by range" in message
    assert "devices: moving every row into a table partitioned by hash" in message
    assert "--allow-rewrite" in message


@pytest.mark.parametrize(
    ("before", "after", "message"),
    [
        pytest.param(
            BY_MONTH,
            BY_MONTH.replace("month", "week"),
            "to range partitions of occurred_at by week",
            id="interval",
        ),
    ],
)
def test_partitioning_a_table_otherwise_is_refused_with_the_steps(
    tmp_path: Path, before: str, after: str, message: str
) -> None:
    package = unique_package("part")
    generate_project(tmp_path, events(before), package)
    with pytest.raises(GenerationError) as raised:
        generate_project(tmp_path, events(after), package)
    assert message in str(raised.value)
    assert "remove 'partition'" in (raised.value.hint or "")


def test_a_rebuilt_table_keeps_its_columns(tmp_path: Path) -> None:
    package = unique_package("part")
    generate_project(tmp_path, events(""), package)
    changed = events(BY_MONTH).replace("      serial: integer\n", "")
    options = pipeline.Options(allow_destructive=True, allow_rewrite=True)
    with pytest.raises(GenerationError) as raised:
        generate_project(tmp_path, changed, package, options)
    assert "table events becomes partitioned while its columns change (serial)" in str(
        raised.value
    )


def _partition_rows(url: str, table: str) -> dict[str, int]:
    with psycopg.connect(psql_url(url)) as connection:
        partitions = connection.execute(
            "SELECT c.relname FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass",
            (table,),
        ).fetchall()
        return {
            name: connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]  # type: ignore[index]
            for (name,) in partitions
        }


VISITS = """\
version: 1
entities:
  WebPage:
    fields:
      path: {type: string, max_length: 2000, unique: true}
  PageView:
PARTITION    audit: true
    search: {fields: {referrer: A}}
    fields:
      viewed_on: date
      referrer: {type: text, nullable: true}
      duration_ms: {type: integer, check: "duration_ms >= 0"}
    relations:
      web_page: {kind: many_to_one, target: WebPage, on_delete: cascade}
"""
BY_DAY = "    partition: {by: range, column: viewed_on, interval: day, premake: 1}\n"
VISITS_SEED = [
    "INSERT INTO web_pages (id, path) VALUES ('00000000-0000-7000-8000-0000000000f1', '/')",
    "INSERT INTO page_views (web_page_id, viewed_on, referrer, duration_ms) "
    "SELECT '00000000-0000-7000-8000-0000000000f1', date '2026-11-20' + n, 'news', n "
    "FROM generate_series(0, 19) AS n",
]


def test_a_table_without_tenants_searched_and_audited_is_rebuilt_keeping_its_history(
    database_url: str, migration_projects: Callable[..., Project]
) -> None:
    visits = VISITS.replace("PARTITION", "")
    round_trip(
        migration_projects,
        database_url,
        visits,
        VISITS.replace("PARTITION", BY_DAY),
        VISITS_SEED,
        allow_rewrite=True,
    )
    with psycopg.connect(psql_url(database_url)) as connection:
        history = connection.execute("SELECT count(*) FROM page_views_history").fetchone()
        found = connection.execute(
            "SELECT count(*) FROM page_views WHERE search_vector @@ 'news'::tsquery"
        ).fetchone()
    assert history == (20,)  # the seed's inserts only: moving rows records nothing
    assert found == (20,)
    rows = _partition_rows(database_url, "page_views")
    assert rows.pop("page_views_default") == 0
    assert len(rows) >= 20 and sum(rows.values()) == 20


def test_partitioning_and_unpartitioning_tables_with_rows(
    database_url: str,
    create_database: Callable[[], str],
    migration_projects: Callable[..., Project],
) -> None:
    partitioned = round_trip(
        migration_projects,
        database_url,
        rebuilt("", ""),
        rebuilt(BY_MONTH, BY_TENANT),
        REBUILT_SEED,
        allow_rewrite=True,
    )
    name, source = newest_revision(partitioned)
    assert name.endswith("_partition_devices_and_events.py"), name
    upgrade = source[source.index("def upgrade") : source.index("def downgrade")]
    assert "rewrite_allowed" in upgrade
    assert "ALTER TABLE events RENAME TO events_rebuilding" in upgrade
    # Every row in the partition of its month, none in the default one.
    events_rows = _partition_rows(database_url, "events")
    assert events_rows.pop("events_default") == 0
    assert sum(events_rows.values()) == 80
    assert {"events_p20250101", "events_p20250201", "events_p20261201"} <= set(events_rows)
    devices_rows = _partition_rows(database_url, "devices")
    assert sorted(devices_rows) == [f"devices_p{n}" for n in range(4)]
    assert sum(devices_rows.values()) == 2

    plain = round_trip(
        migration_projects,
        create_database(),
        rebuilt(BY_MONTH, BY_TENANT),
        rebuilt("", ""),
        REBUILT_SEED,
        allow_rewrite=True,
    )
    name, source = newest_revision(plain)
    assert name.endswith("_stop_partitioning_devices_and_events.py"), name
    upgrade = source[source.index("def upgrade") : source.index("def downgrade")]
    assert "DROP FUNCTION IF EXISTS public.events_make_partitions()" in upgrade
    assert "DROP TABLE events_rebuilding" in upgrade


def test_changing_premake_replaces_the_maintenance_function(tmp_path: Path) -> None:
    package = unique_package("part")
    generate_project(tmp_path, events(), package)
    generate_project(tmp_path, events(BY_MONTH.replace("premake: 2", "premake: 6")), package)
    newest = sorted((tmp_path / package / "alembic" / "versions").glob("*.py"))[-1].read_text()
    upgrade = newest[newest.index("def upgrade") : newest.index("def downgrade")]
    assert "FOR step IN 0..6 LOOP" in upgrade
    assert "SELECT public.events_make_partitions()" in upgrade
    assert "DROP FUNCTION" not in upgrade
    assert "PARTITION OF public.events DEFAULT" not in upgrade
    downgrade = newest[newest.index("def downgrade") :]
    assert "FOR step IN 0..2 LOOP" in downgrade


def _scanned(plan: object) -> set[str]:
    found: set[str] = set()
    nodes = [plan[0]["Plan"]]  # type: ignore[index]
    while nodes:
        node = nodes.pop()
        if "Relation Name" in node:
            found.add(node["Relation Name"])
        nodes += node.get("Plans", [])
    return found


def test_fleet_migrates_prunes_as_the_writer_and_keeps_its_partitions_made(
    tmp_path: Path, create_database: Callable[[], str], server_url: str
) -> None:
    project = new_project(tmp_path, FLEET)
    url = create_database()
    assert_up_down_up(project, url)
    schema = load_schema(FLEET)
    assert schema.tenancy is not None
    violations = guarantee_violations(
        url,
        tenant_column="tenant_id",
        tenant_table="operators",
        setting="app.tenant_id",
        writer=schema.roles.writer,
        writable_tables=writable_global_tables(schema),
    )
    assert violations == {}, json.dumps(violations, indent=1)
    # The maintenance entry point, twice: the second run makes nothing.
    env = {**project_env(project), "MIGRATION_DATABASE_URL": url}
    runs = [run(["python", "-m", "app.partitions"], cwd=project, env=env) for _ in range(2)]
    assert all(done.returncode == 0 for done in runs), runs[-1].output
    assert runs[1].stdout.splitlines() == [
        "fuel_prices: 0 new partitions",
        "readings: 0 new partitions",
    ]
    tenant = "00000000-0000-7000-8000-000000000001"
    with psycopg.connect(psql_url(url), autocommit=True) as owner:
        owner.execute("INSERT INTO operators (id, name) VALUES (%s, 'a')", (tenant,))
    today = datetime.datetime.now(datetime.UTC).date()
    start = today.replace(day=1)
    end = (start + datetime.timedelta(days=32)).replace(day=1)
    with (
        login_role(url, schema.roles.writer) as writer,
        psycopg.connect(writer.conninfo, autocommit=True) as connection,
    ):
        connection.execute("SELECT set_config('app.tenant_id', %s, false)", (tenant,))
        plan = connection.execute(
            "EXPLAIN (FORMAT JSON) SELECT id FROM readings "
            f"WHERE recorded_at >= '{start}' AND recorded_at < '{end}'"
        ).fetchone()
        assert plan is not None
        assert _scanned(plan[0]) == {f"readings_p{start:%Y%m%d}"}, json.dumps(plan[0])
        plan = connection.execute(
            f"EXPLAIN (FORMAT JSON) SELECT id FROM trips WHERE tenant_id = '{tenant}'"
        ).fetchone()
        assert plan is not None and len(_scanned(plan[0])) == 1
        # The partitions are granted to nobody: the writer reaches rows through the table.
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            connection.execute(f"SELECT * FROM readings_p{start:%Y%m%d}")
    _maintenance_moves_rows_out_of_the_default_partition(project, url, tenant, end)
    output = run_project_tests(project, server_url)
    assert set(outcome_counts(output)) == {"passed"}, output[-6000:]


def _maintenance_moves_rows_out_of_the_default_partition(
    project: Path, url: str, tenant: str, month: datetime.date
) -> None:
    """A month whose partition is missing holds its rows in the default partition; the
    maintenance makes the partition and moves them into it, under its own policy."""
    partition = f"readings_p{month:%Y%m%d}"
    insert = (
        "INSERT INTO readings (tenant_id, vehicle_id, recorded_at, sensor, value, sequence) "
        "VALUES (%s, %s, %s, 'fuel', 1.5, 1)"
    )
    with psycopg.connect(psql_url(url), autocommit=True) as owner:
        owner.execute(f"DROP TABLE {partition}")
        owner.execute("SELECT set_config('app.tenant_id', %s, false)", (tenant,))
        vehicle = owner.execute(
            "INSERT INTO vehicles (tenant_id, plate) VALUES (%s, 'KA-1') RETURNING id", (tenant,)
        ).fetchone()
        assert vehicle is not None
        moment = datetime.datetime.combine(month, datetime.time(12), datetime.UTC)
        owner.execute(insert, (tenant, vehicle[0], moment))
        held = "SELECT tableoid::regclass::text FROM readings WHERE recorded_at = %s"
        assert owner.execute(held, (moment,)).fetchone() == ("readings_default",)
    env = {**project_env(project), "MIGRATION_DATABASE_URL": url}
    done = run(["python", "-m", "app.partitions"], cwd=project, env=env)
    assert "readings: 1 new partitions" in done.stdout.splitlines(), done.output
    with psycopg.connect(psql_url(url), autocommit=True) as owner:
        owner.execute("SELECT set_config('app.tenant_id', %s, false)", (tenant,))
        assert owner.execute(held, (moment,)).fetchone() == (partition,)
        forced = owner.execute(
            "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname IN (%s, %s)",
            (partition, "readings_default"),
        ).fetchall()
        assert forced == [(True, True), (True, True)]
        policies = owner.execute(
            "SELECT count(*) FROM pg_policies WHERE tablename = %s", (partition,)
        ).fetchone()
        assert policies == (1,)
    check = alembic(project, url, "check")
    assert "No new upgrade operations detected" in check.output, check.output


def test_a_single_tenant_project_passes_its_partition_tests(
    tmp_path: Path, create_database: Callable[[], str], server_url: str
) -> None:
    project = new_project(tmp_path, SHOP)
    url = create_database()
    for step in (("upgrade", "head"), ("downgrade", "base"), ("upgrade", "head")):
        assert alembic(project, url, *step).returncode == 0
    schema = load_schema(SHOP)
    violations = guarantee_violations(
        url,
        tenant_column="tenant_id",
        tenant_table="",
        setting="app.tenant_id",
        writer=schema.roles.writer,
        writable_tables=writable_global_tables(schema),
    )
    assert violations == {}, json.dumps(violations, indent=1)
    output = run_project_tests(project, server_url)
    assert set(outcome_counts(output)) == {"passed"}, output[-6000:]


def test_an_index_of_a_partitioned_table_with_rows_is_built_partition_by_partition(
    database_url: str, migration_projects: Callable[..., Project]
) -> None:
    serial = "    indexes:\n      - {columns: [serial], where: 'serial > 3'}\n"
    indexed = round_trip(
        migration_projects,
        database_url,
        rebuilt(BY_MONTH, ""),
        rebuilt(BY_MONTH, "").replace("views:", serial + "views:"),
        REBUILT_SEED,
    )
    _, source = newest_revision(indexed)
    upgrade = source[source.index("def upgrade") : source.index("def downgrade")]
    built = upgrade[upgrade.index("autocommit_block") :]
    assert "migration_steps.build_partitioned_index(" in built, built
    assert '"USING btree (tenant_id, serial) WHERE serial > 3"' in built, built
    with psycopg.connect(psql_url(database_url)) as connection:
        valid = connection.execute(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = %s::regclass",
            ("ix_events_tenant_id_serial_partial",),
        ).fetchone()
        attached, partitions = connection.execute(
            "SELECT (SELECT count(*) FROM pg_inherits "
            "WHERE inhparent = 'ix_events_tenant_id_serial_partial'::regclass), "
            "(SELECT count(*) FROM pg_inherits WHERE inhparent = 'events'::regclass)"
        ).fetchone()  # type: ignore[misc]
    assert valid == (True,), built
    assert attached == partitions >= 4
