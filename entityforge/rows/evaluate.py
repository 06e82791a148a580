"""Evaluating a check's parse tree on one row, with SQL's three-valued logic.

A check is parsed once with PostgreSQL's parser (pglast) and evaluated on candidate
rows: ``None`` is SQL's NULL (unknown), and a row satisfies a check unless the check
evaluates to false. What this module cannot compute raises ``Unsupported``, naming the
construct, so the caller can say which check needs a value given by hand.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from functools import lru_cache
from typing import Any

from pglast import ast, enums

from entityforge.parse_tree import (
    column_name,
    function_name,
    numeric_value,
    required,
    required_list,
    select_target,
)
from entityforge.rows.patterns import like_to_regex, python_regex
from entityforge.rows.values import NOW, TODAY, Interval, Moment, Opaque, RangeValue

Row = Mapping[str, object]


class Unsupported(Exception):
    """A construct of a check the solver does not compute."""


@lru_cache(maxsize=4096)
def parse_check(expression: str) -> ast.Node:
    """The parse tree of a check's expression (the spec stage has validated it)."""
    return select_target(expression)


def satisfied(expression: str, row: Row) -> bool:
    """Whether PostgreSQL would accept ``row`` under the check (NULL passes)."""
    return evaluate(parse_check(expression), row) is not False


def evaluate(node: object, row: Row) -> object:
    """The value of a node of a check's tree on ``row``; ``Unsupported`` for a node (or an
    absent one) it cannot compute."""
    handler = _HANDLERS.get(type(node))
    if handler is None:
        raise Unsupported(type(node).__name__)
    return handler(node, row)


def _constant(node: ast.A_Const, row: Row) -> object:
    if node.isnull:
        return None
    value = node.val
    if isinstance(value, ast.Integer | ast.Float):
        return numeric_value(value)
    if isinstance(value, ast.String):
        return value.sval
    if isinstance(value, ast.Boolean):
        return bool(value.boolval)
    raise Unsupported("a bit string")


def _column(node: ast.ColumnRef, row: Row) -> object:
    name = column_name(node)
    if name not in row:
        raise Unsupported(f"the column {name}")
    return row[name]


def _bool_expr(node: ast.BoolExpr, row: Row) -> object:
    values = [_truth(evaluate(arg, row)) for arg in required_list(node.args, "BoolExpr.args")]
    if node.boolop == enums.BoolExprType.NOT_EXPR:
        return None if values[0] is None else not values[0]
    if node.boolop == enums.BoolExprType.AND_EXPR:
        if False in values:
            return False
        return None if None in values else True
    if True in values:
        return True
    return None if None in values else False


def _truth(value: object) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise Unsupported("a condition that is not boolean")


def _null_test(node: ast.NullTest, row: Row) -> object:
    value = evaluate(node.arg, row)
    is_null = value is None
    return is_null if node.nulltesttype == enums.NullTestType.IS_NULL else not is_null


def _boolean_test(node: ast.BooleanTest, row: Row) -> object:
    value = _truth(evaluate(node.arg, row))
    kinds = enums.BoolTestType
    return {
        kinds.IS_TRUE: value is True,
        kinds.IS_NOT_TRUE: value is not True,
        kinds.IS_FALSE: value is False,
        kinds.IS_NOT_FALSE: value is not False,
        kinds.IS_UNKNOWN: value is None,
        kinds.IS_NOT_UNKNOWN: value is not None,
    }[required(node.booltesttype, "BooleanTest.booltesttype")]


