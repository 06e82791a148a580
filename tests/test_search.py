"""The entity key ``search``: full-text search over weighted fields.

Wrong keys are reported at the key; the generated column reads a bounded number of
characters, so that the worst text PostgreSQL's parser knows stays a tsvector it takes;
adding, changing and removing a search are revisions that keep a table's rows; and the
application role's search reads the GIN index of its tenant under row-level security.
"""

from __future__ import annotations

import asyncio
import itertools
import textwrap
from pathlib import Path

import psycopg
import pytest

from entityforge import pipeline
from entityforge.catalog import build_catalog
from entityforge.errors import EntityforgeError, GenerationError
from entityforge.importer import import_database
from entityforge.rows.solver import Row, solve
from entityforge.rows.sources import UniqueText
from entityforge.rows.tables import table_checks
from entityforge.spec import load_schema_text
from entityforge.spec.search import MAX_TSVECTOR_BYTES, SEARCH_CHARACTERS, character_shares
from tests.inprocess import generate_project, run_alembic, unique_package
from tests.login_roles import login_role
from tests.projects import psql_url
from tests.property_checks import violations
from tests.test_incremental import execute
from tests.test_migrations import query
from tests.test_spec_errors import assert_refused_at

BASE = """\
version: 1
tenancy: {entity: Account}
entities:
  Account:
    fields: {name: string(200)}
  Ticket:
    soft_delete: true
    fields:
      subject: string(250)
      body: text
      note: {type: text, nullable: true}
      priority: {type: integer, default: 3, check: "priority BETWEEN 1 AND 5"}
"""
SEARCHED = BASE + "    search: {fields: {subject: A, body: B, note: D}, language: english}\n"


def _with_search(search: str) -> str:
    return BASE + f"    search: {search}\n"


ERRORS = [
    pytest.param(_with_search("{fields: {title: A}}"), "13:23", "'title', which is not a field",
                 id="unknown field"),
    pytest.param(_with_search("{fields: {priority: A}}"), "13:23", "whose type is integer",
                 id="integer field"),
    pytest.param(_with_search("{fields: {subject: E}}"), "13:32", "'E' is not a search weight",
                 id="weight"),
    pytest.param(_with_search("{fields: {subject: A}, language: englsh}"), "13:46",
                 "did you mean 'english'", id="language"),
    pytest.param(_with_search("{fields: {}}"), "13:22", "at least one field", id="no fields"),
    pytest.param(BASE.replace("      note:", "      search_vector: text\n      note:")
                 + "    search: {fields: {subject: A}}\n", "11:7", "collides with",
                 id="column name"),
]  # fmt: skip


@pytest.mark.parametrize(("spec", "where", "message"), ERRORS)
def test_a_wrong_search_is_reported_at_the_key(spec: str, where: str, message: str) -> None:
    assert_refused_at(spec, where, message)


def test_a_generated_field_cannot_be_searched() -> None:
    spec = BASE.replace(
        "      note:", '      subject_key: {type: text, generated: "lower(subject)"}\n      note:'
    )
    with pytest.raises(EntityforgeError, match="which is a generated column"):
        load_schema_text(spec + "    search: {fields: {subject_key: A}}\n")


@pytest.mark.parametrize(
    "lengths",
    [[250, None, None], [None], [10, 20], [40_000, 40_000], [70_000, 5, None], [None] * 7],
)
def test_the_fields_share_the_characters_a_search_reads(lengths: list[int | None]) -> None:
    shares = character_shares(lengths)
    read = [
        length if share is None else share for length, share in zip(lengths, shares, strict=True)
    ]
    assert all(length is not None for length in read)
    assert sum(length for length in read if length is not None) <= SEARCH_CHARACTERS
    for length, share in zip(lengths, shares, strict=True):
        if length is not None and length <= SEARCH_CHARACTERS // len(lengths):
            assert share is None, "a field shorter than an even share is read whole"


def test_the_search_column_its_index_and_function() -> None:
    schema = load_schema_text(SEARCHED)
    table = build_catalog(schema).table("tickets")
    column = table.column("search_vector")
    assert column.searched and column.type.name == "tsvector"
    assert column.generated == (
        "setweight(to_tsvector('english'::regconfig, subject), 'A') || "
        "setweight(to_tsvector('english'::regconfig, left(body, 32642)), 'B') || "
        "setweight(to_tsvector('english'::regconfig, coalesce(left(note, 32642), '')), 'D')"
    )
    index = next(index for index in table.indexes if index.method == "gin")
    assert [c.name for c in index.columns] == ["tenant_id", "search_vector"]
    assert [(s.function, s.operator) for s in table.searches] == [
        ("tickets_search_vector_match", "@@")
    ]


