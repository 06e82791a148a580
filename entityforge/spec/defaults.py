"""Literal defaults (``default:``): checked against the field's type and frozen.

A json field takes a mapping or a list, an array a list of items of its type, every
other type one scalar of that type. Problems point into the default (``at=(2,)`` for
its third item), relative to the ``default`` key.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from entityforge.schema import INTEGER_BITS, RANGE_ELEMENTS, ColumnType, DefaultValue, JsonValue
from entityforge.spec.issues import Problem, show_value


def literal_default(column_type: ColumnType, value: Any) -> DefaultValue:
    """The ``DefaultValue`` for ``value`` on a column of ``column_type``."""
    if column_type.name == "json":
        if isinstance(value, dict | list):
            kind: Literal["object", "array"] = "object" if isinstance(value, dict) else "array"
            return DefaultValue(_freeze_json(value, ()), kind)
        raise Problem(
            f"the default of a json field must be a mapping or a list, not {show_value(value)}",
            hint="write e.g. 'default: {}' or 'default: []'",
        )
    if column_type.name == "array":
        if not isinstance(value, list):
            raise Problem(
                f"the default of an array field must be a list, not {show_value(value)}",
                hint="write e.g. 'default: []'",
            )
        assert column_type.item is not None
        for index, item in enumerate(value):
            _check_scalar(column_type.item, item, (index,))
        return DefaultValue(tuple(value), "array")
    if isinstance(value, dict | list):
        fits = "json fields" if isinstance(value, dict) else "json and array fields"
        raise Problem(
            f"{show_value(value)} as default fits only {fits}, and this field is "
            f"{column_type.name}",
            hint="give a single value of the field's type",
        )
    _check_scalar(column_type, value, ())
    return DefaultValue(value, "scalar")


def _check_scalar(column_type: ColumnType, value: Any, at: tuple[int, ...]) -> None:
    checker = _CHECKERS[column_type.name]
    problem = checker(column_type, value)
    if problem:
        raise Problem(f"the default {show_value(value)} {problem}", hint=_hint(column_type), at=at)


def _hint(column_type: ColumnType) -> str:
    if column_type.name == "bytes":
        return "give bytes a default with default_sql, e.g. \"'\\\\x00'::bytea\""
    if column_type.name in RANGE_ELEMENTS:
        return f'give a range a default with default_sql, e.g. "{column_type.name}(...)"'
    if column_type.name == "enum":
        return f"use one of: {', '.join(column_type.values)}"
    return f"give a value of type {column_type.name}, or use default_sql for a SQL expression"


def _text(column_type: ColumnType, value: Any) -> str | None:
    if not isinstance(value, str):
        return "is not a string"
    if "\x00" in value:
        return "contains a NUL character, which PostgreSQL text cannot hold"
    if column_type.max_length is not None and len(value) > column_type.max_length:
        return f"is longer than the field's max_length {column_type.max_length}"
    return None


def _integer(column_type: ColumnType, value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return "is not a whole number"
    bits = INTEGER_BITS[column_type.name]
    if not -(2 ** (bits - 1)) <= value < 2 ** (bits - 1):
        return f"is out of range for {column_type.name}"
    return None


def _decimal(column_type: ColumnType, value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "is not a number"
    try:
        number = Decimal(repr(value) if isinstance(value, float) else str(value))
    except (InvalidOperation, ValueError):
        return "is not a number PostgreSQL can store"
    if not number.is_finite():
        return "is not a finite number"
    if column_type.precision is None or number.is_zero():
        return None
    scale = column_type.scale or 0
    _, digits, exponent = number.normalize().as_tuple()
    assert isinstance(exponent, int)
    whole_digits = max(0, len(digits) + exponent)
    fraction_digits = max(0, -exponent)
    if whole_digits > column_type.precision - scale or fraction_digits > scale:
        return f"has too many digits for decimal({column_type.precision},{scale})"
    return None


def _float(column_type: ColumnType, value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "is not a number"
    if isinstance(value, float) and not math.isfinite(value):
        return "is not a finite number"
    if isinstance(value, int) and abs(value) > 2**1023:
        return "is out of range for float"
    return None


def _boolean(column_type: ColumnType, value: Any) -> str | None:
    return None if isinstance(value, bool) else "is not true or false"


def _enum(column_type: ColumnType, value: Any) -> str | None:
    if isinstance(value, str) and value in column_type.values:
        return None
    return "is not one of the enum's values"


def _parsed_by(
    parse: Callable[[str], object], form: str
) -> Callable[[ColumnType, Any], str | None]:
    def check(column_type: ColumnType, value: Any) -> str | None:
        if not isinstance(value, str):
            return f"is not a {column_type.name} string ({form}); quote it"
        try:
            parse(value)
        except ValueError:
            return f"is not a valid {column_type.name} ({form})"
        return None

    return check


def _canonical_uuid(value: str) -> None:
    if str(uuid.UUID(value)) != value.lower():
        raise ValueError(value)


def _interval(column_type: ColumnType, value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return "is not an interval string such as '1 day'"
    return _text(column_type, value)


def _bytes(column_type: ColumnType, value: Any) -> str | None:
    return "cannot be a literal for a bytes field"


def _range(column_type: ColumnType, value: Any) -> str | None:
    return f"cannot be a literal for a {column_type.name} field"


_CHECKERS: dict[str, Callable[[ColumnType, Any], str | None]] = {
    "string": _text,
    "text": _text,
    "smallint": _integer,
    "integer": _integer,
    "bigint": _integer,
    "decimal": _decimal,
    "float": _float,
    "boolean": _boolean,
    "enum": _enum,
    "date": _parsed_by(dt.date.fromisoformat, "YYYY-MM-DD"),
    "datetime": _parsed_by(dt.datetime.fromisoformat, "ISO 8601, e.g. 2024-01-31T12:00:00Z"),
    "time": _parsed_by(dt.time.fromisoformat, "HH:MM[:SS]"),
    "uuid": _parsed_by(_canonical_uuid, "8-4-4-4-12 hex digits"),
    "interval": _interval,
    "bytes": _bytes,
    **dict.fromkeys(RANGE_ELEMENTS, _range),
}


def _freeze_json(value: Any, at: tuple[str | int, ...]) -> JsonValue:
    """JSON-like data as hashable tuples; refuses what jsonb cannot store."""
    if isinstance(value, dict):
        return tuple((key, _freeze_json(item, at + (key,))) for key, item in value.items())
    if isinstance(value, list):
        return tuple(_freeze_json(item, at + (index,)) for index, item in enumerate(value))
    if isinstance(value, float) and not math.isfinite(value):
        raise Problem(
            "a json default may not hold NaN or infinity",
            hint="JSON has no such numbers; use null or a string",
            at=at,
        )
    if isinstance(value, str) and "\x00" in value:
        raise Problem(
            "a json default may not hold a NUL character",
            hint="PostgreSQL's jsonb cannot store \\u0000; remove it",
            at=at,
        )
    return value  # type: ignore[no-any-return]