def _a_expr(node: ast.A_Expr, row: Row) -> object:
    kinds = enums.A_Expr_Kind
    operator = node.name[-1].sval if node.name else ""
    if node.kind == kinds.AEXPR_OP:
        if node.lexpr is None:
            return _unary(operator, evaluate(node.rexpr, row))
        return binary(operator, evaluate(node.lexpr, row), evaluate(node.rexpr, row))
    if node.kind == kinds.AEXPR_OP_ANY:
        left = evaluate(node.lexpr, row)
        found = [binary(operator, left, evaluate(item, row)) for item in _array_items(node.rexpr)]
        return True if True in found else None if None in found else False
    if node.kind in (kinds.AEXPR_IN,):
        left = evaluate(node.lexpr, row)
        items = required_list(node.rexpr, "A_Expr.rexpr")
        found = [binary("=", left, evaluate(item, row)) for item in items]
        result = True if True in found else None if None in found else False
        return result if operator == "=" else (None if result is None else not result)
    if node.kind in (kinds.AEXPR_BETWEEN, kinds.AEXPR_NOT_BETWEEN):
        value = evaluate(node.lexpr, row)
        low, high = (evaluate(item, row) for item in required_list(node.rexpr, "A_Expr.rexpr"))
        inside = _bool_expr_and(binary(">=", value, low), binary("<=", value, high))
        if node.kind == kinds.AEXPR_BETWEEN:
            return inside
        return None if inside is None else not inside
    if node.kind in (kinds.AEXPR_LIKE, kinds.AEXPR_ILIKE):
        return binary(operator, evaluate(node.lexpr, row), evaluate(node.rexpr, row))
    if node.kind in (kinds.AEXPR_DISTINCT, kinds.AEXPR_NOT_DISTINCT):
        left, right = evaluate(node.lexpr, row), evaluate(node.rexpr, row)
        same = left is right is None or (
            left is not None and right is not None and binary("=", left, right) is True
        )
        return not same if node.kind == kinds.AEXPR_DISTINCT else same
    raise Unsupported(f"the operator {operator}")


def _array_items(node: object) -> tuple[ast.Node, ...]:
    """The elements of ``ARRAY[...]``: PostgreSQL prints ``IN (...)`` as ``= ANY (ARRAY[...])``."""
    while isinstance(node, ast.TypeCast):
        node = node.arg
    if isinstance(node, ast.A_ArrayExpr):
        return tuple(node.elements or ())
    raise Unsupported("ANY of something other than an ARRAY[...] list")


def strip_casts(node: object) -> object:
    """``node`` without the casts around it (``(sku)::text`` is ``sku``)."""
    while isinstance(node, ast.TypeCast):
        node = node.arg
    return node


def _bool_expr_and(left: object, right: object) -> object:
    if left is False or right is False:
        return False
    return None if left is None or right is None else True


def _unary(operator: str, value: object) -> object:
    if value is None:
        return None
    if operator == "-" and isinstance(value, Decimal):
        return -value
    if operator == "+" and isinstance(value, Decimal):
        return value
    raise Unsupported(f"the operator {operator}")


_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: bool(a == b),
    "<>": lambda a, b: bool(a != b),
    "!=": lambda a, b: bool(a != b),
    "<": lambda a, b: bool(a < b),
    ">": lambda a, b: bool(a > b),
    "<=": lambda a, b: bool(a <= b),
    ">=": lambda a, b: bool(a >= b),
}
_MATCHES = {"~": (False, False), "~*": (False, True), "!~": (True, False), "!~*": (True, True)}
_LIKES = {"~~": (False, False), "~~*": (False, True), "!~~": (True, False), "!~~*": (True, True)}


def binary(operator: str, left: object, right: object) -> object:
    """``left <operator> right`` on two values, NULL if either is."""
    if left is None or right is None:
        return None
    if isinstance(left, Opaque) or isinstance(right, Opaque):
        raise Unsupported(f"a comparison with {left if isinstance(left, Opaque) else right}")
    if operator in _COMPARISONS:
        left, right = _literal_as(right, left), _literal_as(left, right)
        if not _comparable(left, right):
            raise Unsupported(f"comparing {type(left).__name__} with {type(right).__name__}")
        return _COMPARISONS[operator](left, right)
    if operator in _MATCHES or operator in _LIKES:
        negated, folded = _MATCHES.get(operator) or _LIKES[operator]
        if not isinstance(left, str) or not isinstance(right, str):
            raise Unsupported("pattern matching on a value that is not text")
        pattern = right if operator in _MATCHES else like_to_regex(right)
        flags = re.IGNORECASE if folded else 0
        matched = re.search(python_regex(pattern), left, flags | re.DOTALL) is not None
        return matched != negated
    return _arithmetic(operator, left, right)


# Test runs happen between these days: a date literal well outside them compares with
# every moment of a run the same way, one inside them with none in a way known here.
_RUNS_START = datetime.date(2026, 1, 1)
_RUNS_END = datetime.date(2100, 1, 1)
FAR = 10**9


