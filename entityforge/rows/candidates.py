"""The values the solver tries for one column, best first.

A column's candidates come from its type (small numbers, letters, moments around the
run's start), from the checks (their constants, strings drawn from their patterns) and
from the row chosen so far: where a check compares the column with an expression, the
expression's value and its neighbours are tried first (``due_at > rented_at`` tries
``rented_at`` plus a day). Every candidate fits the column's type as PostgreSQL stores
it: no value is rounded or too long.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from pglast import ast, enums

from entityforge.parse_tree import column_name, numeric_value, required, required_list
from entityforge.rows.evaluate import (
    FAR,
    Unsupported,
    evaluate,
    parse_check,
    strip_casts,
    walk,
)
from entityforge.rows.patterns import drawable
from entityforge.rows.sources import (
    ALPHABETS,
    NARROW,
    PatternText,
    Source,
    UniqueChoice,
    UniqueMoment,
    UniqueNumber,
    UniqueText,
)
from entityforge.rows.values import NOW, PARENT, TODAY, Interval, Moment, Opaque
from entityforge.schema import INTEGER_LIMITS, ColumnType

NUMBER_TYPES = frozenset({"smallint", "integer", "bigint", "decimal", "float"})
TEXT_TYPES = frozenset({"string", "text"})
# Small domains: a unique key over them takes their values in turn.
CHOICE_TYPES = frozenset({"enum", "boolean"})
MOMENT_TYPES = frozenset({"datetime", "date"})
# The widest letters a unique text family counts with when the column allows more.
UNIQUE_TEXT_WIDTH = 12
_SMALL_NUMBERS = (1, 0, 2, 10, 100, -1)
_MOMENTS = (2, 3, -2, -3, 30, -30)
_TIMES = (datetime.time(9), datetime.time(17), datetime.time(12), datetime.time(0))
_COMPARISONS = frozenset({"=", "<>", "!=", "<", ">", "<=", ">="})


@dataclass(frozen=True)
class ColumnSpec:
    """What the solver knows of one column.

    ``kind`` is the field type's name, ``reference`` for a foreign key to another row,
    ``self_reference`` for one to a row of the same table, or ``opaque``.
    ``examples`` are the values the spec gives the factory (``example:``).
    """

    name: str
    kind: str
    nullable: bool = False
    column_type: ColumnType | None = None
    unique: bool = False
    examples: tuple[object, ...] = ()


@dataclass(frozen=True)
class CheckFacts:
    """What a table's checks say, gathered once: constants, patterns, length bounds."""

    numbers: tuple[Decimal, ...]
    strings: tuple[str, ...]
    patterns: Mapping[str, tuple[str, ...]]


def check_facts(expressions: Sequence[str]) -> CheckFacts:
    numbers: list[Decimal] = []
    strings: list[str] = []
    patterns: dict[str, list[str]] = {}
    for expression in expressions:
        for node in walk(parse_check(expression)):
            if isinstance(node, ast.A_Const) and isinstance(node.val, ast.Integer | ast.Float):
                numbers.append(numeric_value(node.val))
            elif isinstance(node, ast.A_Const) and isinstance(node.val, ast.String):
                strings.append(required(node.val.sval, "String.sval"))
            elif (found := _pattern_of(node)) is not None:
                patterns.setdefault(found[0], []).append(found[1])
    numbers += [-number for number in numbers]
    return CheckFacts(
        tuple(dict.fromkeys(numbers)),
        tuple(dict.fromkeys(strings)),
        {column: tuple(found) for column, found in patterns.items()},
    )


def _pattern_of(node: ast.Node) -> tuple[str, str] | None:
    """``(column, pattern)`` of ``column ~ 'pattern'``."""
    if not isinstance(node, ast.A_Expr) or node.kind != enums.A_Expr_Kind.AEXPR_OP:
        return None
    if not node.name or node.name[-1].sval not in ("~", "~*"):
        return None
    left, right = strip_casts(node.lexpr), strip_casts(node.rexpr)
    if not isinstance(left, ast.ColumnRef) or not isinstance(right, ast.A_Const):
        return None
    pattern = right.val.sval if isinstance(right.val, ast.String) else None
    if pattern is not None and drawable(pattern):
        return column_name(left), pattern
    return None


