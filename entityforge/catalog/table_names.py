"""Existing projects keep the table names they were generated with.

Default table names come from the ``inflection`` library (``people``, ``children``);
before, a simpler rule made ``persons`` and ``childs``. A project whose recorded
schema has an entity's table under that older default keeps it: regenerating never
renames a table the user did not ask to rename. ``table:`` (with ``renamed_from``)
still renames it on purpose.
"""

from __future__ import annotations

from dataclasses import replace

from entityforge import naming
from entityforge.catalog import Catalog
from entityforge.schema import Entity, Schema


def keep_recorded_table_names(schema: Schema, recorded: Catalog | None) -> Schema:
    """``schema`` with each default-named table as the recorded schema names it."""
    if recorded is None:
        return schema
    tables = {table.entity: table.name for table in recorded.tables if table.entity}
    entities = tuple(_kept(entity, tables.get(entity.name)) for entity in schema.entities)
    return schema if entities == schema.entities else replace(schema, entities=entities)


def _kept(entity: Entity, recorded: str | None) -> Entity:
    legacy = naming.legacy_plural(naming.snake_case(entity.name))
    defaulted = entity.table == naming.table_name(entity.name)
    if recorded is not None and defaulted and recorded == legacy != entity.table:
        return replace(entity, table=legacy)
    return entity
