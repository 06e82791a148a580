"""An imported entity's uniques, indexes and checks.

Uniques the generator derives (a field's ``unique``, an entity's ``unique`` lists, the
live-rows unique indexes of soft-delete tables, the unique indexes holding long text by
its digest) are told apart from declared indexes;
indexes on foreign keys, which the generator adds itself, are left out.
"""

from __future__ import annotations

import re
from typing import Any

from pglast import ast, parse_sql
from pglast.enums import A_Expr_Kind, BoolExprType, NullTestType
from pglast.parser import scan
from pglast.stream import RawStream

from entityforge import naming
from entityforge.catalog import ENUM_LENGTH
from entityforge.importer.draft import EntityDraft, renamed, set_key
from entityforge.importer.live import LiveConstraint, LiveIndex
from entityforge.parse_tree import SELECT, column_name, required, select_target

SOFT_DELETE_PREDICATE = "(deleted_at IS NULL)"


def add_uniques(draft: EntityDraft, relations: dict[str, dict[str, Any]]) -> None:
    table, unique_sets = draft.table, []
    for constraint in table.of_kind("u"):
        unique_sets.append((constraint.name, constraint.columns))
    for index in table.indexes:
        if _is_live_unique(draft, index):
            unique_sets.append((index.name, index.columns))
    multi: list[list[str]] = []
    for name, columns in unique_sets:
        own = list(
            columns[len(draft.lead) :] if columns[: len(draft.lead)] == draft.lead else columns
        )
        if own == ["id"] or (draft.scoped and columns == (draft.tenant_column, "id")):
            continue
        if len(own) == 1 and own[0] in relations:
            relations[own[0]]["kind"] = "one_to_one"
        elif len(own) == 1 and own[0] in draft.doc.get("fields", {}):
            set_key(draft.doc["fields"], own[0], "unique", True)
        elif all(c in draft.doc.get("fields", {}) or c in relations for c in own):
            multi.append(own)
        else:
            draft.find(
                f"unique {name} on {table.name}",
                "it covers columns the spec does not hold",
                "declare it again once those columns are fields",
            )
            continue
        if name != naming.unique_name(table.name, tuple(columns)):
            renamed(draft, "unique constraint", name)
    if multi:
        draft.doc["unique"] = multi


def _is_live_unique(draft: EntityDraft, index: LiveIndex) -> bool:
    """A unique index that holds a field's or the entity's uniqueness: among live rows, or
    over long text by its digest (``md5(column)``)."""
    live = bool(draft.doc["soft_delete"]) and index.where == SOFT_DELETE_PREDICATE
    return (
        index.unique
        and index.constraint is None
        and (live or (bool(index.hashed) and index.where is None))
        and not index.has_expressions
    )


def add_indexes(draft: EntityDraft) -> None:
    table, declared = draft.table, []
    fk_indexes = {naming.index_name(table.name, fk.columns) for fk in table.of_kind("f")}
    searched = {c.name for c in table.columns if c.type.name == "tsvector"}
    for index in table.indexes:
        if index.constraint is not None or _is_live_unique(draft, index):
            continue
        if searched.intersection(index.columns):
            continue  # the search's own index, or one on a column left out
        if index.name in fk_indexes and index.method == "btree" and not index.where:
            continue
        entry = _index_entry(draft, index)
        if entry is not None:
            declared.append(entry)
    if declared:
        draft.doc["indexes"] = declared


