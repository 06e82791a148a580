"""Building an entity's ``indexes``, ``unique`` lists and ``checks``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from entityforge import naming
from entityforge.catalog import KEY_ROW_BUDGET, value_width
from entityforge.parse_tree import references
from entityforge.schema import INDEX_METHODS, CheckSpec, ColumnType, Field, IndexMethod, IndexSpec
from entityforge.spec.document import DocPath
from entityforge.spec.fields import checked_expression, method_misfit
from entityforge.spec.issues import Issues, did_you_mean
from entityforge.spec.names import check_identifier
from entityforge.spec.raw import RawCheck, RawIndex
from entityforge.spec.volatility import non_immutable_calls

# A table's columns and their types (None where the field's type was invalid).
Columns = Mapping[str, ColumnType | None]


def column_list(
    issues: Issues, path: DocPath, names: Sequence[str], columns: Columns, tenant: str | None
) -> tuple[str, ...] | None:
    """Check a list of column names of this table; ``None`` if any is wrong."""
    if not names:
        issues.at_value(path, "the list of columns is empty", hint="name at least one column")
        return None
    for index, name in enumerate(names):
        if tenant is not None and name == tenant:
            issues.at_value(
                path + (index,),
                f"'{name}' is the tenant column, which the generator puts first by itself",
                hint=f"remove '{name}': every index and unique on a tenant-scoped table "
                "already leads with it",
            )
            return None
        if name not in columns:
            issues.at_value(
                path + (index,),
                f"'{name}' is no column of this table",
                hint=did_you_mean(name, columns) or f"the columns are: {', '.join(columns)}",
            )
            return None
        if names.index(name) != index:
            issues.at_value(
                path + (index,),
                f"the column '{name}' is listed twice",
                hint="name each column once",
            )
            return None
    return tuple(names)


def build_indexes(
    issues: Issues,
    base: DocPath,
    raws: Sequence[RawIndex],
    implied: Sequence[IndexSpec],
    columns: Columns,
    tenant: str | None,
) -> tuple[IndexSpec, ...]:
    """Declared indexes; ``implied`` are those the fields' ``index`` keys make."""
    seen = list(implied)
    specs: list[IndexSpec] = []
    for position, raw in enumerate(raws):
        path = base + ("indexes", position)
        spec = _index(issues, path, raw, columns, tenant)
        if spec is None:
            continue
        if replace(spec, name=None) in seen:
            issues.at_value(
                path,
                "this index repeats another index of the entity",
                hint="remove one of them (a field's 'index' key makes an index too)",
            )
            continue
        seen.append(replace(spec, name=None))
        specs.append(spec)
    return tuple(specs)


def _index(
    issues: Issues, path: DocPath, raw: RawIndex, columns: Columns, tenant: str | None
) -> IndexSpec | None:
    if raw.using not in INDEX_METHODS:
        issues.at_value(
            path + ("using",),
            f"unknown index method '{raw.using}'",
            hint=did_you_mean(raw.using, INDEX_METHODS)
            or f"use one of: {', '.join(INDEX_METHODS)}",
        )
        return None
    if raw.unique and raw.using != "btree":
        issues.at_key(
            path + ("unique",),
            f"a {raw.using} index cannot be unique",
            hint="only btree indexes enforce uniqueness",
        )
        return None
    if raw.columns is None and raw.expressions is None:
        issues.at_key(
            path,
            "an index needs 'columns', 'expressions' or both",
            hint="name the indexed columns, or give SQL expressions such as lower(email)",
        )
        return None
    names: tuple[str, ...] | None = ()
    if raw.columns is not None:
        names = column_list(issues, path + ("columns",), raw.columns, columns, tenant)
    if names is None or not _methods_fit(issues, path, raw.using, names, columns):
        return None
    expressions = _expressions(issues, path, raw, columns)
    include = _include(issues, path, raw, names, columns, tenant)
    if expressions is None or include is None:
        return None
    where = checked_expression(issues, path + ("where",), raw.where, columns)
    if raw.where is not None and where is None:
        return None
    calls = non_immutable_calls(where) if where is not None else ()
    if calls:
        issues.at_value(
            path + ("where",),
            f"the index predicate calls {', '.join(calls)}, which PostgreSQL does not mark "
            "IMMUTABLE: it refuses such a predicate",
            hint="compare with constants only (a partial index is fixed when rows are "
            "written); filter by the moment in the application's queries",
        )
        return None
    name_ok = raw.name is None or check_identifier(
        issues, path + ("name",), raw.name, "index name", pattern=naming.PLAIN_IDENTIFIER
    )
    if not name_ok:
        return None
    using: IndexMethod = raw.using  # type: ignore[assignment]
    return IndexSpec(names, raw.unique, using, where, raw.name, expressions, include)


def _expressions(
    issues: Issues, path: DocPath, raw: RawIndex, columns: Columns
) -> tuple[str, ...] | None:
    """The index's expressions, parsed: each reads a column and calls immutable
    functions only (PostgreSQL refuses others), and btree indexes them."""
    if raw.expressions is None:
        return ()
    if not raw.expressions:
        issues.at_value(
            path + ("expressions",),
            "the list of expressions is empty",
            hint="give at least one expression, or leave the key out",
        )
        return None
    if raw.using != "btree":
        issues.at_key(
            path + ("expressions",),
            f"expressions are indexed by btree indexes, not {raw.using}",
            hint="leave out 'using' (btree), or index a stored column instead",
        )
        return None
    found: list[str] = []
    for position, text in enumerate(raw.expressions):
        where = path + ("expressions", position)
        expression = _expression(issues, where, text, columns)
        if expression is None:
            return None
        if expression in found:
            issues.at_value(where, "this expression is listed twice", hint="list it once")
            return None
        found.append(expression)
    return tuple(found)


