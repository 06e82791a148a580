"""The row solver behind the generated factories and check tests.

Each check below is one a real spec carried and the old factories broke; the solver must
find a row every check accepts (evaluated as PostgreSQL evaluates a CHECK: NULL passes),
and for each check a row that breaks that check and no other. Checks no row satisfies
are refused at ``entities.yaml:LINE:COL`` with the ``example:`` escape hatch as the hint.
"""

from __future__ import annotations

import re

import pytest

from entityforge.catalog import build_catalog
from entityforge.errors import SpecError, SpecErrors
from entityforge.generators import GenerationContext, fixtures
from entityforge.generators import tests as tests_generator
from entityforge.rows.evaluate import satisfied
from entityforge.rows.patterns import drawing_regex, like_to_regex, python_regex
from entityforge.rows.solver import NoRow, Row, TableChecks, solve
from entityforge.rows.sources import SAMPLES
from entityforge.rows.tables import table_checks
from entityforge.spec import load_schema_text


def spec(fields: str, checks: str = "", relations: str = "") -> str:
    """A spec whose entity ``Thing`` has these fields, checks and relations (YAML lines)."""
    lines = ["version: 1", "entities:", "  Contact:", "    fields: {name: text}"]
    lines += ["  Deal:", "    fields: {name: text}", "  Thing:", "    soft_delete: true"]
    lines += ["    fields:", *("      " + line for line in fields.splitlines())]
    if relations:
        lines += ["    relations:", *("      " + line for line in relations.splitlines())]
    if checks:
        lines += ["    checks:", *("      " + line for line in checks.splitlines())]
    return "\n".join(lines) + "\n"


def solved(text: str) -> tuple[TableChecks, Row]:
    schema = load_schema_text(text)
    checks = table_checks(build_catalog(schema), schema.entity("Thing"))
    row = solve(checks)
    assert isinstance(row, Row), row
    return checks, row


def rows_of(row: Row) -> list[dict[str, object]]:
    """Every sample row the sources make (families contribute each sample in turn)."""
    samples = {name: source.samples() for name, source in row.sources}
    return [
        {name: values[index % len(values)] for name, values in samples.items()}
        for index in range(SAMPLES)
    ]


REAL_CHECKS = [
    pytest.param(
        "rented_at: datetime\nreturn_due_at: datetime",
        "- {name: due, expression: 'return_due_at > rented_at'}",
        "",
        id="column_after_column",
    ),
    pytest.param(
        "expires_at: datetime",
        "- {name: expires, expression: 'expires_at > created_at'}",
        "",
        id="after_created_at",
    ),
    pytest.param(
        "note: {type: text, nullable: true}",
        "- {name: party, expression: 'contact_id IS NOT NULL OR deal_id IS NOT NULL'}",
        "contact: {kind: many_to_one, target: Contact, nullable: true, on_delete: set_null}\n"
        "deal: {kind: many_to_one, target: Deal, nullable: true, on_delete: set_null}",
        id="one_of_two_references",
    ),
    pytest.param(
        "a: {type: integer, nullable: true}\nb: {type: integer, nullable: true}",
        "- {name: at_most_one, expression: 'num_nonnulls(a, b) <= 1'}",
        "",
        id="num_nonnulls",
    ),
    pytest.param(
        "color: {type: string, max_length: 7, check: \"color ~ '^#[0-9a-fA-F]{6}$'\"}",
        "",
        "",
        id="pattern",
    ),
    pytest.param(
        "started_at: {type: datetime, nullable: true}\n"
        "finished_at: {type: datetime, nullable: true}",
        "- {name: order, expression: "
        "'finished_at IS NULL OR started_at IS NULL OR finished_at >= started_at'}",
        "",
        id="null_or_ordered",
    ),
    pytest.param(
        "total: {type: decimal, precision: 12, scale: 2}\n"
        "subtotal: {type: decimal, precision: 12, scale: 2, check: 'subtotal >= 0'}\n"
        "discount: {type: decimal, precision: 12, scale: 2, check: 'discount >= 0'}",
        "- {name: sum, expression: 'total = subtotal - discount'}\n"
        "- {name: within, expression: 'discount <= subtotal'}",
        "",
        id="arithmetic_equality",
    ),
    pytest.param(
        "code: {type: string, max_length: 8, unique: true, "
        'check: "code = upper(code) AND length(code) BETWEEN 3 AND 8"}',
        "",
        "",
        id="unique_upper_case_with_length",
    ),
    pytest.param(
        "level: {type: smallint, check: 'level IN (1, 2, 3, 5, 8)'}\n"
        "born_on: {type: date, check: 'born_on <= CURRENT_DATE'}\n"
        "title: {type: string, max_length: 40, check: \"title LIKE 'Dr. %'\"}",
        "",
        "",
        id="in_list_current_date_like",
    ),
    pytest.param(
        "email: {type: string, max_length: 320, unique: true, "
        "check: \"email ~ '^[^@[:space:]]+@[^@[:space:]]+$'\"}",
        "",
        "",
        id="posix_class_pattern_unique",
    ),
    pytest.param(
        "starts_on: {type: date, check: \"starts_on > '1900-01-01'\"}\n"
        "due_at: {type: datetime, nullable: true, check: \"due_at < '2999-12-31'::date\"}",
        "",
        "",
        id="date_literals_far_from_the_run",
    ),
]