def _index_entry(draft: EntityDraft, index: LiveIndex) -> dict[str, Any] | None:
    subject = f"index {index.name} on {draft.table.name}"
    if index.has_expressions and (not index.columns_first or index.method != "btree"):
        draft.find(
            subject,
            f"an expression index ({index.definition})",
            "the spec indexes btree expressions after the columns; create this one in a "
            "revision of your own",
        )
        return None
    columns, opclasses = list(index.columns), list(index.opclasses)
    if draft.lead and tuple(columns[: len(draft.lead)]) == draft.lead:
        columns, opclasses = columns[len(draft.lead) :], opclasses[len(draft.lead) :]
    using = index.method
    if opclasses and all(op == "gin_trgm_ops" for op in opclasses) and using == "gin":
        using = "trgm"
    elif any(opclasses):
        draft.find(
            subject,
            f"operator classes {', '.join(o for o in opclasses if o)}",
            "the spec chooses operator classes itself",
            "changed",
        )
    if using not in ("btree", "gin", "gist", "brin", "trgm"):
        draft.find(subject, f"the {index.method} method", "use btree, gin, gist, brin or trgm")
        return None
    entry: dict[str, Any] = {"columns": columns} if columns or not index.expressions else {}
    if index.expressions:
        entry["expressions"] = list(index.expressions)
    if index.include:
        entry["include"] = list(index.include)
    if index.unique:
        entry["unique"] = True
    if using != "btree":
        entry["using"] = using
    where = index.where
    if where and index.unique and draft.doc["soft_delete"]:
        # The generator adds "AND deleted_at IS NULL" to a unique index of its own accord.
        where = _without_live_rows_only(where)
    if where:
        entry["where"] = where
    entry["name"] = index.name
    return entry


def _without_live_rows_only(where: str) -> str | None:
    """A unique index's predicate without its last ``AND deleted_at IS NULL``, as written.

    PostgreSQL prints ``((kind = 'a'::text) AND (deleted_at IS NULL))``: the parse tree
    says whether the last condition is that one, and the text before its ``AND`` (after
    the outer parenthesis) is what the spec wrote."""
    node = select_target(where)
    if _is_live_rows_only(node):
        return None
    if not isinstance(node, ast.BoolExpr) or node.boolop != BoolExprType.AND_EXPR:
        return where
    last = required(node.args, "BoolExpr.args")[-1]
    if not _is_live_rows_only(last) or not where.startswith("("):
        return where
    assert isinstance(last, ast.NullTest) and isinstance(last.arg, ast.ColumnRef)
    column = required(last.arg.location, "ColumnRef.location") - len(SELECT)
    conjunction = max(t.start for t in scan(where) if t.name == "AND" and t.start < column)
    return where[1:conjunction].rstrip()


def _is_live_rows_only(node: ast.Node) -> bool:
    """Whether ``node`` is ``deleted_at IS NULL``."""
    return (
        isinstance(node, ast.NullTest)
        and node.nulltesttype == NullTestType.IS_NULL
        and isinstance(node.arg, ast.ColumnRef)
        and column_name(node.arg) == "deleted_at"
    )


def _listed_labels(expression: str) -> list[str] | None:
    """The labels of ``(column)::text = ANY ((ARRAY['a'::character varying, ...])::text[])``,
    an enum's check as PostgreSQL prints it; None for any other expression."""
    node = select_target(expression)
    if not isinstance(node, ast.A_Expr) or node.kind != A_Expr_Kind.AEXPR_OP_ANY:
        return None
    operator = required(node.name, "A_Expr.name")
    if len(operator) != 1 or operator[0].sval != "=":
        return None
    array = _uncast(node.rexpr) if isinstance(node.rexpr, ast.Node) else None
    if not isinstance(_uncast(node.lexpr), ast.ColumnRef) or not isinstance(
        array, ast.A_ArrayExpr
    ):
        return None
    labels: list[str] = []
    for element in array.elements or ():
        constant = _uncast(element)
        if not isinstance(constant, ast.A_Const) or not isinstance(constant.val, ast.String):
            return None
        labels.append(str(constant.val.sval))
    return labels


def _uncast(node: ast.Node | None) -> ast.Node | None:
    while isinstance(node, ast.TypeCast):
        node = node.arg
    return node


def _enum_labels(draft: EntityDraft, name: str, columns: tuple[str, ...], expression: str) -> bool:
    """A varchar field whose check lists its labels is an enum field: turn it into one."""
    fields = draft.doc.get("fields", {})
    labels = _listed_labels(expression)
    if labels is None or len(columns) != 1 or columns[0] not in fields:
        return False
    column = columns[0]
    if name != naming.check_name(draft.table.name, f"{column}_values"):
        return False
    field = fields[column]
    spec = dict(field) if isinstance(field, dict) else {"type": field}
    if spec.get("type") != f"string({ENUM_LENGTH})" or "check" in spec:
        return False
    fields[column] = {"type": "enum", "values": labels} | {
        key: value for key, value in spec.items() if key != "type"
    }
    return True


