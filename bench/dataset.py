"""Deterministic rows for the project of ``bench/db_spec.yaml``, loaded with COPY.

Tenants are not all alike in a SaaS database, so the first tenant is big (a tenth of the
items, and at least ``big_minimum`` so that page 1,000 of 50 exists) and the others
share the rest. Items carry a title (a rare word in about 0.1 % of them, for LIKE), a
status (20 % new, 60 % active, 20 % closed), a json document with a unique ``sku`` and
one of eight colours (for containment) and a project; the first ``commented`` items of
each tenant (in id order, the order of a keyset listing) have two comments and two tags.
The rows are written by COPY as the owner (a superuser: row-level security does not
apply) the way bulk loads are done: the tables' plain indexes are dropped first and
made again from their own definitions afterwards (building a GIN index once is far
cheaper than updating it row by row) and, as ``pg_restore --disable-triggers`` does,
the foreign-key triggers are off for the load (the rows are consistent as made); then
``VACUUM ANALYZE`` gives the planner real statistics.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import psycopg

_WORDS_TEXT = """amber basalt cedar delta ember fjord garnet harbor indigo jasper kelp lumen meadow
nectar onyx pebble quill raven sable thistle umber velvet willow xenon yarrow zephyr"""
WORDS = tuple(_WORDS_TEXT.split())
RARE_WORD = "quartz"
COLOURS = ("red", "orange", "yellow", "green", "teal", "blue", "indigo", "violet")
STATUSES = ("new", "active", "active", "active", "closed")


@dataclass(frozen=True)
class Shape:
    items: int
    tenants: int = 100
    projects_per_tenant: int = 100
    tags_per_tenant: int = 20
    big_share: float = 0.10
    big_minimum: int = 55_000
    commented: int = 1_000
    seed: int = 5

    def items_of(self, tenant: int) -> int:
        big = min(max(int(self.items * self.big_share), self.big_minimum), self.items // 2 + 5_000)
        if tenant == 0:
            return big
        rest, extra = divmod(self.items - big, self.tenants - 1)
        return rest + (1 if tenant <= extra else 0)


@dataclass
class Loaded:
    """What the benchmarks need to know about the rows: ids, and values to search for."""

    shape: Shape
    tenants: list[uuid.UUID] = field(default_factory=list)
    first_items: dict[uuid.UUID, list[uuid.UUID]] = field(default_factory=dict)
    skus: dict[uuid.UUID, str] = field(default_factory=dict)
    projects: dict[uuid.UUID, list[uuid.UUID]] = field(default_factory=dict)

    @property
    def big_tenant(self) -> uuid.UUID:
        return self.tenants[0]

    @property
    def typical_tenant(self) -> uuid.UUID:
        return self.tenants[len(self.tenants) // 2]


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def item_row(rng: random.Random, tenant: uuid.UUID, project: uuid.UUID, serial: int) -> tuple:
    """``(id, tenant_id, title, status, data, rank, project_id)`` of one item."""
    title = f"{rng.choice(WORDS)} {rng.choice(WORDS)} {serial}"
    if rng.random() < 0.001:
        title += f" {RARE_WORD}"
    data = {"sku": f"SKU-{serial}", "colour": rng.choice(COLOURS), "size": rng.randrange(100)}
    status = rng.choice(STATUSES)
    return (_uuid(rng), tenant, title, status, json.dumps(data), rng.randrange(1000), project)


ITEM_COLUMNS = "id, tenant_id, title, status, data, rank, project_id"


def load(owner_url: str, shape: Shape) -> Loaded:
    """Write every row with COPY, then VACUUM ANALYZE; returns what was written."""
    rng = random.Random(shape.seed)
    loaded = Loaded(shape)
    with psycopg.connect(owner_url) as connection:
        connection.execute("SET session_replication_role = replica")  # rows valid as made
        indexes = _drop_plain_indexes(connection)
        _load_parents(connection, rng, loaded)
        serial = 0
        with connection.cursor().copy(f"COPY items ({ITEM_COLUMNS}) FROM STDIN") as copy:
            for number, tenant in enumerate(loaded.tenants):
                ids = []
                for row in _tenant_items(rng, loaded, tenant, shape.items_of(number), serial):
                    copy.write_row(row)
                    ids.append(row[0])
                serial += shape.items_of(number)
                loaded.first_items[tenant] = sorted(ids)[: shape.commented]
        _load_children(connection, rng, loaded)
        connection.execute("SET maintenance_work_mem = '512MB'")
        for definition in indexes:
            connection.execute(definition)
    with psycopg.connect(owner_url, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")
    return loaded


PLAIN_INDEXES = """
SELECT pg_get_indexdef(i.indexrelid), i.indexrelid::regclass::text
FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
WHERE c.relnamespace = 'public'::regnamespace
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
ORDER BY 2
"""


def _drop_plain_indexes(connection: psycopg.Connection) -> list[str]:
    """Drop the indexes no constraint owns; return their definitions to make them again."""
    rows = connection.execute(PLAIN_INDEXES).fetchall()
    for _, name in rows:
        connection.execute(f"DROP INDEX {name}")
    return [definition for definition, _ in rows]


def _tenant_items(
    rng: random.Random, loaded: Loaded, tenant: uuid.UUID, count: int, serial: int
) -> Iterator[tuple]:
    projects = loaded.projects[tenant]
    for offset in range(count):
        row = item_row(rng, tenant, rng.choice(projects), serial + offset)
        if offset == count // 2:
            loaded.skus[tenant] = f"SKU-{serial + offset}"
        yield row


def _load_parents(connection: psycopg.Connection, rng: random.Random, loaded: Loaded) -> None:
    shape = loaded.shape
    loaded.tenants = [_uuid(rng) for _ in range(shape.tenants)]
    with connection.cursor().copy("COPY accounts (id, name) FROM STDIN") as copy:
        for number, tenant in enumerate(loaded.tenants):
            copy.write_row((tenant, f"account {number}"))
    with connection.cursor().copy("COPY projects (id, tenant_id, name) FROM STDIN") as copy:
        for tenant in loaded.tenants:
            loaded.projects[tenant] = [_uuid(rng) for _ in range(shape.projects_per_tenant)]
            for number, project in enumerate(loaded.projects[tenant]):
                copy.write_row((project, tenant, f"project {number}"))


def tag_ids(tenant: uuid.UUID, count: int) -> list[uuid.UUID]:
    return [uuid.uuid5(tenant, f"tag {number}") for number in range(count)]


def _load_children(connection: psycopg.Connection, rng: random.Random, loaded: Loaded) -> None:
    shape = loaded.shape
    with connection.cursor().copy("COPY tags (id, tenant_id, name) FROM STDIN") as copy:
        for tenant in loaded.tenants:
            for number, tag in enumerate(tag_ids(tenant, shape.tags_per_tenant)):
                copy.write_row((tag, tenant, f"tag {number}"))
    columns = "id, tenant_id, body, item_id"
    with connection.cursor().copy(f"COPY comments ({columns}) FROM STDIN") as copy:
        for tenant, items in loaded.first_items.items():
            for item in items:
                for number in range(2):
                    copy.write_row((_uuid(rng), tenant, f"comment {number} on {item}", item))
    with connection.cursor().copy(
        "COPY item_tags (tenant_id, item_id, tag_id) FROM STDIN"
    ) as copy:
        for tenant, items in loaded.first_items.items():
            tags = tag_ids(tenant, shape.tags_per_tenant)
            for item in items:
                for tag in rng.sample(tags, 2):
                    copy.write_row((tenant, item, tag))