def checked_immutable(
    issues: Issues, path: DocPath, text: str | None, columns: Columns, what: str
) -> str | None:
    """Parse an ``expression`` or ``predicate`` over the table's ``columns`` that an
    index holds, so calls only functions PostgreSQL marks IMMUTABLE; None if invalid."""
    expression = checked_expression(issues, path, text, columns)
    if expression is None:
        return None
    calls = non_immutable_calls(expression)
    if calls:
        issues.at_value(
            path,
            f"the {what} calls {', '.join(calls)}, which PostgreSQL does not mark "
            f"IMMUTABLE: it refuses such an index {what}",
            hint="index values fixed when a row is written: immutable functions and "
            "operators of the row's own columns",
        )
        return None
    return expression


def _expression(issues: Issues, path: DocPath, text: str, columns: Columns) -> str | None:
    expression = checked_immutable(issues, path, text, columns, "expression")
    if expression is None:
        return None
    read = references(expression).columns
    if not read:
        issues.at_value(
            path,
            "the expression reads no column: its value would be the same in every row",
            hint="index an expression over the table's columns, such as lower(email)",
        )
        return None
    if expression in columns:
        issues.at_value(
            path,
            f"the expression is the column '{expression}' itself",
            hint=f"list '{expression}' under 'columns'",
        )
        return None
    return expression


def _include(
    issues: Issues,
    path: DocPath,
    raw: RawIndex,
    keys: Sequence[str],
    columns: Columns,
    tenant: str | None,
) -> tuple[str, ...] | None:
    """The covering columns: btree only, none of the keys, each of bounded width (an
    included value is stored in every index row, which holds at most 2,704 bytes)."""
    if raw.include is None:
        return ()
    if raw.using != "btree":
        issues.at_key(
            path + ("include",),
            f"covering columns belong to btree indexes, not {raw.using}",
            hint="leave out 'using' (btree), or 'include'",
        )
        return None
    names = column_list(issues, path + ("include",), raw.include, columns, tenant)
    if names is None:
        return None
    for position, name in enumerate(names):
        where = path + ("include", position)
        if name in keys:
            issues.at_value(
                where,
                f"'{name}' is already a key of the index",
                hint=f"remove '{name}' from 'include' (a key is stored in the index already)",
            )
            return None
        column_type = columns[name]
        width = value_width(column_type) if column_type is not None else 0
        if width is None or width > KEY_ROW_BUDGET:
            issues.at_value(
                where,
                f"the values of '{name}' can be longer than an index row holds (2,704 "
                "bytes): a row with a long one could not be written",
                hint="include columns of bounded width (numbers, dates, short strings)",
            )
            return None
    return names


def _methods_fit(
    issues: Issues, path: DocPath, method: str, names: Sequence[str], columns: Columns
) -> bool:
    for index, name in enumerate(names):
        column_type = columns[name]
        misfit = method_misfit(method, column_type) if column_type else None
        if misfit:
            issues.at_value(path + ("columns", index), misfit[0], misfit[1])
            return False
    return True


def build_uniques(
    issues: Issues,
    base: DocPath,
    raws: Sequence[Sequence[str]],
    implied: Sequence[tuple[str, ...]],
    columns: Columns,
    tenant: str | None,
) -> tuple[tuple[str, ...], ...]:
    """The ``unique`` lists; ``implied`` are those fields and one-to-one relations make."""
    seen = {frozenset(names) for names in implied}
    result: list[tuple[str, ...]] = []
    for position, raw in enumerate(raws):
        path = base + ("unique", position)
        names = column_list(issues, path, raw, columns, tenant)
        if names is None:
            continue
        if frozenset(names) in seen:
            issues.at_value(
                path,
                f"the unique columns [{', '.join(names)}] are already unique",
                hint="remove this list (or the field's 'unique: true')",
            )
            continue
        seen.add(frozenset(names))
        result.append(names)
    return tuple(result)


def build_checks(
    issues: Issues,
    base: DocPath,
    raws: Sequence[RawCheck],
    fields: Sequence[Field],
    columns: Columns,
) -> tuple[CheckSpec, ...]:
    """Table checks; their names share one namespace with the fields' own checks."""
    taken = {field.name for field in fields if field.check}
    result: list[CheckSpec] = []
    for position, raw in enumerate(raws):
        path = base + ("checks", position)
        if not check_identifier(issues, path + ("name",), raw.name, "check name"):
            continue
        if raw.name in taken:
            issues.at_value(
                path + ("name",),
                f"the check name '{raw.name}' is already used in this entity",
                hint="a field's 'check' is named after the field; choose another name",
            )
            continue
        taken.add(raw.name)
        expression = checked_expression(issues, path + ("expression",), raw.expression, columns)
        if expression is not None:
            result.append(CheckSpec(raw.name, expression))
    return tuple(result)
