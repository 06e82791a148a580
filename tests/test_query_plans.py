"""Every statement the generated repositories send to a tenant table uses an index.

The project of ``bench/db_spec.yaml`` is generated and migrated, 20,000 items (and their
projects, tags, comments and tag links) are loaded for 20 tenants, and ``VACUUM
ANALYZE`` gives the planner real statistics. Each repository method then runs as the
application runs it — a LOGIN member of the writer role, row-level security applying,
in ``tenant_session`` — and every statement it sent is explained with its own
parameters: no plan may read a tenant table with a sequential scan. The planner is left
free (no ``enable_seqscan = off``): what it picks is what production would get.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import psycopg
import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench import database, dataset
from entityforge.catalog import Column, Table, build_catalog
from entityforge.catalog.index_warnings import index_warnings
from entityforge.naming import quote_identifier
from entityforge.schema import Schema
from entityforge.spec import load_schema, load_schema_text
from tests.login_roles import login_role
from tests.projects import alembic, psql_url
from tests.test_migrations import Project, new_project

__all__ = ["new_project"]

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "bench" / "db_spec.yaml"
PACKAGE = "planned"
TENANT_TABLES = frozenset({"projects", "items", "tags", "comments", "item_tags"})
SHAPE = dataset.Shape(
    items=20_000,
    tenants=20,
    projects_per_tenant=250,
    tags_per_tenant=250,
    big_minimum=0,
    commented=200,
)


@dataclass(frozen=True)
class Planned:
    """The generated package, its loaded database and the writer's URL."""

    db: ModuleType
    repositories: ModuleType
    loaded: dataset.Loaded
    writer_url: str
    owner_url: str
    db_writer_role: str


@pytest.fixture(scope="module")
def planned(
    tmp_path_factory: pytest.TempPathFactory, create_database: Callable[[], str]
) -> Iterator[Planned]:
    project = tmp_path_factory.mktemp("plans") / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(f'[tool.entityforge]\npackage = "{PACKAGE}"\n')
    database.generate_project(project, SPEC.read_text(encoding="utf-8"))
    url = create_database()
    result = alembic(project, url, "upgrade", "head")
    assert result.returncode == 0, result.output
    loaded = dataset.load(database.libpq_url(url), SHAPE)
    sys.path.insert(0, str(project))
    try:
        db = __import__(f"{PACKAGE}.db", fromlist=["db"])
        repositories = __import__(f"{PACKAGE}.repositories", fromlist=["repositories"])
        base = __import__(f"{PACKAGE}.models.base", fromlist=["base"])
        logins = database.create_logins(url, base.WRITER_ROLE, base.ADMIN_ROLE)
        try:
            yield Planned(db, repositories, loaded, logins.writer, url, base.WRITER_ROLE)
        finally:
            database.drop_logins(url, logins)
    finally:
        sys.path.remove(str(project))


@pytest.fixture
async def writer(planned: Planned) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = planned.db.create_engine(planned.writer_url)
    yield planned.db.create_session_factory(engine)
    await engine.dispose()