def _literal_as(other: object, value: object) -> object:
    """A string literal ``value`` read as the kind of ``other`` (a moment, time, interval)."""
    if not isinstance(value, str):
        return value
    if isinstance(other, Moment):
        return absolute_moment(value)
    if isinstance(other, datetime.time):
        try:
            return datetime.time.fromisoformat(value)
        except ValueError:
            raise Unsupported(f"the time {value!r}") from None
    if isinstance(other, Interval):
        return _interval(value)
    return value


def absolute_moment(text: str) -> Moment:
    """A date or timestamp literal as a moment of the run: far before or far after it."""
    try:
        day = datetime.datetime.fromisoformat(text.replace(" ", "T", 1)).date()
    except ValueError:
        raise Unsupported(f"the date {text!r}") from None
    if day < _RUNS_START - datetime.timedelta(days=60):
        return Moment(Fraction(-FAR))
    if day > _RUNS_END + datetime.timedelta(days=60):
        return Moment(Fraction(FAR))
    raise Unsupported(f"the date {text!r}, too near the days tests run on")


def _comparable(left: object, right: object) -> bool:
    kinds = (Decimal, str, bool, Moment, Interval, datetime.time)
    return any(isinstance(left, kind) and isinstance(right, kind) for kind in kinds)


def _arithmetic(operator: str, left: object, right: object) -> object:
    if operator == "||" and isinstance(left, str) and isinstance(right, str):
        return left + right
    if isinstance(left, Decimal) and isinstance(right, Decimal):
        try:
            return _numeric(operator, left, right)
        except (InvalidOperation, ZeroDivisionError):
            raise Unsupported(f"the arithmetic {operator}") from None
    if isinstance(left, Moment) and isinstance(right, Interval) and operator in "+-":
        step = right.days if operator == "+" else -right.days
        return Moment(left.days + step)
    if isinstance(left, Interval) and isinstance(right, Moment) and operator == "+":
        return Moment(left.days + right.days)
    if isinstance(left, Moment) and isinstance(right, Moment) and operator == "-":
        return Interval(left.days - right.days)
    raise Unsupported(f"the operator {operator} on these values")


def _numeric(operator: str, left: Decimal, right: Decimal) -> Decimal:
    if operator == "+":
        return left + right
    if operator == "-":
        return left - right
    if operator == "*":
        return left * right
    if operator == "/":
        return left / right
    if operator == "%":
        return left % right
    raise Unsupported(f"the operator {operator}")


def _function(node: ast.FuncCall, row: Row) -> object:
    name = function_name(node)
    arguments = [evaluate(arg, row) for arg in node.args or ()]
    if name == "num_nonnulls":
        return Decimal(sum(value is not None for value in arguments))
    if name == "num_nulls":
        return Decimal(sum(value is None for value in arguments))
    if name in ("now", "statement_timestamp", "transaction_timestamp", "clock_timestamp"):
        return NOW
    if len(arguments) == 1 and isinstance(arguments[0], RangeValue) and name in _RANGE_FUNCTIONS:
        return _RANGE_FUNCTIONS[name](arguments[0])
    function = _TEXT_FUNCTIONS.get(name)
    if function is None or len(arguments) != 1:
        raise Unsupported(f"the function {name}()")
    if arguments[0] is None:
        return None
    if name == "abs" and isinstance(arguments[0], Decimal):
        return abs(arguments[0])
    if not isinstance(arguments[0], str):
        raise Unsupported(f"{name}() of a value that is not text")
    return function(arguments[0])


# What PostgreSQL's range functions give for a non-empty range ``[lower, upper)``.
_RANGE_FUNCTIONS: dict[str, Callable[[RangeValue], object]] = {
    "lower": lambda value: value.lower,
    "upper": lambda value: value.upper,
    "isempty": lambda value: False,
    "lower_inf": lambda value: False,
    "upper_inf": lambda value: False,
    "lower_inc": lambda value: True,
    "upper_inc": lambda value: False,
}

_TEXT_FUNCTIONS: dict[str, Callable[[str], object]] = {
    "lower": str.lower,
    "upper": str.upper,
    "length": lambda text: Decimal(len(text)),
    "char_length": lambda text: Decimal(len(text)),
    "character_length": lambda text: Decimal(len(text)),
    "octet_length": lambda text: Decimal(len(text.encode())),
    "btrim": lambda text: text.strip(" "),
    "ltrim": lambda text: text.lstrip(" "),
    "rtrim": lambda text: text.rstrip(" "),
    "abs": lambda text: text,
}


