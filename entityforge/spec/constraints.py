"""Building an entity's ``indexes``, ``unique`` lists and ``checks``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from entityforge import naming
from entityforge.schema import INDEX_METHODS, CheckSpec, ColumnType, Field, IndexSpec
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
    names = column_list(issues, path + ("columns",), raw.columns, columns, tenant)
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
    if names is None or not _methods_fit(issues, path, raw.using, names, columns):
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
    return IndexSpec(names, raw.unique, raw.using, where, raw.name)  # type: ignore[arg-type]


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
