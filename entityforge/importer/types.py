"""A live column's type and default in the spec's terms.

``spec_type`` gives the field's type (a type expression, or a mapping for enums and
arrays) and, where the format has no exact equivalent, what it chose instead.
``spec_default`` reads a column default with pglast: a literal becomes ``default``, any
other expression ``default_sql`` exactly as PostgreSQL prints it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pglast import ast, parse_sql
from pglast.parser import ParseError

from entityforge.importer.live import LiveColumn, LiveType
from entityforge.parse_tree import required
from entityforge.schema import SEARCH_TYPES, SPELLINGS

_SAME = {
    spelling.udt: name
    for name, spelling in SPELLINGS.items()
    if spelling.udt and name not in SEARCH_TYPES
}
# Stored differently by the spec's type: (type, what changes).
_NEAR = {
    "float4": ("float", "real becomes double precision"),
    "timestamp": ("datetime", "timestamp without time zone becomes timestamptz"),
    "timetz": ("time", "time with time zone becomes time"),
    "json": ("json", "json becomes jsonb"),
    "varchar": ("text", "varchar without a length becomes text"),
}
_INTEGERS = ("int2", "int4", "int8")
_FRACTIONS = ("numeric", "float4", "float8")


@dataclass(frozen=True)
class ImportedType:
    """``value`` goes under the field's ``type`` (or is the field's mapping itself)."""

    value: str | dict[str, Any]
    change: str | None = None
    """What the spec's type stores differently, if anything."""


def spec_type(live: LiveType, enums: Mapping[str, tuple[str, ...]]) -> ImportedType:
    if live.kind == "enum" and live.name in enums:
        return ImportedType({"type": "enum", "values": list(enums[live.name])})
    if live.kind == "array" and live.element is not None:
        item = spec_type(live.element, enums)
        if isinstance(item.value, str) and live.element.kind != "enum":
            return ImportedType({"type": "array", "of": item.value}, item.change)
        return ImportedType(
            "text", f"{live.display} (an array of {live.element.name}) becomes text"
        )
    return _scalar_type(live)


def _scalar_type(live: LiveType) -> ImportedType:
    if live.name in _SAME:
        return ImportedType(_SAME[live.name])
    if live.name == "varchar" and live.length is not None:
        return ImportedType(f"string({live.length})")
    if live.name == "bpchar" and live.length is not None:
        return ImportedType(
            f"string({live.length})", f"{live.display} becomes varchar({live.length})"
        )
    if live.name == "numeric":
        if live.precision is None:
            return ImportedType("decimal")
        return ImportedType(f"decimal({live.precision},{live.scale or 0})")
    if live.name in _NEAR:
        name, change = _NEAR[live.name]
        return ImportedType(name, change)
    return ImportedType("text", f"{live.display} has no spec type; it becomes text")


@dataclass(frozen=True)
class ImportedDefault:
    """Exactly one of ``literal`` (with ``has_literal``) and ``sql`` is set, or neither."""

    literal: Any = None
    has_literal: bool = False
    sql: str | None = None


def spec_default(column: LiveColumn) -> ImportedDefault:
    """The spec's ``default`` or ``default_sql`` for a column's server default."""
    text = column.default
    if text is None or column.generated is not None:
        return ImportedDefault()
    try:
        statement = parse_sql(f"SELECT {text}")[0].stmt
    except ParseError:
        return ImportedDefault(sql=text)
    assert isinstance(statement, ast.SelectStmt) and statement.targetList
    node = statement.targetList[0].val
    found, value = _literal(node, column.type)
    return ImportedDefault(value, True) if found else ImportedDefault(sql=text)


def _literal(node: Any, live: LiveType) -> tuple[bool, Any]:
    if isinstance(node, ast.TypeCast):
        node = node.arg
    if isinstance(node, ast.A_ArrayExpr) and live.kind == "array" and live.element:
        items = [_literal(element, live.element) for element in node.elements or ()]
        if all(found for found, _ in items):
            return True, [value for _, value in items]
        return False, None
    if not isinstance(node, ast.A_Const) or node.isnull:
        return False, None
    value = required(node.val, "A_Const.val")
    names = tuple(value)  # a node iterates over its attribute names
    raw: Any = getattr(value, names[0]) if names else None
    return _typed(raw, live)


def _typed(raw: Any, live: LiveType) -> tuple[bool, Any]:
    """A constant as the spec writes it for the column's type."""
    name = live.name
    try:
        if name in _INTEGERS:
            return True, int(raw)
        if name in _FRACTIONS:
            number = float(raw)
            return True, int(number) if str(raw).lstrip("-").isdigit() else number
        if name == "bool":
            return isinstance(raw, bool), raw
        if name in ("jsonb", "json"):
            return True, json.loads(raw)
        if live.kind == "array":
            return (raw == "{}", []) if isinstance(raw, str) else (False, None)
    except (TypeError, ValueError):
        return False, None
    return isinstance(raw, str), raw
