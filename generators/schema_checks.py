"""Checks that map onto pydantic constraints, read with PostgreSQL's own parser.

Only shapes whose meaning is the same on both sides are mapped: ``column ~ 'pattern'``
with a pattern made of the regular-expression pieces POSIX and Python (and pydantic's
Rust engine) read alike, and simple bounds, ``column <op> number`` (``budget >= 0``).
Anything else stays the database's job alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, cast

from pglast import ast, parse_sql
from pglast.parser import ParseError

Comparison = Literal[">", ">=", "<", "<="]
_COMPARISONS = frozenset({">", ">=", "<", "<="})


@dataclass(frozen=True)
class Bound:
    """A check of the form ``column <op> number``."""

    column: str
    op: Comparison
    number: Decimal


def simple_bound(expression: str) -> Bound | None:
    """``"budget >= 0"`` → ``Bound("budget", ">=", 0)``; anything less simple → None."""
    try:
        statements = parse_sql(f"SELECT {expression}")
    except ParseError:
        return None
    target = statements[0].stmt.targetList[0].val  # type: ignore[union-attr,index]
    if not isinstance(target, ast.A_Expr) or target.kind != 0:  # AEXPR_OP
        return None
    operator = [name.sval for name in target.name]
    if len(operator) != 1 or operator[0] not in _COMPARISONS:
        return None
    left, right = target.lexpr, target.rexpr
    if not isinstance(left, ast.ColumnRef) or not isinstance(right, ast.A_Const):
        return None
    if len(left.fields) != 1 or not isinstance(left.fields[0], ast.String):
        return None
    if isinstance(right.val, ast.Integer):
        number = Decimal(right.val.ival)
    elif isinstance(right.val, ast.Float):
        number = Decimal(right.val.fval)
    else:
        return None
    return Bound(left.fields[0].sval, cast(Comparison, operator[0]), number)


# Pieces that mean the same in PostgreSQL's regular expressions and in Python's:
# literals, bracket classes without POSIX ``[:class:]`` names, anchors, quantifiers,
# groups and alternation. Backslash escapes differ (``\m``, ``\y``) and are refused.
_PORTABLE = re.compile(r"^(?:[^\\\[]|\[(?:[^\]\[\\:]|\\.)*\])*$")


def regex_pattern(expression: str, column: str) -> str | None:
    """The pattern of ``column ~ 'pattern'`` when it reads alike in Python, else None."""
    try:
        statements = parse_sql(f"SELECT {expression}")
    except ParseError:
        return None
    target = statements[0].stmt.targetList[0].val  # type: ignore[union-attr,index]
    if not isinstance(target, ast.A_Expr) or target.kind != 0:  # AEXPR_OP
        return None
    if [name.sval for name in target.name] != ["~"]:
        return None
    left, right = target.lexpr, target.rexpr
    if not isinstance(left, ast.ColumnRef) or not isinstance(right, ast.A_Const):
        return None
    if [getattr(part, "sval", None) for part in left.fields] != [column]:
        return None
    pattern = getattr(right.val, "sval", None)
    if not isinstance(pattern, str) or not _PORTABLE.match(pattern):
        return None
    try:
        re.compile(pattern)
    except re.error:
        return None
    return pattern
