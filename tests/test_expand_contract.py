"""Column renames in two steps (``generate --expand``, then ``--contract``) on a table
with rows, written by the old code and the new one as the application's login.

Expand: the new column is added beside the old one, filled in batches, kept equal to it
by a trigger whichever name a write uses, and given the spec's NOT NULL, unique key and
check; ``alembic check`` is clean though the models know only the new name, and the next
generation has nothing to do; the copy leaves ``updated_at`` as it was. Contract: the
old column and the trigger go, the new column takes its default. Each revision goes down
and up again, keeping the rows.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

import psycopg
import pytest

from entityforge.catalog import ColumnSync
from entityforge.errors import GenerationError
from entityforge.generators import GenerationContext, migrations
from entityforge.generators.migrations.expand_renderers import render_sync_columns
from entityforge.migrate.operations.expand import SyncColumns
from entityforge.spec import load_schema_text
from tests.login_roles import login_role
from tests.test_incremental import initial_history
from tests.test_live_migrations import ACCOUNT, execute
from tests.test_migrations import Project, new_project, query

__all__ = ["new_project"]

BEFORE = """\
version: 1
tenancy: {entity: Account}
roles: {reader: shop_reader, writer: shop_writer, admin: shop_admin}
entities:
  Account:
    fields:
      name: string(100)
  Event:
    fields:
      ref: {type: string, max_length: 40, unique: true, check: "length(ref) > 1"}
      title: string(200)
