"""Regeneration as a team lives it: a project whose database holds data, and spec edits.

Everything goes through the real command line in subprocesses (``python -m
entityforge``, ``alembic``, the project's own pytest) on a real PostgreSQL. One project
of a help-desk and billing SaaS takes a sequence of edits; after each one, exactly one
readable revision appears, the database keeps every row and value through upgrade,
downgrade and upgrade again, Alembic finds no drift, only the files that depend on the
change are rewritten, and the team's hand edits and own files survive.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from entityforge.output import render_cache
from tests.projects import Completed, alembic, new_project, project_env, psql_url, run

SPEC = """\
# entities.yaml of a help-desk and billing SaaS.
# Every organisation is a tenant; its rows never reach another's.
version: 1

tenancy:
  entity: Organization   # the tenant table
  column: tenant_id
  setting: app.tenant_id

roles:
  reader: desk_reader
  writer: desk_writer
  admin: desk_admin

entities:
  # The tenant itself, never tenant-scoped.
  Organization:
    comment: "A paying customer account."
    fields:
      name: string(200)
      slug: {type: string, max_length: 63, unique: true, check: "slug ~ '^[a-z0-9-]+$'"}

  Agent:
    soft_delete: true   # agents leave; their tickets stay
    fields:
      email: {type: string, max_length: 320, unique: true}
      full_name: {type: string, max_length: 120, nullable: true}
      role: {type: enum, values: [owner, agent, viewer], default: 'agent'}

  Customer:
    fields:
      name: string(200)
      email: {type: string, max_length: 320, nullable: true}
      phone: {type: string, max_length: 40, nullable: true}  # free-form, as typed
      notes: {type: text, nullable: true}
    relations:
      account_manager: {kind: many_to_one, target: Agent, nullable: true, on_delete: set_null}

  Product:
    fields:
      sku: {type: string, max_length: 64, unique: true}
      name: string(200)
      price: {type: decimal, precision: 12, scale: 2, check: "price >= 0"}
      active: {type: boolean, default: true}

  Invoice:
    fields:
      number: {type: string, max_length: 32, unique: true}
      status: {type: enum, values: [draft, sent, paid, void], default: draft}
      issued_on: {type: date, nullable: true}
      total: {type: decimal, precision: 12, scale: 2, default: 0}
    relations:
      customer:
        kind: many_to_one
        target: Customer
        on_delete: restrict
        back_populates: invoices

  InvoiceLine:
    fields:
      quantity: {type: integer, check: "quantity > 0"}
      unit_price: decimal(12,2)
      description: {type: string, max_length: 300, nullable: true}
    relations:
      invoice: {kind: many_to_one, target: Invoice, on_delete: cascade, back_populates: lines}
      product: {kind: many_to_one, target: Product, on_delete: restrict}

  Ticket:
    fields:
      subject: string(300)
      body: {type: text, nullable: true}
      priority: {type: enum, values: [low, normal, high, urgent], default: normal}
      metadata: {type: json, default: {}}
    relations:
      customer: {kind: many_to_one, target: Customer, on_delete: cascade, back_populates: tickets}
      assignee: {kind: many_to_one, target: Agent, nullable: true, on_delete: set_null}
# New entities go above this line.
"""

VERSIONS = "app/alembic/versions"
REVISION_NAME = re.compile(r"^(?P<number>\d{4})_(?P<slug>[a-z0-9]+(?:_[a-z0-9]+)*)\.py$")
NOTHING_TO_DO = "nothing to do"

# Hand edits made once, before the edits: they must survive every regeneration.
CUSTOMER_MODEL = "app/models/customer.py"
CUSTOMER_METHOD = '''
    def display_label(self) -> str:
        """The name and e-mail address, as the support inbox shows a customer."""
        return f"{self.name} <{self.email}>" if self.email else self.name
'''
PRODUCT_REPOSITORY = "app/repositories/product.py"
PRODUCT_QUERY = '''
    async def find_by_sku(self, sku: str) -> Product | None:
        """The product with this stock-keeping unit, whatever its case."""
        statement = select(Product).where(func.lower(Product.sku) == sku.lower())
        return (await self.session.scalars(statement)).first()
'''
PRODUCT_QUERY_IMPORT = "from sqlalchemy import func, select\n\n"

# Files the team wrote: no generation may touch them.
USER_FILES = {
    "app/services.py": '''"""Billing services, written by the team."""

from decimal import Decimal


def with_vat(amount: Decimal, rate: Decimal = Decimal("0.19")) -> Decimal:
    """The gross amount of a net ``amount``."""
    return (amount * (1 + rate)).quantize(Decimal("0.01"))
''',
    "tests/test_mine.py": '''"""The team's own tests: they use the hand edits."""

