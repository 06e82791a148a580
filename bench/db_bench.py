"""The database section: generate the project of ``db_spec.yaml``, load it, measure it."""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

import database
import dataset
from db_layer import (
    Context,
    StatementLog,
    import_layer,
    keyset_against_offset,
    query_counts,
    rls_overhead,
)
from db_search import full_text, search_costs
from db_writes import bulk_insert
from figures import Figure

SPEC = Path(__file__).resolve().parent / "db_spec.yaml"


async def _measure(ctx: Context, owner_url: str, bulk_rows: int, log: list[str]) -> list[Figure]:
    figures: list[Figure] = []
    steps = (
        ("RLS overhead", rls_overhead(ctx)),
        ("keyset against OFFSET", keyset_against_offset(ctx)),
        ("statement counts", query_counts(ctx)),
        ("bulk insert", bulk_insert(ctx, owner_url, bulk_rows, rounds=3)),
        ("containment and LIKE", search_costs(ctx, owner_url)),
        ("full-text search", full_text(ctx)),
    )
    for name, step in steps:
        start = time.perf_counter()
        figures += await step
        log.append(f"{name}: {time.perf_counter() - start:.1f} s")
    return figures


def run(server_url: str, rows: int, runs: int, bulk_rows: int) -> tuple[list[Figure], list[str]]:
    """Every database figure, and a log of how long each step took."""
    log: list[str] = []
    with database.database(server_url) as url, tempfile.TemporaryDirectory() as scratch:
        project = database.generate_project(Path(scratch) / "project", SPEC.read_text())
        database.migrate(project, url)
        start = time.perf_counter()
        loaded = dataset.load(database.libpq_url(url), dataset.Shape(items=rows))
        log.append(f"load {rows:,} items with COPY: {time.perf_counter() - start:.1f} s")
        layer = import_layer(project)
        base = layer.models.base
        logins = database.create_logins(url, base.WRITER_ROLE, base.ADMIN_ROLE)
        try:
            figures = asyncio.run(_with_engines(layer, loaded, logins, url, runs, bulk_rows, log))
        finally:
            database.drop_logins(url, logins)
    return figures, log


async def _with_engines(
    layer: object,
    loaded: dataset.Loaded,
    logins: database.Logins,
    owner_url: str,
    runs: int,
    bulk_rows: int,
    log: list[str],
) -> list[Figure]:
    db = layer.db  # type: ignore[attr-defined]
    writer_engine = db.create_engine(logins.writer)
    admin_engine = db.create_engine(logins.admin)
    try:
        ctx = Context(
            layer,  # type: ignore[arg-type]
            loaded,
            db.create_session_factory(writer_engine),
            db.create_session_factory(admin_engine),
            StatementLog(writer_engine),
            StatementLog(admin_engine),
            runs,
        )
        return await _measure(ctx, database.libpq_url(owner_url), bulk_rows, log)
    finally:
        await writer_engine.dispose()
        await admin_engine.dispose()
