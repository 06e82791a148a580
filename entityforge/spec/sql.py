"""SQL expressions from the spec (checks, partial-index predicates, ``default_sql``).

Each is parsed with PostgreSQL's own parser (pglast) as the single target of
``SELECT <expression>``: exactly one statement, one unnamed target and no other clause,
so text such as ``1) ; DROP TABLE x; --`` cannot smuggle a statement in. Subqueries,
aggregate and window functions and parameter references are refused. What is kept is
pglast's deparsed text, the form migrations and models emit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources

from pglast import ast, parse_sql
from pglast.parser import ParseError
from pglast.stream import RawStream

from entityforge.parse_tree import node_attributes, walk_nodes

_PREFIX = "SELECT "

# Aggregate and window functions PostgreSQL ships; none may appear in a check.
_AGGREGATES = frozenset(
    {
        "any_value",
        "array_agg",
        "avg",
        "bit_and",
        "bit_or",
        "bit_xor",
        "bool_and",
        "bool_or",
        "count",
        "corr",
        "covar_pop",
        "covar_samp",
        "cume_dist",
        "dense_rank",
        "every",
        "first_value",
        "json_agg",
        "json_agg_strict",
        "json_object_agg",
        "json_object_agg_strict",
        "json_object_agg_unique",
        "json_object_agg_unique_strict",
        "jsonb_agg",
        "jsonb_agg_strict",
        "jsonb_object_agg",
        "jsonb_object_agg_strict",
        "jsonb_object_agg_unique",
        "jsonb_object_agg_unique_strict",
        "lag",
        "last_value",
        "lead",
        "max",
        "min",
        "mode",
        "nth_value",
        "ntile",
        "percent_rank",
        "percentile_cont",
        "percentile_disc",
        "range_agg",
        "range_intersect_agg",
        "rank",
        "regr_avgx",
        "regr_avgy",
        "regr_count",
        "regr_intercept",
        "regr_r2",
        "regr_slope",
        "regr_sxx",
        "regr_sxy",
        "regr_syy",
        "row_number",
        "stddev",
        "stddev_pop",
        "stddev_samp",
        "string_agg",
        "sum",
        "var_pop",
        "var_samp",
        "variance",
        "xmlagg",
    }
)

# Node types that are never part of a plain scalar expression.
_FORBIDDEN_NODES: dict[type[ast.Node], str] = {
    ast.SubLink: "a subquery",
    ast.ParamRef: "a parameter reference ($1)",
    ast.GroupingFunc: "GROUPING()",
    ast.JsonArrayAgg: "an aggregate function (json_arrayagg)",
    ast.JsonObjectAgg: "an aggregate function (json_objectagg)",
    ast.SetToDefault: "DEFAULT",
    ast.MultiAssignRef: "a multiple assignment",
}

# SelectStmt attributes that may be set when the statement is `SELECT <expr>`.
_ALLOWED_SELECT_ATTRIBUTES = frozenset({"targetList", "limitOption", "op", "all", "groupDistinct"})


class SqlExpressionError(ValueError):
    """A SQL expression the spec may not use, with what to do about it."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass(frozen=True)
class SqlExpression:
    """A parsed expression: its deparsed text and the columns it names, in order."""

    text: str
    columns: tuple[str, ...]


def parse_expression(text: str) -> SqlExpression:
    """Parse one scalar SQL expression; raise ``SqlExpressionError`` if it is not one."""
    node = _single_target(text)
    return _checked(text, node, walk_nodes(node))


def parse_policy_expression(text: str) -> SqlExpression:
    """Parse a row-level policy's ``USING`` or ``WITH CHECK`` expression.

    As ``parse_expression``, but subqueries are allowed (a policy may look rows up); the
    columns kept are those named outside any subquery, which must be the table's. Inside
    a subquery only parameter references are refused: PostgreSQL resolves its tables
    and columns when the policy is created.
    """
    node = _single_target(text)
    outer = []
    for child in _outside_subqueries(node):
        if isinstance(child, ast.SubLink):
            _refuse_parameters(child.subselect)
        else:
            outer.append(child)
    return _checked(text, node, outer)


def _checked(text: str, node: ast.Node, children: Iterable[ast.Node]) -> SqlExpression:
    """``node`` (parsed from ``text``) as kept: each of ``children`` refused if it is
    forbidden, the columns they name in order, and the deparsed text, which must read
    back as itself."""
    columns: list[str] = []
    for child in children:
        _refuse_forbidden(child)
        if isinstance(child, ast.ColumnRef):
            name = _column_name(child)
            if name not in columns:
                columns.append(name)
    deparsed = deparse(node)
    if deparse(_single_target(deparsed)) != deparsed:
        raise SqlExpressionError(
            f"the expression {text!r} does not survive a round trip through the SQL parser",
            hint="simplify the expression",
        )
    return SqlExpression(deparsed, tuple(columns))


def _outside_subqueries(node: ast.Node) -> list[ast.Node]:
    """The nodes under ``node``, a subquery standing for itself (not its query), and the
    left side of ``x IN (SELECT ...)`` seen as part of the outer expression."""
    found: list[ast.Node] = []
    stack: list[object] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, ast.SubLink):
            found.append(item)
            stack.append(item.testexpr)
        elif isinstance(item, ast.Node):
            found.append(item)
            stack.extend(getattr(item, attribute) for attribute in node_attributes(item))
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return found


