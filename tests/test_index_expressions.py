"""Index ``expressions`` and ``include``: validated, named, migrated and used.

A case-insensitive unique email is the classic expression index; a covering index
serves a query from the index alone. Both are checked as the application runs: a LOGIN
member of the writer role in a tenant's transaction, under row-level security.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import psycopg
import pytest

from entityforge.catalog import build_catalog
from entityforge.catalog.index_warnings import index_warnings
from entityforge.spec import load_schema_text
from tests.login_roles import login_role
from tests.projects import psql_url
from tests.test_incremental import execute, newest_revision, round_trip
from tests.test_migrations import Project, new_project, query
from tests.test_spec_errors import assert_refused_at

__all__ = ["new_project"]

PEOPLE = """\
version: 1
tenancy: {entity: Account}
entities:
  Account:
    fields: {name: string(100)}
  Person:
    soft_delete: true
    fields:
      email: string(320)
      name: string(200)
      bio: {type: text, nullable: true}
      prefs: {type: json, default: {}}
      rank: {type: integer, default: 0}
INDEXES"""

INDEXES = """\
    indexes:
      - {expressions: ["lower(email)"], unique: true}
      - {columns: [name], include: [email, rank]}
      - {expressions: ["prefs ->> 'theme'", "lower(name) || ' ' || lower(email)"]}
      - {columns: [rank], expressions: ["lower(bio)"], unique: true, name: uq_person_bio}
