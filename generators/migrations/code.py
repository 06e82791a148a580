"""Building blocks of a revision's Python: calls, string literals, columns, types.

Everything returns text, or ``Code``: text and the imports it needs, recorded as data so
that a revision imports exactly what it uses.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from entityforge.catalog import ENUM_LENGTH, Column, ForeignKey, Index, Table
from entityforge.catalog import sql as catalog_sql
from entityforge.generators.column_types import sqlalchemy_type
from entityforge.generators.python_source import (
    INDENT,
    Code,
    Import,
    call,
    indent,
    pieces,
    shown_width,
    string_literal,
)
from entityforge.generators.sql import escape_text
from entityforge.generators.table_schemas import schema_keyword
from entityforge.schema import ColumnType

SA = Import("sqlalchemy", alias="sa")
POSTGRESQL = Import("sqlalchemy.dialects", "postgresql")
OP = Import("alembic", "op")
STEPS = "migration_steps"
STEPS_IMPORT = Import("{package}", STEPS)
"""The import of the project's ``migration_steps``; the revision fills in ``{package}``."""
# The longest string literal (quotes included) put on one line: a statement's argument
# sits at indent 12 inside a block of the upgrade (an autocommit block), at indent 8 in
# the upgrade's own body; a nested one deeper, or after a keyword. A literal cut into
# pieces that would fit on one line is joined again by ruff (and left cut by black), so
# the room is the room where the statement will stand.
STATEMENT_ROOM = 86
TOP_LEVEL_STATEMENT_ROOM = 91
NESTED_ROOM = 76
# A check's expression in ``op.create_table``: at indent 12, followed by a comma.
CHECK_IN_TABLE_ROOM = 86
_statement_room: ContextVar[int] = ContextVar("statement_room", default=STATEMENT_ROOM)


@dataclass(frozen=True)
class RevisionNames:
    """A revision names SQLAlchemy through ``sa`` and ``postgresql`` and spells an enum by
    its labels, as the database holds it when the revision runs."""

    instances: bool = True

    def sqlalchemy(self, name: str) -> Code:
        return Code(f"sa.{name}", frozenset({SA}))

    def postgresql(self, name: str) -> Code:
        return Code(f"postgresql.{name}", frozenset({POSTGRESQL}))

    def enum_type(self, type_: ColumnType, column: str) -> Code:
        if type_.enum_name is None:
            return Code(f"sa.String({ENUM_LENGTH})", frozenset({SA}))
        labels = [repr(value) for value in type_.values]
        arguments = [*labels, f"name={type_.enum_name!r}", "create_type=False"]
        if type_.enum_schema:
            arguments.append(f"schema={type_.enum_schema!r}")
        return call(self.postgresql("ENUM"), *arguments)


def column_type(type_: ColumnType) -> Code:
    """The SQLAlchemy type of a column, the way the models declare it."""
    return sqlalchemy_type(type_, RevisionNames(), "")


def join(parts: Iterable[Code], separator: str = "\n") -> Code:
    """Statements, one after the other, with the imports of all."""
    return Code.join(parts, separator)


def python_string(text: str, room: int = NESTED_ROOM, whole: int | None = None) -> str:
    """A string literal; text that does not fit in ``room`` becomes parenthesized pieces.

    ``whole`` is the room where the literal stands, when it is known: a literal that fits
    there stays whole (ruff would join its pieces again, black would not)."""
    if "\n" not in text and whole is not None and shown_width(text) + 2 <= whole:
        return repr(text)
    pieces = _literal_pieces(text, room)
    if len(pieces) == 1:
        return repr(pieces[0])
    return "(\n" + "\n".join(repr(piece) for piece in pieces) + "\n)"


def python_data(value: object, depth: int = 1) -> str:
    """A Python literal of recorded data (dicts, lists, strings, numbers, booleans, None)
    whose lines black keeps within ``LINE_LENGTH``: the items of a container stand
    ``depth`` indents in, each string laid out by ``string_literal`` for its line."""
    column = len(INDENT) * depth
    if isinstance(value, dict):
        entries = []
        for key, item in value.items():
            shown = _data_item(key, column, "", ": {")
            if isinstance(item, dict | list):
                entries.append(f"{shown}: {python_data(item, depth + 1)}")
            else:
                entries.append(f"{shown}: {_data_item(item, column, f'{shown}: ', ',')}")
        return "{" + ", ".join(entries) + "}"
    if isinstance(value, list):
        items = [
            (
                python_data(item, depth + 1)
                if isinstance(item, dict | list)
                else _data_item(item, column, "", ",")
            )
            for item in value
        ]
        return "[" + ", ".join(items) + "]"
    return repr(value)


def _data_item(value: object, column: int, prefix: str, suffix: str) -> str:
    return string_literal(value, column, prefix, suffix) if isinstance(value, str) else repr(value)


