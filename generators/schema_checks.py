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

from pglast import ast
from pglast.parser import ParseError

from entityforge.parse_tree import column_name, numeric_value, required, select_target

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
        target = select_target(expression)
    except ParseError:
        return None
    if not isinstance(target, ast.A_Expr) or target.kind != 0:  # AEXPR_OP
        return None
    operator = [name.sval for name in required(target.name, "A_Expr.name")]
    if len(operator) != 1 or operator[0] not in _COMPARISONS:
        return None
    left, right = target.lexpr, target.rexpr
    if not isinstance(left, ast.ColumnRef) or not isinstance(right, ast.A_Const):
        return None
    fields = required(left.fields, "ColumnRef.fields")
    if len(fields) != 1 or not isinstance(fields[0], ast.String):
        return None
    if not isinstance(right.val, ast.Integer | ast.Float):
        return None
    return Bound(column_name(left), cast(Comparison, operator[0]), numeric_value(right.val))


# Pieces that mean the same in PostgreSQL's regular expressions and in Python's:
# literals, bracket classes without POSIX ``[:class:]`` names, anchors, quantifiers,
# groups and alternation. Backslash escapes differ (``\m``, ``\y``) and are refused.
_PORTABLE = re.compile(r"^(?:[^\\\[]|\[(?:[^\]\[\\:]|\\.)*\])*$")


def regex_pattern(expression: str, column: str) -> str | None:
    """The pattern of ``column ~ 'pattern'`` when it reads alike in Python, else None."""
    try:
        target = select_target(expression)
    except ParseError:
        return None
    if not isinstance(target, ast.A_Expr) or target.kind != 0:  # AEXPR_OP
        return None
    if [name.sval for name in required(target.name, "A_Expr.name")] != ["~"]:
        return None
    left, right = target.lexpr, target.rexpr
    if not isinstance(left, ast.ColumnRef) or not isinstance(right, ast.A_Const):
        return None
    fields = required(left.fields, "ColumnRef.fields")
    if [getattr(part, "sval", None) for part in fields] != [column]:
        return None
    pattern = getattr(right.val, "sval", None)
    if not isinstance(pattern, str) or not _PORTABLE.match(pattern):
        return None
    try:
        re.compile(pattern)
    except re.error:
        return None
    return pattern