def _refuse_parameters(query: object) -> None:
    if isinstance(query, ast.Node) and any(
        isinstance(child, ast.ParamRef) for child in walk_nodes(query)
    ):
        raise SqlExpressionError(
            "the SQL expression may not contain a parameter reference ($1)",
            hint="read a setting instead: current_setting('app.user_id', true)",
        )


def _single_target(text: str) -> ast.Node:
    if not text.strip():
        raise SqlExpressionError("the SQL expression is empty", hint="write an expression")
    if "\x00" in text:
        raise SqlExpressionError(
            "the SQL expression contains a NUL character", hint="remove the \\0 character"
        )
    try:
        statements = parse_sql(_PREFIX + text)
    except ParseError as error:
        raise SqlExpressionError(
            f"invalid SQL expression: {_parse_problem(error, text)}",
            hint="write one PostgreSQL expression; quote reserved words used as column "
            'names with double quotes ("order")',
        ) from None
    except (ValueError, TypeError, RecursionError, MemoryError):
        raise SqlExpressionError(
            "the SQL expression cannot be parsed", hint="write one PostgreSQL expression"
        ) from None
    statement = statements[0].stmt if len(statements) == 1 else None
    if not isinstance(statement, ast.SelectStmt) or not _is_bare_select(statement):
        raise SqlExpressionError(
            "the SQL must be a single expression, not a statement or several",
            hint="write just the expression, e.g. \"price >= 0\", with no ';' or SELECT",
        )
    target = (statement.targetList or ())[0]
    if target.name is not None or target.indirection:
        raise SqlExpressionError(
            "the SQL expression may not carry an alias", hint="remove the AS ... part"
        )
    expression: ast.Node = target.val
    return expression


def _is_bare_select(statement: ast.SelectStmt) -> bool:
    if statement.op not in (0, "SETOP_NONE") or len(statement.targetList or ()) != 1:
        return False
    return all(
        not getattr(statement, attribute)
        for attribute in node_attributes(statement)
        if attribute not in _ALLOWED_SELECT_ATTRIBUTES
    )


def _parse_problem(error: ParseError, text: str) -> str:
    message = str(error.args[0]) if error.args else "syntax error"
    if len(error.args) > 1 and isinstance(error.args[1], int):
        position = error.args[1] - len(_PREFIX) + 1
        if 0 < position <= len(text) + 1:
            return f"{message}, at character {position} of the expression"
    return message


def _refuse_forbidden(node: ast.Node) -> None:
    for node_type, what in _FORBIDDEN_NODES.items():
        if isinstance(node, node_type):
            raise SqlExpressionError(
                f"the SQL expression may not contain {what}",
                hint="use a plain expression over this table's columns",
            )
    if isinstance(node, ast.FuncCall):
        _refuse_aggregate(node)


def _refuse_aggregate(call: ast.FuncCall) -> None:
    name = call.funcname[-1].sval if call.funcname else ""
    if call.over is not None:
        raise SqlExpressionError(
            f"the SQL expression may not call the window function {name}()",
            hint="a check or default sees one row; window functions see many",
        )
    is_aggregate = (
        name.lower() in _AGGREGATES
        or call.agg_star
        or call.agg_distinct
        or call.agg_order
        or call.agg_filter is not None
        or call.agg_within_group
    )
    if is_aggregate:
        raise SqlExpressionError(
            f"the SQL expression may not call the aggregate function {name}()",
            hint="a check or default sees one row; aggregates see many",
        )
    if name.lower() in set_returning_functions():
        raise SqlExpressionError(
            f"the SQL expression may not call the set-returning function {name}()",
            hint="a check, default or index predicate takes one value; it returns rows",
        )


@cache
def set_returning_functions() -> frozenset[str]:
    """Built-in functions that return sets (read once from ``pg_proc``, shipped as data):
    PostgreSQL refuses them in checks, defaults and index predicates."""
    text = resources.files("entityforge.spec").joinpath("set_returning_functions.txt")
    lines = text.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def _column_name(ref: ast.ColumnRef) -> str:
    fields = ref.fields or ()
    if any(isinstance(part, ast.A_Star) for part in fields):
        raise SqlExpressionError("the SQL expression may not use '*'", hint="name the columns")
    if len(fields) != 1:
        shown = ".".join(str(part.sval) for part in fields if isinstance(part, ast.String))
        raise SqlExpressionError(
            f"the column reference '{shown}' is qualified",
            hint="name columns of this table without a table or schema prefix",
        )
    return str(fields[0].sval)


def deparse(node: ast.Node) -> str:
    """The parser's own text of ``node``; ``SqlExpressionError`` where it has none."""
    try:
        return RawStream()(node)
    except (ValueError, TypeError, NotImplementedError, AttributeError, KeyError):
        raise SqlExpressionError(
            "the SQL expression uses a construct that cannot be written back out",
            hint="simplify the expression",
        ) from None
