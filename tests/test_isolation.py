"""Tenant isolation under attack, on real PostgreSQL, as the application connects.

For several multi-tenant specs a new project is made and migrated as the owner; two
tenants A and B get a row in every tenant-scoped table (junction tables included), and
every global table a row. Then a LOGIN role that is only a member of the writer role,
acting for A, tries to read, change, delete, create, move and point at B's rows, table
by table and column by column as the catalog lists them; with no tenant set (never set,
and on a pooled connection after a transaction that set it) it must see and touch
nothing. The tenant table shows it A's row alone, which it may update but not move,
create or delete; global tables refuse its writes unless the spec makes them writable.
A login member of the admin role sees both tenants. Every attack is counted; the module
prints the total (``pytest -s``).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from entityforge.catalog import Catalog, ForeignKey, Table, build_catalog
from entityforge.catalog.sql import sql_type
from entityforge.spec import load_schema
from tests.login_roles import LoginRole, login_role, writer_login_violations
from tests.projects import REPO_ROOT, alembic, new_project, psql_url
from tests.seeding import (
    GLOBAL_ROWS,
    Row,
    Seeded,
    global_tables,
    insert_statement,
    primary_key,
    reference_column,
    references,
    seed_tenants,
    set_tenant,
    tenant_table,
    tenant_tables,
    where_equal,
)

INSUFFICIENT_PRIVILEGE = "42501"
FOREIGN_KEY_VIOLATION = "23503"

# Our own spec: a custom tenant column and setting, a soft-delete table, a cycle through
# nullable references, a self reference, a set_null composite key, one-to-one, a
# many-to-many and a self many-to-many, a global lookup that tenant tables reference
# (required and set_null) and a writable global table.
LEDGER_SPEC = """\
version: 1
tenancy: {entity: Account, column: account_id, setting: ledger.current_account}
roles: {reader: ledger_reader, writer: ledger_writer, admin: ledger_admin}
entities:
  Account:
    fields:
      name: string(80)
  Customer:
    soft_delete: true
    fields:
      email: {type: string, max_length: 120, unique: true}
      profile: {type: json, default: {}}
    relations:
      favourite_invoice: {kind: many_to_one, target: Invoice, nullable: true,
                          on_delete: set_null}
      home_currency: {kind: many_to_one, target: Currency, nullable: true, on_delete: set_null}
  Invoice:
    fields:
      number: {type: integer, check: "number > 0"}
      status: {type: enum, values: [draft, sent, paid], default: draft}
      total: {type: decimal, precision: 10, scale: 2, default: 0}
    relations:
      customer: {kind: many_to_one, target: Customer, on_delete: cascade,
                 back_populates: invoices}
      corrects: {kind: many_to_one, target: Invoice, nullable: true, on_delete: set_null}
      tags: {kind: many_to_many, target: Tag, back_populates: invoices}
      currency: {kind: many_to_one, target: Currency, back_populates: invoices}
      note_kind: {kind: many_to_one, target: NoteKind, nullable: true}
    unique:
      - [customer_id, number]
  Receipt:
    fields:
      paid_on: date
    relations:
      invoice: {kind: one_to_one, target: Invoice, on_delete: restrict}
  Tag:
    timestamps: false
    fields:
      label: {type: string, max_length: 30, unique: true}
    relations:
      related: {kind: many_to_many, target: Tag}
  Currency:
    tenant_scoped: false
    timestamps: false
    fields:
      code: {type: string, max_length: 3, unique: true}
  NoteKind:
    tenant_scoped: false
    writable: true
    fields:
      label: {type: string, max_length: 40}
