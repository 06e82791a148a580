"""How the catalog's types and defaults are spelled in SQL (``varchar(200)``, a default's
literal), for revisions, refusals and docs alike."""

from __future__ import annotations

import json
import math

from entityforge import naming
from entityforge.catalog import ENUM_LENGTH, Column
from entityforge.schema import SPELLINGS, ColumnType, DefaultValue, JsonValue


def quote_literal(text: str) -> str:
    """A SQL string literal (standard-conforming: only quotes are doubled)."""
    return "'" + text.replace("'", "''") + "'"


def sql_type(column_type: ColumnType) -> str:
    """The PostgreSQL type of a column, as a cast target."""
    name = column_type.name
    if name == "string":
        return f"varchar({column_type.max_length})"
    if name == "decimal":
        if column_type.precision is None:
            return "numeric"
        return f"numeric({column_type.precision}, {column_type.scale or 0})"
    if name == "enum":
        if column_type.enum_name is None:
            return f"varchar({ENUM_LENGTH})"
        qualified = naming.qualified_name(column_type.enum_schema, column_type.enum_name)
        return naming.quote_qualified(qualified)
    if name == "array":
        assert column_type.item is not None
        return f"{sql_type(column_type.item)}[]"
    sql = SPELLINGS[name].sql
    assert sql is not None, f"{name} is spelled by its parameters"
    return sql


def default_expression(column: Column) -> str | None:
    """The SQL of a column's server default: ``default_sql`` as written, or the literal."""
    if column.default_sql is not None:
        return column.default_sql
    if column.default is None:
        return None
    return literal_default(column.default, column.type)


def literal_default(default: DefaultValue, column_type: ColumnType) -> str:
    """A literal default as a SQL expression of the column's type."""
    if column_type.name == "json":
        document = json.dumps(_json_data(default), ensure_ascii=False)
        return f"{quote_literal(document)}::jsonb"
    if column_type.name == "array" and isinstance(default.value, tuple):
        if not default.value:
            return f"'{{}}'::{sql_type(column_type)}"
        items = ", ".join(_scalar_literal(item) for item in default.value)
        return f"ARRAY[{items}]::{sql_type(column_type)}"
    return _scalar_literal(default.value)


def _scalar_literal(value: JsonValue) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value):
            return repr(value)
        return quote_literal({math.inf: "Infinity", -math.inf: "-Infinity"}.get(value, "NaN"))
    if isinstance(value, str):
        return quote_literal(value)
    raise ValueError(f"not a scalar default: {value!r}")


def _json_data(default: DefaultValue) -> object:
    """The JSON document a default holds (mappings are stored as key/value pairs)."""
    if default.kind == "object" and isinstance(default.value, tuple):
        return {str(pair[0]): _json_plain(pair[1]) for pair in default.value}  # type: ignore[index]
    return _json_plain(default.value)


def _json_plain(value: JsonValue) -> object:
    if isinstance(value, tuple):
        return [_json_plain(item) for item in value]
    return value
