"""``audit: true``: trigger-written, append-only history of an entity's rows.

Validation at the key; the history table and its triggers in the catalog and in
revisions (added to a table with rows, removed only with ``--allow-destructive``,
renamed with their entity), each with its downgrade and ``alembic check`` clean; the
writer's writes recorded, and its INSERT, UPDATE and DELETE on history refused, as a
LOGIN member of the writer under row-level security; and the generated project's own
tests of its history, tenancy on and off.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from entityforge.catalog import READ, build_catalog
from entityforge.errors import EntityforgeError, GenerationError
from entityforge.generators.migrations.audit_renderers import create_audit_trigger
from entityforge.migrate.diff import compare_catalogs
from entityforge.migrate.operations import CreateTable, DropTable, invert
from entityforge.migrate.operations.audit import CreateAuditTrigger, DropAuditTrigger
from entityforge.migrate.operations.renames import RenameTable
from entityforge.migrate.safety import check_revision
from entityforge.spec import load_schema_text
from tests.login_roles import login_role
from tests.projects import new_project as new_generated_project
from tests.projects import psql_url
from tests.test_generated_tests import outcome_counts, run_project_tests
from tests.test_incremental import newest_revision, round_trip
from tests.test_migrations import Project, new_project
from tests.test_spec_errors import first_error

__all__ = ["new_project"]

SPECS = Path(__file__).resolve().parent / "specs"
TENANT = "00000000-0000-7000-8000-000000000001"
OTHER_TENANT = "00000000-0000-7000-8000-000000000002"

LEDGER = """\
version: 1
tenancy: {entity: Firm}
entities:
  Firm:
    fields: {name: string(100)}
  Invoice:
AUDIT    fields:
      number: {type: string, max_length: 40}
      total: {type: decimal, precision: 12, scale: 2, check: "total >= 0"}
      note: {type: text, nullable: true}
