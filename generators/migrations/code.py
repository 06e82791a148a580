"""Building blocks of a revision's Python: calls, string literals, columns, types.

Everything returns text, or a ``Snippet``: text and the imports it needs, recorded as
data so that a revision imports exactly what it uses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from entityforge.catalog import ENUM_LENGTH, Column, ForeignKey, Index, Table
from entityforge.catalog import sql as catalog_sql
from entityforge.generators.sql import escape_text
from entityforge.schema import ColumnType

SA = "import sqlalchemy as sa"
POSTGRESQL = "from sqlalchemy.dialects import postgresql"
OP = "from alembic import op"
STEPS = "migration_steps"
STEPS_IMPORT = "from {package} import migration_steps"
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

_SIMPLE_TYPES = {
    "text": "sa.Text()",
    "smallint": "sa.SmallInteger()",
    "integer": "sa.Integer()",
    "bigint": "sa.BigInteger()",
    "float": "sa.Double()",
    "boolean": "sa.Boolean()",
    "date": "sa.Date()",
    "datetime": "sa.DateTime(timezone=True)",
    "time": "sa.Time()",
    "interval": "sa.Interval()",
    "uuid": "sa.Uuid()",
    "bytes": "sa.LargeBinary()",
}


@dataclass(frozen=True)
class Snippet:
    """Python source and the import statements it needs."""

    text: str
    imports: frozenset[str] = frozenset()


def join(snippets: Iterable[Snippet], separator: str = "\n") -> Snippet:
    items = tuple(snippets)
    imports = frozenset().union(*(snippet.imports for snippet in items))
    return Snippet(separator.join(snippet.text for snippet in items), imports)


def python_string(text: str, room: int = NESTED_ROOM, whole: int | None = None) -> str:
    """A string literal; text that does not fit in ``room`` becomes parenthesized pieces.

    ``whole`` is the room where the literal stands, when it is known: a literal that fits
    there stays whole (ruff would join its pieces again, black would not)."""
    if "\n" not in text and whole is not None and len(repr(text)) <= whole:
        return repr(text)
    pieces = _pieces(text, room)
    if len(pieces) == 1:
        return repr(pieces[0])
    return "(\n" + "\n".join(repr(piece) for piece in pieces) + "\n)"


def _pieces(text: str, room: int) -> list[str]:
    """Cut after each newline, and after spaces where a line's literal would not fit in
    ``room`` characters, so black never has to leave a line too long."""
    if "\n" not in text and len(repr(text)) <= room:
        return [text]
    pieces: list[str] = []
    for line in text.splitlines(keepends=True):
        current = ""
        for word in re.split(r"(?<= )", line):
            if current and len(repr(current + word)) > room:
                pieces.append(current)
                current = ""
            current += word
        pieces.append(current)
    return pieces


def call(function: str, arguments: Iterable[str], *, exploded: bool = False) -> str:
    """A call; ``exploded`` puts one argument per line (a trailing comma keeps it so)."""
    items = list(arguments)
    if not exploded:
        return f"{function}({', '.join(items)})"
    return f"{function}(\n" + "".join(indent(f"{item},") + "\n" for item in items) + ")"


def indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line if line else line for line in text.split("\n"))


def call_with_string(function: str, text: str, room: int = NESTED_ROOM) -> str:
    """A call whose one argument is a string, long text cut into pieces on their own lines."""
    pieces = _pieces(text, room)
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


def execute(*statements: str) -> Snippet:
    """``op.execute`` of each statement; Alembic wraps a string in ``text()``."""
    room = _statement_room.get()
    text = "\n".join(
        call_with_string("op.execute", escape_text(statement), room) for statement in statements
    )
    return Snippet(text, frozenset({OP}))


def column_type(type_: ColumnType) -> Snippet:
    """The SQLAlchemy type of a column, the way the models declare it."""
    if type_.name in _SIMPLE_TYPES:
        return Snippet(_SIMPLE_TYPES[type_.name], frozenset({SA}))
    if type_.name == "string":
        return Snippet(f"sa.String({type_.max_length})", frozenset({SA}))
    if type_.name == "decimal":
        arguments = [str(n) for n in (type_.precision, type_.scale) if n is not None]
        return Snippet(call("sa.Numeric", arguments), frozenset({SA}))
    if type_.name == "json":
        return Snippet("postgresql.JSONB()", frozenset({POSTGRESQL}))
    if type_.name == "enum" and type_.enum_name is None:
        return Snippet(f"sa.String({ENUM_LENGTH})", frozenset({SA}))
    if type_.name == "enum":
        labels = [repr(value) for value in type_.values]
        arguments = [*labels, f"name={type_.enum_name!r}", "create_type=False"]
        return Snippet(call("postgresql.ENUM", arguments), frozenset({POSTGRESQL}))
    if type_.name == "array":
        assert type_.item is not None
        item = column_type(type_.item)
        return Snippet(f"postgresql.ARRAY({item.text})", item.imports | {POSTGRESQL})
    raise ValueError(f"no SQLAlchemy type for {type_.name}")


def server_default(expression: str | None) -> str:
    return "None" if expression is None else call_with_string("sa.text", escape_text(expression))


def column(column_: Column) -> Snippet:
    type_ = column_type(column_.type)
    arguments = [repr(column_.name), type_.text]
    default = catalog_sql.default_expression(column_)
    if default is not None:
        arguments.append(f"server_default={server_default(default)}")
    arguments.append(f"nullable={column_.nullable}")
    if column_.comment is not None:
        arguments.append(f"comment={python_string(column_.comment)}")
    return Snippet(call("sa.Column", arguments), type_.imports | {SA})


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
    constraints = [call("sa.PrimaryKeyConstraint", pk)]
    for fk in table.foreign_keys:
        referred = [f"{fk.referred_table}.{name}" for name in fk.referred_columns]
        arguments = [names(fk.columns), names(referred), f"name={final_name(fk.name)}"]
        constraints.append(call("sa.ForeignKeyConstraint", [*arguments, *on_delete(fk)]))
    constraints += [
        call("sa.UniqueConstraint", [*map(repr, u.columns), f"name={final_name(u.name)}"])
        for u in table.uniques
    ]
    constraints += [
        call(
            "sa.CheckConstraint",
            [
                python_string(escape_text(c.expression), whole=CHECK_IN_TABLE_ROOM),
                f"name={final_name(c.name)}",
            ],
        )
        for c in table.checks
    ]
    return constraints


def index_arguments(table: str, index: Index) -> list[str]:
    elements = [f"sa.text({c.sql!r})" if c.hashed else repr(c.name) for c in index.columns]
    arguments = [final_name(index.name), repr(table), f"[{', '.join(elements)}]"]
    arguments.append(f"unique={index.unique}")
    if index.method != "btree":
        arguments.append(f"postgresql_using={index.method!r}")
    if index.where is not None:
        where = call_with_string("sa.text", escape_text(index.where))
        arguments.append(f"postgresql_where={where}")
    opclasses = {c.name: c.opclass for c in index.columns if c.opclass is not None}
    if opclasses:
        arguments.append(f"postgresql_ops={opclasses!r}")
    return arguments