"""

SPECS: dict[str, Path | str] = {
    "example": REPO_ROOT / "entityforge" / "examples" / "entities.yaml",
    "spec_format": REPO_ROOT / "tests" / "specs" / "spec_format_example.yaml",
    "awkward_names": REPO_ROOT / "tests" / "specs" / "awkward_names.yaml",
    "clinic": REPO_ROOT / "tests" / "specs" / "clinic_base.yaml",
    "saas_billing": REPO_ROOT / "tests" / "specs" / "saas_billing.yaml",
    "ledger": LEDGER_SPEC,
}


@dataclass
class Tally:
    """Attacks made per spec and kind; each one held, or its test failed."""

    attacks: Counter[tuple[str, str]] = field(default_factory=Counter)
    tables: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        lines = ["tenant isolation: attacks held"]
        for spec in sorted(self.tables):
            kinds = {kind: n for (s, kind), n in sorted(self.attacks.items()) if s == spec}
            total = sum(kinds.values())
            lines.append(f"  {spec}: {self.tables[spec]} tenant tables, {total} attacks {kinds}")
        total = sum(self.attacks.values())
        lines.append(f"  total: {sum(self.tables.values())} tables, {total} attacks")
        return "\n".join(lines)


@pytest.fixture(scope="module")
def tally() -> Iterator[Tally]:
    counts = Tally()
    yield counts
    print("\n" + counts.summary())


@dataclass(frozen=True)
class Outcome:
    """What one statement did: rows touched (or returned), or the SQLSTATE it failed with."""

    rowcount: int = 0
    rows: tuple[tuple[Any, ...], ...] = ()
    sqlstate: str | None = None
    message: str = ""
    constraint: str | None = None

    def describe(self) -> str:
        if self.sqlstate:
            return f"error {self.sqlstate}: {self.message.splitlines()[0]}"
        return f"{self.rowcount} rows {list(self.rows)[:3]}"


@dataclass(frozen=True)
class Isolation:
    """A migrated database with tenants A and B seeded, and the logins that attack it."""

    spec: str
    url: str
    catalog: Catalog
    seeded: Seeded
    writer: LoginRole
    admin: LoginRole

    @property
    def setting(self) -> str:
        assert self.catalog.tenancy is not None
        return self.catalog.tenancy.setting

    @property
    def tenant_column(self) -> str:
        assert self.catalog.tenancy is not None
        return self.catalog.tenancy.column

    @property
    def tenant_a(self) -> uuid.UUID:
        return self.seeded.tenants[0]

    @property
    def tenant_b(self) -> uuid.UUID:
        return self.seeded.tenants[1]

    def tables(self) -> tuple[Table, ...]:
        return tenant_tables(self.catalog)


@pytest.fixture(scope="module", params=sorted(SPECS))
def isolation(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    create_database: Callable[[], str],
    tally: Tally,
) -> Iterator[Isolation]:
    name = request.param
    directory = tmp_path_factory.mktemp(f"isolation_{name}")
    spec = SPECS[name]
    if isinstance(spec, str):
        (directory / "ledger.yaml").write_text(spec)
        spec = directory / "ledger.yaml"
    project = new_project(directory, None if name == "example" else spec)
    url = create_database()
    upgraded = alembic(project, url, "upgrade", "head")
    assert upgraded.returncode == 0, upgraded.output
    schema = load_schema(project / "entities.yaml")
    catalog = build_catalog(schema)
    tally.tables[name] = len(tenant_tables(catalog))
    with psycopg.connect(psql_url(url), autocommit=True) as owner:
        seeded = seed_tenants(owner, catalog, [uuid.uuid4(), uuid.uuid4()])
    with (
        login_role(url, schema.roles.writer) as writer,
        login_role(url, schema.roles.admin) as admin,
    ):
        yield Isolation(name, url, catalog, seeded, writer, admin)


class Attacker:
    """Runs statements as one login, each in its own transaction, always rolled back."""

    def __init__(self, connection: psycopg.Connection, setting: str) -> None:
        self.connection = connection
        self.setting = setting

    def run(
        self,
        tenant: uuid.UUID | None,
        statement: sql.Composable | str,
        params: list[Any] | None = None,
    ) -> Outcome:
        try:
            with self.connection.transaction(force_rollback=True):
                if tenant is not None:
                    set_tenant(self.connection, self.setting, tenant)
                cursor = self.connection.execute(statement, params)
                rows = tuple(cursor.fetchall()) if cursor.description else ()
                return Outcome(cursor.rowcount, rows)
        except psycopg.Error as error:
            return Outcome(
                sqlstate=error.sqlstate,
                message=str(error),
                constraint=error.diag.constraint_name,
            )


@dataclass
class Findings:
    """Attacks that got through, by table; and how many were made."""

    spec: str
    tally: Tally
    failures: list[str] = field(default_factory=list)

    def expect(self, table: str, attack: str, outcome: Outcome, ok: bool) -> None:
        self.tally.attacks[(self.spec, attack)] += 1
        if not ok:
            self.failures.append(f"{table}: {attack}: {outcome.describe()}")

    def rows(self, table: str, attack: str, outcome: Outcome, expected: int) -> None:
        self.expect(
            table, attack, outcome, outcome.sqlstate is None and outcome.rowcount == expected
        )

    def refused(self, table: str, attack: str, outcome: Outcome, sqlstate: str) -> None:
        """Refused with ``sqlstate``; by row-level security itself where that is the code."""
        ok = outcome.sqlstate == sqlstate
        if sqlstate == INSUFFICIENT_PRIVILEGE:
            ok = ok and "row-level security" in outcome.message
        self.expect(table, attack, outcome, ok)

    def refused_by_key(self, table: str, attack: str, outcome: Outcome, fk: ForeignKey) -> None:
        """Refused by the composite foreign key ``fk`` itself, nothing else."""
        ok = outcome.sqlstate == FOREIGN_KEY_VIOLATION and outcome.constraint == fk.name
        self.expect(table, attack, outcome, ok)

    def denied(self, table: str, attack: str, outcome: Outcome) -> None:
        """Refused for want of the table privilege (not a row the policy turned down)."""
        ok = outcome.sqlstate == INSUFFICIENT_PRIVILEGE
        self.expect(
            table, attack, outcome, ok and "permission denied for table" in outcome.message
        )

    def check(self) -> None:
        assert not self.failures, "\n".join(self.failures)


def _select_count(table: Table, condition: sql.Composable | None = None) -> sql.Composed:
    statement = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table.name))
    if condition is not None:
        statement += sql.SQL(" WHERE ") + condition
    return statement


def _count(outcome: Outcome) -> int | None:
    return None if outcome.sqlstate else int(outcome.rows[0][0])


def _touch(table: Table, tenant_column: str) -> sql.Composed:
    """``UPDATE t SET tenant = tenant``: an update every row can take, changing nothing."""
    column = sql.Identifier(tenant_column)
    return sql.SQL("UPDATE {} SET {} = {}").format(sql.Identifier(table.name), column, column)


def _update_where(table: Table, assignments: Row, key: Row) -> tuple[sql.Composed, list[Any]]:
    setters = sql.SQL(", ").join(
        sql.SQL("{} = %s::").format(sql.Identifier(name))
        + sql.SQL(sql_type(table.column(name).type))
        for name in assignments
    )
    condition, key_values = where_equal(table, key)
    statement = sql.SQL("UPDATE {} SET {} WHERE {}").format(
        sql.Identifier(table.name), setters, condition
    )
    return statement, list(assignments.values()) + key_values


def _fresh_row(iso: Isolation, table: Table, tenant: uuid.UUID) -> Row:
    """A new row for ``tenant`` with its nullable references left NULL."""
    return iso.seeded.maker.row(table, tenant, with_nullable_references=False)


# --- the writer, acting for tenant A ---------------------------------------------------


def test_writer_login_owns_nothing_and_holds_no_forbidden_privilege(
    isolation: Isolation,
) -> None:
    assert writer_login_violations(isolation.url, isolation.writer.name) == []


def test_every_tenant_table_of_the_database_is_attacked(isolation: Isolation) -> None:
    """The catalog's tenant tables are exactly the tables that carry the tenant column."""
    with psycopg.connect(psql_url(isolation.url)) as owner:
        rows = owner.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid "
            "WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' "
            "AND a.attname = %s AND NOT a.attisdropped",
            (isolation.tenant_column,),
        ).fetchall()
    assert sorted(name for (name,) in rows) == sorted(t.name for t in isolation.tables())
    assert isolation.tables(), "a multi-tenant spec without tenant tables proves nothing"