@pytest.mark.parametrize(("fields", "checks", "relations"), REAL_CHECKS)
def test_the_factory_row_keeps_every_check(fields: str, checks: str, relations: str) -> None:
    table, row = solved(spec(fields, checks, relations))
    for sample in rows_of(row):
        for name, expression in table.checks:
            assert satisfied(expression, sample), (name, sample)


@pytest.mark.parametrize(("fields", "checks", "relations"), REAL_CHECKS)
def test_each_violating_row_breaks_its_check_alone(
    fields: str, checks: str, relations: str
) -> None:
    table, _ = solved(spec(fields, checks, relations))
    for name, _ in table.checks:
        row = solve(table, name)
        if isinstance(row, NoRow):
            continue
        values = {column: source.samples()[0] for column, source in row.sources}
        broken = [other for other, text in table.checks if not satisfied(text, values)]
        assert broken == [name], values


def test_a_column_check_beside_a_table_check_on_it_is_not_tested_alone() -> None:
    """The SLA case: ``resolution_minutes > 0`` cannot break while the others hold."""
    text = spec(
        "first_response_minutes: {type: integer, check: 'first_response_minutes > 0'}\n"
        "resolution_minutes: {type: integer, check: 'resolution_minutes > 0'}",
        "- {name: resolution_after_response, "
        "expression: 'resolution_minutes >= first_response_minutes'}",
    )
    schema = load_schema_text(text)
    cases = tests_generator.check_cases(build_catalog(schema), schema.entity("Thing"))
    by_name = {case.constraint: case for case in cases}
    skipped = by_name["ck_things_resolution_minutes"].skipped
    assert skipped == "every row that breaks it also breaks ck_things_resolution_after_response"
    overrides = by_name["ck_things_resolution_after_response"].overrides
    assert [(attribute, value.text) for attribute, value in overrides] == [
        ("first_response_minutes", "2")
    ]


def test_a_check_the_factories_cannot_compute_is_refused_at_its_position() -> None:
    text = spec("name: text\nsecret: {type: text, check: \"right(secret, 2) = 'ok'\"}")
    with pytest.raises((SpecError, SpecErrors)) as error:
        load_schema_text(text)
    message = str(error.value)
    assert message.startswith("entities.yaml:11:35: the generated factories find no row")
    assert "right()" in message and "example: " in message


def test_an_example_gives_the_factory_its_value() -> None:
    text = spec(
        "name: text\nsecret: {type: text, example: token, check: \"right(secret, 2) = 'en'\"}"
    )
    schema = load_schema_text(text)
    ctx = GenerationContext(schema)
    view = fixtures.entity_factory_view(ctx.catalog, schema.entity("Thing"))
    assert {field.attribute: field.value for field in view.fields}["secret"] == "'token'"
    cases = tests_generator.check_cases(ctx.catalog, schema.entity("Thing"))
    assert [case.skipped for case in cases] == [
        "the spec's examples stand in for the values it reads"
    ]


def test_contradicting_checks_are_refused_at_the_second() -> None:
    text = spec(
        "n: integer", "- {name: big, expression: 'n > 10'}\n- {name: small, expression: 'n < 5'}"
    )
    with pytest.raises((SpecError, SpecErrors)) as error:
        load_schema_text(text)
    assert str(error.value).startswith("entities.yaml:13:35: the generated factories")


@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        ("^[[:alpha:]]+$", "abcXYZ", True),
        ("^[[:alpha:]]+$", "abc1", False),
        ("^[^@[:space:]]+@[^@[:space:]]+$", "a@b", True),
        ("^[^@[:space:]]+@[^@[:space:]]+$", "a b@c", False),
        ("\\mword\\M", "a word here", True),
    ],
)
def test_postgres_patterns_read_as_postgres_reads_them(
    pattern: str, text: str, matches: bool
) -> None:
    assert (re.search(python_regex(pattern), text) is not None) is matches


def test_drawn_strings_match_their_pattern_within_bounds() -> None:
    regex = drawing_regex("^[^@[:space:]]+@[^@[:space:]]+$")
    assert regex == r"^[!-\?A-\~]{1,8}@[!-\?A-\~]{1,8}$"
    assert like_to_regex("Dr. %") == r"^Dr\.\ .*$"


def test_the_solver_is_deterministic() -> None:
    text = spec(*[str(part) for part in REAL_CHECKS[6].values])
    assert solved(text) == solved(text)
