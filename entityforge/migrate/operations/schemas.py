"""PostgreSQL schemas (namespaces) that tables live in, and tables moving between them.

A revision creates a schema the new catalog's tables use (``CREATE SCHEMA IF NOT EXISTS``,
so one made by hand is adopted) first of all, so that tables can move into it, and grants
``USAGE`` on it to the roles once they exist; the reverse revokes it and drops the schema
only when nothing is left in it and it belongs to the role running the revision.

``MoveTable`` is ``ALTER TABLE ... SET SCHEMA``: a change of the catalog alone, which
keeps the rows, indexes, constraints, triggers, policies and grants; the table's enum
types move with it (``MoveEnum``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from entityforge.migrate.operations import Operation
from entityforge.migrate.operations.search import SearchFunction


@dataclass(frozen=True)
class CreateSchema(Operation):
    """The schema, unless it exists."""

    name: str

    def reverse(self) -> DropSchema:
        return DropSchema(self.name)


@dataclass(frozen=True)
class DropSchema(Operation):
    """The schema, if nothing is left in it and the role running the revision owns it."""

    name: str

    def reverse(self) -> CreateSchema:
        return CreateSchema(self.name)


@dataclass(frozen=True)
class GrantSchemaUsage(Operation):
    """``USAGE`` on the schema for ``roles``, which reach its tables through it."""

    schema: str
    roles: tuple[str, ...]

    def reverse(self) -> RevokeSchemaUsage:
        return RevokeSchemaUsage(self.schema, self.roles)


@dataclass(frozen=True)
class RevokeSchemaUsage(Operation):
    schema: str
    roles: tuple[str, ...]

    def reverse(self) -> GrantSchemaUsage:
        return GrantSchemaUsage(self.schema, self.roles)


@dataclass(frozen=True)
class MoveEnum(Operation):
    """Move the enum type ``name`` from schema ``old`` to ``new`` with its table."""

    name: str
    old: str | None
    new: str | None

    def reverse(self) -> MoveEnum:
        return MoveEnum(self.name, self.new, self.old)


@dataclass(frozen=True)
class MoveTable(Operation):
    """Move ``table`` from schema ``old`` to ``new`` (``None``: ``public``).

    ``searches`` are the table's search functions in ``old``: their bodies name the
    table, so they are dropped there before the move and created in ``new`` after it."""

    table: str
    old: str | None
    new: str | None
    searches: tuple[SearchFunction, ...] = ()

    def reverse(self) -> MoveTable:
        moved = tuple(replace(function, schema=self.new) for function in self.searches)
        return MoveTable(self.table, self.new, self.old, moved)

    @property
    def moved_searches(self) -> tuple[SearchFunction, ...]:
        """The search functions as they are after the move."""
        return tuple(replace(function, schema=self.new) for function in self.searches)
