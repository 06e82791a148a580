"""JSONB containment (``@>``) and LIKE under row-level security.

Neither operator is leakproof, so PostgreSQL will not use it as an index condition on a
table whose row-level security applies to the querying role: the query's own
conditions may not run before the policy's. Each search runs three ways — the writer
with row-level security alone, the writer with the explicit tenant filter the generated
repositories add, the admin login (BYPASSRLS) with that filter — and under two index
designs: the generated tenant-first GIN indexes (``(tenant_id, data)`` through
btree_gin, ``(tenant_id, title gin_trgm_ops)``) and GIN indexes without the tenant column.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dataset import RARE_WORD
from db_layer import PAGE, SECTION, Context, Timed, explain, sample
from figures import Figure

TENANT_FIRST = {
    "ix_items_tenant_id_data_gin": "items USING gin (tenant_id, data)",
    "ix_items_tenant_id_title_trgm": "items USING gin (tenant_id, title gin_trgm_ops)",
}
WITHOUT_TENANT = {
    "ix_items_data_gin": "items USING gin (data)",
    "ix_items_title_trgm": "items USING gin (title gin_trgm_ops)",
}
WAYS = ("RLS alone", "RLS + tenant filter", "BYPASSRLS + tenant filter")


def searches(ctx: Context, tenant: Any) -> dict[str, Any]:
    item = ctx.layer.models.Item
    return {
        "containment": item.data.contains({"sku": ctx.loaded.skus[tenant]}),
        "LIKE": item.title.like(f"%{RARE_WORD}%"),
    }


def _work(ctx: Context, tenant: Any, condition: Any, tenant_filter: bool) -> Timed:
    item = ctx.layer.models.Item
    query = select(item).where(condition)
    if tenant_filter:
        query = query.where(item.tenant_id == tenant)
    query = query.order_by(item.id).limit(PAGE)

    async def run(session: AsyncSession) -> None:
        await session.scalars(query)

    return run


@contextmanager
def index_design(owner_url: str, design: dict[str, str]) -> Iterator[None]:
    """Swap the tenant-first GIN indexes for ``design`` (as the owner), then swap back."""
    if design is TENANT_FIRST:
        yield
        return
    _replace_indexes(owner_url, TENANT_FIRST, design)
    try:
        yield
    finally:
        _replace_indexes(owner_url, design, TENANT_FIRST)


def _replace_indexes(owner_url: str, old: dict[str, str], new: dict[str, str]) -> None:
    with psycopg.connect(owner_url, autocommit=True) as connection:
        for name in old:
            connection.execute(f"DROP INDEX {name}")
        connection.execute("SET maintenance_work_mem = '512MB'")
        for name, definition in new.items():
            connection.execute(f"CREATE INDEX {name} ON {definition}")
        connection.execute("ANALYZE items")


async def search_costs(ctx: Context, owner_url: str) -> list[Figure]:
    """Each search, each way, each index design, for a typical and the big tenant."""
    matrix: dict[str, dict[str, float]] = {}
    plans: dict[str, str] = {}
    for design_name, design in (("tenant-first GIN", TENANT_FIRST), ("GIN", WITHOUT_TENANT)):
        with index_design(owner_url, design):
            for label, tenant in (
                ("typical", ctx.loaded.typical_tenant),
                ("big", ctx.loaded.big_tenant),
            ):
                for search, condition in searches(ctx, tenant).items():
                    variants = [
                        (ctx.writer, _work(ctx, tenant, condition, False)),
                        (ctx.writer, _work(ctx, tenant, condition, True)),
                        (ctx.admin, _work(ctx, tenant, condition, True)),
                    ]
                    times = await sample(ctx, tenant, *variants)
                    row = f"{search}, {label} tenant, {design_name}"
                    matrix[row] = {way: t.best * 1000 for way, t in zip(WAYS, times, strict=True)}
                    if label == "big":
                        for way, (sessions, work) in zip(WAYS, variants, strict=True):
                            plans[f"{row}: {way}"] = await explain(sessions, ctx, tenant, work)
    return _figures(matrix, plans)


async def full_text(ctx: Context) -> list[Figure]:
    """The repository's ``search_text`` (the ``search`` key: a stored tsvector, its GIN
    index read through the tenant's search function) against a pattern filter on the
    same word through ``list``, which row-level security keeps from the trigram index:
    the first page for a word in 0.1 % of the big tenant's titles, as the writer."""
    tenant = ctx.loaded.big_tenant
    item = ctx.layer.models.Item

    async def searched(session: AsyncSession) -> None:
        page = await ctx.layer.repositories.ItemRepository(session).search_text(
            RARE_WORD, limit=PAGE
        )
        assert page.items, "the rare word is in some titles"

    async def filtered(session: AsyncSession) -> None:
        await ctx.layer.repositories.ItemRepository(session).list(
            filters=[item.title.ilike(f"%{RARE_WORD}%")], limit=PAGE
        )

    by_search, by_filter = await sample(
        ctx, tenant, (ctx.writer, searched), (ctx.writer, filtered)
    )
    return [
        Figure(
            SECTION,
            "full-text search, big tenant under RLS, speed-up over an ILIKE filter",
            by_filter.best / by_search.best,
            "×",
            None,
            f"search_text: {by_search.best * 1000:.2f} ms; "
            f"list(filters=[title.ilike(...)]): {by_filter.best * 1000:.1f} ms",
            {"plans": {"search_text": await explain(ctx.writer, ctx, tenant, searched)}},
        )
    ]


def _figures(matrix: dict[str, dict[str, float]], plans: dict[str, str]) -> list[Figure]:
    figures = []
    for row, times in matrix.items():
        if not row.endswith("tenant-first GIN"):
            continue
        figures.append(
            Figure(
                SECTION,
                f"{row.removesuffix(', tenant-first GIN')} under RLS, repository filter",
                times["RLS + tenant filter"],
                " ms",
                None,
                f"BYPASSRLS: {times['BYPASSRLS + tenant filter']:.2f} ms; "
                f"RLS alone: {times['RLS alone']:.2f} ms",
                {"matrix": matrix, "plans": plans} if not figures else {},
            )
        )
    return figures