def _scans(plan: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """``(node type, relation)`` of every node of a JSON plan that reads a relation."""
    if "Relation Name" in plan:
        yield plan["Node Type"], plan["Relation Name"]
    for child in plan.get("Plans", ()):
        yield from _scans(child)


async def _sequential_scans(
    planned: Planned,
    sessions: async_sessionmaker[AsyncSession],
    tenant: uuid.UUID,
    call: Callable[[Any], Awaitable[Any]],
) -> list[str]:
    """Run ``call`` in a tenant session; explain each statement it sent; list seq scans."""
    sent: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        # Savepoints (around every write) have no plan.
        if not statement.startswith(("SELECT set_config", "EXPLAIN", "SAVEPOINT", "RELEASE")):
            sent.append((statement, parameters))

    engine = sessions.kw["bind"].sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        async with planned.db.tenant_session(sessions, tenant) as session:
            await call(session)
            connection = await session.connection()
            found = []
            for statement, parameters in list(sent):
                if isinstance(parameters, list | tuple) and parameters:
                    parameters = parameters[0]
                result = await connection.exec_driver_sql(
                    "EXPLAIN (FORMAT JSON) " + statement, parameters
                )
                plan = result.scalar_one()[0]["Plan"]
                found += [
                    f"{node} on {relation}: {statement[:120]}"
                    for node, relation in _scans(plan)
                    if node == "Seq Scan" and relation in TENANT_TABLES
                ]
            return found
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _calls(planned: Planned) -> dict[str, Callable[[AsyncSession], Awaitable[Any]]]:
    """One call of each repository method, on the tenant ``planned.loaded.typical_tenant``."""
    loaded = planned.loaded
    tenant = loaded.typical_tenant
    items = loaded.first_items[tenant]
    project = loaded.projects[tenant][0]
    tags = dataset.tag_ids(tenant, SHAPE.tags_per_tenant)
    repositories = planned.repositories
    everything = ("project", "comments", "tags")

    def item(session: AsyncSession) -> Any:
        return repositories.ItemRepository(session)

    def comment(session: AsyncSession) -> Any:
        return repositories.CommentRepository(session)

    async def soft_delete_and_restore(session: AsyncSession) -> None:
        found = await comment(session).list(limit=1)
        await comment(session).delete(found.items[0].id)
        await comment(session).restore(found.items[0].id)

    async def create_and_delete(session: AsyncSession) -> None:
        created = await comment(session).create(body="new", item_id=items[0])
        await comment(session).hard_delete(created.id)

    async def list_after(session: AsyncSession) -> None:
        first = await item(session).list(limit=100, order_by=["-created_at"])
        await item(session).list(after=first.next_after, limit=50, order_by=["-created_at"])

    new_item = {"title": "new", "status": "new", "data": {}, "rank": 1, "project_id": project}
    return {
        "get": lambda s: item(s).get(items[0], load=everything),
        "get_many": lambda s: item(s).get_many(items[:40], load=everything),
        "list": lambda s: item(s).list(limit=50, load=everything),
        "list after": list_after,
        "list filtered": lambda s: item(s).list(filters={"status": "active"}, limit=50),
        "list by parent": lambda s: item(s).list(filters={"project_id": project}, limit=20),
        "list by tag name": lambda s: repositories.TagRepository(s).list(
            filters={"name": ["tag 1", "tag 2"]}, load=("items",)
        ),
        "list children": lambda s: comment(s).list(filters={"item_id": items[0]}),
        "count": lambda s: item(s).count(filters={"project_id": project}),
        "count all": lambda s: item(s).count(),
        "exists": lambda s: item(s).exists(filters={"status": "closed"}),
        "update": lambda s: item(s).update(items[1], rank=2),
        "delete": lambda s: repositories.TagRepository(s).delete(tags[-1]),
        "create and hard_delete": create_and_delete,
        "bulk_create": lambda s: item(s).bulk_create([new_item, new_item]),
        "soft delete and restore": soft_delete_and_restore,
        "get deleted": lambda s: comment(s).get(uuid.uuid4(), include_deleted=True),
    }


CALLS = [
    "get",
    "get_many",
    "list",
    "list after",
    "list filtered",
    "list by parent",
    "list by tag name",
    "list children",
    "count",
    "count all",
    "exists",
    "update",
    "delete",
    "create and hard_delete",
    "bulk_create",
    "soft delete and restore",
    "get deleted",
]


@pytest.mark.parametrize("name", CALLS)
async def test_repository_statements_use_indexes(
    planned: Planned, writer: async_sessionmaker[AsyncSession], name: str
) -> None:
    call = _calls(planned)[name]
    scans = await _sequential_scans(planned, writer, planned.loaded.typical_tenant, call)
    assert not scans, "\n".join(scans)


def test_every_call_is_checked(planned: Planned) -> None:
    assert sorted(_calls(planned)) == sorted(CALLS)


async def test_a_sequential_scan_is_seen(planned: Planned) -> None:
    """The owner (a superuser: no row-level security) filtering on an unindexed column."""
    engine = planned.db.create_engine(planned.owner_url)
    try:
        owner = planned.db.create_session_factory(engine)

        async def unindexed(session: AsyncSession) -> None:
            await session.execute(text("SELECT id FROM items WHERE rank = 5"))

        scans = await _sequential_scans(planned, owner, planned.loaded.typical_tenant, unindexed)
    finally:
        await engine.dispose()
    assert scans and scans[0].startswith("Seq Scan on items")


# --- every btree index serves the writer with all its columns ---------------------------

PLAN_SPECS = [
    ROOT / "tests" / "specs" / "commerce.yaml",
    ROOT / "tests" / "specs" / "spec_format_example.yaml",
    ROOT / "tests" / "specs" / "awkward_names.yaml",
    ROOT / "tests" / "specs" / "audit.yaml",
    ROOT / "entityforge" / "examples" / "entities.yaml",
    SPEC,
]
_SAMPLES = {
    "uuid": "'00000000-0000-0000-0000-0000000000c1'::uuid",
    "text": "'x'",
    "string": "'x'",
    "smallint": "1",
    "integer": "1",
    "bigint": "1",
    "float": "1.5",
    "decimal": "1.5",
    "boolean": "true",
    "date": "'2026-01-01'::date",
    "datetime": "'2026-01-01 00:00+00'::timestamptz",
    "time": "'12:00'::time",
    "interval": "'1 day'::interval",
    "bytes": "'\\x00'::bytea",
}


def _sample(column: Column) -> str:
    """A constant of the column's type, as a query compares the column with."""
    if column.type.name == "enum":
        return "'" + column.type.values[0].replace("'", "''") + "'"
    return _SAMPLES[column.type.name]


def _btree_keys(table: Table) -> list[tuple[str, tuple[str, ...], str | None]]:
    """``(index, columns, predicate)`` of the table's btree indexes, keys included; an
    index over an expression is left out (``generate`` warns that a lookup by it is no
    index condition for the writer)."""
    keys = [(table.primary_key_name, table.primary_key, None)]
    keys += [(unique.name, unique.columns, None) for unique in table.uniques]
    keys += [
        (index.name, index.column_names, index.where)
        for index in table.indexes
        if index.method == "btree" and not any(column.expression for column in index.columns)
    ]
    return keys


def _index_conditions(plan: dict[str, Any], index: str) -> str | None:
    """The ``Index Cond`` of the plan node that scans ``index`` (None: none does)."""
    if plan.get("Index Name") == index:
        return str(plan.get("Index Cond", ""))
    for child in plan.get("Plans", ()):
        found = _index_conditions(child, index)
        if found is not None:
            return found
    return None


def _writer_plan(
    connection: psycopg.Connection[Any],
    login: str,
    setting: str,
    table: Table,
    index: str,
    query: str,
) -> dict[str, Any]:
    """The plan of ``query`` for ``login`` with the tenant set, ``index`` the table's one."""
    with connection.transaction(force_rollback=True):
        others = connection.execute(
            "SELECT c.conname, NULL FROM pg_constraint c WHERE c.conrelid = %s::regclass "
            "AND c.contype IN ('p', 'u') AND c.conname <> %s "
            "UNION ALL SELECT NULL, i.relname FROM pg_index x JOIN pg_class i "
            "ON i.oid = x.indexrelid WHERE x.indrelid = %s::regclass AND i.relname <> %s "
            "AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conindid = i.oid)",
            (quote_identifier(table.name), index, quote_identifier(table.name), index),
        ).fetchall()
        for constraint, other in others:
            if constraint is not None:
                connection.execute(
                    f"ALTER TABLE {quote_identifier(table.name)} "
                    f"DROP CONSTRAINT {quote_identifier(constraint)} CASCADE"
                )
            else:
                connection.execute(f"DROP INDEX {quote_identifier(other)}")
        connection.execute("SET LOCAL enable_seqscan = off")
        connection.execute(f"SET LOCAL ROLE {quote_identifier(login)}")
        connection.execute("SELECT set_config(%s, %s, true)", (setting, TENANT_SAMPLE))
        row = connection.execute(f"EXPLAIN (FORMAT JSON) {query}").fetchone()
        assert row is not None
        plan: dict[str, Any] = row[0][0]["Plan"]
        return plan


TENANT_SAMPLE = "00000000-0000-0000-0000-0000000000c0"


def _unserved_columns(
    schema: Schema, database_url: str, new_project: Callable[..., Project]
) -> tuple[int, list[str]]:
    """How many btree indexes of tenant tables were explained, and for each one the
    writer cannot use with all its columns, which columns are missing."""
    tenancy = schema.tenancy
    assert tenancy is not None
    project = new_project(schema)
    project.alembic(database_url, "upgrade", "head")
    checked, failures = 0, []
    with (
        login_role(database_url, schema.roles.writer) as login,
        psycopg.connect(psql_url(database_url), autocommit=True) as connection,
    ):
        for table in (table for table in project.catalog.tables if table.tenant_scoped):
            for index, columns, where in _btree_keys(table):
                conditions = [
                    f"{quote_identifier(name)} = "
                    + (
                        f"'{TENANT_SAMPLE}'::uuid"
                        if name == tenancy.column
                        else _sample(table.column(name))
                    )
                    for name in columns
                ]
                if where:
                    conditions.append(f"({where})")
                query = (
                    f"SELECT * FROM {quote_identifier(table.name)} "
                    f"WHERE {' AND '.join(conditions)}"
                )
                plan = _writer_plan(connection, login.name, tenancy.setting, table, index, query)
                found = _index_conditions(plan, index)
                missing = [name for name in columns if found is None or name not in found]
                if missing:
                    failures.append(f"{table.name}.{index}: {missing}")
                checked += 1
    return checked, failures


@pytest.mark.parametrize("spec", PLAN_SPECS, ids=lambda path: path.stem)
def test_every_btree_index_serves_the_writer_with_all_its_columns(
    spec: Path, database_url: str, new_project: Callable[..., Project]
) -> None:
    """EXPLAIN as a login member of the writer, the tenant set: a query with equality on
    every column of a btree index (and its predicate) uses all of them as index
    conditions. Only that index is left on the table (in a transaction rolled back),
    so the plan shows what this index can do, whatever the planner would prefer."""
    checked, failures = _unserved_columns(load_schema(spec), database_url, new_project)
    assert failures == []
    assert checked >= 10


def test_native_enums_and_decimals_are_seen_to_lose_their_index_conditions(
    database_url: str, new_project: Callable[..., Project]
) -> None:
    spec = """\
version: 1
tenancy: {entity: Account}
defaults: {enums: native}
entities:
  Account:
    fields: {name: string(100)}
  Invoice:
    fields:
      status: {type: enum, values: [open, paid]}
      amount: decimal(12,2)
      number: integer
    indexes:
      - {columns: [status, number]}
      - {columns: [amount, number]}
      - {columns: [number]}
"""
    schema = load_schema_text(spec)
    checked, failures = _unserved_columns(schema, database_url, new_project)
    assert checked == 4
    assert failures == [
        "invoices.ix_invoices_tenant_id_status_number: ['status']",
        "invoices.ix_invoices_tenant_id_amount_number: ['amount']",
    ]
    warned = index_warnings(build_catalog(schema))
    assert [line.split(":")[1].strip() for line in warned] == [
        "index ix_invoices_tenant_id_status_number",
        "index ix_invoices_tenant_id_amount_number",
    ]


# --- searches through their functions ------------------------------------------------


def _index_scans(owner_url: str, index: str) -> int:
    with psycopg.connect(psql_url(owner_url)) as connection:
        row = connection.execute(
            "SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = %s", (index,)
        ).fetchone()
    assert row is not None
    return int(row[0])


async def _scans_after(owner_url: str, index: str, before: int) -> int:
    """The index's scan count once the writer's statistics have been flushed."""
    for _ in range(50):
        count = _index_scans(owner_url, index)
        if count > before:
            return count
        await asyncio.sleep(0.2)
    return _index_scans(owner_url, index)


async def test_searches_reach_their_gin_index_and_stay_in_the_tenant(
    planned: Planned, writer: async_sessionmaker[AsyncSession]
) -> None:
    loaded = planned.loaded
    tenant = loaded.typical_tenant
    other = next(key for key in loaded.skus if key != tenant)
    index = "ix_items_tenant_id_data_gin"
    before = _index_scans(planned.owner_url, index)
    async with planned.db.tenant_session(writer, tenant) as session:
        items = planned.repositories.ItemRepository(session)
        own = await items.search("data", {"sku": loaded.skus[tenant]})
        foreign = await items.search("data", {"sku": loaded.skus[other]})
        serial = loaded.skus[tenant].removeprefix("SKU-")
        titled = await items.search("title", f"% {serial}", limit=5)
        with pytest.raises(ValueError, match="no attribute 'rank'"):
            await items.search("rank", 1)
    assert [item.data["sku"] for item in own.items] == [loaded.skus[tenant]]
    assert foreign.items == []
    assert [item.title.rsplit(" ", 1)[1] for item in titled.items] == [serial]
    assert [item.tenant_id for item in titled.items] == [tenant]
    assert await _scans_after(planned.owner_url, index, before) > before
    async with planned.db.session_scope(writer) as session:
        nobody = await planned.repositories.ItemRepository(session).search(
            "data", {"sku": loaded.skus[tenant]}
        )
    assert nobody.items == []


async def test_full_text_search_reads_its_gin_index_and_stays_in_the_tenant(
    planned: Planned, writer: async_sessionmaker[AsyncSession]
) -> None:
    with psycopg.connect(psql_url(planned.owner_url)) as connection:
        row = connection.execute(
            "SELECT tenant_id FROM items WHERE title LIKE %s LIMIT 1", (f"%{dataset.RARE_WORD}%",)
        ).fetchone()
    assert row is not None, "some titles have the rare word"
    tenant = row[0]
    index = "ix_items_tenant_id_search_vector_gin"
    before = _index_scans(planned.owner_url, index)
    async with planned.db.tenant_session(writer, tenant) as session:
        items = planned.repositories.ItemRepository(session)
        found = await items.search_text(dataset.RARE_WORD, limit=500, with_total=True)
        pattern = items.model.title.ilike(f"%{dataset.RARE_WORD}%")
        everything = await items.list(filters=[pattern], limit=500)
    assert found.items and found.total == len(found.items)
    assert {item.id for item in found.items} == {item.id for item in everything.items}
    assert {item.tenant_id for item in found.items} == {tenant}
    assert await _scans_after(planned.owner_url, index, before) > before


async def test_search_functions_are_the_readers_and_writers_only(planned: Planned) -> None:
    with psycopg.connect(psql_url(planned.owner_url)) as connection:
        rows = connection.execute(
            "SELECT p.proname, pg_get_userbyid(p.proowner), p.prosecdef, "
            "has_function_privilege('public', p.oid, 'EXECUTE'), "
            "has_function_privilege(%s, p.oid, 'EXECUTE') "
            "FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace "
            "AND p.proname LIKE 'items_%%' ORDER BY 1",
            (planned.db_writer_role,),
        ).fetchall()
    assert rows == [
        ("items_data_contains", "app_admin", True, False, True),
        ("items_search_vector_match", "app_admin", True, False, True),
        ("items_title_ilike", "app_admin", True, False, True),
    ]


def _index_names(plan: dict[str, Any]) -> Iterator[str]:
    if "Index Name" in plan:
        yield plan["Index Name"]
    for child in plan.get("Plans", ()):
        yield from _index_names(child)


# PostgreSQL takes a condition as an index condition below a row-level security policy
# only if its operator is LEAKPROOF; a native enum's ``=`` is not (guarantee 12). A
# varchar enum's is, but its few labels each match a large part of a tenant's rows: the
# planner may rather read the primary key, (tenant, id), in the listing's ``id`` order.
NOT_LEAKPROOF = pytest.mark.xfail(
    reason="an enum's index: not leakproof (native) or of too few labels to be preferred",
    strict=False,
)


def _declared_btree_keys() -> list[Any]:
    """``(entity, name, columns)`` of every btree index and unique key on a tenant table,
    the tenant column left out, but the key on ``id``."""
    catalog = build_catalog(load_schema(SPEC))
    keys = []
    for table in catalog.tables:
        if not (table.entity and table.tenant_scoped):
            continue
        found = [(i.name, i.column_names) for i in table.indexes if i.method == "btree"]
        found += [(unique.name, unique.columns) for unique in table.uniques]
        for name, columns in found:
            own = tuple(column for column in columns if column != "tenant_id")
            if own != ("id",):
                enum = table.column(own[0]).type.name == "enum"
                marks = [NOT_LEAKPROOF] if enum else []
                keys.append(pytest.param(table.entity, name, own, id=name, marks=marks))
    return keys


@pytest.mark.parametrize(("entity", "name", "columns"), _declared_btree_keys())
async def test_list_reaches_each_declared_index(
    planned: Planned,
    writer: async_sessionmaker[AsyncSession],
    entity: str,
    name: str,
    columns: tuple[str, ...],
) -> None:
    """Filtering on an index's first column and ordering by the rest is served by it, for
    the writer's login under row-level security."""
    repository_class = getattr(planned.repositories, f"{entity}Repository")
    sent: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    engine = writer.kw["bind"].sync_engine
    async with planned.db.tenant_session(writer, planned.loaded.typical_tenant) as session:
        repository = repository_class(session)
        sample = (await repository.list(limit=1)).items[0]
        filters = {columns[0]: getattr(sample, columns[0])}
        event.listen(engine, "before_cursor_execute", record)
        try:
            await repository.list(filters=filters, order_by=columns[1:], limit=20)
        finally:
            event.remove(engine, "before_cursor_execute", record)
        statement, parameters = sent[-1]
        connection = await session.connection()
        result = await connection.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters)
        plan = result.scalar_one()[0]["Plan"]
    assert name in set(_index_names(plan)), plan