def test_reads_never_reach_the_other_tenant(isolation: Isolation, tally: Tally) -> None:
    findings = Findings(isolation.spec, tally)
    a, b = isolation.tenant_a, isolation.tenant_b
    with psycopg.connect(isolation.writer.conninfo, autocommit=True) as connection:
        attacker = Attacker(connection, isolation.setting)
        for table in isolation.tables():
            tenants = attacker.run(
                a,
                sql.SQL("SELECT {0}, count(*) FROM {1} GROUP BY {0}").format(
                    sql.Identifier(isolation.tenant_column), sql.Identifier(table.name)
                ),
            )
            findings.expect(table.name, "select all", tenants, tenants.rows == ((a, 1),))
            key, values = where_equal(
                table, primary_key(table, isolation.seeded.first(table.name, b))
            )
            by_key = attacker.run(a, _select_count(table, key), values)
            findings.expect(table.name, "select B by key", by_key, _count(by_key) == 0)
    findings.check()


def test_writes_aimed_at_the_other_tenant_touch_nothing(
    isolation: Isolation, tally: Tally
) -> None:
    findings = Findings(isolation.spec, tally)
    a, b = isolation.tenant_a, isolation.tenant_b
    with psycopg.connect(isolation.writer.conninfo, autocommit=True) as connection:
        attacker = Attacker(connection, isolation.setting)
        for table in isolation.tables():
            key, values = where_equal(
                table, primary_key(table, isolation.seeded.first(table.name, b))
            )
            touch = _touch(table, isolation.tenant_column)
            findings.rows(
                table.name,
                "update B by key",
                attacker.run(a, touch + sql.SQL(" WHERE ") + key, values),
                0,
            )
            findings.rows(table.name, "update all", attacker.run(a, touch), 1)
            delete = sql.SQL("DELETE FROM {} WHERE ").format(sql.Identifier(table.name))
            findings.rows(table.name, "delete B by key", attacker.run(a, delete + key, values), 0)
            by_tenant = sql.SQL("{} = %s::uuid").format(sql.Identifier(isolation.tenant_column))
            findings.rows(
                table.name, "delete B by tenant", attacker.run(a, delete + by_tenant, [str(b)]), 0
            )
    findings.check()