"""
AFTER = BEFORE.replace(
    '      ref: {type: string, max_length: 40, unique: true, check: "length(ref) > 1"}\n',
    "      reference: {type: string, max_length: 40, unique: true, default: 'none',\n"
    '                  check: "length(reference) > 1", renamed_from: ref}\n',
)
ROWS = 2500


def _columns(
    url: str, table: str = "events", names: tuple[str, ...] = ("ref", "reference")
) -> list[tuple[object, ...]]:
    """``(name, nullable, default)`` of those of ``names`` that ``table`` has."""
    return query(
        url,
        "SELECT column_name, is_nullable, column_default FROM information_schema.columns "
        "WHERE table_name = :table AND column_name = ANY(:names) ORDER BY 1",
        table=table,
        names=list(names),
    )


def _as_writer(login: str, *statements: str) -> list[tuple[object, ...]]:
    with psycopg.connect(login) as connection:
        connection.execute("SELECT set_config('app.tenant_id', %s, false)", [ACCOUNT])
        rows: list[tuple[object, ...]] = []
        for statement in statements:
            cursor = connection.execute(statement)  # type: ignore[arg-type]
            if cursor.description is not None:
                rows += cursor.fetchall()
        connection.commit()
        return rows


def test_a_rename_in_two_steps_keeps_old_and_new_code_working(
    database_url: str, new_project: Callable[..., Project]
) -> None:
    project = new_project(load_schema_text(BEFORE), with_models=True)
    project.alembic(database_url, "upgrade", "head")
    execute(
        database_url,
        f"INSERT INTO accounts (id, name) VALUES ('{ACCOUNT}', 'acme')",
        f"INSERT INTO events (tenant_id, ref, title) SELECT '{ACCOUNT}', 'r' || n, 't' || n "
        f"FROM generate_series(1, {ROWS}) AS n",
    )

    moved = "SELECT count(*) FROM events WHERE updated_at <> created_at"
    assert query(database_url, moved) == [(0,)]

    project = project.write(load_schema_text(AFTER), with_models=True, expand=True)
    _, expand = project.revisions()[-1]
    assert "RENAME COLUMN" not in expand and "migration_steps.copy_column" in expand
    project.alembic(database_url, "upgrade", "head")
    assert _columns(database_url) == [("ref", "NO", None), ("reference", "NO", None)]
    assert query(database_url, "SELECT count(*) FROM events WHERE reference = ref") == [(ROWS,)]
    assert query(database_url, moved) == [(0,)], "the copy moved updated_at"
    valid = query(
        database_url,
        "SELECT conname, convalidated FROM pg_constraint WHERE conrelid = 'events'::regclass "
        "AND contype <> 'n' AND conname LIKE '%reference%' ORDER BY 1",
    )
    assert valid == [
        ("ck_events_reference", True),
        ("uq_events_tenant_id_reference", True),
    ]
    project.alembic(database_url, "check")
    assert project.write(load_schema_text(AFTER), with_models=True).revisions() == (
        project.revisions()
    ), "a generation between expand and contract has nothing to do"

    with login_role(database_url, "shop_writer") as writer:
        _as_writer(
            writer.conninfo,
            # The code deployed before the rename, and the code after it.
            f"INSERT INTO events (tenant_id, ref, title) VALUES ('{ACCOUNT}', 'old-1', "
            "'from old code')",
            f"INSERT INTO events (tenant_id, reference, title) VALUES ('{ACCOUNT}', 'new-1', "
            "'from new code')",
            "UPDATE events SET ref = 'old-2' WHERE ref = 'r1'",
            "UPDATE events SET reference = 'new-2' WHERE reference = 'r2'",
        )
        pairs = _as_writer(
            writer.conninfo,
            "SELECT ref, reference FROM events WHERE title IN "
            "('from old code', 'from new code', 't1', 't2') ORDER BY title",
        )
    assert pairs == [
        ("new-1", "new-1"),
        ("old-1", "old-1"),
        ("old-2", "old-2"),
        ("new-2", "new-2"),
    ]
    with pytest.raises(psycopg.errors.UniqueViolation):
        execute(
            database_url,
            f"INSERT INTO events (tenant_id, ref, title) VALUES ('{ACCOUNT}', 'new-1', 'x')",
        )

    project.alembic(database_url, "downgrade", "-1")
    assert _columns(database_url) == [("ref", "NO", None)]
    project.alembic(database_url, "upgrade", "head")
    assert query(database_url, "SELECT count(*) FROM events WHERE reference = ref") == [
        (ROWS + 2,)
    ]

    project = project.write(load_schema_text(AFTER), with_models=True, contract=True)
    _, contract = project.revisions()[-1]
    assert "DROP TRIGGER IF EXISTS twin_events_reference" in contract
    project.alembic(database_url, "upgrade", "head")
    assert _columns(database_url) == [("reference", "NO", "'none'::character varying")]
    project.alembic(database_url, "check")
    with login_role(database_url, "shop_writer") as writer:
        _as_writer(
            writer.conninfo,
            f"INSERT INTO events (tenant_id, title) VALUES ('{ACCOUNT}', 'after contract')",
        )
    project.alembic(database_url, "downgrade", "-1")
    assert query(database_url, "SELECT count(*) FROM events WHERE reference = ref") == [
        (ROWS + 3,)
    ]
    project.alembic(database_url, "upgrade", "head")
    project.alembic(database_url, "check")
    with pytest.raises(GenerationError, match="no two-step rename to contract"):
        project.write(load_schema_text(AFTER), with_models=True, contract=True)


CITUS = BEFORE.replace(
    "tenancy: {entity: Account}", "tenancy: {entity: Account, distribution: citus}"
)
NATIVE = BEFORE.replace("entities:\n", "defaults: {enums: native}\nentities:\n").replace(
    "      title: string(200)\n",
    "      title: string(200)\n      kind: {type: enum, values: [a, b]}\n",
)


@pytest.mark.parametrize(
    ("before", "after", "refusal"),
    [
        (
            BEFORE,
            BEFORE.replace(
                "      title: string(200)\n", "      headline: {type: text, renamed_from: title}\n"
            ),
            "cannot be renamed to headline in two steps while its type changes too",
        ),
        (
            CITUS,
            AFTER.replace(
                "tenancy: {entity: Account}", "tenancy: {entity: Account, distribution: citus}"
            ),
            "which Citus does not run on distributed tables",
        ),
        (
            NATIVE,
            NATIVE.replace(
                "      kind: {type: enum, values: [a, b]}\n",
                "      category: {type: enum, values: [a, b], renamed_from: kind}\n",
            ),
            "its PostgreSQL enum type event_kind is named after the field",
        ),
    ],
    ids=["type change", "citus", "native enum"],
)
def test_two_step_renames_it_cannot_keep_are_refused(
    before: str, after: str, refusal: str
) -> None:
    context = GenerationContext(load_schema_text(after), **initial_history(before), expand=True)
    with pytest.raises(GenerationError, match=refusal):
        migrations.generate(context)


@pytest.mark.parametrize("source", ["ref", "reference"])
def test_an_update_before_the_copy_reaches_a_row_fills_it_and_empties_nothing(
    database_url: str, source: str
) -> None:
    """The column being copied from wins an update that changes neither name: the old
    one while expanding, the new one when a contract is undone (the old one re-added,
    still empty)."""
    sync = SyncColumns("events", ColumnSync("reference", "ref"), source)
    statements: list[str] = []
    # The rendered steps are ``op.execute(...)`` calls: collect what they execute.
    exec(render_sync_columns(sync).text, {"op": SimpleNamespace(execute=statements.append)})
    execute(
        database_url,
        "CREATE TABLE events (id int PRIMARY KEY, ref text, reference text, n int)",
        f"INSERT INTO events (id, {source}) VALUES (1, 'kept'), (2, 'kept')",
        *statements,
        "UPDATE events SET n = 1 WHERE id = 1",
        "UPDATE events SET ref = 'old name' WHERE id = 2",
    )
    assert query(database_url, "SELECT id, ref, reference FROM events ORDER BY id") == [
        (1, "kept", "kept"),
        (2, "old name", "old name"),
    ]


def test_a_field_removed_while_its_rename_expands_is_refused(
    new_project: Callable[..., Project],
) -> None:
    project = new_project(load_schema_text(BEFORE), with_models=True)
    project = project.write(load_schema_text(AFTER), with_models=True, expand=True)
    without = BEFORE.replace(
        '      ref: {type: string, max_length: 40, unique: true, check: "length(ref) > 1"}\n', ""
    )
    with pytest.raises(GenerationError, match="the spec no longer has it"):
        project.write(load_schema_text(without), with_models=True)


SEVERAL = """\
version: 1
tenancy: {entity: Account}
roles: {reader: docs_reader, writer: docs_writer, admin: docs_admin}
entities:
  Account:
    fields:
      name: string(100)
  Doc:
    fields:
      url: {type: text, unique: true}
      code: string(20)
      title: string(100)
