"""Bulk insert through the generated repository against PostgreSQL's COPY.

The same rows (new items of a typical tenant) go in through ``ItemRepository.bulk_create``
as the writer (row-level security checking every row, the ORM building every object it
returns) and through COPY as the owner; each side commits, and the rows are deleted
again after each round. Throughput is rows per second of the best round.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from typing import Any

import psycopg

from dataset import ITEM_COLUMNS, item_row
from db_layer import SECTION, Context
from figures import Figure, Target


def new_rows(ctx: Context, count: int, seed: int) -> list[tuple]:
    tenant = ctx.loaded.typical_tenant
    rng = random.Random(1_000 + seed)
    projects = ctx.loaded.projects[tenant]
    return [item_row(rng, tenant, rng.choice(projects), 10**8 + n) for n in range(count)]


def as_values(row: tuple) -> dict[str, Any]:
    """A repository row: column values, the tenant left to the session."""
    _, _, title, status, data, rank, project = row
    return {
        "title": title,
        "status": status,
        "data": json.loads(data),
        "rank": rank,
        "project_id": project,
    }


async def _through_repository(ctx: Context, rows: list[tuple]) -> tuple[float, list[uuid.UUID]]:
    values = [as_values(row) for row in rows]
    start = time.perf_counter()
    async with ctx.layer.db.tenant_session(ctx.writer, ctx.loaded.typical_tenant) as session:
        created = await ctx.layer.repositories.ItemRepository(session).bulk_create(values)
    elapsed = time.perf_counter() - start
    assert len(created) == len(rows)
    return elapsed, [item.id for item in created]


def _through_copy(owner_url: str, rows: list[tuple]) -> float:
    with psycopg.connect(owner_url) as connection:
        start = time.perf_counter()
        with connection.cursor().copy(f"COPY items ({ITEM_COLUMNS}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        connection.commit()
        return time.perf_counter() - start


def _delete(owner_url: str, ids: list[uuid.UUID]) -> None:
    with psycopg.connect(owner_url) as connection:
        connection.execute("DELETE FROM items WHERE id = ANY(%s)", (ids,))
        connection.commit()
    with psycopg.connect(owner_url, autocommit=True) as connection:
        connection.execute("VACUUM items")


async def bulk_insert(ctx: Context, owner_url: str, count: int, rounds: int) -> list[Figure]:
    repository_times, copy_times = [], []
    for round_number in range(rounds):
        rows = new_rows(ctx, count, round_number)
        elapsed, ids = await _through_repository(ctx, rows)
        repository_times.append(elapsed)
        _delete(owner_url, ids)
        copy_times.append(_through_copy(owner_url, rows))
        _delete(owner_url, [row[0] for row in rows])
    by_repository = count / min(repository_times)
    by_copy = count / min(copy_times)
    return [
        Figure(
            SECTION,
            f"bulk_create of {count:,} rows, share of COPY's rows/s",
            by_repository / by_copy,
            "×",
            Target("ge", 0.5),
            f"COPY: {by_copy:,.0f} rows/s; bulk_create: {by_repository:,.0f} rows/s",
            {"repository_rows_per_s": by_repository, "copy_rows_per_s": by_copy},
        )
    ]
