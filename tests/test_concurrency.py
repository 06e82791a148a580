"""Tenant isolation under concurrency, through the generated project's own runtime.

The generated ``db`` module (``create_engine``, ``create_session_factory``,
``tenant_session``) and repositories serve 200 concurrent asyncio tasks over a pool of
five connections, as a LOGIN member of the writer role. Each task alternates among ten
tenants; every row it sees (list, get, count, and raw SQL that only row-level security
filters) must be its tenant's. Some transactions end in an exception, some run with no
tenant at all, so connections pass between tenants and between set and unset states.
Then, on a pool of one connection, the tenant setting is shown not to survive a commit,
an exception inside ``tenant_session`` or an explicit rollback.
"""

from __future__ import annotations

import asyncio
import importlib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import psycopg
import pytest
from sqlalchemy import event, text

from entityforge import naming
from entityforge.catalog import Catalog, Table, build_catalog
from entityforge.spec import load_schema_text
from tests.inprocess import generate_project, imported, run_alembic, unique_package
from tests.login_roles import LoginRole, login_role
from tests.projects import REPO_ROOT, psql_url
from tests.seeding import Seeded, seed_tenants, tenant_tables

EXAMPLE_SPEC = REPO_ROOT / "entityforge" / "examples" / "entities.yaml"
TASKS = 200
ITERATIONS = 5
TENANTS = 10
ROWS_PER_TENANT = 3
POOL_SIZE = 5
# 200 tasks queue for 5 connections: on a loaded two-core machine a task may wait long.
POOL_TIMEOUT = 300


class Failed(Exception):
    """Raised inside a tenant transaction on purpose, so that it rolls back."""


@dataclass(frozen=True)
class Runtime:
    """The generated project's modules, imported, and the database they run against."""

    db: ModuleType
    models: ModuleType
    repositories: ModuleType
    catalog: Catalog
    seeded: Seeded
    writer: LoginRole

    @property
    def setting(self) -> str:
        assert self.catalog.tenancy is not None
        return self.catalog.tenancy.setting

    @property
    def tenant_attribute(self) -> str:
        assert self.catalog.tenancy is not None
        return naming.attribute_name(self.catalog.tenancy.column)

    def entity_tables(self) -> list[Table]:
        return [t for t in tenant_tables(self.catalog) if t.entity is not None]

    def repository(self, table: Table, session: Any) -> Any:
        return getattr(self.repositories, f"{table.entity}Repository")(session)

    def engine(self, pool_size: int) -> Any:
        return self.db.create_engine(
            self.writer.url, pool_size=pool_size, max_overflow=0, pool_timeout=POOL_TIMEOUT
        )


@pytest.fixture(scope="module")
def runtime(
    tmp_path_factory: pytest.TempPathFactory, create_database: Callable[[], str]
) -> Iterator[Runtime]:
    root = tmp_path_factory.mktemp("concurrency") / "project"
    package = unique_package("conc")
    spec_text = EXAMPLE_SPEC.read_text()
    generate_project(root, spec_text, package)
    url = create_database()
    run_alembic(root, package, url, "upgrade", "head")
    schema = load_schema_text(spec_text)
    catalog = build_catalog(schema)
    tenants = [uuid.uuid4() for _ in range(TENANTS)]
    with psycopg.connect(psql_url(url), autocommit=True) as owner:
        seeded = seed_tenants(owner, catalog, tenants, ROWS_PER_TENANT)
    with login_role(url, schema.roles.writer) as writer, imported(root, package):
        yield Runtime(
            db=importlib.import_module(f"{package}.db"),
            models=importlib.import_module(f"{package}.models"),
            repositories=importlib.import_module(f"{package}.repositories"),
            catalog=catalog,
            seeded=seeded,
            writer=writer,
        )


@dataclass
class Observations:
    """What the tasks saw: every leak described, and how much work was done."""

    leaks: list[str] = field(default_factory=list)
    transactions: int = 0
    reads: int = 0
    checkouts: int = 0
    backends: set[int] = field(default_factory=set)

    def expect(self, ok: bool, what: str) -> None:
        self.reads += 1
        if not ok:
            self.leaks.append(what)


async def _check_tenant_view(
    rt: Runtime, session: Any, tenant: uuid.UUID, other: uuid.UUID, seen: Observations
) -> None:
    """Every read in ``session`` (acting for ``tenant``) sees exactly ``tenant``'s rows."""
    setting = await session.scalar(
        text("SELECT current_setting(:name, true)"), {"name": rt.setting}
    )
    seen.expect(setting == str(tenant), f"setting {setting!r} inside {tenant}")
    seen.backends.add(await session.scalar(text("SELECT pg_backend_pid()")))
    for table in rt.entity_tables():
        repository = rt.repository(table, session)
        page = await repository.list(limit=100)
        owners = {getattr(row, rt.tenant_attribute) for row in page.items}
        seen.expect(owners == {tenant}, f"{table.name}: list for {tenant} saw {owners}")
        seen.expect(
            len(page.items) == ROWS_PER_TENANT, f"{table.name}: list size {len(page.items)}"
        )
        count = await repository.count()
        seen.expect(count == ROWS_PER_TENANT, f"{table.name}: count {count} for {tenant}")
        own_id = rt.seeded.maker.ids[(table.name, tenant)][0]
        own = await repository.get(own_id)
        seen.expect(own is not None, f"{table.name}: own row {own_id} not found")
        foreign_id = rt.seeded.maker.ids[(table.name, other)][0]
        seen.expect(await repository.get(foreign_id) is None, f"{table.name}: got {other}'s row")
    for table in tenant_tables(rt.catalog):
        # Raw SQL: no repository filter, row-level security alone decides.
        rows = await session.execute(text(_distinct_tenants(rt, table)))
        owners = {row[0] for row in rows}
        seen.expect(owners == {tenant}, f"{table.name}: raw select for {tenant} saw {owners}")