from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Customer, Product
from app.repositories import ProductRepository
from app.services import with_vat
from tests.factories import insert


def test_a_customer_is_labelled_with_its_email() -> None:
    customer = Customer(name="Ada Lovelace", email="ada@example.com")
    assert customer.display_label() == "Ada Lovelace <ada@example.com>"


def test_gross_amounts() -> None:
    assert with_vat(Decimal("100.00")) == Decimal("119.00")


async def test_products_are_found_by_sku(session: AsyncSession) -> None:
    product = await insert(session, Product, sku="HD-CHAIR-01")
    found = await ProductRepository(session).find_by_sku("hd-chair-01")
    assert found is not None and found.id == product.id
''',
}

Rows = dict[str, dict[Any, dict[str, Any]]]
"""Every table's rows, keyed by id (or by the whole row where a table has no id)."""


def entityforge(project: Path, *args: str, seed: str = "0") -> Completed:
    """``python -m entityforge`` in ``project`` under a fixed ``PYTHONHASHSEED``."""
    command = [sys.executable, "-m", "entityforge", *args]
    return run(command, cwd=project, env={"PYTHONHASHSEED": seed})


def edit_spec(project: Path, replacements: tuple[tuple[str, str], ...]) -> None:
    """Edit ``entities.yaml`` as a person would: each snippet replaced where it is."""
    spec = project / "entities.yaml"
    text = spec.read_text(encoding="utf-8")
    for old, new in replacements:
        assert text.count(old) == 1, f"{old!r} is not in the spec exactly once"
        text = text.replace(old, new)
    spec.write_text(text, encoding="utf-8")


def read_tree(root: Path, *, state: bool = False) -> dict[str, bytes]:
    """Every file of a project (the generator's own state only when ``state``; never the
    times it noted of the files it wrote, which are the machine's)."""
    files = {}
    noted = f".entityforge/{render_cache.FILES_FILE}"
    for path in root.rglob("*"):
        relative = path.relative_to(root).as_posix()
        skipped = "__pycache__" in path.parts or ".pytest_cache" in path.parts
        skipped = skipped or relative == noted
        if path.is_file() and not skipped and (state or not relative.startswith(".entityforge")):
            files[relative] = path.read_bytes()
    return files


def modification_times(root: Path) -> dict[str, int]:
    """The project's files and when each was last written; the machine-local cache
    (``.entityforge/cache``, which notes the state of the files it finds) left out."""
    cache = root / ".entityforge" / "cache"
    return {
        path.relative_to(root).as_posix(): path.stat().st_mtime_ns
        for path in root.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and cache not in path.parents
    }


def changed_files(before: Mapping[str, bytes], after: Mapping[str, bytes]) -> set[str]:
    return {path for path in before.keys() | after.keys() if before.get(path) != after.get(path)}


def revisions(tree: Mapping[str, bytes]) -> set[str]:
    return {path for path in tree if path.startswith(f"{VERSIONS}/") and path.endswith(".py")}


def stale_listing(result: Completed) -> set[str]:
    """The files ``generate --check`` names as stale."""
    return {line.strip() for line in result.output.splitlines() if line.startswith("  ")}


def hand_edit(project: Path) -> None:
    """A method on a generated model and a query method on a generated repository."""
    model = project / CUSTOMER_MODEL
    model.write_text(model.read_text() + CUSTOMER_METHOD)
    repository = project / PRODUCT_REPOSITORY
    text = repository.read_text()
    first_party = "from app.models import Product\n"
    assert first_party in text, text
    text = text.replace(first_party, PRODUCT_QUERY_IMPORT + first_party)
    repository.write_text(text + PRODUCT_QUERY)


def hand_edits_missing(project: Path) -> list[str]:
    missing = []
    if CUSTOMER_METHOD not in (project / CUSTOMER_MODEL).read_text():
        missing.append(f"{CUSTOMER_MODEL}: display_label")
    repository = (project / PRODUCT_REPOSITORY).read_text()
    if PRODUCT_QUERY not in repository or PRODUCT_QUERY_IMPORT not in repository:
        missing.append(f"{PRODUCT_REPOSITORY}: find_by_sku")
    return missing


# --- the database, read and written as its owner --------------------------------------


def connect(url: str) -> psycopg.Connection[dict[str, Any]]:
    return psycopg.connect(psql_url(url), row_factory=dict_row)


def insert_row(connection: psycopg.Connection[Any], table: str, **values: Any) -> Any:
    columns = ", ".join(values)
    marks = ", ".join(["%s"] * len(values))
    sql = f"INSERT INTO {table} ({columns}) VALUES ({marks}) RETURNING *"
    row = connection.execute(sql, list(values.values())).fetchone()
    assert row is not None
    return row.get("id", row)


def seed(url: str) -> None:
    """Two tenants with agents, customers, products, invoices and tickets."""
    with connect(url) as connection:
        for slug, name, country in (("acme", "Acme Support", "de"), ("globex", "Globex", "us")):
            seed_tenant(connection, slug, name, country)


def seed_tenant(connection: psycopg.Connection[Any], slug: str, name: str, country: str) -> None:
    tenant = insert_row(connection, "organizations", name=name, slug=slug)
    row = {"tenant_id": tenant}
    lead = insert_row(connection, "agents", **row, email=f"lead@{slug}.example", role="owner")
    agent = insert_row(
        connection, "agents", **row, email=f"sam@{slug}.example", full_name="Sam Doe"
    )
    gone = insert_row(connection, "agents", **row, email=f"old@{slug}.example", role="viewer")
    connection.execute("UPDATE agents SET deleted_at = now() WHERE id = %s", [gone])
    customers = [
        insert_row(
            connection,
            "customers",
            **row,
            name=f"Initech {country.upper()}",
            email=f"billing@initech.{country}",
            phone="+49 30 1234567" if country == "de" else "(555) 010-2030",
            notes="Prefers e-mail.\nInvoices in EUR.",
            account_manager_id=lead,
        ),
        insert_row(connection, "customers", **row, name="Hooli", phone="555 0100"),
        insert_row(connection, "customers", **row, name="Umbrella", notes="VIP"),
    ]
    seed_sales(connection, tenant, slug, customers[0])
    for index, customer in enumerate(customers):
        insert_row(
            connection,
            "tickets",
            **row,
            subject=f"Ticket {index}: the invoice total looks wrong",
            body="Hello,\nthe total is off by one cent.\n— Ünïcödé",
            priority=("low", "high", "urgent")[index],
            metadata=Jsonb({"channel": "email", "attempts": index, "tags": ["billing"]}),
            customer_id=customer,
            assignee_id=agent if index else None,
        )


def seed_sales(connection: psycopg.Connection[Any], tenant: Any, slug: str, customer: Any) -> None:
    """Two products and an invoice of both."""
    row = {"tenant_id": tenant}
    chair = insert_row(
        connection, "products", **row, sku="HD-CHAIR-01", name="Desk chair", price="249.90"
    )
    lamp = insert_row(
        connection, "products", **row, sku="LMP-2", name="Lamp", price="0.00", active=False
    )
    invoice = insert_row(
        connection,
        "invoices",
        **row,
        number=f"{slug.upper()}-2024-0001",
        status="sent",
        issued_on="2024-03-01",
        total="499.80",
        customer_id=customer,
    )
    for product, quantity, price in ((chair, 2, "249.90"), (lamp, 1, "0.00")):
        insert_row(
            connection,
            "invoice_lines",
            **row,
            invoice_id=invoice,
            product_id=product,
            quantity=quantity,
            unit_price=price,
            description=None if product == lamp else "Ergonomic, black",
        )


def read_rows(url: str) -> Rows:
    with connect(url) as connection:
        tables = connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            " AND table_type = 'BASE TABLE' AND table_name <> 'alembic_version'"
        ).fetchall()
        rows: Rows = {}
        for table in sorted(row["table_name"] for row in tables):
            found = connection.execute(f'SELECT * FROM "{table}"').fetchall()
            rows[table] = {
                row["id"] if "id" in row else tuple(sorted(row.items())): dict(row)
                for row in found
            }
        return rows


def carried_over(
    rows: Rows, renames: Mapping[str, Mapping[str, str]], drops: Mapping[str, tuple[str, ...]]
) -> Rows:
    """What ``rows`` must look like after a change that renames and drops columns."""
    expected: Rows = {}
    for table, table_rows in rows.items():
        renamed = renames.get(table, {})
        dropped = drops.get(table, ())
        expected[table] = {
            key: {renamed.get(c, c): v for c, v in row.items() if c not in dropped}
            for key, row in table_rows.items()
        }
    return expected


def lost_values(expected: Rows, actual: Rows) -> list[str]:
    """Every expected row or value the database no longer holds (at most a few)."""
    problems = []
    for table, rows in expected.items():
        if table not in actual:
            problems.append(f"table {table} is gone")
            continue
        missing = rows.keys() - actual[table].keys()
        problems += [f"{table}: row {key} is gone" for key in sorted(map(str, missing))[:3]]
        for key, row in rows.items():
            found = actual[table].get(key)
            if found is None:
                continue
            problems += [
                f"{table}.{column} of {key}: {value!r} became {found.get(column, '<no column>')!r}"
                for column, value in row.items()
                if found.get(column, KeyError) != value
            ]
    return problems[:12]


# --- the edits ---------------------------------------------------------------------------


def give_a_customer_a_vat_number(connection: psycopg.Connection[Any]) -> None:
    connection.execute("UPDATE customers SET vat_number = 'DE811907980' WHERE name = 'Initech DE'")


def tag_the_tenants(connection: psycopg.Connection[Any]) -> None:
    for tenant in connection.execute("SELECT id FROM organizations").fetchall():
        for name, color in (("billing", "#1f77b4"), ("urgent", "#d62728")):
            insert_row(connection, "tags", tenant_id=tenant["id"], name=name, color=color)


def tag_the_tickets(connection: psycopg.Connection[Any]) -> None:
    connection.execute(
        "INSERT INTO ticket_tags (tenant_id, ticket_id, tag_id)"
        " SELECT t.tenant_id, t.id, g.id FROM tickets t JOIN tags g USING (tenant_id)"
        " WHERE g.name = 'billing' OR t.priority = 'urgent'"
    )


def relaunch_a_product(connection: psycopg.Connection[Any]) -> None:
    """Soft-delete a product and add a new one with its SKU: uniques hold among live rows."""
    old = connection.execute(
        "UPDATE products SET deleted_at = now() WHERE sku = 'HD-CHAIR-01'"
        " AND tenant_id = (SELECT id FROM organizations WHERE slug = 'acme') RETURNING *"
    ).fetchone()
    assert old is not None
    insert_row(
        connection,
        "products",
        tenant_id=old["tenant_id"],
        sku=old["sku"],
        name="Desk chair v2",
        price="279.00",
    )


@dataclass(frozen=True)
class Step:
    """One spec edit, what it may change, and what the database must keep."""

    name: str
    edit: tuple[tuple[str, str], ...] = ()
    command: tuple[str, ...] = ("generate",)
    keywords: tuple[str, ...] = ()
    """One of these appears in the new revision's file name: it says what changed."""
    entities: tuple[str, ...] = ()
    """Entities (snake case) whose model, schemas, repository and tests may be rewritten."""
    also: frozenset[str] = frozenset()
    """Other files the edit legitimately rewrites."""
    renames: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    drops: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    revision_mentions: tuple[str, ...] = ()
    use: Callable[[psycopg.Connection[Any]], None] | None = None

    @property
    def flags(self) -> tuple[str, ...]:
        return ("--allow-destructive",) if self.drops else ()

    def allowed(self) -> set[str]:
        per_entity = (
            "app/models/{}.py",
            "app/schemas/{}.py",
            "app/repositories/{}.py",
            "tests/test_{}.py",
        )
        files = {pattern.format(e) for e in self.entities for pattern in per_entity}
        # docs/schema.md describes every table, so every schema change rewrites it.
        return files | {"tests/factories.py", "docs/schema.md"} | self.also

    def required(self) -> set[str]:
        return {f"app/models/{self.entities[0]}.py"}


STEPS = (
    Step(
        "add a field",
        edit=(
            (
                "      notes: {type: text, nullable: true}\n",
                "      notes: {type: text, nullable: true}\n"
                "      vat_number: {type: string, max_length: 32, nullable: true}\n",
            ),
        ),
        keywords=("vat_number",),
        entities=("customer",),
        revision_mentions=("vat_number",),
        use=give_a_customer_a_vat_number,
    ),
    Step(
        "rename a field",
        edit=(
            (
                "      phone: {type: string, max_length: 40, nullable: true}",
                "      phone_number: {type: string, max_length: 40, nullable: true,"
                " renamed_from: phone}",
            ),
        ),
        keywords=("phone_number", "rename"),
        entities=("customer",),
        renames={"customers": {"phone": "phone_number"}},
    ),
    Step(
        "add an index",
        edit=(
            (
                "      assignee: {kind: many_to_one, target: Agent, nullable: true,"
                " on_delete: set_null}\n",
                "      assignee: {kind: many_to_one, target: Agent, nullable: true,"
                " on_delete: set_null}\n"
                "    indexes:\n"
                "      - {columns: [priority]}\n",
            ),
        ),
        keywords=("index", "priority"),
        entities=("ticket",),
        # An index on a table with rows is built without locking out writes.
        revision_mentions=("concurrently",),
    ),
    Step(
        "add an entity",
        command=(
            "add-entity",
            "Tag",
            "--field",
            "name:string(64):unique",
            "--field",
            "color:string(7):nullable",
        ),
        keywords=("tag",),
        entities=("tag",),
        also=frozenset(
            {
                "entities.yaml",
                "app/errors.py",
                "app/models/__init__.py",
                "app/schemas/__init__.py",
                "app/repositories/__init__.py",
                "tests/test_tenant_isolation.py",
            }
        ),
        use=tag_the_tenants,
    ),
    Step(
        "add a many-to-many relation",
        edit=(
            (
                "      assignee: {kind: many_to_one, target: Agent, nullable: true,"
                " on_delete: set_null}\n",
                "      assignee: {kind: many_to_one, target: Agent, nullable: true,"
                " on_delete: set_null}\n"
                "      tags: {kind: many_to_many, target: Tag, back_populates: tickets}\n",
            ),
        ),
        keywords=("ticket_tags", "tags"),
        entities=("ticket", "tag"),
        # The junction's constraints join the error map; a customer's tickets can now
        # load their tags (``load=["tickets.tags"]``).
        also=frozenset(
            {
                "app/errors.py",
                "app/repositories/customer.py",
                "app/models/associations.py",
                "app/models/__init__.py",
                "tests/test_tenant_isolation.py",
            }
        ),
        use=tag_the_tickets,
    ),
    Step(
        "drop two fields",
        edit=(
            ("      notes: {type: text, nullable: true}\n", ""),
            ("      body: {type: text, nullable: true}\n", ""),
        ),
        keywords=("drop", "notes", "body"),
        entities=("customer", "ticket"),
        drops={"customers": ("notes",), "tickets": ("body",)},
    ),
    Step(
        "switch soft delete on",
        edit=(("  Product:\n    fields:\n", "  Product:\n    soft_delete: true\n    fields:\n"),),
        keywords=("soft_delete", "deleted_at"),
        entities=("product",),
        # InvoiceLine refers to Product: its tests make products.
        also=frozenset({"tests/test_invoice_line.py"}),
        use=relaunch_a_product,
    ),
)


# --- checks ------------------------------------------------------------------------------


def assert_nothing_to_do(project: Path) -> None:
    """``generate`` on a current project says so and touches no file."""
    before = modification_times(project)
    result = entityforge(project, "generate")
    assert result.returncode == 0, result.output
    assert NOTHING_TO_DO in result.stdout, result.output
    assert modification_times(project) == before


def preview(project: Path, step: Step) -> set[str]:
    """``--check`` and ``--dry-run`` report the change and write nothing; the stale files."""
    before = modification_times(project)
    listed: set[str] = set()
    if step.command[0] == "generate":
        check = entityforge(project, "generate", "--check", *step.flags)
        assert check.returncode == 1, check.output
        listed = stale_listing(check)
        assert revisions(dict.fromkeys(listed, b"")), check.output
    dry_run = entityforge(project, *step.command, *step.flags, "--dry-run")
    assert dry_run.returncode == 0, dry_run.output
    assert f"+++ b/{VERSIONS}/" in dry_run.stdout, dry_run.output
    assert "    op." in dry_run.stdout, dry_run.output
    assert modification_times(project) == before, "a preview wrote files"
    return listed


def assert_destructive_refused(project: Path, step: Step) -> None:
    """Without ``--allow-destructive``: a non-zero exit naming each drop, nothing written."""
    before = modification_times(project)
    result = entityforge(project, *step.command)
    assert result.returncode != 0, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    for table, columns in step.drops.items():
        for column in columns:
            assert any(table in line and column in line for line in lines), result.stderr
    assert "--allow-destructive" in result.stderr
    assert modification_times(project) == before, "a refused generation wrote files"


def assert_readable_revision(name: str, number: int, step: Step, text: str) -> None:
    match = REVISION_NAME.match(name)
    assert match, f"{name} is not NNNN_words.py"
    assert int(match["number"]) == number, name
    assert len(name) <= 64, name
    assert any(word in match["slug"] for word in step.keywords), name
    for mention in step.revision_mentions:
        assert mention in text.lower(), f"{name} does not mention {mention!r}:\n{text[:1500]}"


def assert_revision_reproducible(project: Path, revision: str, step: Step) -> None:
    """Delete the newest revision, generate under another hash seed: the same bytes."""
    tree = read_tree(project, state=True)
    (project / revision).unlink()
    result = entityforge(project, "generate", *step.flags, seed="12345")
    assert result.returncode == 0, result.output
    assert read_tree(project, state=True) == tree


def inserted_block(before: str, after: str) -> str:
    """The one block of text ``after`` adds to ``before``; fails if anything else changed."""
    start = len(os.path.commonprefix([before, after]))
    end = start + len(after) - len(before)
    assert end >= start and after[:start] + after[end:] == before, "changed outside the block"
    return after[start:end]


def migrate(project: Path, url: str, step: Step, expected: Rows, subtests: Any) -> None:
    """Upgrade the database with data; every value stays, through down and up again."""
    upgrade = alembic(project, url, "upgrade", "head")
    assert upgrade.returncode == 0, f"{step.name}: upgrade failed:\n{upgrade.output}"
    with subtests.test(f"{step.name}: the upgrade keeps every row and value"):
        lost = lost_values(expected, read_rows(url))
        assert not lost, "\n".join(lost)
    with subtests.test(f"{step.name}: alembic check finds no drift"):
        check = alembic(project, url, "check")
        assert check.returncode == 0, check.output
        assert "No new upgrade operations detected" in check.output, check.output
    with subtests.test(f"{step.name}: downgrade -1, then upgrade head"):
        down = alembic(project, url, "downgrade", "-1")
        assert down.returncode == 0, down.output
        again = alembic(project, url, "upgrade", "head")
        assert again.returncode == 0, again.output
        lost = lost_values(expected, read_rows(url))
        assert not lost, "\n".join(lost)


def apply_step(
    project: Path, url: str, step: Step, number: int, rows: Rows, subtests: Any
) -> Rows:
    """Edit, preview, generate and migrate; return the rows the next step starts from."""
    spec_before = (project / "entities.yaml").read_text()
    edit_spec(project, step.edit)
    before = read_tree(project)
    listed: set[str] | None = None
    with subtests.test(f"{step.name}: --check and --dry-run report and write nothing"):
        listed = preview(project, step)
    if step.drops:
        with subtests.test(f"{step.name}: refused without --allow-destructive"):
            assert_destructive_refused(project, step)
    result = entityforge(project, *step.command, *step.flags)
    assert result.returncode == 0, f"{step.name}: {result.output}"
    check_generation(project, step, number, before, listed, subtests)
    if step.command[0] == "add-entity":
        with subtests.test(f"{step.name}: add-entity keeps the spec's text"):
            spec_after = (project / "entities.yaml").read_text()
            assert f"  {step.command[1]}:\n" in inserted_block(spec_before, spec_after)
            assert spec_after.endswith("# New entities go above this line.\n")
    migrate(project, url, step, carried_over(rows, step.renames, step.drops), subtests)
    if step.use is not None:
        with connect(url) as connection:
            step.use(connection)
    return read_rows(url)


def check_generation(
    project: Path,
    step: Step,
    number: int,
    before: Mapping[str, bytes],
    listed: set[str] | None,
    subtests: Any,
) -> None:
    """One readable revision, only dependent files, hand edits kept, reproducible."""
    after = read_tree(project)
    changed = changed_files(before, after)
    new = sorted(revisions(after) - revisions(before))
    with subtests.test(f"{step.name}: exactly one readable revision"):
        assert len(new) == 1, new
        assert_readable_revision(Path(new[0]).name, number, step, after[new[0]].decode())
    with subtests.test(f"{step.name}: only the files that depend on the change"):
        assert step.required() <= changed, sorted(changed)
        assert changed - set(new) <= step.allowed(), sorted(changed - step.allowed())
        if step.command[0] == "generate" and listed is not None:
            assert listed == changed, "--check listed other files than generate wrote"
    with subtests.test(f"{step.name}: the hand edits survive"):
        missing = hand_edits_missing(project)
        assert not missing, f"lost hand edits: {missing}"
    if len(new) == 1:
        with subtests.test(f"{step.name}: the revision is generated again byte for byte"):
            assert_revision_reproducible(project, new[0], step)
    with subtests.test(f"{step.name}: --check passes once generated"):
        check = entityforge(project, "generate", "--check", *step.flags)
        assert check.returncode == 0, check.output


# --- the tests ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new project from ``SPEC``, never changed: each test works on a copy."""
    root = tmp_path_factory.mktemp("helpdesk")
    spec = root / "helpdesk.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    return new_project(root, spec)


def copy_of(baseline: Path, destination: Path) -> Path:
    return Path(shutil.copytree(baseline, destination, symlinks=True))


def test_spec_edits_on_a_database_with_data(
    baseline: Path,
    tmp_path: Path,
    create_database: Callable[[], str],
    server_url: str,
    subtests: Any,
) -> None:
    project = copy_of(baseline, tmp_path / "helpdesk")
    url = create_database()
    upgrade = alembic(project, url, "upgrade", "head")
    assert upgrade.returncode == 0, upgrade.output
    seed(url)
    rows = read_rows(url)
    hand_edit(project)
    for path, text in USER_FILES.items():
        (project / path).write_text(text, encoding="utf-8")
    user_files = {path: (project / path).stat().st_mtime_ns for path in USER_FILES}
    with subtests.test("an unchanged spec changes nothing, hand edits and all"):
        assert_nothing_to_do(project)
    for number, step in enumerate(STEPS, start=2):
        rows = apply_step(project, url, step, number, rows, subtests)
    with subtests.test("at the end, an unchanged spec still changes nothing"):
        assert_nothing_to_do(project)
    with subtests.test("the team's own files were never touched"):
        for path, text in USER_FILES.items():
            assert (project / path).read_text() == text
            assert (project / path).stat().st_mtime_ns == user_files[path]
    with subtests.test("the merged project is black- and ruff-clean"):
        black = run([sys.executable, "-m", "black", "--check", "--quiet", "."], cwd=project)
        assert black.returncode == 0, black.output
        ruff = run(["ruff", "check", "--no-cache", "."], cwd=project)
        assert ruff.returncode == 0, ruff.output
    with subtests.test("the project's own tests pass, the team's included"):
        result = run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
            cwd=project,
            env=project_env(project, server_url),
            timeout=900,
        )
        assert result.returncode == 0, f"{result.output[:5000]}\n...\n{result.output[-1500:]}"
        assert re.search(r"\b\d+ passed\b", result.stdout), result.output[-2000:]
        assert "failed" not in result.stdout.splitlines()[-1], result.stdout[-2000:]


def test_a_conflicting_hand_edit_is_reported_with_markers(baseline: Path, tmp_path: Path) -> None:
    project = copy_of(baseline, tmp_path / "conflict")
    model = project / CUSTOMER_MODEL
    generated = "    phone: Mapped[str | None] = mapped_column(String(40))\n"
    mine = '    phone: Mapped[str | None] = mapped_column(String(40), doc="As typed.")\n'
    assert generated in model.read_text()
    model.write_text(model.read_text().replace(generated, mine))
    edit_spec(
        project,
        (("phone: {type: string, max_length: 40,", "phone: {type: string, max_length: 64,"),),
    )
    result = entityforge(project, "generate")
    assert result.returncode == 1, result.output
    assert "Traceback" not in result.output
    assert CUSTOMER_MODEL in result.stderr and "conflict" in result.stderr
    merged = model.read_text()
    conflict = re.search(r"^<<<<<<< .*?\n(.*?)^=======\n(.*?)^>>>>>>> .*?\n", merged, re.M | re.S)
    assert conflict, merged
    assert conflict[1] == mine and "String(64)" in conflict[2]
    # Everything without a conflict was written: the revision and the other files.
    assert len(revisions(read_tree(project))) == 2
    resolved = mine.replace("String(40)", "String(64)")
    model.write_text(merged.replace(conflict[0], resolved))
    again = entityforge(project, "generate")
    assert again.returncode == 0, again.output
    assert NOTHING_TO_DO in again.stdout
    assert resolved in model.read_text()
    assert entityforge(project, "generate", "--check").returncode == 0


def test_two_hash_seeds_generate_identical_bytes(baseline: Path, tmp_path: Path) -> None:
    """Every edit of the scenario at once, generated under two ``PYTHONHASHSEED`` values."""
    trees = []
    for seed in ("1", "4242"):
        project = copy_of(baseline, tmp_path / f"seed-{seed}")
        for step in STEPS:
            edit_spec(project, step.edit)
            if step.command[0] == "add-entity":
                result = entityforge(project, *step.command, seed=seed)
                assert result.returncode == 0, result.output
        result = entityforge(project, "generate", "--allow-destructive", seed=seed)
        assert result.returncode == 0, result.output
        trees.append(read_tree(project, state=True))
    first, second = trees
    assert sorted(first) == sorted(second)
    assert [path for path in first if first[path] != second[path]] == []


# Specs laid out in ways people write them; add-entity must leave every byte as it was.
LAYOUTS = {
    "four-space indents, no newline at the end": (
        "version: 1\n"
        "entities:\n"
        "    Author:\n"
        "        fields:\n"
        "            name: string(100)\n"
        "        indexes:\n"
        "        - {columns: [name]}"
    ),
    "windows line endings": (
        "version: 1\r\n# Authors and books.\r\nentities:\r\n  Author:\r\n"
        "    fields:\r\n      name: 'string(100)'   # quoted\r\n"
    ),
    "a flow entity, then its commented-out field and a closing comment": (
        "version: 1\n"
        "entities:\n"
        "  Author: {fields: {name: string(100)}}\n"
        "\n"
        "  Book:\n"
        '    fields: {title: "string(200)"}\n'
        "    # subtitle: string(200)\n"
        "# end of entities\n"
    ),
    "entities before other keys, a block scalar last": (
        "version: 1\n"
        "entities:\n"
        "  Author:\n"
        "    fields:\n"
        "      bio: text\n"
        "    comment: >-\n"
        "      Someone who writes,\n"
        "      folded onto one line.\n"
        "\n"
        "defaults:\n"
        "  timestamps: false\n"
    ),
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_add_entity_changes_nothing_outside_its_block(layout: str) -> None:
    from entityforge.spec import load_schema_text
    from entityforge.spec.add_entity import NewEntity, add_entity_to_spec

    before = LAYOUTS[layout]
    load_schema_text(before)
    entity = NewEntity("Label", ("name:string(40):unique", "hue:enum(red,green)"))
    after = add_entity_to_spec(before, entity)
    block = inserted_block(before, after)
    indent = re.search(r"^entities:\r?\n( +)\S", before, re.M)
    assert indent and re.search(rf"^{indent[1]}Label:\r?$", block, re.M), block
    schema = load_schema_text(after)
    assert [entity.name for entity in schema.entities][-1] == "Label"
    label = schema.entity("Label")
    assert [f.name for f in label.fields] == ["name", "hue"]
    if "\r\n" in before:
        assert after.count("\n") == after.count("\r\n")