def _sql_value(node: ast.SQLValueFunction, row: Row) -> object:
    ops = enums.SQLValueFunctionOp
    if node.op == ops.SVFOP_CURRENT_DATE:
        return TODAY
    if node.op in (ops.SVFOP_CURRENT_TIMESTAMP, ops.SVFOP_CURRENT_TIMESTAMP_N):
        return NOW
    raise Unsupported(str(node.op))


_NUMERIC_TYPES = frozenset({"int2", "int4", "int8", "numeric", "float4", "float8", "integer"})
_TEXT_TYPES = frozenset({"text", "varchar", "bpchar", "char"})
_INTERVAL_UNITS: dict[str, int | Fraction] = {"day": 1, "days": 1, "week": 7, "weeks": 7}
_INTERVAL_UNITS |= {"hour": Fraction(1, 24), "hours": Fraction(1, 24)}
_INTERVAL_UNITS |= {"minute": Fraction(1, 1440), "minutes": Fraction(1, 1440)}
_INTERVAL_UNITS |= {"mins": Fraction(1, 1440)}


def _type_cast(node: ast.TypeCast, row: Row) -> object:
    type_name = required(node.typeName, "TypeCast.typeName")
    target = required(type_name.names, "TypeName.names")[-1].sval
    value = evaluate(node.arg, row)
    if value is None:
        return None
    if target in _NUMERIC_TYPES and isinstance(value, Decimal | str):
        try:
            return Decimal(value)
        except InvalidOperation:
            raise Unsupported(f"the cast of {value!r} to {target}") from None
    if target in _TEXT_TYPES and isinstance(value, str):
        return value
    if target == "interval" and isinstance(value, str):
        return _interval(value)
    if target in ("date", "timestamptz", "timestamp") and isinstance(value, str):
        return absolute_moment(value)
    if target == "date" and isinstance(value, Moment):
        return Moment(Fraction(value.days.__floor__()))
    if target == "time" and isinstance(value, str):
        try:
            return datetime.time.fromisoformat(value)
        except ValueError:
            raise Unsupported(f"the time {value!r}") from None
    if target == "bool" and isinstance(value, bool):
        return value
    if isinstance(value, str) and target not in _NUMERIC_TYPES:
        return value  # an enum label or another text-like literal, as PostgreSQL prints them
    raise Unsupported(f"the cast to {target}")


def _interval(text: str) -> Interval:
    parts = text.split()
    if len(parts) % 2 or not parts:
        raise Unsupported(f"the interval {text!r}")
    days = Fraction(0)
    for amount, unit in zip(parts[::2], parts[1::2], strict=True):
        if unit not in _INTERVAL_UNITS or not amount.lstrip("-").isdigit():
            raise Unsupported(f"the interval {text!r}")
        days += int(amount) * Fraction(_INTERVAL_UNITS[unit])
    return Interval(days)


def _coalesce(node: ast.CoalesceExpr, row: Row) -> object:
    for arg in required_list(node.args, "CoalesceExpr.args"):
        value = evaluate(arg, row)
        if value is not None:
            return value
    return None


def _min_max(node: ast.MinMaxExpr, row: Row) -> object:
    args = required_list(node.args, "MinMaxExpr.args")
    values = [value for value in (evaluate(arg, row) for arg in args) if value is not None]
    if not values:
        return None
    if not all(_comparable(values[0], value) for value in values):
        raise Unsupported("GREATEST/LEAST of values of different kinds")
    greatest = node.op == enums.MinMaxOp.IS_GREATEST
    return max(values) if greatest else min(values)  # type: ignore[type-var]


_HANDLERS: dict[type, Callable[[Any, Row], object]] = {
    ast.A_Const: _constant,
    ast.ColumnRef: _column,
    ast.BoolExpr: _bool_expr,
    ast.NullTest: _null_test,
    ast.BooleanTest: _boolean_test,
    ast.A_Expr: _a_expr,
    ast.FuncCall: _function,
    ast.SQLValueFunction: _sql_value,
    ast.TypeCast: _type_cast,
    ast.CoalesceExpr: _coalesce,
    ast.MinMaxExpr: _min_max,
}


def walk(node: object) -> Sequence[ast.Node]:
    """Every node of a parse tree, depth first."""
    found: list[ast.Node] = []
    stack: list[object] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, ast.Node):
            found.append(item)
            stack.extend(getattr(item, name) for name in type(item).__slots__)  # type: ignore[attr-defined]
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return found