def literal_candidates(
    column: ColumnSpec, facts: CheckFacts, derived: Sequence[object]
) -> list[object]:
    """Literal values for ``column``: None first where allowed, then the derived ones."""
    if column.examples:
        return list(column.examples)
    values: list[object] = [None] if column.nullable else []
    values += derived
    values += list(_typed_values(column, facts))
    return [value for value in _distinct(values) if fits(column, value)]


def family_candidates(
    column: ColumnSpec, facts: CheckFacts, derived: Sequence[object]
) -> list[Source]:
    """Families of fresh values for a unique column (text, numbers, moments, or the values
    of an enum or a boolean in turn), best first."""
    assert column.column_type is not None
    if column.kind in CHOICE_TYPES:
        values = [v for v in literal_candidates(column, facts, derived) if v is not None]
        return [UniqueChoice(tuple(values))] if values else []
    if column.kind in TEXT_TYPES:
        limit = column.column_type.max_length
        families: list[Source] = [
            PatternText.of(pattern, limit) for pattern in facts.patterns.get(column.name, ())
        ]
        widths = [min(limit or UNIQUE_TEXT_WIDTH, UNIQUE_TEXT_WIDTH)]
        widths += [int(n) for n in facts.numbers if 2 <= n <= (limit or 64) and n == int(n)]
        for width in dict.fromkeys(widths):
            alphabets = [a for a in ALPHABETS if a != "wide"]
            if width <= NARROW:
                alphabets.insert(0, "wide")
            families += [UniqueText(width, alphabet) for alphabet in alphabets]
        return families
    if column.kind in MOMENT_TYPES:
        step = Fraction(1) if column.kind == "date" else Fraction(1, 24 * 60)
        moments = [v for v in literal_candidates(column, facts, derived) if isinstance(v, Moment)]
        return [UniqueMoment(moment, step) for moment in moments if moment.days.denominator == 1]
    starts = [v for v in literal_candidates(column, facts, derived) if isinstance(v, Decimal)]
    families = [UniqueNumber(start) for start in starts if fits(column, start + 10**5)]
    return families or [UniqueNumber(start) for start in starts if fits(column, start + 100)]


def _typed_values(column: ColumnSpec, facts: CheckFacts) -> Iterator[object]:
    kind = column.kind
    if kind in NUMBER_TYPES:
        step = _step(column)
        yield from (Decimal(number) for number in _SMALL_NUMBERS)
        for number in facts.numbers:
            yield from (number, number + 1, number - 1, number + step, number - step)
    elif kind in TEXT_TYPES:
        yield from _text_values(column, facts)
    elif kind == "boolean":
        yield from (True, False)
    elif kind == "enum" and column.column_type is not None:
        yield from column.column_type.values
    elif kind in ("datetime", "date"):
        yield from (Moment(Fraction(days)) for days in _MOMENTS)
    elif kind == "time":
        yield from _TIMES
    elif kind == "interval":
        yield from (Interval(Fraction(days)) for days in (1, 0, 7))
    elif kind == "reference":
        yield PARENT
    elif kind != "self_reference":
        yield Opaque(f"a {kind} value")


def _text_values(column: ColumnSpec, facts: CheckFacts) -> Iterator[object]:
    yield from ("abc", "ABC")
    yield from facts.strings
    for pattern in facts.patterns.get(column.name, ()):
        limit = column.column_type.max_length if column.column_type else None
        yield from PatternText.of(pattern, limit).samples()[:8]
    yield from ("123", "a")
    for number in facts.numbers:
        if 0 < number <= 64 and number == int(number):
            yield from ("a" * int(number), "a" * (int(number) + 1), "a" * (int(number) - 1))
    yield ""