"""


def people(indexes: str = INDEXES) -> str:
    return PEOPLE.replace("INDEXES", indexes)


def test_expression_and_covering_indexes_in_the_catalog() -> None:
    table = build_catalog(load_schema_text(people())).table("people")
    indexes = {index.name: index for index in table.indexes}
    email = indexes["uq_people_tenant_id_lower_email_partial"]
    assert [(c.name, c.expression, c.hashed) for c in email.columns] == [
        ("tenant_id", False, False),
        ("lower(email)", True, False),
    ]
    assert email.unique and email.where == "deleted_at IS NULL"
    assert email.column_names == ("tenant_id", "email")
    covering = indexes["ix_people_tenant_id_name"]
    assert covering.include == ("email", "rank")
    mixed = indexes["ix_people_tenant_id_prefs_theme_lower_name_lower_email"]
    assert mixed.column_names == ("tenant_id", "prefs", "name", "email")
    # An expression over unbounded text is kept unique by its digest, as a text column is.
    bio = indexes["uq_person_bio"]
    assert [c.sql for c in bio.columns] == ["tenant_id", "rank", "md5(lower(bio)::text)"]
    assert bio.leading_columns == ("tenant_id", "rank")


def test_expression_lookups_are_named_in_the_warnings() -> None:
    warnings = index_warnings(build_catalog(load_schema_text(people())))
    email = [w for w in warnings if "uq_people_tenant_id_lower_email_partial" in w]
    assert email == [
        "people: index uq_people_tenant_id_lower_email_partial: the expression lower(email) "
        "is not an index condition for the application role (its functions and operators "
        "are not leakproof: row-level security makes a lookup by it filter the tenant's "
        "rows; the index still enforces uniqueness)"
    ]
    assert not [w for w in warnings if "ix_people_tenant_id_name" in w]


@pytest.mark.parametrize(
    ("indexes", "where", "message"),
    [
        pytest.param(
            '    indexes:\n      - {expressions: ["lower(email) || now()::text"]}\n',
            "15:24",
            "calls now(), which PostgreSQL does not mark IMMUTABLE",
            id="not_immutable",
        ),
        pytest.param(
            '    indexes:\n      - {expressions: ["lower(mail)"]}\n',
            "15:24",
            "refers to 'mail', which is no column",
            id="unknown_column",
        ),
        pytest.param(
            '    indexes:\n      - {expressions: ["lower(name)"], using: gin}\n',
            "15:10",
            "expressions are indexed by btree indexes, not gin",
            id="not_btree",
        ),
        pytest.param(
            '    indexes:\n      - {expressions: ["email"]}\n',
            "15:24",
            "the expression is the column 'email' itself",
            id="bare_column",
        ),
        pytest.param(
            "    indexes:\n      - {expressions: [\"lower('x')\"]}\n",
            "15:24",
            "the expression reads no column",
            id="no_column",
        ),
        pytest.param(
            "    indexes:\n      - {unique: true}\n",
            "15:9",
            "an index needs 'columns', 'expressions' or both",
            id="no_keys",
        ),
        pytest.param(
            "    indexes:\n      - {columns: [name], include: [bio]}\n",
            "15:37",
            "the values of 'bio' can be longer than an index row holds",
            id="include_unbounded",
        ),
        pytest.param(
            "    indexes:\n      - {columns: [name], include: [name]}\n",
            "15:37",
            "'name' is already a key of the index",
            id="include_a_key",
        ),
        pytest.param(
            "    indexes:\n      - {columns: [name], include: [rank], using: brin}\n",
            "15:27",
            "covering columns belong to btree indexes, not brin",
            id="include_not_btree",
        ),
    ],
)
def test_bad_expressions_and_covering_columns_are_refused(
    indexes: str, where: str, message: str
) -> None:
    assert_refused_at(people(indexes), where, message)


SEED = [
    "INSERT INTO accounts (id, name) VALUES ('00000000-0000-7000-8000-000000000001', 'a')",
    "INSERT INTO people (tenant_id, email, name, bio) VALUES "
    "('00000000-0000-7000-8000-000000000001', 'ann@example.com', 'Ann', 'likes tea'), "
    "('00000000-0000-7000-8000-000000000001', 'bob@example.com', 'Bob', NULL)",
]


def test_adding_and_removing_the_indexes_on_a_table_with_rows(
    database_url: str, create_database: Callable[[], str], new_project: Callable[..., Project]
) -> None:
    added = round_trip(new_project, database_url, people(""), people(), SEED)
    name, source = newest_revision(added)
    assert name.startswith("0002_")
    autocommit = source[source.index("autocommit_block") : source.index("def downgrade")]
    assert 'sa.text("(lower(email))")' in autocommit
    assert "postgresql_concurrently=True" in autocommit
    assert 'postgresql_include=["email", "rank"]' in autocommit

    removed = round_trip(new_project, create_database(), people(), people(""), SEED)
    _, source = newest_revision(removed)
    upgrade = source[source.index("def upgrade") : source.index("def downgrade")]
    assert upgrade.count("op.drop_index") == 4


def test_the_writer_is_refused_a_case_variant_and_reads_the_covering_index(
    database_url: str, new_project: Callable[..., Project]
) -> None:
    project = new_project(load_schema_text(people()), with_models=True)
    project.alembic(database_url, "upgrade", "head")
    execute(database_url, *SEED[:1])
    tenant = "00000000-0000-7000-8000-000000000001"
    with login_role(database_url, "app_writer") as writer:
        with psycopg.connect(writer.conninfo) as connection:
            connection.execute("SELECT set_config('app.tenant_id', %s, false)", (tenant,))
            insert = "INSERT INTO people (tenant_id, email, name) VALUES (%s, %s, %s)"
            connection.execute(insert, (tenant, "ann@example.com", "Ann"))
            connection.commit()
            with pytest.raises(psycopg.errors.UniqueViolation) as raised:
                connection.execute(insert, (tenant, "ANN@Example.com", "Ann"))
            assert raised.value.diag.constraint_name == "uq_people_tenant_id_lower_email_partial"
            connection.rollback()
            connection.execute("SELECT set_config('app.tenant_id', %s, false)", (tenant,))
            for number in range(2000):
                connection.execute(insert, (tenant, f"p{number}@example.com", f"P {number}"))
            connection.commit()
        with psycopg.connect(psql_url(database_url), autocommit=True) as owner:
            owner.execute("VACUUM ANALYZE people")
        with psycopg.connect(writer.conninfo) as connection:
            connection.execute("SELECT set_config('app.tenant_id', %s, false)", (tenant,))
            plan = "\n".join(
                row[0]
                for row in connection.execute(
                    "EXPLAIN SELECT email, rank FROM people WHERE name = 'P 7'"
                )
            )
    assert "Index Only Scan using ix_people_tenant_id_name" in plan, plan


def test_the_generated_models_carry_the_indexes(new_project: Callable[..., Project]) -> None:
    project = new_project(load_schema_text(people()), with_models=True)
    models = (project.root / project.package / "models" / "person.py").read_text()
    assert re.search(r'text\("\(lower\(email\)\)"\),\s+unique=True', models), models
    assert 'postgresql_include=["email", "rank"]' in models
    assert 'text("md5(lower(bio)::text)")' in models


PLAIN_KEY = people("    unique: [[email]]\n").replace("soft_delete: true", "soft_delete: false")
FOLDED_KEY = people(
    '    indexes:\n      - {expressions: ["lower(email)"], unique: true}\n'
).replace("soft_delete: true", "soft_delete: false")


def test_a_replaced_unique_key_is_dropped_once_its_replacement_is_built(
    database_url: str, new_project: Callable[..., Project]
) -> None:
    """From ``unique: [[email]]`` to ``lower(email)`` on a table with rows, no moment
    lacks a key: the old one is dropped after the concurrent build, and back again."""
    project = round_trip(new_project, database_url, PLAIN_KEY, FOLDED_KEY, SEED)
    _, source = newest_revision(project)
    upgrade, downgrade = source.split("def downgrade")
    for body, built, dropped in [
        (upgrade, "uq_people_tenant_id_lower_email", "uq_people_tenant_id_email"),
        (downgrade, "uq_people_tenant_id_email", "uq_people_tenant_id_lower_email"),
    ]:
        # The build starts by clearing what an interrupted one left; the drop comes last.
        assert body.index(f'drop_invalid_index("{built}")') < body.rindex(dropped), body


def test_case_variants_stop_a_case_insensitive_key_before_anything_changes(
    database_url: str, new_project: Callable[..., Project]
) -> None:
    """Replacing ``unique: [[email]]`` with ``lower(email)`` on rows holding 'Ann@…' and
    'ann@…': the revision counts the duplicates first, stops, and keeps the old key."""
    project = new_project(load_schema_text(PLAIN_KEY), with_models=True)
    project.alembic(database_url, "upgrade", "head")
    execute(
        database_url,
        *SEED[:1],
        "INSERT INTO people (tenant_id, email, name) VALUES "
        "('00000000-0000-7000-8000-000000000001', 'Ann@example.com', 'Ann'), "
        "('00000000-0000-7000-8000-000000000001', 'ann@example.com', 'Ann')",
    )
    changed = project.write(load_schema_text(FOLDED_KEY), with_models=True)
    with pytest.raises(Exception) as raised:
        changed.alembic(database_url, "upgrade", "head")
    assert (
        "table people: 1 values of (tenant_id, (lower(email))) are held by more than one row"
    ) in str(raised.value)
    kept = query(
        database_url,
        "SELECT conname FROM pg_constraint WHERE conname = 'uq_people_tenant_id_email'",
    )
    assert kept == [("uq_people_tenant_id_email",)]
