"""Exclusion constraints: ``ALTER TABLE ... ADD CONSTRAINT ... EXCLUDE`` and its drop.

``migrations.renderers`` registers every function of ``RENDERERS`` on its dispatcher.
Columns are quoted, expressions and predicates are the parser's own text, and operators
come from the spec stage's fixed set.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from entityforge.catalog import ExclusionConstraint
from entityforge.generators.migrations.code import execute
from entityforge.generators.python_source import Code
from entityforge.generators.table_schemas import quote_table
from entityforge.migrate.operations.exclusions import (
    AddExclusionConstraint,
    DropExclusionConstraint,
)
from entityforge.naming import quote_identifier


def exclusion_sql(table: str, exclusion: ExclusionConstraint) -> str:
    elements = ", ".join(
        f"{element.sql if element.expression else quote_identifier(element.name)} "
        f"WITH {element.operator}"
        for element in exclusion.elements
    )
    where = f" WHERE ({exclusion.where})" if exclusion.where else ""
    return (
        f"ALTER TABLE {quote_table(table)} ADD CONSTRAINT "
        f"{quote_identifier(exclusion.name)} EXCLUDE USING {exclusion.method} ({elements}){where}"
    )


def render_add_exclusion(operation: AddExclusionConstraint) -> Code:
    return execute(exclusion_sql(operation.table, operation.constraint))


def render_drop_exclusion(operation: DropExclusionConstraint) -> Code:
    return execute(
        f"ALTER TABLE {quote_table(operation.table)} "
        f"DROP CONSTRAINT {quote_identifier(operation.constraint.name)}"
    )


RENDERERS: tuple[Callable[[Any], Code], ...] = (render_add_exclusion, render_drop_exclusion)
