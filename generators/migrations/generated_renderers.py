"""The rendering of ``AlterGeneration`` (``entityforge.migrate.operations.generated``).

A plain column made generated is dropped and added again, its indexes and constraints
dropped before and created after. A generation expression changes with ``SET
EXPRESSION`` where the server has it (PostgreSQL 17), and the same way as a plain column
made generated elsewhere. A column that stops being generated keeps its values
(``DROP EXPRESSION``). ``migrations.renderers`` calls ``render_alter_generation`` with
its own dispatcher, which renders the dependents and a further alteration.
"""

from __future__ import annotations

from collections.abc import Callable

from entityforge.generators.migrations.code import column, execute, join, op
from entityforge.generators.python_source import Code, call, indent
from entityforge.generators.table_schemas import quote_table, schema_keyword
from entityforge.migrate.operations import AlterColumn, Operation, invert
from entityforge.migrate.operations.generated import AlterGeneration
from entityforge.naming import quote_identifier

Render = Callable[[Operation], Code]
# PostgreSQL's first version with ``ALTER COLUMN ... SET EXPRESSION``.
SET_EXPRESSION_VERSION = 17


def render_alter_generation(operation: AlterGeneration, render: Render) -> Code:
    if operation.recreates:
        return _recreated(operation, render)
    table = quote_table(operation.table)
    name = quote_identifier(operation.new.name)
    if operation.new.generated is None:
        changed = execute(f"ALTER TABLE {table} ALTER COLUMN {name} DROP EXPRESSION")
    else:
        set_expression = execute(
            f"ALTER TABLE {table} ALTER COLUMN {name} SET EXPRESSION AS "
            f"({operation.new.generated})"
        )
        changed = _by_server_version(set_expression, _recreated(operation, render))
    rest = operation.rest
    if rest is None:
        return changed
    return join([changed, render(AlterColumn(operation.table, rest, operation.new))])


def _recreated(operation: AlterGeneration, render: Render) -> Code:
    """Drop the column (with what is built on it) and add it again, as ``new``."""
    added = column(operation.new)
    return join(
        [
            *(render(dependent) for dependent in invert(operation.dependents)),
            call(
                op("drop_column"),
                repr(operation.table),
                repr(operation.old.name),
                *schema_keyword(operation.table),
            ),
            call(
                op("add_column"),
                repr(operation.table),
                added.text,
                *schema_keyword(operation.table),
            ).with_imports(added.imports),
            *(render(dependent) for dependent in operation.dependents),
        ]
    )


def _by_server_version(newer: Code, older: Code) -> Code:
    server = "op.get_bind().dialect.server_version_info or (0,)"
    version = f"({server}) >= ({SET_EXPRESSION_VERSION},)"
    text = f"if {version}:\n{indent(newer.text)}\nelse:\n{indent(older.text)}"
    return Code(text, newer.imports | older.imports)