def _worst_texts(length: int) -> dict[str, str]:
    letters = [chr(0x20000 + i) for i in range(0xA6DE)]
    pairs = itertools.cycle(f"{a}-{b}." for a, b in zip(letters[::2], letters[1::2], strict=True))
    hyphens = itertools.cycle("-".join(letters[i : i + 400]) + " " for i in range(0, 40_000, 400))
    ascii_words = itertools.cycle(
        "".join(word) + " " for word in itertools.product("abcdefghijklmnopqrstuvwxyz", repeat=3)
    )
    return {
        name: "".join(itertools.islice(itertools.chain.from_iterable(pieces), length))
        for name, pieces in {
            "dotted pairs": pairs,
            "long hyphenated words": hyphens,
            "short ascii words": ascii_words,
        }.items()
    }


def test_the_factories_give_searched_fields_words_of_each_row_own() -> None:
    """A nullable searched field the factories could leave empty, or fill alike in every
    row, would leave the generated search tests no word to find one row by."""
    schema = load_schema_text(textwrap.dedent("""\
            version: 1
            entities:
              Person:
                fields:
                  name: {type: string, max_length: 1, nullable: true, check: "length(name) <= 9"}
                search: {fields: {name: A}}
            """))
    catalog = build_catalog(schema)
    row = solve(table_checks(catalog, schema.entity("Person")))
    assert isinstance(row, Row)
    assert isinstance(row.get("name"), UniqueText)


def test_the_longest_worst_values_make_a_tsvector_postgresql_takes(
    tmp_path: Path, database_url: str
) -> None:
    spec = textwrap.dedent("""\
        version: 1
        entities:
          Document:
            timestamps: false
            fields:
              title: string(1000)
              abstract: text
              body: text
              appendix: {type: text, nullable: true}
            search: {fields: {title: A, abstract: B, body: C, appendix: D}, language: english}
        """)
    package = unique_package()
    generate_project(tmp_path, spec, package)
    run_alembic(tmp_path, package, database_url, "upgrade", "head")
    sizes = {}
    longest = 2 * SEARCH_CHARACTERS
    for name, text in _worst_texts(4 * longest).items():
        # Each field from a part of the text of its own, so that no two share a lexeme.
        title, abstract, body, appendix = (text[i * longest : (i + 1) * longest] for i in range(4))
        values = ", ".join(_literal(value) for value in (title[:1000], abstract, body, appendix))
        execute(
            database_url,
            f"INSERT INTO documents (title, abstract, body, appendix) VALUES ({values})",
        )
        [(size,)] = query(database_url, "SELECT max(pg_column_size(search_vector)) FROM documents")
        sizes[name] = size
        execute(database_url, "DELETE FROM documents")
    assert max(sizes.values()) < MAX_TSVECTOR_BYTES, sizes
    assert sizes["dotted pairs"] > MAX_TSVECTOR_BYTES // 2, "the worst text is the worst"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _generate(root: Path, spec: str, package: str, **options: bool) -> int:
    generate_project(root, spec, package, pipeline.Options(**options))
    return len(list((root / package / "alembic" / "versions").glob("*.py")))


def _search_objects(url: str) -> dict[str, list[str]]:
    return {
        "columns": [
            name
            for (name,) in query(
                url,
                "SELECT attname FROM pg_attribute WHERE attrelid = 'tickets'::regclass "
                "AND attgenerated = 's'",
            )
        ],
        "indexes": [
            name
            for (name,) in query(
                url, "SELECT indexname FROM pg_indexes WHERE indexname LIKE '%search_vector%'"
            )
        ],
        "functions": [
            name for (name,) in query(url, "SELECT proname FROM pg_proc WHERE prosecdef")
        ],
    }


def _writer_finds(url: str, tenant: str, words: str) -> list[str]:
    """The subjects the writer's login finds for ``words`` in ``tenant``, best first."""
    with login_role(url, "app_writer") as writer, psycopg.connect(writer.conninfo) as connection:
        connection.execute("SELECT set_config('app.tenant_id', %s, false)", (tenant,))
        rows = connection.execute(
            "SELECT t.subject FROM tickets t, websearch_to_tsquery('english', %s) q "
            "WHERE t.id IN (SELECT tickets_search_vector_match(q)) "
            "ORDER BY ts_rank(t.search_vector, q) DESC, t.subject",
            (words,),
        ).fetchall()
    return [subject for (subject,) in rows]


def _index_scans(url: str) -> int:
    [(scans,)] = query(
        url,
        "SELECT idx_scan FROM pg_stat_user_indexes "
        "WHERE indexrelname = 'ix_tickets_tenant_id_search_vector_gin'",
    )
    return int(scans)


ACME = "00000000-0000-0000-0000-00000000000a"
GLOBEX = "00000000-0000-0000-0000-00000000000b"
ACCOUNTS = f"INSERT INTO accounts (id, name) VALUES ('{ACME}', 'Acme'), ('{GLOBEX}', 'Globex')"
TICKETS = (
    "INSERT INTO tickets (tenant_id, subject, body) VALUES "
    f"('{ACME}', 'Refund requested', 'The invoice was charged twice'), "
    f"('{ACME}', 'Login trouble', 'A refund of the plan is wanted'), "
    f"('{GLOBEX}', 'Refunds for Globex', 'Other tenant')"
)


