"""Reading pglast's parse trees where a node's kind settles what it holds.

pglast types every attribute of every node as optional, since PostgreSQL's parser
leaves a field unset wherever its grammar may. For the node at hand many are always set:
a ``TypeCast`` has its type, a ``ColumnRef`` its fields, an ``Integer`` its value. These
helpers say so once, and raise ``MissingPart`` should a tree ever hold otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any, TypeVar

from pglast import ast, parse_sql
from pglast.parser import scan

from entityforge.naming import quote_identifier

T = TypeVar("T")
SELECT = "SELECT "
"""An expression is parsed as the one target of a ``SELECT``."""


class MissingPart(Exception):
    """A node without a part its kind always has."""


def required(value: T | None, what: str) -> T:
    """``value``, which the parse tree always sets; ``what`` names it (``TypeCast.arg``)."""
    if value is None:
        raise MissingPart(f"the parse tree has no {what}")
    return value


def required_list(value: object, what: str) -> tuple[Any, ...]:
    """A node list the parse tree always sets (``BoolExpr.args``)."""
    if not isinstance(value, tuple):
        raise MissingPart(f"the parse tree has no list {what}")
    return value


def select_target(expression: str) -> ast.Node:
    """The parse tree of ``expression``: the first target of ``SELECT <expression>``.

    Raises pglast's ``ParseError`` when the text does not parse."""
    statement = parse_sql(SELECT + expression)[0].stmt
    if not isinstance(statement, ast.SelectStmt) or not statement.targetList:
        raise MissingPart(f"SELECT {expression} has no target")
    target: ast.ResTarget = statement.targetList[0]
    return required(target.val, "ResTarget.val")


def column_name(reference: ast.ColumnRef) -> str:
    """The column a reference names: its last part."""
    name: str = required(reference.fields, "ColumnRef.fields")[-1].sval
    return name


def numeric_value(value: ast.Integer | ast.Float) -> Decimal:
    """The number a numeric constant holds."""
    if isinstance(value, ast.Integer):
        return Decimal(required(value.ival, "Integer.ival"))
    return Decimal(required(value.fval, "Float.fval"))


def function_name(call: ast.FuncCall) -> str:
    """The name a call calls, its last part, lower-case (``pg_catalog.NOW()`` → ``now``)."""
    last = required(call.funcname, "FuncCall.funcname")[-1]
    return str(last.sval).lower()


def node_attributes(node: ast.Node) -> tuple[str, ...]:
    """The attribute names of a pglast node (its class declares them as ``__slots__``)."""
    return tuple(type(node).__slots__)  # type: ignore[attr-defined]


def walk_nodes(node: ast.Node) -> Iterator[ast.Node]:
    """Every node under ``node`` (itself included), depth first."""
    stack: list[object] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, ast.Node):
            yield item
            children = [getattr(item, attribute) for attribute in node_attributes(item)]
            stack.extend(reversed(children))
        elif isinstance(item, list | tuple):
            stack.extend(reversed(item))


@dataclass(frozen=True)
class References:
    """What an expression refers to: the columns it names and the functions it calls (by
    their last name, lower-case)."""

    columns: frozenset[str]
    functions: frozenset[str]
    order: tuple[str, ...] = ()
    """The columns in the order the expression first names them."""


@lru_cache(maxsize=4096)
def references(expression: str) -> References:
    """What ``expression`` (a check, predicate or default the spec stage validated)
    refers to, read from its parse tree: once per expression."""
    columns: dict[str, None] = {}
    functions: set[str] = set()
    for node in walk_nodes(select_target(expression)):
        if isinstance(node, ast.ColumnRef):
            last = required(node.fields, "ColumnRef.fields")[-1]
            if isinstance(last, ast.String) and last.sval is not None:
                columns[last.sval] = None
        elif isinstance(node, ast.FuncCall):
            functions.add(function_name(node))
    return References(frozenset(columns), frozenset(functions), tuple(columns))


def rename_columns(expression: str, names: Mapping[str, str]) -> str:
    """``expression`` with each column ``names`` maps renamed (its last name, quoted where
    it must be), found by the parser: a function, type or string literal of the same
    spelling is left as it is, and so is everything else, spacing included."""
    if not names:
        return expression

    def renamed(node: ast.Node, tokens: _Tokens) -> _Edit | None:
        if not isinstance(node, ast.ColumnRef) or node.location is None:
            return None
        fields = required(node.fields, "ColumnRef.fields")
        last = fields[-1]
        column = last.sval if isinstance(last, ast.String) else None
        if column is None or column not in names:
            return None
        # A reference is its names and the dots between them: ``t.code`` is three tokens.
        token = tokens.at(node.location, 2 * (len(fields) - 1))
        return token.start, token.end + 1, quote_identifier(names[column])

    return _edited(expression, renamed)


def qualify_tables(expression: str, schemas: Mapping[str, str], *, query: bool = False) -> str:
    """``expression`` (with ``query``: a whole SELECT statement) with each table it or its
    subqueries name without a schema, and that ``schemas`` places outside public, named
    ``schema.table``; everything else is left as it is, spacing included. Nothing then
    depends on the ``search_path`` of the session that creates the object holding it."""
    if not schemas:
        return expression

    def qualified(node: ast.Node, tokens: _Tokens) -> _Edit | None:
        if not isinstance(node, ast.RangeVar) or node.schemaname or node.location is None:
            return None
        table = required(node.relname, "RangeVar.relname")
        schema = schemas.get(table)
        if schema is None:
            return None
        token = tokens.at(node.location)
        return token.start, token.end + 1, f"{quote_identifier(schema)}.{quote_identifier(table)}"

    return _edited(expression, qualified, "" if query else SELECT)


_Edit = tuple[int, int, str]
"""Replace the text from one offset to another with a string."""


@dataclass(frozen=True)
class _Tokens:
    """The tokens of ``SELECT <expression>``, found by where they start."""

    tokens: tuple[Any, ...]
    starts: Mapping[int, int]

    def at(self, location: int, after: int = 0) -> Any:
        """The token starting at ``location``, or the ``after``-th one past it."""
        return self.tokens[self.starts[location] + after]


def _edited(
    expression: str, edit: Callable[[ast.Node, _Tokens], _Edit | None], prefix: str = SELECT
) -> str:
    """``expression`` with the edits ``edit`` finds for the nodes of its parse tree, parsed
    after ``prefix`` (``SELECT`` for an expression, nothing for a statement)."""
    text = prefix + expression
    scanned = tuple(scan(text))
    tokens = _Tokens(scanned, {token.start: position for position, token in enumerate(scanned)})
    edits = [
        found
        for node in walk_nodes(required(parse_sql(text)[0].stmt, "RawStmt.stmt"))
        if (found := edit(node, tokens)) is not None
    ]
    for start, end, replacement in sorted(edits, reverse=True):
        text = text[:start] + replacement + text[end:]
    return text[len(prefix) :]
