"""Schemas created and dropped, and tables and enum types moved between them.

A table keeps its name in every schema (names are unique across a project's schemas),
so a table of both catalogs (under its name before the spec's renames) whose schema
differs has moved: ``schema_moves`` gives the ``MoveTable`` of each (``MoveEnum`` of each
enum type), and the old catalog with them applied (the foreign keys and enum columns
referring to what moved follow it), which the rest of the comparison starts from, so a
move is never a table dropped and created. Moves come
first in a revision, before renames, so every other step finds a moved table in its new
schema, in the upgrade and in the downgrade alike.

``created_schemas`` lists the schemas the new catalog uses and the old one lacks, and
``schema_grants`` the ``USAGE`` the roles get on them; the same with the catalogs swapped,
inverted, revokes and drops them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from entityforge.catalog import Catalog, Table
from entityforge.catalog.grants import role_privileges
from entityforge.errors import GenerationError
from entityforge.migrate.operations.schemas import (
    CreateSchema,
    GrantSchemaUsage,
    MoveEnum,
    MoveTable,
)
from entityforge.migrate.operations.search import SearchFunction, search_functions


@dataclass(frozen=True)
class Moved:
    """The old catalog with its tables and enum types in their new schemas, and the moves
    that do it."""

    catalog: Catalog
    operations: tuple[MoveTable | MoveEnum, ...]


def schema_moves(old: Catalog, new: Catalog, renames: Mapping[str, str]) -> Moved:
    """Move each table of ``old`` into the schema ``new`` puts it in; ``renames`` maps the
    old name of a table the revision renames to its new one."""
    schemas = {table.name: table.schema for table in new.tables}
    moves = tuple(
        MoveTable(table.name, table.schema, schema, _searches(table, old))
        for table in old.tables
        if (schema := schemas.get(renames.get(table.name, table.name), table.schema))
        != table.schema
    )
    type_schemas = {enum.name: enum.schema for enum in new.enums}
    enum_moves = tuple(
        MoveEnum(enum.name, enum.schema, type_schemas[enum.name])
        for enum in old.enums
        if enum.name in type_schemas and type_schemas[enum.name] != enum.schema
    )
    if not moves and not enum_moves:
        return Moved(old, ())
    _refuse_audited_moves(old, moves)
    moved = {move.table: move.new for move in moves}
    moved_types = {move.name: move.new for move in enum_moves}
    tables = tuple(_moved(table, moved, moved_types) for table in old.tables)
    enums = tuple(replace(e, schema=moved_types.get(e.name, e.schema)) for e in old.enums)
    return Moved(replace(old, tables=tables, enums=enums), (*enum_moves, *moves))


def _refuse_audited_moves(old: Catalog, moves: tuple[MoveTable, ...]) -> None:
    """An audited table's history function names the table and its history where they
    live; a revision that moves them is not generated."""
    audited = sorted(
        move.table
        for move in moves
        if old.table(move.table).audit is not None or old.table(move.table).history_of
    )
    if audited:
        raise GenerationError(
            f"table {audited[0]} is audited and would move to another schema",
            hint="keep the entity's schema; or remove 'audit' first (its history is then "
            "dropped), or move the table, its history and the history function in a "
            "revision of your own",
        )


def _searches(table: Table, catalog: Catalog) -> tuple[SearchFunction, ...]:
    return tuple(operation.function for operation in search_functions(table, catalog))


def _moved(
    table: Table, moved: Mapping[str, str | None], moved_types: Mapping[str, str | None]
) -> Table:
    foreign_keys = tuple(
        (
            replace(fk, referred_schema=moved[fk.referred_table])
            if fk.referred_table in moved
            else fk
        )
        for fk in table.foreign_keys
    )
    columns = tuple(
        (
            replace(column, type=replace(column.type, enum_schema=moved_types[enum]))
            if (enum := column.type.enum_name) is not None and enum in moved_types
            else column
        )
        for column in table.columns
    )
    schema = moved.get(table.name, table.schema)
    return replace(table, schema=schema, foreign_keys=foreign_keys, columns=columns)


def created_schemas(base: Catalog, target: Catalog) -> list[CreateSchema]:
    """A ``CreateSchema`` for each schema of ``target`` that ``base`` lacks."""
    return [CreateSchema(name) for name in target.schemas if name not in base.schemas]


def schema_grants(base: Catalog, target: Catalog) -> list[GrantSchemaUsage]:
    """``USAGE`` for the roles on each schema of ``target`` that ``base`` lacks."""
    roles = tuple(name for name, _ in role_privileges(target))
    return [GrantSchemaUsage(name, roles) for name in target.schemas if name not in base.schemas]