def _literal_pieces(text: str, room: int) -> list[str]:
    """``text`` cut into literals of at most ``room`` columns, quotes included, a line of
    SQL to a literal or more."""
    return pieces(text, room - 2, lines=True)


def op(function: str) -> Code:
    """Alembic's ``op.<function>``, to call."""
    return Code(f"op.{function}", frozenset({OP}))


def call_with_string(function: str, text: str, room: int = NESTED_ROOM) -> str:
    """A call whose one argument is a string, long text cut into pieces on their own lines."""
    pieces = _literal_pieces(text, room)
    if len(pieces) == 1:
        return f"{function}({pieces[0]!r})"
    return f"{function}(\n" + "".join(indent(repr(piece)) + "\n" for piece in pieces) + ")"


@contextmanager
def statements_in_block(nested: bool) -> Iterator[None]:
    """Render ``execute`` statements for a block of the upgrade (``nested``) or for its
    own body."""
    token = _statement_room.set(STATEMENT_ROOM if nested else TOP_LEVEL_STATEMENT_ROOM)
    try:
        yield
    finally:
        _statement_room.reset(token)


def execute(*statements: str) -> Code:
    """``op.execute`` of each statement; Alembic wraps a string in ``text()``."""
    room = _statement_room.get()
    text = "\n".join(
        call_with_string("op.execute", escape_text(statement), room) for statement in statements
    )
    return Code(text, frozenset({OP}))


def server_default(expression: str | None) -> str:
    return "None" if expression is None else call_with_string("sa.text", escape_text(expression))


def column(column_: Column) -> Code:
    type_ = column_type(column_.type)
    arguments: list[Code | str] = [repr(column_.name), type_]
    default = catalog_sql.default_expression(column_)
    if default is not None:
        arguments.append(f"server_default={server_default(default)}")
    if column_.generated is not None:
        arguments.append(computed(column_.generated))
    arguments.append(f"nullable={column_.nullable}")
    if column_.comment is not None:
        arguments.append(f"comment={python_string(column_.comment)}")
    return call(Code("sa.Column", frozenset({SA})), *arguments)


def computed(expression: str) -> str:
    """``sa.Computed(...)``: the column is ``GENERATED ALWAYS AS (expression) STORED``."""
    text = python_string(escape_text(expression), whole=NESTED_ROOM)
    return f"sa.Computed({text}, persisted=True)"


def names(items: Iterable[str]) -> str:
    return "[" + ", ".join(repr(item) for item in items) + "]"


def final_name(name: str) -> str:
    """A name the naming convention must not touch: it already is the final name."""
    return f"op.f({name!r})"


def on_delete(foreign_key: ForeignKey) -> list[str]:
    if foreign_key.on_delete == "NO ACTION":
        return []
    return [f"ondelete={foreign_key.on_delete_clause!r}"]


def table_constraints(table: Table) -> list[str]:
    """Primary key, foreign keys, uniques and checks as ``op.create_table`` arguments."""
    pk = [*map(repr, table.primary_key), f"name={final_name(table.primary_key_name)}"]
    constraints = [call("sa.PrimaryKeyConstraint", *pk).text]
    for fk in table.foreign_keys:
        referred = [f"{fk.referred_qualified}.{name}" for name in fk.referred_columns]
        arguments = [names(fk.columns), names(referred), f"name={final_name(fk.name)}"]
        constraints.append(call("sa.ForeignKeyConstraint", *arguments, *on_delete(fk)).text)
    constraints += [
        call("sa.UniqueConstraint", *map(repr, u.columns), f"name={final_name(u.name)}").text
        for u in table.uniques
    ]
    constraints += [
        call(
            "sa.CheckConstraint",
            python_string(escape_text(c.expression), whole=CHECK_IN_TABLE_ROOM),
            f"name={final_name(c.name)}",
        ).text
        for c in table.checks
    ]
    return constraints


def index_arguments(table: str, index: Index) -> list[str]:
    elements = [
        (
            call_with_string("sa.text", escape_text(c.sql))
            if c.hashed or c.expression
            else repr(c.name)
        )
        for c in index.columns
    ]
    arguments = [final_name(index.name), repr(table), f"[{', '.join(elements)}]"]
    arguments.append(f"unique={index.unique}")
    if index.include:
        arguments.append(f"postgresql_include={list(index.include)!r}")
    if index.method != "btree":
        arguments.append(f"postgresql_using={index.method!r}")
    if index.where is not None:
        where = call_with_string("sa.text", escape_text(index.where))
        arguments.append(f"postgresql_where={where}")
    opclasses = {c.name: c.opclass for c in index.columns if c.opclass is not None}
    if opclasses:
        arguments.append(f"postgresql_ops={opclasses!r}")
    return [*arguments, *schema_keyword(table)]
