"""Functions PostgreSQL refuses in index predicates: the shipped table and the refusal."""

from __future__ import annotations

import textwrap

import psycopg
import pytest

from entityforge.errors import SpecError, SpecErrors
from entityforge.spec import load_schema_text
from entityforge.spec.sql import set_returning_functions
from entityforge.spec.volatility import non_immutable_calls, non_immutable_functions
from tests.projects import psql_url

# Read from pg_proc: built-in functions with no IMMUTABLE overload.
NON_IMMUTABLE_NAMES = """
    SELECT proname FROM pg_proc
    WHERE pronamespace = 'pg_catalog'::regnamespace AND prokind = 'f'
    GROUP BY proname HAVING bool_and(provolatile <> 'i')
"""


def test_the_shipped_table_is_what_pg_proc_says(server_url: str) -> None:
    with psycopg.connect(psql_url(server_url)) as connection:
        names = {row[0] for row in connection.execute(NON_IMMUTABLE_NAMES)}
    assert names == non_immutable_functions()


# Read from pg_proc: built-in functions that return sets in every overload.
SET_RETURNING_NAMES = """
    SELECT proname FROM pg_proc WHERE pronamespace = 'pg_catalog'::regnamespace
    GROUP BY proname HAVING bool_and(proretset)
"""


def test_the_shipped_set_returning_table_is_what_pg_proc_says(server_url: str) -> None:
    with psycopg.connect(psql_url(server_url)) as connection:
        names = {row[0] for row in connection.execute(SET_RETURNING_NAMES)}
    assert names == set_returning_functions()


@pytest.mark.parametrize(
    ("place", "line"),
    [
        ('{type: integer, default_sql: "generate_series(1, 3)"}', "6:39"),
        ('{type: integer, check: "n < unnest(ARRAY[1, 2])"}', "6:33"),
    ],
)
def test_a_set_returning_function_is_refused(place: str, line: str) -> None:
    text = textwrap.dedent(f"""\
        version: 1
        entities:
          Task:
            fields:
              title: text
              n: {place}
        """)
    with pytest.raises((SpecError, SpecErrors)) as error:
        load_schema_text(text)
    assert str(error.value).startswith(f"entities.yaml:{line}: "), str(error.value)


def test_calls_are_found_in_the_parse_tree() -> None:
    assert non_immutable_calls("status <> 'done' AND due_at > now()") == ("now()",)
    assert non_immutable_calls("due_on > CURRENT_DATE") == ("CURRENT_DATE",)
    assert non_immutable_calls("lower(name) = name AND deleted_at IS NULL") == ()
    assert non_immutable_calls("random() < 0.5 OR 'now()' = name") == ("random()",)


@pytest.mark.parametrize(
    ("where", "call"),
    [("due_at > now()", "now()"), ("due_at > CURRENT_TIMESTAMP", "CURRENT_TIMESTAMP")],
)
def test_an_index_predicate_with_a_volatile_function_is_refused(where: str, call: str) -> None:
    text = textwrap.dedent(f"""\
        version: 1
        entities:
          Task:
            fields:
              due_at: datetime
            indexes:
              - {{columns: [due_at], where: "{where}"}}
        """)
    with pytest.raises((SpecError, SpecErrors)) as error:
        load_schema_text(text)
    message = str(error.value)
    assert message.startswith(f"entities.yaml:7:36: the index predicate calls {call}")
    assert "IMMUTABLE" in message