def test_a_table_with_rows_gains_changes_and_loses_a_search(
    tmp_path: Path, database_url: str
) -> None:
    package = unique_package()
    assert _generate(tmp_path, BASE, package) == 1
    run_alembic(tmp_path, package, database_url, "upgrade", "head")
    execute(database_url, ACCOUNTS, TICKETS)
    with pytest.raises(GenerationError, match="would rewrite tables") as refused:
        _generate(tmp_path, SEARCHED, package)
    assert "search_vector" in str(refused.value)
    assert _generate(tmp_path, SEARCHED, package, allow_rewrite=True) == 2
    assert _generate(tmp_path, SEARCHED, package, allow_rewrite=True) == 2, "nothing to do"
    run_alembic(tmp_path, package, database_url, "upgrade", "head")
    run_alembic(tmp_path, package, database_url, "check")
    schema = load_schema_text(SEARCHED)
    assert violations(database_url, schema) == {}
    assert _search_objects(database_url) == {
        "columns": ["search_vector"],
        "indexes": ["ix_tickets_tenant_id_search_vector_gin"],
        "functions": ["tickets_search_vector_match"],
    }
    # The subject weighs A, the body B; the other tenant's refund stays its own.
    assert _writer_finds(database_url, ACME, "refund") == ["Refund requested", "Login trouble"]
    assert _writer_finds(database_url, ACME, "charged twice") == ["Refund requested"]

    reweighted = SEARCHED.replace("subject: A, body: B", "subject: D, body: A")
    assert _generate(tmp_path, reweighted, package, allow_rewrite=True) == 3
    run_alembic(tmp_path, package, database_url, "upgrade", "head")
    run_alembic(tmp_path, package, database_url, "check")
    assert _writer_finds(database_url, ACME, "refund") == ["Login trouble", "Refund requested"]

    assert _generate(tmp_path, BASE, package) == 4
    run_alembic(tmp_path, package, database_url, "upgrade", "head")
    run_alembic(tmp_path, package, database_url, "check")
    assert _search_objects(database_url) == {"columns": [], "indexes": [], "functions": []}
    assert len(query(database_url, "SELECT * FROM tickets")) == 3

    run_alembic(tmp_path, package, database_url, "downgrade", "-1")
    assert _writer_finds(database_url, ACME, "refund") == ["Login trouble", "Refund requested"]
    run_alembic(tmp_path, package, database_url, "downgrade", "-1")
    assert _writer_finds(database_url, ACME, "refund") == ["Refund requested", "Login trouble"]
    run_alembic(tmp_path, package, database_url, "downgrade", "-1")
    assert _search_objects(database_url) == {"columns": [], "indexes": [], "functions": []}
    run_alembic(tmp_path, package, database_url, "upgrade", "head")
    run_alembic(tmp_path, package, database_url, "check")
    assert len(query(database_url, "SELECT * FROM tickets")) == 3


async def test_the_writers_search_reads_the_gin_index_of_its_tenant(
    tmp_path: Path, database_url: str
) -> None:
    package = unique_package()
    generate_project(tmp_path, SEARCHED, package)
    run_alembic(tmp_path, package, database_url, "upgrade", "head")
    execute(
        database_url,
        ACCOUNTS,
        "INSERT INTO tickets (tenant_id, subject, body) "
        "SELECT t.id, 'Ticket ' || n, 'Printer jammed again, page ' || n "
        "FROM accounts t, generate_series(1, 5000) n",
        "INSERT INTO tickets (tenant_id, subject, body) VALUES "
        f"('{ACME}', 'Needle in the haystack', 'One of a kind')",
    )
    # As autovacuum would: the rows move from the GIN index's pending list into its tree.
    with psycopg.connect(psql_url(database_url), autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE tickets")
    before = _index_scans(database_url)
    assert _writer_finds(database_url, ACME, "needle") == ["Needle in the haystack"]
    for _ in range(50):
        if _index_scans(database_url) > before:
            break
        await asyncio.sleep(0.2)
    assert _index_scans(database_url) > before


def test_the_importer_reads_a_search_back(tmp_path: Path, database_url: str) -> None:
    package = unique_package()
    generate_project(tmp_path, SEARCHED, package)
    run_alembic(tmp_path, package, database_url, "upgrade", "head")
    execute(
        database_url,
        "CREATE TABLE notes (id uuid PRIMARY KEY, body text NOT NULL, "
        "words tsvector GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED)",
        "CREATE INDEX ix_notes_words ON notes USING gin (words)",
    )
    imported = import_database(psql_url(database_url))
    schema = load_schema_text(imported.text)
    assert schema.entity("Ticket").search == load_schema_text(SEARCHED).entity("Ticket").search
    assert [f.name for f in schema.entity("Note").fields] == ["body"]
    assert "column notes.words: a tsvector column the spec's search does not make" in [
        f"{finding.subject}: {finding.what}" for finding in imported.findings
    ]
    assert not [f for f in imported.findings if "tickets" in f.subject], imported.findings