def test_rows_cannot_be_written_into_the_other_tenant(isolation: Isolation, tally: Tally) -> None:
    findings = Findings(isolation.spec, tally)
    a, b = isolation.tenant_a, isolation.tenant_b
    with psycopg.connect(isolation.writer.conninfo, autocommit=True) as connection:
        attacker = Attacker(connection, isolation.setting)
        for table in isolation.tables():
            insert = attacker.run(a, *insert_statement(table, _fresh_row(isolation, table, b)))
            findings.refused(table.name, "insert as B", insert, INSUFFICIENT_PRIVILEGE)
            own = isolation.seeded.first(table.name, a)
            move = _update_where(table, {isolation.tenant_column: str(b)}, primary_key(table, own))
            findings.refused(
                table.name, "move A row to B", attacker.run(a, *move), INSUFFICIENT_PRIVILEGE
            )
    findings.check()


def test_references_cannot_point_into_the_other_tenant(isolation: Isolation, tally: Tally) -> None:
    """Composite foreign keys: a row of A may not reference a row of B."""
    findings = Findings(isolation.spec, tally)
    a, b = isolation.tenant_a, isolation.tenant_b
    column = isolation.tenant_column
    with psycopg.connect(isolation.writer.conninfo, autocommit=True) as connection:
        attacker = Attacker(connection, isolation.setting)
        scoped = {table.name for table in isolation.tables()}
        for table in isolation.tables():
            for fk in references(table, column):
                if fk.referred_table not in scoped:
                    continue  # a global lookup: every tenant may point at its rows
                assert fk.columns[0] == column, f"{table.name}.{fk.name} leaves out the tenant"
                target = reference_column(fk, column)
                foreign = str(isolation.seeded.maker.target_id(fk.referred_table, b, 0))
                own = isolation.seeded.first(table.name, a)
                update = _update_where(table, {target: foreign}, primary_key(table, own))
                findings.refused_by_key(
                    table.name, "update reference to B", attacker.run(a, *update), fk
                )
                if _insert_would_collide(table, fk, column):
                    continue
                row = _fresh_row(isolation, table, a) | {target: foreign}
                insert = attacker.run(a, *insert_statement(table, row))
                findings.refused_by_key(table.name, "insert reference to B", insert, fk)
    findings.check()


