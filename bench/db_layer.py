"""The generated database layer on PostgreSQL, measured through its own repositories.

Every query runs as the application runs it: a LOGIN member of the writer role (row-level
security applies), in ``tenant_session``, through the generated ``ItemRepository``. The
anchors are the same work done without row-level security (the admin login, BYPASSRLS,
with an explicit tenant filter), with OFFSET instead of a keyset, with COPY instead of
``bulk_create``. Each timing alternates the sides run by run and keeps the best run (the
least disturbed on a shared machine) and the median.
"""

from __future__ import annotations

import importlib
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from dataset import Loaded
from figures import Figure, Target

SECTION = "database layer"
PAGE = 50
DEEP_PAGE = 1_000


@dataclass(frozen=True)
class Layer:
    """The generated package's modules, imported from the project directory."""

    db: Any
    models: Any
    repositories: Any


def import_layer(project: Path, package: str = "app") -> Layer:
    sys.path.insert(0, str(project))
    return Layer(
        importlib.import_module(f"{package}.db"),
        importlib.import_module(f"{package}.models"),
        importlib.import_module(f"{package}.repositories"),
    )


class StatementLog:
    """The statements an engine sends, with their parameters, while ``recording``."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.statements: list[tuple[str, Any]] = []
        self.recording = False
        event.listen(engine.sync_engine, "before_cursor_execute", self._record)

    def _record(self, conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if self.recording:
            self.statements.append((statement, parameters))

    def start(self) -> None:
        self.statements = []
        self.recording = True

    def stop(self) -> list[tuple[str, Any]]:
        self.recording = False
        return [(s, p) for s, p in self.statements if not s.startswith("SELECT set_config")]


@dataclass
class Context:
    layer: Layer
    loaded: Loaded
    writer: Any  # async_sessionmaker of the writer login
    admin: Any  # async_sessionmaker of the admin login
    writer_log: StatementLog
    admin_log: StatementLog
    runs: int


Timed = Callable[[AsyncSession], Awaitable[Any]]


async def time_in_tenant(sessions: Any, ctx: Context, tenant: uuid.UUID, work: Timed) -> float:
    """Seconds ``work`` takes inside ``tenant_session`` (the session set-up not counted)."""
    async with ctx.layer.db.tenant_session(sessions, tenant) as session:
        start = time.perf_counter()
        await work(session)
        return time.perf_counter() - start


@dataclass(frozen=True)
class Sampled:
    """Seconds over the runs: the best (least disturbed) and the median."""

    best: float
    median: float


async def sample(ctx: Context, tenant: uuid.UUID, *variants: tuple[Any, Timed]) -> list[Sampled]:
    """Each ``(sessions, work)`` timed ``ctx.runs`` times, in turn, after a warm-up."""
    samples: list[list[float]] = [[] for _ in variants]
    for run in range(ctx.runs + 3):
        for index, (sessions, work) in enumerate(variants):
            elapsed = await time_in_tenant(sessions, ctx, tenant, work)
            if run >= 3:
                samples[index].append(elapsed)
    return [Sampled(min(values), statistics.median(values)) for values in samples]


async def explain(sessions: Any, ctx: Context, tenant: uuid.UUID, work: Timed) -> str:
    """EXPLAIN ANALYZE of the (last) statement ``work`` sends, run the same way."""
    log = ctx.writer_log if sessions is ctx.writer else ctx.admin_log
    async with ctx.layer.db.tenant_session(sessions, tenant) as session:
        log.start()
        await work(session)
        statement, parameters = log.stop()[-1]
        connection = await session.connection()
        result = await connection.exec_driver_sql(
            "EXPLAIN (ANALYZE, COSTS OFF, BUFFERS, SUMMARY OFF) " + statement, parameters
        )
        return "\n".join(row[0] for row in result)


async def execution_ms(sessions: Any, ctx: Context, tenant: uuid.UUID, work: Timed) -> float:
    """PostgreSQL's own execution time of the statement ``work`` sends (best of 5), in ms."""
    log = ctx.writer_log if sessions is ctx.writer else ctx.admin_log
    times = []
    for _ in range(5):
        async with ctx.layer.db.tenant_session(sessions, tenant) as session:
            log.start()
            await work(session)
            statement, parameters = log.stop()[-1]
            connection = await session.connection()
            result = await connection.exec_driver_sql(
                "EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters
            )
            times.append(float(result.scalar_one()[0]["Execution Time"]))
    return min(times)


def item_repository(ctx: Context, session: AsyncSession) -> Any:
    return ctx.layer.repositories.ItemRepository(session)


async def rls_overhead(ctx: Context) -> list[Figure]:
    """A tenant's filtered first page: RLS on (writer) against BYPASSRLS with the filter."""

    async def first_page(session: AsyncSession) -> None:
        await item_repository(ctx, session).list(filters={"status": "active"}, limit=PAGE)

    figures = []
    for label, tenant in (("typical", ctx.loaded.typical_tenant), ("big", ctx.loaded.big_tenant)):
        with_rls, without = await sample(
            ctx, tenant, (ctx.writer, first_page), (ctx.admin, first_page)
        )
        plans = {
            "writer (RLS)": await explain(ctx.writer, ctx, tenant, first_page),
            "admin (BYPASSRLS)": await explain(ctx.admin, ctx, tenant, first_page),
        }
        figures.append(
            Figure(
                SECTION,
                f"RLS overhead, filtered page 1 of a {label} tenant",
                with_rls.best / without.best,
                "×",
                Target("le", 1.2),
                f"admin login, explicit tenant filter: {without.best * 1000:.2f} ms",
                {
                    "rls_ms": with_rls.best * 1000,
                    "bypass_ms": without.best * 1000,
                    "median_ratio": with_rls.median / without.median,
                    "plans": plans,
                },
            )
        )
    return figures


