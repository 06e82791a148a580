"""Strings from the spec are data: whatever they hold reaches Python and SQL unchanged.

A spec whose comments, string defaults, ``default_sql`` literals, check expressions,
array and json defaults and enum labels hold quotes of every kind, triple quotes,
backslashes, newlines and other line breaks, ``$$``, ``%``, Jinja and Mako syntax,
SQL comment markers, control characters and non-ASCII text is generated; the Python
must compile and be black- and ruff-clean, the migration must run, and the database
and the models must hold exactly the spec's text.
"""

from __future__ import annotations

import importlib
import io
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from ruamel.yaml import YAML

from entityforge.catalog.sql import quote_literal
from entityforge.schema import Schema
from entityforge.spec import load_schema_text
from tests.inprocess import generate_project, imported, run_alembic, unique_package
from tests.projects import project_env, psql_url, run
from tests.rendering import RUFF_RULES

# Each piece is hostile in its own way; ALL joins them. Some end in a quote or a
# backslash, which is what breaks naive docstrings and raw strings.
PIECES = {
    "quotes": "it's \"double\" ''single'' `back` ‘curly’ “curly”",
    "triple_single": "''' a docstring? '''",
    "triple_double": '""" a docstring? """',
    "backslashes": "C:\\path\\to\\file \\n \\t \\' \\\" \\\\ \\x41 \\N{BULLET} \\:name",
    "line_breaks": "one\ntwo\r\nthree\rfour\x0bfive\x0csix\x1cseven\x85eight\u2028nine\u2029ten\n",
    "dollars": "$$ $body$ $1 ${x} ${upgrades} $$;",
    "percent": "100% %s %(name)s %% %d %",
    "braces": "{} {0} {{ x }} {% if x %}y{% endif %} {# c #} {{ '}}' }}",
    "sql": "*/ /* -- ; DROP TABLE x; -- :name ::text :1 ?",
    "control": "tab\there bell\x07 esc\x1b del\x7f \x01\x02\x1f",
    "unicode": "ünïcödé ☃ 🎉 日本語 עברית \u200d\u200b \ufeff end",
    "ends_with_quote": 'the end"',
    "ends_with_backslash": "the end\\",
    "starts_with_quote": '"the start',
}
ALL = " | ".join(PIECES.values())
ENUM_LABELS = (
    "it's",
    'say "hi"',
    "back\\slash",
    "{{ x }}",
    "50%",
    "ünï",
    "$$",
    "a\nb",
    "at :noon",
)
FORBIDDEN = PIECES["sql"] + PIECES["backslashes"] + PIECES["line_breaks"] + PIECES["dollars"]


def hostile_spec() -> dict[str, Any]:
    fields: dict[str, Any] = {
        f"t_{name}": {"type": "text", "default": text, "comment": text}
        for name, text in PIECES.items()
    }
    fields["everything"] = {"type": "string", "max_length": 2000, "default": ALL, "comment": ALL}
    fields["from_sql"] = {"type": "text", "default_sql": quote_literal(ALL), "comment": ALL}
    fields["labels"] = {"type": "array", "of": "text", "default": list(PIECES.values())}
    fields["document"] = {"type": "json", "default": {ALL: list(PIECES.values())}}
    fields["mood"] = {"type": "enum", "values": list(ENUM_LABELS), "default": ENUM_LABELS[0]}
    fields["checked"] = {
        "type": "text",
        "nullable": True,
        "check": f"checked <> {quote_literal(FORBIDDEN)}",
        "comment": PIECES["ends_with_backslash"],
    }
    return {
        "version": 1,
        "tenancy": {"entity": "Tenant"},
        "entities": {
            "Tenant": {"comment": ALL, "fields": {"name": {"type": "text", "default": ALL}}},
            "Quirk": {
                "tenant_scoped": False,
                "comment": PIECES["ends_with_quote"],
                "fields": fields,
                "checks": [
                    {"name": "not_evil", "expression": f"everything <> {quote_literal(FORBIDDEN)}"}
                ],
            },
            "Note": {
                "comment": PIECES["triple_double"],
                "soft_delete": True,
                "fields": {
                    "body": {
                        "type": "text",
                        "default": PIECES["triple_single"],
                        "comment": PIECES["starts_with_quote"],
                        "check": f"body <> {quote_literal(FORBIDDEN)}",
                    },
                },
                "relations": {
                    "parent": {
                        "kind": "many_to_one",
                        "target": "Note",
                        "nullable": True,
                        "on_delete": "set_null",
                        "comment": ALL,
                    }
                },
            },
        },
    }


def dump_yaml(data: Any) -> str:
    yaml = YAML(typ="safe", pure=True)
    yaml.allow_unicode = True
    yaml.width = 1 << 16
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    return buffer.getvalue()


@dataclass(frozen=True)
class HostileProject:
    root: Path
    package: str
    schema: Schema
    url: str


@pytest.fixture(scope="module")
def hostile(
    tmp_path_factory: pytest.TempPathFactory, create_database: Callable[[], str]
) -> Iterator[HostileProject]:
    root = tmp_path_factory.mktemp("hostile") / "project"
    package = unique_package("hostile")
    text = dump_yaml(hostile_spec())
    generate_project(root, text, package)
    url = create_database()
    yield HostileProject(root, package, load_schema_text(text), url)


