"""Checks that map onto pydantic constraints, read with PostgreSQL's own parser.

Only shapes whose meaning is the same on both sides are mapped: ``column ~ 'pattern'``
with a pattern made of the regular-expression pieces POSIX and Python (and pydantic's
Rust engine) read alike. Anything else stays the database's job alone.
"""

from __future__ import annotations

import re

from pglast import ast, parse_sql
from pglast.parser import ParseError

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
