"""Column declarations of the models: SQLAlchemy types, annotations and server defaults.

Everything here turns a catalog column into Python source (a ``Code`` fragment with its
imports). SQL that ends up inside ``text(...)`` is built here, correctly quoted, so the
templates only place finished strings.
"""

from __future__ import annotations

from dataclasses import dataclass

from entityforge.catalog import ENUM_LENGTH, Column
from entityforge.catalog.sql import literal_default
from entityforge.generators.column_types import sqlalchemy_type
from entityforge.generators.python_source import (
    Code,
    Symbols,
    call,
    sole_argument,
    string_literal,
)
from entityforge.generators.sql import escape_text
from entityforge.schema import RANGE_ELEMENTS, SPELLINGS, ColumnType

SQLALCHEMY = "sqlalchemy"
# Where a default's literal stands once black has split ``mapped_column(...)``: after
# ``server_default=`` at the arguments' indent, or alone inside ``text(...)``.
ARGUMENT_INDENT = 8


@dataclass(frozen=True)
class ModelNames:
    """How a module refers to things: its symbols, the package and the enum classes."""

    symbols: Symbols
    package: str
    enum_classes: tuple[tuple[str, str], ...] = ()  # (column, StrEnum class of the module)

    def enum_class(self, column: str) -> str:
        return dict(self.enum_classes)[column]

    def sqlalchemy(self, name: str) -> Code:
        return self.symbols.name(SQLALCHEMY, name)

    def postgresql(self, name: str) -> Code:
        """``postgresql.<name>`` from ``sqlalchemy.dialects``."""
        return self.symbols.name("sqlalchemy.dialects", "postgresql").wrap("", f".{name}")

    def base(self, name: str) -> Code:
        return self.symbols.name(".base", name)

    @property
    def instances(self) -> bool:
        """A model names a type without parameters by its class (``Text``)."""
        return False

    def enum_type(self, type_: ColumnType, column: str) -> Code:
        """``Enum`` over the module's ``StrEnum`` class, stored by its values."""
        arguments: tuple[Code | str, ...] = (
            ("native_enum=False", f"length={ENUM_LENGTH}")
            if type_.enum_name is None  # varchar and ``ck_<table>_<column>_values``
            else (f"name={type_.enum_name!r}", *_enum_schema(type_))
        )
        values = self.base("enum_values").wrap("values_callable=")
        return call(self.sqlalchemy("Enum"), self.enum_class(column), *arguments, values)


def _enum_schema(type_: ColumnType) -> tuple[str, ...]:
    """The ``schema=`` of an enum type outside public."""
    return (f"schema={type_.enum_schema!r}",) if type_.enum_schema else ()


def column_type(column: Column, names: ModelNames) -> Code:
    """A field column's SQLAlchemy type; a nullable json column stores ``None`` as SQL NULL,
    and so does a nullable column with a default.

    ``none_as_null`` makes ``None`` mean one thing however it is written (omitted,
    given to ``create`` or ``update``, or in ``bulk_create``), so ``filters={col: None}``
    (``IS NULL``) finds every such row; JSON's own ``null`` is ``JSON.NULL``.
    """
    # The ORM leaves ``None`` out of an INSERT unless the type evaluates it, and a default
    # would fill the column: with one, ``None`` given must still be NULL (omitted is the
    # default).
    defaulted = column.default is not None or column.default_sql is not None
    if column.type.name == "json" and column.nullable:
        if defaulted:
            return call(names.base("NullableJSONB"))
        return call(names.postgresql("JSONB"), "none_as_null=True")
    type_ = sqlalchemy_type(column.type, names, column.name)
    if column.nullable and defaulted:
        instance = type_ if type_.text.endswith(")") else type_.wrap("", "()")
        return instance.wrap("", ".evaluates_none()")
    return type_


def _json_shape(column: Column) -> str:
    """What a json column is known to hold: ``object``, ``array`` or anything."""
    return column.default.kind if column.default else "scalar"


def python_type(column: Column, names: ModelNames) -> Code:
    """The Python type a column holds (without ``| None``)."""
    type_ = column.type
    if type_.name == "json":
        any_ = names.symbols.name("typing", "Any")
        shape = _json_shape(column)
        if shape == "object":
            return any_.wrap("dict[str, ", "]")
        return any_.wrap("list[", "]") if shape == "array" else any_
    if type_.name == "array":
        assert type_.item is not None
        return python_type(Column(column.name, type_.item), names).wrap("list[", "]")
    if type_.name == "enum":
        return Code(names.enum_class(column.name))
    if type_.name in RANGE_ELEMENTS:
        bounds = python_type(Column(column.name, ColumnType(RANGE_ELEMENTS[type_.name])), names)
        range_ = names.symbols.name("sqlalchemy.dialects.postgresql", "Range")
        return bounds.wrap(f"{range_.text}[", "]").with_imports(range_.imports)
    python = SPELLINGS[type_.name].python
    assert python is not None, f"the column decides a {type_.name} value's type"
    if isinstance(python, tuple):
        return names.symbols.name(*python)
    module, _, name = python.rpartition(".")
    return names.symbols.module(module).wrap("", f".{name}") if module else Code(python)


def mapped_annotation(column: Column, names: ModelNames) -> tuple[Code, bool]:
    """``Mapped[...]`` for a column, and whether it states the column's nullability."""
    inner = python_type(column, names)
    states_nullability = column.type.name != "json" or _json_shape(column) != "scalar"
    if column.nullable and states_nullability:
        inner = inner.wrap("", " | None")
    # A search column is the table's, for its index: the model never reads or writes it.
    mapped = names.symbols.name("sqlalchemy.orm", "Unmapped" if column.searched else "Mapped")
    return inner.wrap(f"{mapped.text}[", "]").with_imports(mapped.imports), states_nullability


def server_default(column: Column, names: ModelNames) -> Code | None:
    """``server_default=...`` for a column's literal or SQL default, if it has one."""
    if column.default_sql is not None:
        sql = sole_argument(escape_text(column.default_sql), ARGUMENT_INDENT + 4)
        return call(names.sqlalchemy("text"), sql).wrap("server_default=")
    if column.default is None:
        return None
    value = column.default.value
    if isinstance(value, str) and column.type.name not in ("json", "array"):
        literal = string_literal(value, ARGUMENT_INDENT, "server_default=", ",")
        return Code(f"server_default={literal}")
    sql = sole_argument(
        escape_text(literal_default(column.default, column.type)), ARGUMENT_INDENT + 4
    )
    return call(names.sqlalchemy("text"), sql).wrap("server_default=")


def computed(column: Column, names: ModelNames) -> Code | None:
    """``Computed(..., persisted=True)`` for a stored generated column: SQLAlchemy leaves
    it out of every INSERT and UPDATE and reads its value back."""
    if column.generated is None:
        return None
    expression = string_literal(escape_text(column.generated), ARGUMENT_INDENT + 4, "", ",")
    return call(names.sqlalchemy("Computed"), expression, "persisted=True")