def _tenant_column(rt: Runtime) -> str:
    assert rt.catalog.tenancy is not None
    return rt.catalog.tenancy.column


def _distinct_tenants(rt: Runtime, table: Table) -> str:
    column = naming.quote_identifier(_tenant_column(rt))
    return f"SELECT DISTINCT {column} FROM {naming.quote_identifier(table.name)}"


def _move_to(rt: Runtime, table: Table) -> str:
    column = naming.quote_identifier(_tenant_column(rt))
    return f"UPDATE {naming.quote_identifier(table.name)} SET {column} = :other"


async def _check_nothing_visible(rt: Runtime, session: Any, seen: Observations, when: str) -> None:
    setting = await session.scalar(
        text("SELECT current_setting(:name, true)"), {"name": rt.setting}
    )
    seen.expect(setting in ("", None), f"{when}: setting reads {setting!r}")
    for table in rt.entity_tables():
        count = await rt.repository(table, session).count()
        seen.expect(count == 0, f"{when}: {table.name} shows {count} rows with no tenant")
    for table in tenant_tables(rt.catalog):
        count = await session.scalar(
            text(f"SELECT count(*) FROM {naming.quote_identifier(table.name)}")
        )
        seen.expect(count == 0, f"{when}: raw {table.name} shows {count} rows with no tenant")


async def _task(rt: Runtime, sessions: Any, number: int, seen: Observations) -> None:
    tenants = rt.seeded.tenants
    for iteration in range(ITERATIONS):
        tenant = tenants[(number + iteration) % len(tenants)]
        other = tenants[(number + iteration + 1) % len(tenants)]
        seen.transactions += 1
        if (number + iteration) % 9 == 0:
            async with rt.db.session_scope(sessions) as session:
                await _check_nothing_visible(rt, session, seen, f"task {number} untenanted")
            continue
        try:
            async with rt.db.tenant_session(sessions, tenant) as session:
                await _check_tenant_view(rt, session, tenant, other, seen)
                if (number + iteration) % 7 == 0:
                    raise Failed
        except Failed:
            pass


async def test_concurrent_tasks_never_see_another_tenants_rows(runtime: Runtime) -> None:
    engine = runtime.engine(POOL_SIZE)
    seen = Observations()

    def count_checkout(*_: Any) -> None:
        seen.checkouts += 1

    event.listen(engine.sync_engine.pool, "checkout", count_checkout)
    try:
        sessions = runtime.db.create_session_factory(engine)
        await asyncio.gather(*(_task(runtime, sessions, n, seen) for n in range(TASKS)))
    finally:
        await engine.dispose()
    print(
        f"\nconcurrency: {TASKS} tasks x {ITERATIONS} iterations over {TENANTS} tenants, "
        f"pool of {POOL_SIZE} ({len(seen.backends)} backends): {seen.transactions} "
        f"transactions, {seen.checkouts} checkouts, {seen.reads} reads checked, "
        f"{len(seen.leaks)} leaks"
    )
    assert seen.leaks == []
    assert seen.transactions == TASKS * ITERATIONS
    assert len(seen.backends) <= POOL_SIZE
    assert seen.checkouts >= TASKS * ITERATIONS


async def _after(rt: Runtime, sessions: Any, pid: int, when: str) -> list[str]:
    """The next checkout, no tenant set: same connection, empty setting, no rows."""
    seen = Observations()
    async with rt.db.session_scope(sessions) as session:
        next_pid = await session.scalar(text("SELECT pg_backend_pid()"))
        seen.expect(next_pid == pid, f"{when}: another connection ({next_pid} after {pid})")
        await _check_nothing_visible(rt, session, seen, when)
    return seen.leaks


async def test_the_tenant_setting_never_survives_its_transaction(runtime: Runtime) -> None:
    engine = runtime.engine(pool_size=1)
    sessions = runtime.db.create_session_factory(engine)
    tenant = runtime.seeded.tenants[0]
    set_tenant = text("SELECT set_config(:name, :value, true)")
    leaks: list[str] = []
    try:
        async with runtime.db.tenant_session(sessions, tenant) as session:
            pid = await session.scalar(text("SELECT pg_backend_pid()"))
            assert await runtime.repository(runtime.entity_tables()[0], session).count() > 0
        leaks += await _after(runtime, sessions, pid, "after commit")

        with pytest.raises(Failed):
            async with runtime.db.tenant_session(sessions, tenant) as session:
                await _check_tenant_view(
                    runtime, session, tenant, runtime.seeded.tenants[1], Observations()
                )
                raise Failed
        leaks += await _after(runtime, sessions, pid, "after an exception")

        async with sessions() as session:
            await session.execute(set_tenant, {"name": runtime.setting, "value": str(tenant)})
            assert await runtime.repository(runtime.entity_tables()[0], session).count() > 0
            await session.rollback()
        leaks += await _after(runtime, sessions, pid, "after an explicit rollback")

        with pytest.raises(Exception, match="row-level security"):
            async with runtime.db.tenant_session(sessions, tenant) as session:
                table = runtime.entity_tables()[0]
                other = runtime.seeded.tenants[1]
                await session.execute(text(_move_to(runtime, table)), {"other": other})
        leaks += await _after(runtime, sessions, pid, "after a refused statement")
    finally:
        await engine.dispose()
    assert leaks == []