def add_checks(draft: EntityDraft) -> None:
    table, declared = draft.table, []
    fields = draft.doc.get("fields", {})
    prefix = f"ck_{table.name}_"
    for check in table.of_kind("c"):
        expression = required(check.expression, "a check's expression")
        if not check.validated:
            draft.find(
                f"check {check.name}",
                "it is NOT VALID (existing rows are unchecked)",
                "validate it before generating, or the revision validates it",
                "changed",
            )
        if _enum_labels(draft, check.name, check.columns, expression):
            continue
        column = next((c for c in fields if check.name == naming.check_name(table.name, c)), None)
        if column is not None and check.columns == (column,):
            set_key(fields, column, "check", expression)
            continue
        if not check.name.startswith(prefix):
            renamed(draft, "check", check.name)
            own = check.columns[0] if len(check.columns) == 1 else None
            if (
                own is not None
                and own in fields
                and not (isinstance(fields[own], dict) and "check" in fields[own])
            ):
                set_key(fields, own, "check", expression)
                continue
        declared.append({"name": _short_name(check.name, prefix), "expression": expression})
    exclusions = [_exclusion_entry(draft, exclusion) for exclusion in table.of_kind("x")]
    if any(exclusions):
        draft.doc["exclude"] = [entry for entry in exclusions if entry]
    if declared:
        draft.doc["checks"] = declared


def fold_field_indexes(entity: dict[str, Any]) -> None:
    """A plain one-column index of a field, under its conventional name, is the field's
    ``index`` key."""
    fields, declared = entity.get("fields", {}), entity.get("indexes", [])
    for entry in list(declared):
        plain = set(entry) <= {"columns", "using"} and len(entry["columns"]) == 1
        if plain and entry["columns"][0] in fields:
            set_key(fields, entry["columns"][0], "index", entry.get("using", True))
            declared.remove(entry)
    if "indexes" in entity and not declared:
        del entity["indexes"]


def _exclusion_entry(draft: EntityDraft, exclusion: LiveConstraint) -> dict[str, Any] | None:
    """An ``exclude`` entry from ``EXCLUDE USING gist (...) WHERE (...)`` as PostgreSQL
    prints it: the tenant column's leading ``=`` and a soft-delete table's live-rows
    predicate left out, as the generator adds them."""
    subject = f"exclusion constraint {exclusion.name}"
    statement = parse_sql(f"ALTER TABLE t ADD CONSTRAINT c {exclusion.definition}")[0].stmt
    assert isinstance(statement, ast.AlterTableStmt)
    constraint = required(statement.cmds, "AlterTableStmt.cmds")[0].def_
    if constraint.access_method != "gist":
        draft.find(subject, exclusion.definition, "the spec's exclusion constraints use gist")
        return None
    elements: list[list[str]] = []
    for element, operators in constraint.exclusions:
        subject_text = element.name if element.name else str(RawStream()(element.expr))
        elements.append([subject_text, operators[-1].sval])
    if draft.lead and elements[: len(draft.lead)] == [[c, "="] for c in draft.lead]:
        elements = elements[len(draft.lead) :]
    entry: dict[str, Any] = {"name": _short_name(exclusion.name, f"ex_{draft.table.name}_")}
    entry["elements"] = elements
    where = str(RawStream()(constraint.where_clause)) if constraint.where_clause else None
    if where and draft.doc["soft_delete"]:
        where = _without_live_rows_only(where)
    if where:
        entry["where"] = where
    return entry


def _short_name(name: str, prefix: str) -> str:
    """A constraint's name without the convention's ``prefix``, as a snake_case name."""
    short = name[len(prefix) :] if name.startswith(prefix) else name
    if not naming.SNAKE_CASE.match(short):
        short = re.sub(r"[^a-z0-9]+", "_", short.lower()).strip("_") or "constraint"
    return short