def _step(column: ColumnSpec) -> Decimal:
    scale = column.column_type.scale if column.column_type else None
    if column.kind == "decimal" and scale:
        return Decimal(1).scaleb(-scale)
    if column.kind == "float":
        return Decimal("0.5")
    return Decimal(1)


def derived_candidates(
    column: ColumnSpec, expressions: Sequence[str], row: Mapping[str, object]
) -> list[object]:
    """Values the checks compare ``column`` with, given the columns chosen so far."""
    found: list[object] = []
    for expression in expressions:
        for node in walk(parse_check(expression)):
            for other in _compared_with(node, column.name):
                try:
                    value = evaluate(other, row)
                except Unsupported:
                    continue
                found += _neighbours(column, value)
    return found


def _compared_with(node: ast.Node, name: str) -> list[object]:
    if not isinstance(node, ast.A_Expr) or not _is_column(node.lexpr, name):
        if isinstance(node, ast.A_Expr) and _is_column(node.rexpr, name):
            operator = node.name[-1].sval if node.name else ""
            return [node.lexpr] if operator in _COMPARISONS else []
        return []
    operator = node.name[-1].sval if node.name else ""
    if node.kind == enums.A_Expr_Kind.AEXPR_OP and operator in _COMPARISONS:
        return [node.rexpr]
    if node.kind in (enums.A_Expr_Kind.AEXPR_BETWEEN, enums.A_Expr_Kind.AEXPR_IN):
        return list(required_list(node.rexpr, "A_Expr.rexpr"))
    if node.kind == enums.A_Expr_Kind.AEXPR_OP_ANY:
        inner = strip_casts(node.rexpr)
        return list(inner.elements or ()) if isinstance(inner, ast.A_ArrayExpr) else []
    return []


def _is_column(node: object, name: str) -> bool:
    node = strip_casts(node)
    return isinstance(node, ast.ColumnRef) and column_name(node) == name


def _neighbours(column: ColumnSpec, value: object) -> list[object]:
    if isinstance(value, Decimal):
        step = _step(column)
        return [value, value + step, value - step]
    if isinstance(value, Moment):
        if abs(value.days) >= FAR:
            return []  # a literal far from the run: the usual moments compare with it
        whole = Fraction(int(value.days))
        if value in (NOW, TODAY):
            # Two days clear of the database's clock, whatever its time zone.
            return [Moment(whole + 2), Moment(whole - 2)]
        return [value, Moment(whole + 1), Moment(whole - 1), Moment(whole + 2)]
    return [value]


def fits(column: ColumnSpec, value: object) -> bool:
    """Whether the column stores ``value`` as it is (no rounding, overflow or truncation)."""
    if value is None:
        return column.nullable or bool(column.examples)
    column_type = column.column_type
    if isinstance(value, Decimal):
        return (
            column.kind in NUMBER_TYPES
            and column_type is not None
            and number_fits(column_type, value)
        )
    if isinstance(value, str):
        if column.kind == "enum" and column_type is not None:
            return value in column_type.values
        limit = column_type.max_length if column_type else None
        return column.kind in TEXT_TYPES and (limit is None or len(value) <= limit)
    if isinstance(value, Moment):
        # Whole days only: the database's now() lies somewhere in the run's first day.
        return column.kind in ("datetime", "date") and value.days == int(value.days)
    if isinstance(value, bool):
        return column.kind == "boolean"
    return True


def number_fits(column_type: ColumnType, number: Decimal) -> bool:
    """Whether a column of this type stores ``number`` exactly (no rounding, no overflow)."""
    limit = INTEGER_LIMITS.get(column_type.name)
    if limit is not None:
        return number == number.to_integral_value() and abs(number) <= limit
    if column_type.name == "decimal" and column_type.precision is not None:
        scale = column_type.scale or 0
        exponent = number.normalize().as_tuple().exponent
        decimals = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        return decimals <= scale and abs(number) < 10 ** (column_type.precision - scale)
    return True


def _distinct(values: Sequence[object]) -> Iterator[object]:
    seen: list[object] = []
    for value in values:
        key = (type(value), value)
        if key not in seen:
            seen.append(key)
            yield value
