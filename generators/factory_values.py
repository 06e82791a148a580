"""The solver's choices as Python source for the generated factories and check tests.

Each value becomes an expression over the helpers ``tests/factories.py`` defines
(``moment``, ``day``, ``unique_text``, ``pattern_text``, ``unique_number``) or plain
literals, with the imports it needs recorded as data.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from entityforge.generators.python_source import string_literal
from entityforge.rows.candidates import ColumnSpec
from entityforge.rows.sources import (
    Fixed,
    PatternText,
    RangeFamily,
    Source,
    UniqueChoice,
    UniqueMoment,
    UniqueNumber,
    UniqueText,
    Varying,
)
from entityforge.rows.tables import ISODate
from entityforge.rows.values import PARENT, Interval, Moment, Opaque
from entityforge.schema import INTEGER_BITS

INTEGER_KINDS = frozenset(INTEGER_BITS)


@dataclass(frozen=True)
class Expression:
    """Python source for a value, the factories' helpers it calls and its imports."""

    text: str
    helpers: frozenset[str] = frozenset()
    imports: frozenset[tuple[str, str]] = frozenset()


# Where a value stands once black splits what holds it: a dict entry of a module-level
# constant, or a keyword argument, both at most two indents deep.
VALUE_INDENT = 8
# What a factory leaves to polyfactory or to ``new_values`` (parents are inserted there).
LEFT_ALONE = None
NEW_PARENT = Expression("NEW_PARENT", frozenset({"NEW_PARENT"}))


# The factories' helper that makes each range type's values (``sources.RangeFamily``).
RANGE_HELPERS = {
    "tstzrange": "moment_range",
    "daterange": "day_range",
    "int4range": "number_range",
    "int8range": "number_range",
    "numrange": "decimal_range",
}


def range_expression(kind: str) -> Expression:
    """The factory's value of a range column: the next of its run of ranges."""
    helper = RANGE_HELPERS[kind]
    return Expression(f"Use({helper})", frozenset({helper}))


def source_expression(column: ColumnSpec, source: Source) -> Expression | None:
    """How the factory sets ``column``; None where polyfactory's choice (or a parent) serves."""
    if isinstance(source, Fixed):
        return value_expression(column, source.value)
    if isinstance(source, UniqueText):
        return Expression(
            f"Use(unique_text, {source.width}, {source.alphabet!r})", frozenset({"unique_text"})
        )
    if isinstance(source, PatternText):
        return Expression(
            f"Use(pattern_text, {source.regex!r}, {source.max_length!r})",
            frozenset({"pattern_text"}),
        )
    if isinstance(source, UniqueChoice):
        choices = [value_expression(column, value) for value in source.values]
        texts = [choice.text for choice in choices if choice is not None]
        values = f"({texts[0]},)" if len(texts) == 1 else f"({', '.join(texts)})"
        return Expression(f"Use(unique_choice, {values})", frozenset({"unique_choice"}))
    if isinstance(source, UniqueNumber):
        start = value_expression(column, source.start)
        assert start is not None
        return Expression(
            f"Use(unique_number, {start.text})",
            start.helpers | {"unique_number"},
            start.imports,
        )
    if isinstance(source, UniqueMoment):
        helper = "unique_day" if column.kind == "date" else "unique_moment"
        return Expression(f"Use({helper}, {_days(source.start.days)})", frozenset({helper}))
    if isinstance(source, RangeFamily):
        return range_expression(source.kind)
    assert isinstance(source, Varying)
    return None


def value_expression(column: ColumnSpec, value: object) -> Expression | None:
    """A literal value of ``column`` as Python; None for a value only the row's type knows."""
    if value is PARENT:
        return LEFT_ALONE
    if isinstance(value, ISODate):
        kind = "datetime" if column.kind == "datetime" else "date"
        return Expression(
            f"{kind}.fromisoformat({value.what!r})", imports=frozenset({("datetime", kind)})
        )
    if isinstance(value, Opaque):
        return LEFT_ALONE
    if isinstance(value, str):
        # The value of a keyword or dict entry, one indent into a call or dict black splits.
        return Expression(string_literal(value, VALUE_INDENT, suffix=","))
    if value is None or isinstance(value, bool):
        return Expression(repr(value))
    if isinstance(value, Decimal):
        return _number(column, value)
    if isinstance(value, Moment):
        helper = "day" if column.kind == "date" else "moment"
        return Expression(f"{helper}({_days(value.days)})", frozenset({helper}))
    if isinstance(value, Interval):
        return Expression(
            f"timedelta(days={_days(value.days)})", imports=frozenset({("datetime", "timedelta")})
        )
    if isinstance(value, datetime.time):
        return Expression(
            f"time({value.hour}, {value.minute})", imports=frozenset({("datetime", "time")})
        )
    raise TypeError(f"no Python literal for {value!r}")


def _number(column: ColumnSpec, value: Decimal) -> Expression:
    if column.kind in INTEGER_KINDS:
        return Expression(str(int(value)))
    if column.kind == "float":
        return Expression(repr(float(value)))
    return Expression(f"Decimal({str(value)!r})", imports=frozenset({("decimal", "Decimal")}))


def _days(days: Fraction) -> str:
    assert days.denominator == 1, "factories write whole days"
    return str(days.numerator)