"""
DOC_COLUMNS = ("url", "code", "title", "link", "ref", "heading")
SEVERAL_AFTER = SEVERAL.replace(
    "      url: {type: text, unique: true}\n"
    "      code: string(20)\n"
    "      title: string(100)\n",
    "      link: {type: text, unique: true, renamed_from: url}\n"
    "      ref: {type: string, max_length: 20, nullable: true, renamed_from: code}\n"
    "      heading: {type: string, max_length: 100, unique: true, renamed_from: title}\n",
)


def test_several_renames_in_one_revision_check_first_and_end_together(
    database_url: str, new_project: Callable[..., Project]
) -> None:
    """Three renames of one table: a unique key over long text (``md5``), a required
    field made nullable, a field made unique. Duplicates stop the expand before it
    changes anything; the contract copies everything before it drops any trigger."""
    project = new_project(load_schema_text(SEVERAL), with_models=True)
    project.alembic(database_url, "upgrade", "head")
    execute(
        database_url,
        f"INSERT INTO accounts (id, name) VALUES ('{ACCOUNT}', 'acme')",
        f"INSERT INTO docs (tenant_id, url, code, title) SELECT '{ACCOUNT}', 'u' || n, "
        f"'c' || n, 'same' FROM generate_series(1, 300) AS n",
    )
    project = project.write(load_schema_text(SEVERAL_AFTER), with_models=True, expand=True)
    with pytest.raises(Exception, match="the unique constraint uq_docs_tenant_id_heading"):
        project.alembic(database_url, "upgrade", "head")
    assert [name for name, *_ in _columns(database_url, "docs", DOC_COLUMNS)] == [
        "code",
        "title",
        "url",
    ]

    execute(database_url, "UPDATE docs SET title = 't' || id")
    project.alembic(database_url, "upgrade", "head")
    project.alembic(database_url, "check")
    with login_role(database_url, "docs_writer") as writer:
        # The new code leaves the field that became nullable empty.
        _as_writer(
            writer.conninfo,
            f"INSERT INTO docs (tenant_id, link, heading) VALUES ('{ACCOUNT}', 'l', 'h')",
            "UPDATE docs SET ref = NULL WHERE heading = 't1'",
        )

    project = project.write(load_schema_text(SEVERAL_AFTER), with_models=True, contract=True)
    _, contract = project.revisions()[-1]
    upgrade = contract[contract.index("def upgrade") : contract.index("def downgrade")]
    assert upgrade.rindex("copy_column") < upgrade.index("DROP TRIGGER")
    project.alembic(database_url, "upgrade", "head")
    project.alembic(database_url, "check")
    assert [name for name, *_ in _columns(database_url, "docs", DOC_COLUMNS)] == [
        "heading",
        "link",
        "ref",
    ]
    project.alembic(database_url, "downgrade", "-1")
    project.alembic(database_url, "upgrade", "head")
