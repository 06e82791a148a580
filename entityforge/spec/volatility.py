"""Which functions an expression calls that PostgreSQL does not mark IMMUTABLE.

An index predicate, an index expression and a generated column may call IMMUTABLE
functions only; PostgreSQL refuses the rest when the migration runs. The built-in
functions without an immutable form were read once from ``pg_proc`` and ship as data
(``non_immutable_functions.txt``); the SQL value functions (``CURRENT_DATE`` and the
like) are never immutable either.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from pglast import ast

from entityforge.parse_tree import function_name, required, select_target, walk_nodes


@cache
def non_immutable_functions() -> frozenset[str]:
    text = resources.files("entityforge.spec").joinpath("non_immutable_functions.txt")
    lines = text.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def non_immutable_calls(expression: str) -> tuple[str, ...]:
    """The calls in a (validated) expression PostgreSQL would not accept as immutable."""
    node = select_target(expression)
    found: list[str] = []
    for child in walk_nodes(node):
        if isinstance(child, ast.FuncCall):
            name = function_name(child)
            if name in non_immutable_functions():
                found.append(f"{name}()")
        elif isinstance(child, ast.SQLValueFunction):
            op = required(child.op, "SQLValueFunction.op")
            found.append(str(op.name).removeprefix("SVFOP_").replace("_N", ""))
    return tuple(dict.fromkeys(found))
