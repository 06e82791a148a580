"""The read-only models of history tables (``audit: true``).

``<Entity>History`` maps ``<table>_history`` with the same building blocks as an
entity's model (mixins, columns, ``__table_args__`` from the catalog), so that
``Base.metadata`` holds the history table and Alembic's comparison sees it. Its rows
are written by the database's triggers only: the model has no relationships and the
repositories only read it.
"""

from __future__ import annotations

from entityforge import naming
from entityforge.catalog import Table
from entityforge.generators import GenerationContext
from entityforge.generators.models import (
    EntityView,
    class_columns,
    column_declaration,
    history_module,
    repr_expression,
    table_options,
)
from entityforge.generators.models.columns import ModelNames
from entityforge.generators.models.constraints import table_layout
from entityforge.generators.python_source import Import, Symbols, docstring, render_imports
from entityforge.generators.templating import render
from entityforge.schema import Entity


def audited(ctx: GenerationContext) -> tuple[tuple[Entity, Table], ...]:
    """Each audited entity and its history table."""
    return tuple(
        (entity, ctx.catalog.table(naming.history_table(entity.table)))
        for entity in ctx.schema.entities
        if entity.audit
    )


def history_view(
    ctx: GenerationContext, entity: Entity, table: Table, cyclic: frozenset[str]
) -> EntityView:
    """The entity template's view of ``<Entity>History``."""
    class_name = naming.history_class(entity.name)
    names = ModelNames(Symbols(frozenset({c.name for c in table.columns})), ctx.package)
    columns = class_columns(table)
    layout = table_layout(table, names, frozenset(c.name for c in columns), cyclic)
    code = [column_declaration(column, names, layout) for column in columns]
    mixins = ["UUIDPrimaryKeyMixin", *(["TenantScopedMixin"] if table.tenant_scoped else [])]
    imports = {Import(".base", name) for name in [*mixins, "Base"]}
    for item in [*code, *layout.table_arguments]:
        imports |= item.imports
    return EntityView(
        docstring=docstring(f"The ``{class_name}`` model: table ``{table.name}``, read only.", 0),
        imports=render_imports(imports, ctx.package),
        type_checking_imports="",
        enums=(),
        class_name=class_name,
        bases=", ".join([*mixins, "Base"]),
        class_docstring=docstring(
            f"One recorded insert, update or delete of a ``{entity.name}`` row, written by "
            "the database's triggers in the transaction that made it. Read only: the "
            "application's roles may select history, never change it.",
            4,
        ),
        table_name=repr(table.name),
        table_arguments=tuple(item.text for item in layout.table_arguments),
        table_options=table_options(table),
        columns=tuple(item.text for item in code),
        relationships=(),
        repr_expression=repr_expression(class_name, ["row_id", "operation"]),
    )


def history_modules(ctx: GenerationContext, cyclic: frozenset[str]) -> dict[str, str]:
    """``models/<entity>_history.py`` of each audited entity."""
    return {
        f"{ctx.package}/models/{history_module(entity.name)}.py": render(
            "models/entity.py.jinja", view=history_view(ctx, entity, table, cyclic)
        )
        for entity, table in audited(ctx)
    }
