"""Unique keys over long values: text is held by its MD5 digest, so no value is refused.

A btree index row holds at most 2,704 bytes: ``UNIQUE (tenant_id, url)`` over ``url
text`` refuses a 3,020-character URL. A key whose values could outgrow the row holds
``md5(url)`` in its place (see ``entityforge.catalog.KEY_ROW_BUDGET``); these tests write
long values as a login member of the writer, under row-level security.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

import psycopg
import pytest

from entityforge.catalog import Index, IndexColumn, UniqueConstraint, build_catalog
from entityforge.spec import load_schema_text
from tests.login_roles import login_role
from tests.test_incremental import execute, round_trip
from tests.test_migrations import Project, guarantee_violations, new_project

__all__ = ["new_project"]

SPEC = """
version: 1
tenancy: {entity: Account}
entities:
  Account:
    tenant_scoped: false
    fields: {name: string(100)}
  Bookmark:
    fields:
      url: {type: text, unique: true}
      title: string(200)
      label: {type: string, max_length: 2000}
      code: string(8)
    unique:
      - [label, code]
"""
ACCOUNT = "00000000-0000-0000-0000-00000000aa01"
OTHER = "00000000-0000-0000-0000-00000000aa02"


def _key(catalog_table: str, name: str, spec: str = SPEC) -> Index | UniqueConstraint:
    table = build_catalog(load_schema_text(spec)).table(catalog_table)
    return next(item for item in (*table.uniques, *table.indexes) if item.name == name)


def test_a_key_over_text_holds_its_digest_and_a_bounded_key_stays_a_constraint() -> None:
    assert _key("bookmarks", "uq_bookmarks_tenant_id_url") == Index(
        "uq_bookmarks_tenant_id_url",
        (IndexColumn("tenant_id"), IndexColumn("url", hashed=True)),
        unique=True,
    )
    # 2,000 characters may take 8,004 bytes; the 8 beside them fit as they are.
    assert _key("bookmarks", "uq_bookmarks_tenant_id_label_code") == Index(
        "uq_bookmarks_tenant_id_label_code",
        (IndexColumn("tenant_id"), IndexColumn("label", hashed=True), IndexColumn("code")),
        unique=True,
    )
    bounded = SPEC.replace("url: {type: text", "url: {type: string, max_length: 320")
    assert _key("bookmarks", "uq_bookmarks_tenant_id_url", bounded) == UniqueConstraint(
        "uq_bookmarks_tenant_id_url", ("tenant_id", "url")
    )


def _long(characters: int) -> str:
    """Text that does not compress: PostgreSQL compresses index values that do."""
    return secrets.token_urlsafe(characters)[:characters]


def test_the_writer_stores_long_values_and_duplicates_are_still_refused(
    database_url: str, new_project: Callable[..., Project]
) -> None:
    project = new_project(load_schema_text(SPEC), with_models=True)
    project.alembic(database_url, "upgrade", "head")
    assert guarantee_violations(database_url, project.schema) == {}
    project.alembic(database_url, "check")
    execute(
        database_url,
        f"INSERT INTO accounts (id, name) VALUES ('{ACCOUNT}', 'a'), ('{OTHER}', 'b')",
    )
    url, label = "https://example.com/?q=" + _long(3_000), "é" * 2_000
    insert = (
        "INSERT INTO bookmarks (tenant_id, url, title, label, code) "
        "VALUES (current_setting('app.tenant_id')::uuid, %s, 't', %s, %s)"
    )
    with (
        login_role(database_url, "app_writer") as login,
        psycopg.connect(login.conninfo, autocommit=True) as connection,
    ):
        connection.execute("SELECT set_config('app.tenant_id', %s, false)", (ACCOUNT,))
        connection.execute(insert, (url, label, "a"))
        with pytest.raises(psycopg.errors.UniqueViolation) as url_taken:
            connection.execute(insert, (url, "other", "b"))
        assert url_taken.value.diag.constraint_name == "uq_bookmarks_tenant_id_url"
        with pytest.raises(psycopg.errors.UniqueViolation) as label_taken:
            connection.execute(insert, (url + "/", label, "a"))
        assert label_taken.value.diag.constraint_name == "uq_bookmarks_tenant_id_label_code"
        connection.execute(insert, (url + "/", label, "b"))
        # Another tenant's key is its own.
        connection.execute("SELECT set_config('app.tenant_id', %s, false)", (OTHER,))
        connection.execute(insert, (url, label, "a"))
        assert connection.execute("SELECT count(*) FROM bookmarks").fetchone() == (1,)


def test_a_unique_column_widened_to_text_keeps_its_rows_and_its_key(
    database_url: str, new_project: Callable[..., Project]
) -> None:
    before = SPEC.replace("url: {type: text", "url: {type: string, max_length: 320")
    seed = (
        f"INSERT INTO accounts (id, name) VALUES ('{ACCOUNT}', 'a')",
        f"INSERT INTO bookmarks (tenant_id, url, title, label, code) "
        f"VALUES ('{ACCOUNT}', 'https://a', 't', 'l', 'c')",
    )
    round_trip(new_project, database_url, before, SPEC, seed)