def _insert_would_collide(table: Table, attacked: ForeignKey, tenant_column: str) -> bool:
    """A fresh row would repeat a required one-to-one reference the seeded row holds."""
    unique_columns = {u.columns[-1] for u in table.uniques if len(u.columns) == 2}
    unique_columns |= {i.columns[-1].name for i in table.indexes if i.unique}
    for fk in references(table, tenant_column):
        column = reference_column(fk, tenant_column)
        if fk != attacked and column in unique_columns and not table.column(column).nullable:
            return True
    return False


# --- the tenant table and the global tables -------------------------------------------


def _by_id(table: Table, row_id: uuid.UUID | str) -> sql.Composed:
    return sql.SQL("{} = {}::uuid").format(sql.Identifier("id"), sql.Literal(str(row_id)))


def test_the_tenant_table_shows_and_changes_only_the_own_tenant(
    isolation: Isolation, tally: Tally
) -> None:
    findings = Findings(isolation.spec, tally)
    a, b = isolation.tenant_a, isolation.tenant_b
    table = tenant_table(isolation.catalog)
    name = sql.Identifier(table.name)
    touch = sql.SQL("UPDATE {} SET id = id").format(name)
    delete = sql.SQL("DELETE FROM {}").format(name)
    fresh = _fresh_row(isolation, table, a) | {"id": str(uuid.uuid4())}
    with psycopg.connect(isolation.writer.conninfo, autocommit=True) as connection:
        attacker = Attacker(connection, isolation.setting)
        seen = attacker.run(a, sql.SQL("SELECT id FROM {}").format(name))
        findings.expect(table.name, "select all tenants", seen, seen.rows == ((a,),))
        by_key = attacker.run(a, _select_count(table, _by_id(table, b)))
        findings.expect(table.name, "select B by key", by_key, _count(by_key) == 0)
        unset = attacker.run(None, _select_count(table))
        findings.expect(table.name, "select with no tenant", unset, _count(unset) == 0)
        where_b = sql.SQL(" WHERE ") + _by_id(table, b)
        findings.rows(table.name, "update B", attacker.run(a, touch + where_b), 0)
        findings.rows(table.name, "update all", attacker.run(a, touch), 1)
        findings.rows(table.name, "update with no tenant", attacker.run(None, touch), 0)
        move = sql.SQL("UPDATE {} SET id = %s::uuid WHERE ").format(name) + _by_id(table, a)
        moved = attacker.run(a, move, [str(uuid.uuid4())])
        findings.refused(table.name, "move A to a new id", moved, INSUFFICIENT_PRIVILEGE)
        findings.denied(
            table.name, "insert a tenant", attacker.run(a, *insert_statement(table, fresh))
        )
        for victim, attack in ((b, "delete B"), (a, "delete A")):
            outcome = attacker.run(a, delete + sql.SQL(" WHERE ") + _by_id(table, victim))
            findings.denied(table.name, attack, outcome)
    findings.check()


def test_global_tables_refuse_the_writer_unless_writable(
    isolation: Isolation, tally: Tally
) -> None:
    findings = Findings(isolation.spec, tally)
    a = isolation.tenant_a
    with psycopg.connect(isolation.writer.conninfo, autocommit=True) as connection:
        attacker = Attacker(connection, isolation.setting)
        for table in global_tables(isolation.catalog):
            writable = "INSERT" in table.writer_privileges
            name = sql.Identifier(table.name)
            seen = attacker.run(a, _select_count(table))
            findings.expect(table.name, "select", seen, (_count(seen) or 0) >= 1)
            first = sql.Identifier(table.primary_key[0])
            key, values = where_equal(
                table, primary_key(table, isolation.seeded.first(table.name, GLOBAL_ROWS))
            )
            touch = sql.SQL("UPDATE {} SET {} = {} WHERE ").format(name, first, first) + key
            insert = insert_statement(table, isolation.seeded.maker.row(table, GLOBAL_ROWS))
            nothing = sql.SQL("DELETE FROM {} WHERE {} IS NULL").format(name, first)
            outcomes = {
                "insert": (attacker.run(a, *insert), 1),
                "update": (attacker.run(a, touch, values), 1),
                "delete": (attacker.run(a, nothing), 0),
                "delete by key": (
                    attacker.run(a, sql.SQL("DELETE FROM {} WHERE ").format(name) + key, values),
                    None,
                ),
            }
            for attack, (outcome, rows) in outcomes.items():
                if not writable:
                    findings.denied(table.name, attack, outcome)
                elif rows is not None:
                    findings.rows(table.name, f"{attack} (writable)", outcome, rows)
    findings.check()