def test_the_spec_holds_the_hostile_strings(hostile: HostileProject) -> None:
    quirk = hostile.schema.entity("Quirk")
    assert quirk.comment == PIECES["ends_with_quote"]
    for name, text in PIECES.items():
        field = quirk.field(f"t_{name}")
        assert field is not None
        assert field.comment == text
        assert field.default is not None and field.default.value == text
    assert hostile.schema.entity("Tenant").comment == ALL
    mood = quirk.field("mood")
    assert mood is not None and mood.type.values == ENUM_LABELS


def test_generated_python_compiles_and_is_clean(hostile: HostileProject) -> None:
    sources = sorted(hostile.root.rglob("*.py"))
    assert sources
    for path in sources:
        compile(path.read_text(encoding="utf-8"), str(path), "exec")
    black = subprocess.run(
        [sys.executable, "-m", "black", "--check", "-l", "99", "-t", "py311", "."],
        cwd=hostile.root, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert black.returncode == 0, black.stdout + black.stderr
    ruff = subprocess.run(
        [
            sys.executable, "-m", "ruff", "check", "--isolated", "--no-cache", "--select",
            RUFF_RULES, "--line-length", "99", "--target-version", "py311",
            "--extend-exclude", ".entityforge", ".",
        ],
        cwd=hostile.root, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert ruff.returncode == 0, ruff.stdout + ruff.stderr


@pytest.fixture(scope="module")
def migrated(hostile: HostileProject) -> HostileProject:
    run_alembic(hostile.root, hostile.package, hostile.url, "upgrade", "head")
    return hostile


def _comments(url: str, table: str) -> tuple[str | None, dict[str, str | None]]:
    with psycopg.connect(psql_url(url)) as connection:
        (table_comment,) = connection.execute(
            "SELECT obj_description(%s::regclass, 'pg_class')", (table,)
        ).fetchone()
        rows = connection.execute(
            "SELECT attname, col_description(attrelid, attnum) FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
            (table,),
        ).fetchall()
    return table_comment, dict(rows)


def test_the_database_holds_the_exact_comments(migrated: HostileProject) -> None:
    for entity in migrated.schema.entities:
        table_comment, column_comments = _comments(migrated.url, entity.table)
        assert table_comment == entity.comment, entity.name
        for field in entity.fields:
            assert column_comments[field.name] == field.comment, (entity.name, field.name)
        for relation in entity.relations:
            if relation.column:
                assert column_comments[relation.column] == relation.comment, relation.name


def test_defaults_evaluate_to_the_exact_spec_strings(migrated: HostileProject) -> None:
    with psycopg.connect(psql_url(migrated.url)) as connection:
        cursor = connection.execute("INSERT INTO quirks DEFAULT VALUES RETURNING *")
        names = [column.name for column in cursor.description or ()]
        row = dict(zip(names, cursor.fetchone() or (), strict=True))
        connection.rollback()
    for name, text in PIECES.items():
        assert row[f"t_{name}"] == text, name
    assert row["everything"] == ALL
    assert row["from_sql"] == ALL
    assert row["labels"] == list(PIECES.values())
    assert row["document"] == {ALL: list(PIECES.values())}
    assert row["mood"] == ENUM_LABELS[0]
    with psycopg.connect(psql_url(migrated.url)) as connection:
        # The check on the labels holds each hostile label as a literal of its own.
        check = connection.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conname = 'ck_quirks_mood_values'"
        ).fetchone()
    assert check is not None and check[0].startswith("CHECK (((mood)::text = ANY")
    assert check[0].count("::character varying") == len(ENUM_LABELS)


@pytest.mark.parametrize(("table", "column"), [("quirks", "checked"), ("quirks", "everything")])
def test_checks_compare_with_the_exact_literal(
    migrated: HostileProject, table: str, column: str
) -> None:
    statement = sql.SQL("INSERT INTO {} ({}) VALUES (%s)").format(
        sql.Identifier(table), sql.Identifier(column)
    )
    with psycopg.connect(psql_url(migrated.url)) as connection:
        with pytest.raises(psycopg.errors.CheckViolation):
            connection.execute(statement, (FORBIDDEN,))
        connection.rollback()
        connection.execute(statement, (FORBIDDEN + " ",))
        connection.rollback()


def test_the_models_carry_the_same_text_and_alembic_sees_no_drift(
    migrated: HostileProject,
) -> None:
    with imported(migrated.root, migrated.package):
        models = importlib.import_module(f"{migrated.package}.models")
        for entity in migrated.schema.entities:
            table = getattr(models, entity.name).__table__
            assert table.comment == entity.comment, entity.name
            for field in entity.fields:
                assert table.c[field.name].comment == field.comment, (entity.name, field.name)
        mood = models.QuirkMood
        assert [member.value for member in mood] == list(ENUM_LABELS)
    run_alembic(migrated.root, migrated.package, migrated.url, "check")


def test_json_default_is_the_spec_document(migrated: HostileProject) -> None:
    """The jsonb default, read back as text, parses to the spec's document."""
    with psycopg.connect(psql_url(migrated.url)) as connection:
        (document,) = connection.execute(
            "INSERT INTO quirks DEFAULT VALUES RETURNING document::text"
        ).fetchone()
        connection.rollback()
    assert json.loads(document) == {ALL: list(PIECES.values())}


def test_the_generated_projects_own_tests_pass(hostile: HostileProject, server_url: str) -> None:
    """Its factories, fixtures and assertions hold the hostile text too."""
    result = run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=hostile.root,
        env=project_env(hostile.root, server_url),
        timeout=900,
    )
    assert result.returncode == 0, result.output[-6000:]
    assert " passed" in result.stdout
