"""Field types: type expressions (``string(200)``) to ``ColumnType``; literal defaults.

Every function here raises ``Problem`` with a path relative to the field (``("type",)``,
``("max_length",)``, ``("default", 2)``); the builder turns it into a located error.
"""

from __future__ import annotations

import difflib
import re
from typing import cast

from entityforge import naming
from entityforge.schema import FIELD_TYPES, ColumnType, FieldTypeName
from entityforge.spec.issues import Problem
from entityforge.spec.raw import RawField, RawItemType

MAX_VARCHAR_LENGTH = 10_485_760
MAX_NUMERIC_PRECISION = 1000
_MAX_PARAMETER_DIGITS = 9

_TYPE_EXPRESSION = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?\s*", re.DOTALL)

# Names people reach for from SQL or Python, and the type the spec calls them.
_TYPE_ALIASES = {
    "varchar": "string",
    "char": "string",
    "str": "string",
    "int": "integer",
    "int2": "smallint",
    "int4": "integer",
    "int8": "bigint",
    "bool": "boolean",
    "numeric": "decimal",
    "double": "float",
    "real": "float",
    "timestamp": "datetime",
    "timestamptz": "datetime",
    "jsonb": "json",
    "bytea": "bytes",
    "list": "array",
}

_ITEM_TYPES_REFUSED = ("array", "enum", "json")


def parse_type_expression(text: str) -> tuple[str, tuple[int, ...]]:
    """``decimal(12, 2)`` → ``("decimal", (12, 2))``; the name is not checked here."""
    match = _TYPE_EXPRESSION.fullmatch(text)
    if match is None:
        raise Problem(
            f"{text!r} is not a type expression",
            hint="write a type name, optionally with whole-number parameters: "
            "text, string(200), decimal(12,2)",
            at=("type",),
        )
    name, inside = match.group(1), match.group(2)
    if inside is None:
        return name, ()
    parts = [part.strip() for part in inside.split(",")]
    if not all(re.fullmatch(r"[0-9]+", part) for part in parts):
        raise Problem(
            f"the parameters of {text!r} must be whole numbers",
            hint="write e.g. string(200) or decimal(12,2)",
            at=("type",),
        )
    if any(len(part.lstrip("0")) > _MAX_PARAMETER_DIGITS for part in parts):
        raise Problem(
            f"a parameter of {text!r} is far too large",
            hint="string takes at most 10485760, decimal a precision of at most 1000",
            at=("type",),
        )
    return name, tuple(int(part) for part in parts)


def resolve_column_type(raw: RawField | RawItemType, entity: str, field: str) -> ColumnType:
    """The ``ColumnType`` a field (or an array's ``of``) declares."""
    name, params = parse_type_expression(raw.type)
    if name not in FIELD_TYPES:
        raise _unknown_type(name)
    _refuse_inapplicable_keys(name, raw)
    if name == "string":
        return ColumnType("string", max_length=_string_length(params, raw))
    if name == "decimal":
        precision, scale = _decimal_parameters(params, raw)
        return ColumnType("decimal", precision=precision, scale=scale)
    if params:
        raise Problem(
            f"type '{name}' takes no parameters",
            hint=f"write just '{name}'; only string(n) and decimal(p,s) take parameters",
            at=("type",),
        )
    if name == "enum":
        values = _enum_values(raw)
        return ColumnType("enum", values=values, enum_name=naming.enum_type_name(entity, field))
    if name == "array":
        return ColumnType("array", item=_array_item(raw, entity, field))
    return ColumnType(cast(FieldTypeName, name))


def _unknown_type(name: str) -> Problem:
    suggestion = _TYPE_ALIASES.get(name.lower())
    if suggestion is None:
        close = difflib.get_close_matches(name.lower(), FIELD_TYPES, n=1)
        suggestion = close[0] if close else None
    hint = f"did you mean '{suggestion}'?" if suggestion else None
    return Problem(
        f"unknown type '{name}'",
        hint=hint or f"the types are: {', '.join(FIELD_TYPES)}",
        at=("type",),
    )


