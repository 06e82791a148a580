"""The SQLAlchemy type of a column, for the models and the revisions alike.

Both spell a type from the schema model's one table (``entityforge.schema.SPELLINGS``).
What differs is said by ``TypeNames``: how a module refers to SQLAlchemy (``Text``
imported, or ``sa.Text`` through ``import sqlalchemy as sa``), whether a type stands as
its class or as an instance, and an enum, which a model maps to its ``StrEnum`` class
and a revision spells by its labels.
"""

from __future__ import annotations

from typing import Protocol

from entityforge.generators.python_source import Code, call
from entityforge.schema import SPELLINGS, ColumnType


class TypeNames(Protocol):
    """How a generated module names SQLAlchemy's types."""

    @property
    def instances(self) -> bool:
        """Whether a type without parameters is written as an instance (``sa.Text()``)."""
        ...

    def sqlalchemy(self, name: str) -> Code: ...

    def postgresql(self, name: str) -> Code: ...

    def enum_type(self, type_: ColumnType, column: str) -> Code: ...


def sqlalchemy_type(type_: ColumnType, names: TypeNames, column: str) -> Code:
    """The SQLAlchemy type expression of ``column`` (``String(200)``, ``sa.Text()``)."""
    if type_.name == "enum":
        return names.enum_type(type_, column)
    spelling = SPELLINGS[type_.name]
    class_ = (names.postgresql if spelling.dialect else names.sqlalchemy)(spelling.sqlalchemy)
    if type_.name == "string":
        return call(class_, str(type_.max_length))
    if type_.name == "decimal":
        return call(class_, *(str(n) for n in (type_.precision, type_.scale) if n is not None))
    if type_.name == "datetime":
        return call(class_, "timezone=True")
    if type_.name == "array":
        assert type_.item is not None
        return call(class_, sqlalchemy_type(type_.item, names, column))
    return call(class_) if names.instances else class_