# --- no tenant set ------------------------------------------------------------------------


def _assert_sees_and_touches_nothing(
    attacker: Attacker, iso: Isolation, table: Table, findings: Findings, when: str
) -> None:
    seen = attacker.run(None, _select_count(table))
    findings.expect(table.name, f"select {when}", seen, _count(seen) == 0)
    findings.rows(
        table.name, f"update {when}", attacker.run(None, _touch(table, iso.tenant_column)), 0
    )
    delete = sql.SQL("DELETE FROM {}").format(sql.Identifier(table.name))
    findings.rows(table.name, f"delete {when}", attacker.run(None, delete), 0)
    insert = attacker.run(None, *insert_statement(table, _fresh_row(iso, table, iso.tenant_a)))
    findings.refused(table.name, f"insert {when}", insert, INSUFFICIENT_PRIVILEGE)


def _setting(attacker: Attacker) -> Any:
    outcome = attacker.run(None, "SELECT current_setting(%s, true)", [attacker.setting])
    assert outcome.sqlstate is None, outcome.describe()
    return outcome.rows[0][0]


def test_no_tenant_ever_set_sees_and_touches_nothing(isolation: Isolation, tally: Tally) -> None:
    findings = Findings(isolation.spec, tally)
    with psycopg.connect(isolation.writer.conninfo, autocommit=True) as connection:
        attacker = Attacker(connection, isolation.setting)
        assert _setting(attacker) in (None, "")
        for table in isolation.tables():
            _assert_sees_and_touches_nothing(attacker, isolation, table, findings, "never set")
    findings.check()


def test_a_tenant_set_before_does_not_survive_its_transaction(
    isolation: Isolation, tally: Tally
) -> None:
    """On one connection (as a pool reuses it): set A and commit, then ask with no tenant."""
    findings = Findings(isolation.spec, tally)
    with psycopg.connect(isolation.writer.conninfo, autocommit=True) as connection:
        attacker = Attacker(connection, isolation.setting)
        for table in isolation.tables():
            with connection.transaction():
                set_tenant(connection, isolation.setting, isolation.tenant_a)
                count = connection.execute(_select_count(table)).fetchone()
                assert count == (1,), table.name
            assert _setting(attacker) == ""
            _assert_sees_and_touches_nothing(attacker, isolation, table, findings, "after reset")
    findings.check()


# --- the admin ------------------------------------------------------------------------------


def test_the_admin_sees_both_tenants(isolation: Isolation, tally: Tally) -> None:
    """BYPASSRLS is not inherited by members: the admin login switches to the admin role."""
    findings = Findings(isolation.spec, tally)
    a, b = isolation.tenant_a, isolation.tenant_b
    with psycopg.connect(isolation.admin.conninfo, autocommit=True) as connection:
        connection.execute(
            sql.SQL("SET ROLE {}").format(sql.Identifier(isolation.admin.member_of))
        )
        attacker = Attacker(connection, isolation.setting)
        for table in isolation.tables():
            seen = attacker.run(
                None,
                sql.SQL("SELECT {0}, count(*) FROM {1} GROUP BY {0} ORDER BY {0}").format(
                    sql.Identifier(isolation.tenant_column), sql.Identifier(table.name)
                ),
            )
            expected = tuple(sorted(((a, 1), (b, 1))))
            findings.expect(table.name, "admin sees both", seen, seen.rows == expected)
    findings.check()


def test_a_member_of_the_admin_role_bypasses_nothing_without_switching(
    isolation: Isolation,
) -> None:
    with psycopg.connect(isolation.admin.conninfo, autocommit=True) as connection:
        attacker = Attacker(connection, isolation.setting)
        for table in isolation.tables():
            assert _count(attacker.run(None, _select_count(table))) == 0, table.name