def _refuse_inapplicable_keys(name: str, raw: RawField | RawItemType) -> None:
    owners = {"max_length": "string", "precision": "decimal", "scale": "decimal"}
    if isinstance(raw, RawField):
        owners |= {"values": "enum", "of": "array"}
    for key, owner in owners.items():
        if getattr(raw, key) is not None and name != owner:
            raise Problem(
                f"'{key}' applies only to {owner} fields, and this one is {name}",
                hint=f"remove '{key}', or make the type {owner}",
                at=(key,),
                on_key=True,
            )


def _string_length(params: tuple[int, ...], raw: RawField | RawItemType) -> int:
    if len(params) > 1:
        raise Problem(
            "string takes one parameter, its maximum length",
            hint="write e.g. string(200)",
            at=("type",),
        )
    if params and raw.max_length is not None:
        raise Problem(
            "the maximum length is given twice",
            hint="write either string(n) or max_length: n",
            at=("max_length",),
            on_key=True,
        )
    length = params[0] if params else raw.max_length
    if length is None:
        raise Problem(
            "a string needs a maximum length",
            hint="write string(200) or add 'max_length: 200'; use text for unlimited length",
            at=("type",),
        )
    if not 1 <= length <= MAX_VARCHAR_LENGTH:
        raise Problem(
            f"a string's maximum length must be 1 to {MAX_VARCHAR_LENGTH}, not {length}",
            hint="use text for long or unlimited strings",
            at=("type",) if params else ("max_length",),
        )
    return length


def _decimal_parameters(
    params: tuple[int, ...], raw: RawField | RawItemType
) -> tuple[int | None, int | None]:
    if len(params) > 2:
        raise Problem(
            "decimal takes at most two parameters: precision and scale",
            hint="write e.g. decimal(12,2)",
            at=("type",),
        )
    if params and (raw.precision is not None or raw.scale is not None):
        raise Problem(
            "precision and scale are given twice",
            hint="write either decimal(p,s) or precision/scale keys",
            at=("precision",) if raw.precision is not None else ("scale",),
            on_key=True,
        )
    at = ("type",) if params else ("precision",)
    precision = params[0] if params else raw.precision
    scale = params[1] if len(params) > 1 else raw.scale
    if precision is None:
        if scale is not None:
            raise Problem("a scale needs a precision", hint="add 'precision'", at=("scale",))
        return None, None
    if not 1 <= precision <= MAX_NUMERIC_PRECISION:
        raise Problem(
            f"a decimal's precision must be 1 to {MAX_NUMERIC_PRECISION}, not {precision}",
            hint="the precision counts all significant digits; omit it for any size",
            at=at,
        )
    if scale is not None and not 0 <= scale <= precision:
        raise Problem(
            f"a decimal's scale ({scale}) must be between 0 and its precision ({precision})",
            hint="the scale counts the digits after the point, out of precision digits",
            at=("type",) if params else ("scale",),
        )
    return precision, scale


def _enum_values(raw: RawField | RawItemType) -> tuple[str, ...]:
    values = getattr(raw, "values", None)
    if not values:
        raise Problem(
            "an enum needs a non-empty list of values",
            hint="add e.g. 'values: [todo, doing, done]'",
            at=("values",) if values is not None else ("type",),
        )
    for index, value in enumerate(values):
        if values.index(value) != index:
            raise Problem(
                f"the enum value {value!r} is listed twice",
                hint="list each value once",
                at=("values", index),
            )
        if len(value.encode()) > naming.MAX_IDENTIFIER_BYTES:
            raise Problem(
                f"the enum value {value[:20]!r}... is longer than PostgreSQL's 63 bytes",
                hint="shorten the label",
                at=("values", index),
            )
    return tuple(values)


def _array_item(raw: RawField | RawItemType, entity: str, field: str) -> ColumnType:
    item = getattr(raw, "of", None)
    if item is None:
        raise Problem(
            "an array needs the type of its items",
            hint="add e.g. 'of: string(40)' or 'of: integer'",
            at=("type",),
        )
    try:
        item_name, _ = parse_type_expression(item.type)
        if item_name in _ITEM_TYPES_REFUSED:
            raise Problem(
                f"an array's items may not be {item_name}",
                hint="use json for nested or mixed data",
                at=("type",),
            )
        return resolve_column_type(item, entity, field)
    except Problem as problem:
        raise Problem(
            problem.message, problem.hint, ("of",) + problem.at, problem.on_key
        ) from None