"""
SEED = [
    f"INSERT INTO firms (id, name) VALUES ('{TENANT}', 'a'), ('{OTHER_TENANT}', 'b')",
    f"INSERT INTO invoices (tenant_id, number, total) VALUES ('{TENANT}', 'INV-1', 10)",
]


def ledger(audit: bool = True, *, entity: str = "Invoice", extra: str = "") -> str:
    spec = LEDGER.replace("AUDIT", "    audit: true\n" if audit else "")
    return spec.replace("  Invoice:\n", f"  {entity}:\n{extra}")


def test_the_tenant_entity_cannot_be_audited() -> None:
    spec = ledger().replace("  Firm:\n", "  Firm:\n    audit: true\n")
    with pytest.raises(EntityforgeError) as raised:
        load_schema_text(spec)
    rendered = first_error(raised.value).render()
    assert rendered.startswith("entities.yaml:5:12: "), rendered
    assert "the tenant entity 'Firm' cannot be audited" in rendered
    assert "\n  hint: " in rendered


def test_the_history_table_is_tenant_scoped_and_read_only_to_the_writer() -> None:
    catalog = build_catalog(load_schema_text(ledger()))
    invoices, history = catalog.table("invoices"), catalog.table("invoices_history")
    assert invoices.audit is not None and invoices.audit.history == "invoices_history"
    assert invoices.audit.compared == ("number", "total", "note", "created_at")
    assert history.history_of == "invoices"
    assert history.primary_key == ("tenant_id", "id")
    assert history.tenant_scoped and history.writer_privileges == READ
    assert [c.name for c in history.columns] == [
        "tenant_id",
        "id",
        "row_id",
        "operation",
        "changed_at",
        "actor",
        "changes",
    ]
    assert [i.name for i in history.indexes] == ["ix_invoices_history_tenant_id_row_id"]


def test_an_update_compares_each_column_and_records_only_the_changed_ones() -> None:
    catalog = build_catalog(load_schema_text(ledger()))
    (trigger,) = [
        op for op in compare_catalogs(None, catalog) if isinstance(op, CreateAuditTrigger)
    ]
    function, owner, revoke, *triggers = create_audit_trigger(trigger.trigger)
    assert "SECURITY DEFINER SET search_path = pg_catalog, pg_temp" in function
    assert (
        "INSERT INTO public.invoices_history (tenant_id, row_id, operation, actor, changes)"
        in (function)
    )
    assert (
        "CASE WHEN n.total IS DISTINCT FROM o.total THEN "
        "pg_catalog.jsonb_build_object('total', n.total) ELSE '{}'::jsonb END"
    ) in function
    assert "JOIN old_rows o ON o.tenant_id = n.tenant_id AND o.id = n.id" in function
    assert "WHERE (n.number, n.total, n.note, n.created_at) IS DISTINCT FROM" in function
    assert owner == "ALTER FUNCTION public.invoices_history_write() OWNER TO app_admin"
    assert revoke == "REVOKE ALL ON FUNCTION public.invoices_history_write() FROM PUBLIC"
    assert [t.split(" REFERENCING")[0] for t in triggers] == [
        "CREATE TRIGGER trg_invoices_history_insert AFTER INSERT ON public.invoices",
        "CREATE TRIGGER trg_invoices_history_update AFTER UPDATE ON public.invoices",
        "CREATE TRIGGER trg_invoices_history_delete AFTER DELETE ON public.invoices",
    ]


def test_adding_audit_creates_the_history_and_removing_it_is_destructive() -> None:
    plain = build_catalog(load_schema_text(ledger(audit=False)))
    audited = build_catalog(load_schema_text(ledger()))
    added = compare_catalogs(plain, audited)
    created = [op.table.name for op in added if isinstance(op, CreateTable)]
    assert created == ["invoices_history"]
    assert [op.table for op in added if isinstance(op, CreateAuditTrigger)] == ["invoices"]
    check_revision(added, allow_destructive=False)
    removed = compare_catalogs(audited, plain)
    assert [op.table for op in removed if isinstance(op, DropAuditTrigger)] == ["invoices"]
    assert [op.table.name for op in removed if isinstance(op, DropTable)] == ["invoices_history"]
    with pytest.raises(GenerationError) as refused:
        check_revision(removed, allow_destructive=False)
    assert "the history of invoices dropped with its rows" in str(refused.value)
    assert set(invert(removed)) == set(added)


def test_a_new_field_replaces_the_trigger_function() -> None:
    before = build_catalog(load_schema_text(ledger()))
    after = build_catalog(
        load_schema_text(ledger() + "      due_on: {type: date, nullable: true}\n")
    )
    operations = compare_catalogs(before, after)
    kinds = [type(op).__name__ for op in operations if "Audit" in type(op).__name__]
    assert kinds == ["DropAuditTrigger", "CreateAuditTrigger"]
    (created,) = [op for op in operations if isinstance(op, CreateAuditTrigger)]
    assert created.trigger.audit.compared[-1] == "created_at"
    assert "due_on" in created.trigger.audit.compared


def test_renaming_an_audited_entity_renames_its_history() -> None:
    before = build_catalog(load_schema_text(ledger()))
    renamed = ledger(entity="Bill", extra="    renamed_from: Invoice\n")
    operations = compare_catalogs(before, build_catalog(load_schema_text(renamed)))
    renames = {(op.old, op.new) for op in operations if isinstance(op, RenameTable)}
    assert renames == {("invoices", "bills"), ("invoices_history", "bills_history")}
    (dropped,) = [op for op in operations if isinstance(op, DropAuditTrigger)]
    assert dropped.trigger.table == "bills"
    assert dropped.trigger.audit.triggers[0] == "trg_invoices_history_insert"
    check_revision(operations, allow_destructive=False)


def writer_writes(database_url: str, *statements: str) -> None:
    """Run ``statements`` as a LOGIN member of the writer acting for the first tenant."""
    with (
        login_role(database_url, "app_writer") as writer,
        psycopg.connect(writer.conninfo) as connection,
    ):
        connection.execute("SELECT set_config('app.tenant_id', %s, true)", (TENANT,))
        connection.execute("SELECT set_config('app.user_id', 'clerk-7', true)")
        for statement in statements:
            connection.execute(statement)  # type: ignore[arg-type]


def history_as(database_url: str, tenant: str) -> list[tuple[str, str | None, dict[str, object]]]:
    with (
        login_role(database_url, "app_writer") as writer,
        psycopg.connect(writer.conninfo) as connection,
    ):
        connection.execute("SELECT set_config('app.tenant_id', %s, true)", (tenant,))
        rows = connection.execute(
            "SELECT operation, actor, changes FROM invoices_history ORDER BY changed_at, id"
        ).fetchall()
        for statement in (
            "INSERT INTO invoices_history (tenant_id, row_id, operation, changes)"
            f" VALUES ('{tenant}', gen_random_uuid(), 'insert', '{{}}')",
            "UPDATE invoices_history SET actor = 'forged'",
            "DELETE FROM invoices_history",
        ):
            with (
                pytest.raises(psycopg.errors.InsufficientPrivilege),
                connection.transaction(),
            ):
                connection.execute(statement)  # type: ignore[arg-type]
    return [tuple(row) for row in rows]  # type: ignore[misc]


def test_audit_added_to_and_removed_from_a_table_with_rows(
    database_url: str, create_database: Callable[[], str], new_project: Callable[..., Project]
) -> None:
    added = round_trip(new_project, database_url, ledger(audit=False), ledger(), SEED)
    _, source = newest_revision(added)
    upgrade = source[source.index("def upgrade") : source.index("def downgrade")]
    assert "CREATE TRIGGER trg_invoices_history_update AFTER UPDATE ON public.invoices" in upgrade
    writer_writes(
        database_url,
        "UPDATE invoices SET total = 12.50, note = 'discount' WHERE number = 'INV-1'",
        "UPDATE invoices SET note = note",  # nothing changes: nothing recorded
        f"INSERT INTO invoices (tenant_id, number, total) VALUES ('{TENANT}', 'INV-2', 3)",
        "DELETE FROM invoices WHERE number = 'INV-2'",
    )
    history = history_as(database_url, TENANT)
    assert [(operation, actor) for operation, actor, _ in history] == [
        ("update", "clerk-7"),
        ("insert", "clerk-7"),
        ("delete", "clerk-7"),
    ]
    assert history[0][2] == {"total": 12.5, "note": "discount"}
    assert history[1][2]["number"] == "INV-2" and "id" not in history[1][2]
    assert history_as(database_url, OTHER_TENANT) == []

    with pytest.raises(GenerationError) as refused:
        added.write(load_schema_text(ledger(audit=False)), with_models=True)
    assert "the history of invoices dropped with its rows" in str(refused.value)
    removed = round_trip(
        new_project,
        create_database(),
        ledger(),
        ledger(audit=False),
        SEED,
        allow_destructive=True,
        check_rows=False,
    )
    _, source = newest_revision(removed)
    upgrade = source[source.index("def upgrade") : source.index("def downgrade")]
    assert "DROP TRIGGER IF EXISTS trg_invoices_history_insert ON public.invoices" in upgrade
    assert 'op.drop_table("invoices_history")' in upgrade


def test_a_renamed_audited_entity_keeps_its_history(
    database_url: str, new_project: Callable[..., Project]
) -> None:
    renamed = ledger(entity="Bill", extra="    renamed_from: Invoice\n").replace(
        "      note:", "      remark: {type: text, nullable: true, renamed_from: note}\n#"
    )
    round_trip(new_project, database_url, ledger(), renamed, SEED)
    writer_writes(database_url, "UPDATE bills SET remark = 'late'")
    with psycopg.connect(psql_url(database_url)) as connection:
        rows = connection.execute(
            "SELECT operation, changes FROM bills_history ORDER BY changed_at, id"
        ).fetchall()
    assert [operation for operation, _ in rows] == ["insert", "update"]
    assert rows[0][1]["note"] is None and rows[1][1] == {"remark": "late"}


@pytest.mark.parametrize(
    ("spec", "expected"), [("audit.yaml", 8), ("audit_single_tenant.yaml", 4)]
)
def test_the_generated_project_tests_its_history(
    tmp_path: Path, server_url: str, spec: str, expected: int
) -> None:
    project = new_generated_project(tmp_path, SPECS / spec)
    output = run_project_tests(project, server_url, "tests/test_audit.py")
    assert outcome_counts(output) == {"passed": expected}, output[-6000:]