async def keyset_against_offset(ctx: Context) -> list[Figure]:
    """Page 1,000 of 50 of the big tenant: the repository's keyset against OFFSET."""
    tenant = ctx.loaded.big_tenant
    item = ctx.layer.models.Item
    depth = (DEEP_PAGE - 1) * PAGE
    keyset_module = ctx.layer.repositories.keyset
    async with ctx.layer.db.tenant_session(ctx.admin, tenant) as session:
        statement = select(item).where(item.tenant_id == tenant).order_by(item.id)
        last = await session.scalar(statement.offset(depth - 1).limit(1))
        cursor = keyset_module.encode(keyset_module.order_keys(item, ()), last)

    async def keyset(session: AsyncSession) -> None:
        await item_repository(ctx, session).list(after=cursor, limit=PAGE)

    async def offset(session: AsyncSession) -> None:
        query = select(item).where(item.tenant_id == tenant).order_by(item.id)
        await session.scalars(query.offset(depth).limit(PAGE))

    by_keyset, by_offset = await sample(ctx, tenant, (ctx.writer, keyset), (ctx.writer, offset))
    in_server = [await execution_ms(ctx.writer, ctx, tenant, work) for work in (keyset, offset)]
    costs = await page_costs(ctx, tenant, keyset)
    plans = {
        "keyset": await explain(ctx.writer, ctx, tenant, keyset),
        "offset": await explain(ctx.writer, ctx, tenant, offset),
    }
    name = f"keyset page {DEEP_PAGE:,} of {PAGE}, speed-up over OFFSET"
    return [
        Figure(
            SECTION,
            f"{name}, in PostgreSQL",
            in_server[1] / in_server[0],
            "×",
            Target("ge", 20),
            f"execution time: OFFSET {depth:,} {in_server[1]:.1f} ms, "
            f"keyset {in_server[0]:.3f} ms",
            {"plans": plans},
        ),
        Figure(
            SECTION,
            f"{name}, through the repository",
            by_offset.best / by_keyset.best,
            "×",
            Target("ge", 20),
            f"OFFSET: {by_offset.best * 1000:.1f} ms; keyset: {by_keyset.best * 1000:.2f} ms "
            "(51 ORM objects each)",
            {"median_ratio": by_offset.median / by_keyset.median},
        ),
        Figure(
            SECTION,
            f"keyset page {DEEP_PAGE:,} of {PAGE} through the repository, ms",
            by_keyset.best * 1000,
            " ms",
            None,
            "; ".join(f"{step} {ms:.3f}" for step, ms in costs.items()),
            {"cumulative_ms": costs},
        ),
    ]


async def page_costs(ctx: Context, tenant: uuid.UUID, page: Timed) -> dict[str, float]:
    """Where the keyset page's time goes: the best time (ms) of the same statement run
    at each layer, from PostgreSQL's execution alone to the repository's ORM objects."""
    log = ctx.writer_log
    async with ctx.layer.db.tenant_session(ctx.writer, tenant) as session:
        log.start()
        await page(session)
        statement, parameters = log.stop()[-1]
    item = ctx.layer.models.Item
    repository_statement = select(item.__table__).where(item.tenant_id == tenant)

    async def driver(session: AsyncSession) -> None:
        connection = await session.connection()
        (await connection.exec_driver_sql(statement, parameters)).all()

    async def core_rows(session: AsyncSession) -> None:
        ordered = repository_statement.order_by(item.id).limit(PAGE + 1)
        (await session.execute(ordered.where(item.id > uuid.UUID(int=0)))).all()

    timings = await sample(
        ctx, tenant, (ctx.writer, driver), (ctx.writer, core_rows), (ctx.writer, page)
    )
    executed = await execution_ms(ctx.writer, ctx, tenant, page)
    return {
        "PostgreSQL execution": executed,
        "+ round trip and psycopg rows (same SQL)": timings[0].best * 1000,
        "+ SQLAlchemy Core compile and rows": timings[1].best * 1000,
        "+ ORM objects, cursor (repository list)": timings[2].best * 1000,
    }


async def query_counts(ctx: Context) -> list[Figure]:
    """Statements sent to list N items with ``project`` and ``comments`` loaded."""
    counts: dict[int, int] = {}
    timings: dict[int, float] = {}
    for size in (10, 100, 1_000):
        async with ctx.layer.db.tenant_session(ctx.writer, ctx.loaded.big_tenant) as session:
            ctx.writer_log.start()
            start = time.perf_counter()
            page = await item_repository(ctx, session).list(
                limit=size, load=("project", "comments")
            )
            timings[size] = time.perf_counter() - start
            counts[size] = len(ctx.writer_log.stop())
            assert len(page.items) == size
            assert all(item.comments for item in page.items[:10])
    spread = max(counts.values()) - min(counts.values())
    listing = ", ".join(f"N={n}: {c}" for n, c in counts.items())
    return [
        Figure(
            SECTION,
            "N+1: statements to list N items with 2 relations, max − min over N",
            spread,
            "",
            Target("le", 0),
            listing,
            {"counts": counts, "ms": {n: t * 1000 for n, t in timings.items()}},
        )
    ]
