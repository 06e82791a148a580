"""Building the fields of one entity: type, default, default_sql, index, check."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping

from entityforge.schema import INDEX_METHODS, ColumnType, Field, IndexMethod
from entityforge.spec.defaults import literal_default
from entityforge.spec.document import DocPath
from entityforge.spec.fieldtypes import resolve_column_type
from entityforge.spec.generated import conflicting_keys, generation_expression, system_column
from entityforge.spec.issues import Issues, Problem, did_you_mean
from entityforge.spec.raw import RawField
from entityforge.spec.sql import SqlExpression, SqlExpressionError, parse_expression

_TEXT_TYPES = ("string", "text")
_CONTAINER_TYPES = ("json", "array")
_NO_BRIN_TYPES = ("boolean", "enum")


def build_field(
    issues: Issues,
    base: DocPath,
    entity: str,
    name: str,
    raw: RawField,
    columns: Mapping[str, object],
    generated: Collection[str] = (),
) -> Field | None:
    """The ``Field`` at ``base``; ``None`` (with errors recorded) if its type is wrong.

    ``columns`` are the names of all columns of the entity's table, which a ``check``
    may refer to; ``generated`` those of its generated fields.
    """
    try:
        column_type = resolve_column_type(raw, entity, name)
    except Problem as problem:
        issues.add(problem, base)
        return None
    index = _index_method(issues, base, raw, column_type)
    check = checked_expression(issues, base + ("check",), raw.check, columns)
    default = None
    if raw.has_default and raw.default is not None:
        try:
            default = literal_default(column_type, raw.default)
        except Problem as problem:
            issues.add(problem, base + ("default",))
    elif raw.has_default and not raw.nullable:
        issues.at_value(
            base + ("default",),
            "a default of null on a field that is not nullable",
            hint="remove 'default', or add 'nullable: true'",
        )
    example = None
    if raw.example is not None and raw.unique:
        issues.at_key(
            base + ("example",),
            "a unique field cannot take an example: every row needs a value of its own",
            hint="remove 'example'; if its check is beyond the factories, simplify it",
        )
    elif raw.example is not None:
        try:
            example = literal_default(column_type, raw.example)
        except Problem as problem:
            issues.add(problem, base + ("example",))
    return Field(
        name=name,
        type=column_type,
        nullable=raw.nullable,
        default=default,
        default_sql=_default_sql(issues, base, raw),
        unique=raw.unique,
        index=index,
        check=check,
        comment=raw.comment,
        renamed_from=raw.renamed_from,
        example=example,
        generated=_generated(issues, base, raw, columns, generated),
    )


def checked_expression(
    issues: Issues,
    path: DocPath,
    text: str | None,
    columns: Mapping[str, object],
    parse: Callable[[str], SqlExpression] = parse_expression,
    elsewhere: str = "",
) -> str | None:
    """Parse a boolean expression over the table's ``columns`` with ``parse``; ``None``
    if invalid. ``elsewhere`` ends the hint for a column this table lacks."""
    if text is None:
        return None
    try:
        expression = parse(text)
    except SqlExpressionError as error:
        issues.at_value(path, error.message, error.hint)
        return None
    for column in expression.columns:
        if column not in columns:
            issues.at_value(
                path,
                f"the SQL expression refers to '{column}', which is no column of this table",
                hint=did_you_mean(column, columns)
                or f"the columns are: {', '.join(sorted(columns))}{elsewhere}",
            )
            return None
    return expression.text


def _generated(
    issues: Issues,
    base: DocPath,
    raw: RawField,
    columns: Mapping[str, object],
    generated: Collection[str],
) -> str | None:
    """The expression of a stored generated column, if the field has a valid one."""
    if raw.generated is None or conflicting_keys(issues, base, raw):
        return None
    path = base + ("generated",)
    try:
        named = parse_expression(raw.generated).columns
    except SqlExpressionError:
        named = ()
    if system_column(issues, path, named):
        return None
    expression = checked_expression(issues, path, raw.generated, columns)
    if expression is None:
        return None
    return generation_expression(issues, path, expression, generated)


def _default_sql(issues: Issues, base: DocPath, raw: RawField) -> str | None:
    if raw.default_sql is None:
        return None
    if raw.has_default:
        issues.at_key(
            base + ("default_sql",),
            "a field may have 'default' or 'default_sql', not both",
            hint="keep 'default' for a literal value, 'default_sql' for a SQL expression",
        )
        return None
    try:
        expression = parse_expression(raw.default_sql)
    except SqlExpressionError as error:
        issues.at_value(base + ("default_sql",), error.message, error.hint)
        return None
    if expression.columns:
        issues.at_value(
            base + ("default_sql",),
            f"default_sql may not refer to columns (it names '{expression.columns[0]}')",
            hint="a default is computed before the row exists; quote text as 'a string'",
        )
        return None
    return expression.text


def _index_method(
    issues: Issues, base: DocPath, raw: RawField, column_type: ColumnType
) -> IndexMethod | None:
    if raw.index is None or raw.index is False:
        return None
    method = "btree" if raw.index is True else raw.index
    path = base + ("index",)
    if method not in INDEX_METHODS:
        issues.at_value(
            path,
            f"unknown index method '{method}'",
            hint=did_you_mean(method, INDEX_METHODS)
            or f"use true or one of: {', '.join(INDEX_METHODS)}",
        )
        return None
    problem = method_misfit(method, column_type)
    if problem:
        issues.at_value(path, problem[0], problem[1])
        return None
    return method  # type: ignore[return-value]


def method_misfit(method: str, column_type: ColumnType) -> tuple[str, str] | None:
    """Why an index ``method`` cannot index a column of ``column_type``, with a hint."""
    kind = column_type.name
    if method == "trgm" and kind not in _TEXT_TYPES:
        return (
            f"a trgm index needs a string or text column, not {kind}",
            "use btree for exact matches on this column",
        )
    if method == "gin" and kind not in _CONTAINER_TYPES:
        return (
            f"a gin index is for json and array columns, not {kind}",
            "use btree (or trgm for text search)",
        )
    if method in ("gist", "brin") and kind in _CONTAINER_TYPES:
        return (f"a {method} index cannot index a {kind} column", "use gin for json and arrays")
    if method == "brin" and kind in _NO_BRIN_TYPES:
        return (f"PostgreSQL has no brin operator class for {kind}", "use btree")
    return None
