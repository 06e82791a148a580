"""A view's query: parsed with PostgreSQL's parser, checked against the spec's tables,
and its output columns and their types derived.

The query is one ``SELECT`` (set operations, ``WITH`` and subqueries allowed) that
changes nothing: no data-modifying ``WITH``, no ``SELECT INTO``, no ``FOR UPDATE``, no
parameters, no volatile function (``random()``, ``nextval()``). Every relation it reads
is a table or an earlier view of the spec, and every column it names is one of theirs.

The types of the output columns come from the parse and the spec's column types: a
column keeps its source's type, a cast gives its target, ``count`` is a ``bigint``,
``sum``, ``avg``, ``min`` and ``max`` follow PostgreSQL's rules over their argument,
constants, comparisons and a few text functions have theirs. Whatever else the query
computes needs a cast (``... ::numeric(12,2) AS total``): PostgreSQL alone could say, and
it is not there when the revision is written.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources

from pglast import ast, enums, parse_sql
from pglast.parser import ParseError

from entityforge.parse_tree import function_name, node_attributes, required, walk_nodes
from entityforge.schema import ColumnType, ViewColumn, ViewSource
from entityforge.spec.issues import did_you_mean
from entityforge.spec.sql import SqlExpressionError, deparse

_CAST_HINT = 'cast it to the type you mean, e.g. "sum(amount * 2)::numeric(12,2) AS total"'


@dataclass(frozen=True)
class Relation:
    """A table or view a query may read: its columns, and whether it is tenant-scoped."""

    columns: Mapping[str, ViewColumn]
    tenant_scoped: bool = False
    materialized: bool = False
    read_policies: bool = False
    """Whether restrictive policies narrow what the reader or writer may select."""
    schema: str | None = None
    """The PostgreSQL schema of a table outside public (views are in public)."""


@dataclass(frozen=True)
class ViewQuery:
    """A checked query: its deparsed text, output columns and the columns it reads."""

    text: str
    columns: tuple[ViewColumn, ...]
    sources: tuple[ViewSource, ...]
    grouped: tuple[str, ...] = ()
    """Of a query grouping rows by output columns only, those columns: no two rows share
    their values (empty otherwise)."""


@cache
def volatile_functions() -> frozenset[str]:
    """Built-in functions with only VOLATILE forms (read once from ``pg_proc``, shipped
    as data): a view calling one would give other rows each time it is read."""
    text = resources.files("entityforge.spec").joinpath("volatile_functions.txt")
    lines = text.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def parse_view_query(text: str, relations: Mapping[str, Relation]) -> ViewQuery:
    """Check ``text`` against ``relations``; raise ``SqlExpressionError`` if it is wrong."""
    statement = _single_select(text)
    _refuse_changes(statement)
    reader = _Reader(relations)
    columns = reader.select(statement, _Scope())
    names = [column.name for column in columns]
    duplicate = next((name for name in names if names.count(name) > 1), None)
    if duplicate is not None:
        raise SqlExpressionError(
            f"the query has two output columns named '{duplicate}'",
            hint="give each output column its own name with AS",
        )
    sources = tuple(
        ViewSource(relation, tuple(read)) for relation, read in sorted(reader.read.items())
    )
    grouped = _grouping_outputs(statement, names)
    return ViewQuery(deparse(statement), tuple(columns), sources, grouped)


def _grouping_outputs(statement: ast.SelectStmt, names: list[str]) -> tuple[str, ...]:
    """The output columns a ``GROUP BY`` groups by, when each of its items is one of them
    (by position, by name, or as the same expression); () when some item is not output,
    or the query is not one grouping SELECT."""
    targets = statement.targetList or ()
    if not statement.groupClause or statement.op != enums.SetOperation.SETOP_NONE:
        return ()
    values = [target.val for target in targets]
    if len(values) != len(names) or any(
        isinstance(value, ast.ColumnRef)
        and any(isinstance(field, ast.A_Star) for field in value.fields or ())
        for value in values
    ):
        return ()
    expressions = [deparse(value) for value in values]
    grouped = [_grouped_output(item, names, expressions) for item in statement.groupClause]
    if None in grouped:
        return ()
    return tuple(dict.fromkeys(name for name in grouped if name is not None))


def _grouped_output(item: ast.Node, names: list[str], expressions: list[str]) -> str | None:
    """The output column a ``GROUP BY`` item names: by position, by name, or as the same
    expression (None if it is none of them)."""
    if isinstance(item, ast.A_Const) and isinstance(item.val, ast.Integer):
        position = (item.val.ival or 0) - 1
        return names[position] if 0 <= position < len(names) else None
    fields = (item.fields or ()) if isinstance(item, ast.ColumnRef) else ()
    if len(fields) == 1 and isinstance(fields[0], ast.String) and fields[0].sval in names:
        return fields[0].sval
    text = deparse(item)
    return names[expressions.index(text)] if text in expressions else None


def _single_select(text: str) -> ast.SelectStmt:
    if not text.strip():
        raise SqlExpressionError("the query is empty", hint="write one SELECT statement")
    if "\x00" in text:
        raise SqlExpressionError("the query contains a NUL character", hint="remove it")
    try:
        statements = parse_sql(text)
    except ParseError as error:
        raise SqlExpressionError(
            f"invalid SQL: {error.args[0] if error.args else 'syntax error'}",
            hint="write one PostgreSQL SELECT statement",
        ) from None
    except (ValueError, TypeError, RecursionError, MemoryError):
        raise SqlExpressionError(
            "the query cannot be parsed", hint="write one PostgreSQL SELECT statement"
        ) from None
    statement = statements[0].stmt if len(statements) == 1 else None
    if not isinstance(statement, ast.SelectStmt):
        raise SqlExpressionError(
            "a view's query must be a single SELECT statement",
            hint="write one SELECT, with no ';' between statements",
        )
    return statement


_CHANGES: dict[type[ast.Node], str] = {
    ast.InsertStmt: "INSERT",
    ast.UpdateStmt: "UPDATE",
    ast.DeleteStmt: "DELETE",
    ast.MergeStmt: "MERGE",
}


def _refuse_changes(statement: ast.SelectStmt) -> None:
    for node in walk_nodes(statement):
        what = next((w for kind, w in _CHANGES.items() if isinstance(node, kind)), None)
        if what is not None:
            raise SqlExpressionError(
                f"a view's query may not {what} (a data-modifying WITH)",
                hint="a view only reads: write the change in the application",
            )
        if isinstance(node, ast.ParamRef):
            raise SqlExpressionError(
                "a view's query may not contain a parameter reference ($1)",
                hint="read a setting instead: current_setting('app.user_id', true)",
            )
        if isinstance(node, ast.SelectStmt) and (node.intoClause or node.lockingClause):
            raise SqlExpressionError(
                "a view's query may not use SELECT INTO or FOR UPDATE/SHARE",
                hint="a view only reads: remove the INTO or FOR ... clause",
            )
        if isinstance(node, ast.FuncCall) and function_name(node) in volatile_functions():
            raise SqlExpressionError(
                f"a view's query may not call the volatile function {function_name(node)}()",
                hint="a view gives the same rows each time it is read: use immutable or "
                "stable functions only",
            )
        if isinstance(node, ast.RangeFunction | ast.RangeTableFunc | ast.RangeTableSample):
            raise SqlExpressionError(
                "a view's query may read only the spec's tables and views",
                hint="read tables and views by name; functions in FROM are not checked",
            )


@dataclass
class _Scope:
    """The relations a part of the query sees: by alias, with their columns, each
    marked nullable when an outer join may leave it empty; and the enclosing scope."""

    aliases: dict[str, tuple[str | None, dict[str, ViewColumn]]] = field(default_factory=dict)
    ctes: dict[str, dict[str, ViewColumn]] = field(default_factory=dict)
    outer: _Scope | None = None

    def cte(self, name: str) -> dict[str, ViewColumn] | None:
        scope: _Scope | None = self
        while scope is not None:
            if name in scope.ctes:
                return scope.ctes[name]
            scope = scope.outer
        return None

    def column(self, qualifier: str | None, name: str) -> tuple[str | None, ViewColumn] | None:
        scope: _Scope | None = self
        while scope is not None:
            if qualifier is not None and qualifier in scope.aliases:
                relation, columns = scope.aliases[qualifier]
                return (relation, columns[name]) if name in columns else None
            if qualifier is None:
                for relation, columns in scope.aliases.values():
                    if name in columns:
                        return relation, columns[name]
            scope = scope.outer
        return None


class _Reader:
    """Walks a query, resolving every column against the relations, recording what it
    reads (``read``: relation → columns, in order) and deriving output columns."""

    def __init__(self, relations: Mapping[str, Relation]) -> None:
        self.relations = relations
        self.read: dict[str, list[str]] = {}

    def select(
        self, statement: ast.SelectStmt, outer: _Scope, *, named: bool = True
    ) -> list[ViewColumn]:
        """The output columns of ``statement``; ``named``: whether they need names (the
        later queries of a UNION take the first one's)."""
        scope = _Scope(outer=outer)
        if statement.withClause is not None:
            for cte in statement.withClause.ctes or ():
                query = cte.ctequery
                if not isinstance(query, ast.SelectStmt):
                    raise SqlExpressionError(
                        f"the WITH query {cte.ctename} of a view may only SELECT",
                        hint="a view only reads: write the change in the application",
                    )
                name = str(cte.ctename)
                scope.ctes[name] = _renamed(self.select(query, scope), cte.aliascolnames, name)
        if statement.op not in (0, enums.SetOperation.SETOP_NONE):
            left = self.select(required(statement.larg, "SelectStmt.larg"), scope)
            right = self.select(required(statement.rarg, "SelectStmt.rarg"), scope, named=False)
            if len(left) != len(right):
                raise SqlExpressionError(
                    "each query of the UNION, INTERSECT or EXCEPT selects as many columns",
                    hint="select the same columns in each",
                )
            return [
                replace(a, nullable=a.nullable or b.nullable)
                for a, b in zip(left, right, strict=True)
            ]
        if statement.valuesLists:
            raise SqlExpressionError(
                "a view's query may not be a VALUES list", hint="select from a table"
            )
        for item in statement.fromClause or ():
            self._from_item(item, scope, nullable=False)
        columns = [self._target(target, scope, named) for target in statement.targetList or ()]
        # GROUP BY and ORDER BY may name output columns too.
        outputs = frozenset(column.name for column in columns)
        for attribute in node_attributes(statement):
            if attribute in _CLAUSES_SEEING_OUTPUTS:
                self._check_columns(getattr(statement, attribute), scope, outputs)
            elif attribute not in ("targetList", "fromClause", "withClause", "larg", "rarg"):
                self._check_columns(getattr(statement, attribute), scope)
        return columns

    def _from_item(self, item: ast.Node, scope: _Scope, *, nullable: bool) -> None:
        if isinstance(item, ast.RangeVar):
            self._range_var(item, scope, nullable)
        elif isinstance(item, ast.RangeSubselect):
            query = required(item.subquery, "RangeSubselect.subquery")
            if not isinstance(query, ast.SelectStmt) or item.alias is None:
                raise SqlExpressionError(
                    "a subquery in the view's FROM needs an alias",
                    hint="name it: FROM (SELECT ...) AS recent",
                )
            inner = _Scope(outer=scope) if item.lateral else _Scope(outer=scope.outer)
            inner.ctes = scope.ctes
            columns = self.select(query, inner)
            alias = str(item.alias.aliasname)
            named = _renamed(columns, item.alias.colnames, alias)
            scope.aliases[alias] = (None, _nullable(named, nullable))
        elif isinstance(item, ast.JoinExpr):
            kind = item.jointype
            self._from_item(
                required(item.larg, "JoinExpr.larg"),
                scope,
                nullable=nullable or kind in (enums.JoinType.JOIN_RIGHT, enums.JoinType.JOIN_FULL),
            )
            self._from_item(
                required(item.rarg, "JoinExpr.rarg"),
                scope,
                nullable=nullable or kind in (enums.JoinType.JOIN_LEFT, enums.JoinType.JOIN_FULL),
            )
            for name in item.usingClause or ():
                if scope.column(None, name.sval) is None:
                    raise _unknown_column(name.sval)
            self._check_columns(item.quals, scope)
        else:
            raise SqlExpressionError(
                "a view's query may read only the spec's tables and views",
                hint="read tables and views by name",
            )

    def _range_var(self, item: ast.RangeVar, scope: _Scope, nullable: bool) -> None:
        name = str(item.relname)
        alias = str(item.alias.aliasname) if item.alias else name
        cte = scope.cte(name) if item.schemaname is None else None
        if cte is not None:
            scope.aliases[alias] = (None, _nullable(cte, nullable))
            return
        relation = self.relations.get(name)
        if relation is None or item.schemaname not in (None, relation.schema or "public"):
            shown = f"{item.schemaname}.{name}" if item.schemaname else name
            raise SqlExpressionError(
                f"the query reads '{shown}', which is no table or earlier view of the spec",
                hint=did_you_mean(name, self.relations)
                or "read the tables of the spec's entities and the views declared above this "
                "one by their relation names (a view BookLoan is book_loans)",
            )
        self.read.setdefault(name, [])
        scope.aliases[alias] = (name, _nullable(dict(relation.columns), nullable))

    def _check_columns(
        self, value: object, scope: _Scope, outputs: frozenset[str] | None = None
    ) -> None:
        """Resolve every column under ``value``; subqueries get a scope of their own.
        ``outputs``: the query's output columns, which its GROUP BY and ORDER BY may name."""
        for node in _outside_queries(value):
            if isinstance(node, ast.SelectStmt):
                self.select(node, scope)
            elif isinstance(node, ast.ColumnRef):
                fields = required(node.fields, "ColumnRef.fields")
                last = fields[-1]
                name = last.sval if len(fields) == 1 and isinstance(last, ast.String) else None
                if outputs is None or name is None or scope.column(None, name) is not None:
                    self._column(node, scope)
                elif name not in outputs:
                    raise _unknown_column(name)

    def _column(self, reference: ast.ColumnRef, scope: _Scope) -> ViewColumn:
        parts = required(reference.fields, "ColumnRef.fields")
        if any(isinstance(part, ast.A_Star) for part in parts):
            raise SqlExpressionError(
                "a view's query may not select '*'",
                hint="name the columns, so that the view keeps its shape when a table grows",
            )
        names = [str(part.sval) for part in parts]
        qualifier, name = (names[-2] if len(names) > 1 else None), names[-1]
        found = scope.column(qualifier, name)
        if found is None:
            raise _unknown_column(".".join(names))
        relation, column = found
        if relation is not None and name not in self.read[relation]:
            self.read[relation].append(name)
        return column

    def _target(self, target: ast.ResTarget, scope: _Scope, named: bool) -> ViewColumn:
        value = required(target.val, "ResTarget.val")
        self._check_columns(value, scope)
        name = target.name or _implicit_name(value) or (None if named else "?column?")
        if name is None:
            raise SqlExpressionError(
                f"the output column {deparse(value)!r} has no name",
                hint='name it with AS, e.g. "count(*) AS bookings"',
            )
        column = self._typed(value, scope)
        if column is None:
            raise SqlExpressionError(
                f"the type of the output column '{name}' cannot be told from the query",
                hint=_CAST_HINT,
            )
        return replace(column, name=name)

    def _typed(self, value: ast.Node, scope: _Scope) -> ViewColumn | None:
        """The type (and nullability) of an expression, None where it cannot be told."""
        if isinstance(value, ast.ColumnRef):
            return self._column(value, scope)
        if isinstance(value, ast.TypeCast):
            argument = required(value.arg, "TypeCast.arg")
            inner = self._typed(argument, scope)
            cast = cast_type(required(value.typeName, "TypeCast.typeName"))
            if cast is None:
                return None
            literal = isinstance(argument, ast.A_Const) and not argument.isnull
            return ViewColumn("?", cast, not literal and (inner is None or inner.nullable))
        if isinstance(value, ast.A_Const):
            return _constant(value)
        if isinstance(value, ast.FuncCall):
            return self._call(value, scope)
        if isinstance(value, ast.CoalesceExpr):
            typed = [self._typed(arg, scope) for arg in value.args or ()]
            first = next((t for t in typed if t is not None), None)
            if first is None:
                return None
            return replace(first, nullable=all(t is None or t.nullable for t in typed))
        if isinstance(value, ast.BoolExpr | ast.NullTest | ast.BooleanTest):
            return ViewColumn("?", ColumnType("boolean"), not isinstance(value, ast.NullTest))
        if isinstance(value, ast.A_Expr):
            return self._operator(value, scope)
        if isinstance(value, ast.CaseExpr):
            results = [w.result for w in value.args or ()] + [value.defresult]
            typed = [self._typed(r, scope) for r in results if r is not None]
            first = next((t for t in typed if t is not None), None)
            return replace(first, nullable=True) if first else None
        return None

    def _call(self, call: ast.FuncCall, scope: _Scope) -> ViewColumn | None:
        name = function_name(call)
        if name == "count":
            return ViewColumn("?", ColumnType("bigint"), False)
        args = [self._typed(arg, scope) for arg in call.args or ()]
        first = args[0] if args else None
        if name in ("min", "max") and first is not None:
            return replace(first, nullable=True)
        if name in ("sum", "avg") and first is not None:
            aggregated = _aggregate(name, first.type)
            return ViewColumn("?", aggregated, True) if aggregated else None
        if name in _TEXT_FUNCTIONS:
            nullable = any(a is None or a.nullable for a in args)
            return ViewColumn("?", ColumnType("text"), nullable)
        if name in _INTEGER_FUNCTIONS:
            return ViewColumn("?", ColumnType("integer"), first is None or first.nullable)
        if name in ("now", "current_timestamp", "statement_timestamp"):
            return ViewColumn("?", ColumnType("datetime"), False)
        if name in ("bool_and", "bool_or", "every"):
            return ViewColumn("?", ColumnType("boolean"), True)
        return None

    def _operator(self, expression: ast.A_Expr, scope: _Scope) -> ViewColumn | None:
        operator = str(required(expression.name, "A_Expr.name")[-1].sval)
        if operator in _COMPARISONS or expression.kind != enums.A_Expr_Kind.AEXPR_OP:
            return ViewColumn("?", ColumnType("boolean"), True)
        left = (
            self._typed(expression.lexpr, scope)
            if isinstance(expression.lexpr, ast.Node)
            else None
        )
        right = (
            self._typed(expression.rexpr, scope)
            if isinstance(expression.rexpr, ast.Node)
            else None
        )
        if operator == "||" and left and left.type.name in ("text", "string"):
            return ViewColumn("?", ColumnType("text"), True)
        if left and right and operator in ("+", "-"):
            moved = _moved_in_time(operator, left.type, right.type)
            if moved is not None:
                return ViewColumn("?", moved, left.nullable or right.nullable)
        numeric = ("smallint", "integer", "bigint", "float")
        same = left is not None and right is not None and left.type == right.type
        if operator in ("+", "-", "*") and same and left and left.type.name in numeric:
            return ViewColumn("?", left.type, left.nullable or bool(right and right.nullable))
        return None


def _moved_in_time(operator: str, left: ColumnType, right: ColumnType) -> ColumnType | None:
    """The type of a sum or difference of points and lengths of time."""
    pair = (left.name, right.name)
    if pair == ("datetime", "interval") or (operator == "+" and pair == ("interval", "datetime")):
        return ColumnType("datetime")
    if pair == ("interval", "interval") or (operator == "-" and pair == ("datetime", "datetime")):
        return ColumnType("interval")
    if operator == "-" and pair == ("date", "date"):
        return ColumnType("integer")
    return None


_CLAUSES_SEEING_OUTPUTS = frozenset({"groupClause", "sortClause", "distinctClause"})
_COMPARISONS = frozenset({"=", "<>", "!=", "<", "<=", ">", ">=", "~", "~*", "!~", "!~*"})
_TEXT_FUNCTIONS = frozenset({"lower", "upper", "btrim", "trim", "initcap", "concat", "concat_ws"})
_INTEGER_FUNCTIONS = frozenset({"length", "char_length", "character_length"})

# PostgreSQL's result types of sum() and avg() by argument type.
_SUMS = {"smallint": "bigint", "integer": "bigint", "bigint": "decimal", "decimal": "decimal"}
_AVERAGES = {"smallint": "decimal", "integer": "decimal", "bigint": "decimal"}


def _aggregate(name: str, argument: ColumnType) -> ColumnType | None:
    if argument.name in ("float", "interval"):
        return ColumnType(argument.name)
    if argument.name == "decimal" or (name == "sum" and argument.name == "bigint"):
        return ColumnType("decimal")
    table = _SUMS if name == "sum" else _AVERAGES
    return ColumnType(table[argument.name]) if argument.name in table else None  # type: ignore[arg-type]


_CAST_NAMES: dict[str, str] = {
    "text": "text",
    "int2": "smallint",
    "smallint": "smallint",
    "int4": "integer",
    "int": "integer",
    "integer": "integer",
    "int8": "bigint",
    "bigint": "bigint",
    "float8": "float",
    "numeric": "decimal",
    "decimal": "decimal",
    "bool": "boolean",
    "boolean": "boolean",
    "date": "date",
    "timestamptz": "datetime",
    "time": "time",
    "interval": "interval",
    "uuid": "uuid",
    "jsonb": "json",
    "bytea": "bytes",
}


def cast_type(type_name: ast.TypeName) -> ColumnType | None:
    """The spec's type a cast names, None for one the spec has no type for."""
    if type_name.arrayBounds:
        return None
    name = str(required(type_name.names, "TypeName.names")[-1].sval)
    modifiers = [
        m.val.ival
        for m in type_name.typmods or ()
        if isinstance(m, ast.A_Const) and isinstance(m.val, ast.Integer)
    ]
    if name in ("varchar", "bpchar"):
        return ColumnType("string", max_length=modifiers[0]) if modifiers else None
    if name == "numeric" and modifiers:
        scale = modifiers[1] if len(modifiers) > 1 else 0
        return ColumnType("decimal", precision=modifiers[0], scale=scale)
    if name in _CAST_NAMES:
        return ColumnType(_CAST_NAMES[name])  # type: ignore[arg-type]
    return None


def _constant(constant: ast.A_Const) -> ViewColumn | None:
    value = constant.val
    if constant.isnull or value is None:
        return None
    kinds = {ast.Integer: "integer", ast.Float: "decimal", ast.Boolean: "boolean"}
    kind = next((k for node, k in kinds.items() if isinstance(value, node)), None)
    if kind is None:
        return None  # a string literal is of unknown type until PostgreSQL resolves it
    return ViewColumn("?", ColumnType(kind), False)  # type: ignore[arg-type]


def _implicit_name(value: ast.Node) -> str | None:
    """The name PostgreSQL gives an unnamed output column: a column's own, a cast's
    argument's, a function's; None for the rest (PostgreSQL says ``?column?``)."""
    if isinstance(value, ast.ColumnRef):
        last = required(value.fields, "ColumnRef.fields")[-1]
        return str(last.sval) if isinstance(last, ast.String) else None
    if isinstance(value, ast.TypeCast):
        return _implicit_name(required(value.arg, "TypeCast.arg"))
    if isinstance(value, ast.FuncCall):
        return function_name(value)
    return None


def _renamed(
    columns: list[ViewColumn], names: tuple[ast.String, ...] | None, relation: str
) -> dict[str, ViewColumn]:
    given = [str(n.sval) for n in names or ()]
    if len(given) > len(columns):
        raise SqlExpressionError(
            f"'{relation}' names more columns than its query gives",
            hint="name as many columns as it selects",
        )
    renamed = [replace(c, name=given[i]) if i < len(given) else c for i, c in enumerate(columns)]
    return {column.name: column for column in renamed}


def _nullable(columns: dict[str, ViewColumn], nullable: bool) -> dict[str, ViewColumn]:
    if not nullable:
        return columns
    return {name: replace(column, nullable=True) for name, column in columns.items()}


def _unknown_column(name: str) -> SqlExpressionError:
    return SqlExpressionError(
        f"the query names the column '{name}', which no relation it reads has",
        hint="name a column of a table or view the query reads (by its column name)",
    )


def _outside_queries(value: object) -> Iterator[ast.Node]:
    """The nodes under ``value``; a query under it stands for itself, not its nodes."""
    stack: list[object] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, ast.SelectStmt):
            yield item
        elif isinstance(item, ast.Node):
            yield item
            stack.extend(getattr(item, attribute) for attribute in node_attributes(item))
        elif isinstance(item, list | tuple):
            stack.extend(item)
