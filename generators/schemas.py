"""The schemas generator: ``<package>/schemas/``, pydantic models per entity.

Each entity gets three classes beside its model: ``<Entity>Create`` (what creating a
row takes: no id, tenant, timestamps, ``deleted_at`` or generated columns; a field with a
default may be left out), ``<Entity>Update`` (every field optional; only the fields
sent are set) and ``<Entity>Read`` (every column, read from a model instance).
Lengths, numeric ranges of the integer types, decimal digits, enum values and the checks
that read as a simple bound (``budget >= 0``) or a regular expression (``slug ~
'^[a-z]+$'``) become pydantic constraints, so a request that breaks them is refused
before it reaches the database.
"""

from __future__ import annotations

import keyword
from dataclasses import dataclass
from decimal import Decimal

import pydantic

from entityforge import naming
from entityforge.catalog import Column, Table
from entityforge.generators import GenerationContext
from entityforge.generators.models.columns import ModelNames, python_type
from entityforge.generators.python_source import (
    Code,
    Import,
    Symbols,
    docstring,
    render_imports,
    string_literal,
)
from entityforge.generators.schema_checks import regex_pattern, simple_bound
from entityforge.generators.templating import render
from entityforge.schema import INTEGER_LIMITS, Entity

# Columns the database or the repository fills: never part of a create or update body.
MANAGED_ROLES = frozenset({"id", "tenant", "created_at", "updated_at", "deleted_at"})
# Names a pydantic model cannot take as field names; such a field gets a trailing ``_``
# and keeps the column's name as its alias.
RESERVED = frozenset(dir(pydantic.BaseModel)) | frozenset(keyword.kwlist)
# Where a ``Field(...)`` argument stands once black has split the field's line.
ARGUMENT_INDENT = 8
_OPERATORS = {">": "gt", ">=": "ge", "<": "lt", "<=": "le"}


@dataclass(frozen=True)
class SchemaClassView:
    name: str
    base: str
    docstring: str
    config: str
    attributes: tuple[str, ...]
    fields: tuple[str, ...]


@dataclass(frozen=True)
class SchemaModuleView:
    docstring: str
    imports: str
    classes: tuple[SchemaClassView, ...]


def module_name(entity: Entity) -> str:
    return naming.snake_case(entity.name)


def class_names(entity: Entity) -> tuple[str, str, str]:
    """The create, update and read schema classes of an entity."""
    return f"{entity.name}Create", f"{entity.name}Update", f"{entity.name}Read"


def history_read_name(entity: Entity) -> str:
    """The read schema of an audited entity's history entries."""
    return f"{entity.name}HistoryRead"


def field_name(column: Column) -> str:
    """The pydantic field of a column: the model's attribute name, kept clear of names
    pydantic reserves."""
    attribute = naming.attribute_name(column.name)
    clashes = attribute in RESERVED or attribute.startswith("model_")
    return f"{attribute}_" if clashes else attribute


def _constraints(entity: Entity, column: Column) -> list[str]:
    """``Field`` keyword arguments the column's type and checks map to."""
    arguments: list[str] = []
    type_ = column.type
    if type_.name == "string" and type_.max_length:
        arguments.append(f"max_length={type_.max_length}")
    limit = INTEGER_LIMITS.get(type_.name)
    bounds: dict[str, Decimal] = {}
    if limit is not None:
        bounds = {"ge": Decimal(-limit - 1), "le": Decimal(limit)}
    if type_.name == "decimal" and type_.precision is not None:
        arguments.append(f"max_digits={type_.precision}")
        arguments.append(f"decimal_places={type_.scale or 0}")
    for expression in _checks_of(entity, column.name):
        bound = simple_bound(expression)
        if bound is not None and bound.column == column.name and type_.name != "string":
            bounds = {
                key: value
                for key, value in bounds.items()
                if key[0] != _OPERATORS[bound.op][0] or key == _OPERATORS[bound.op]
            }
            bounds[_OPERATORS[bound.op]] = bound.number
        pattern = regex_pattern(expression, column.name) if type_.name == "string" else None
        if pattern is not None:
            arguments.append(
                f"pattern={string_literal(pattern, ARGUMENT_INDENT, 'pattern=', ',')}"
            )
    arguments += [f"{key}={_number(value)}" for key, value in sorted(bounds.items())]
    return arguments


def _checks_of(entity: Entity, column: str) -> list[str]:
    checks = [field.check for field in entity.fields if field.name == column and field.check]
    return checks + [check.expression for check in entity.checks]


def _number(value: Decimal) -> str:
    return str(int(value)) if value == value.to_integral_value() else str(value)


def _default(column: Column, names: ModelNames) -> Code | None:
    """A Python value for the column's literal default, where one is simple to write."""
    default = column.default
    if default is None:
        return None
    value = default.value
    if column.type.name == "json" or column.type.name == "array":
        if default.kind == "object" and not value:
            return Code("default_factory=dict")
        if default.kind == "array" and not value:
            return Code("default_factory=list")
        return None
    if column.type.name == "enum" and isinstance(value, str):
        member = naming.enum_member_names(column.type.values)[column.type.values.index(value)]
        return Code(f"default={names.enum_class(column.name)}.{member}")
    if column.type.name == "decimal" and isinstance(value, int | float | str):
        decimal = names.symbols.name("decimal", "Decimal")
        return decimal.wrap("default=", f"({str(value)!r})")
    if isinstance(value, bool | int | float) and column.type.name != "string":
        return Code(f"default={value!r}")
    if isinstance(value, str) and column.type.name in ("string", "text"):
        return Code(f"default={string_literal(value, ARGUMENT_INDENT, 'default=', ',')}")
    return None


def _field(
    column: Column,
    names: ModelNames,
    arguments: list[Code | str],
    nullable: bool,
    read: bool = False,
) -> Code:
    """``name: type = Field(...)`` (or ``= None``, or no default at all)."""
    name = field_name(column)
    attribute = naming.attribute_name(column.name)
    annotation = python_type(column, names)
    if nullable and annotation.text != "Any":
        annotation = annotation.wrap("", " | None")
    parts = [a if isinstance(a, Code) else Code(a) for a in arguments]
    if name != column.name and not read:
        parts.append(Code(f"validation_alias={column.name!r}"))
    elif name != column.name:
        # Read from a model by its attribute (``metadata_``: ``metadata`` is the
        # class's MetaData), sent under the column's name.
        choices = names.symbols.name("pydantic", "AliasChoices")
        parts.append(choices.wrap("validation_alias=", f"({attribute!r}, {column.name!r})"))
        parts.append(Code(f"serialization_alias={column.name!r}"))
    if not parts:
        return annotation.wrap(f"{name}: ")
    if len(parts) == 1 and parts[0].text.startswith("default="):
        default = parts[0].text.removeprefix("default=")
        return annotation.wrap(f"{name}: ", f" = {default}").with_imports(parts[0].imports)
    field = names.symbols.name("pydantic", "Field")
    value = Code.join(parts).wrap(f"{field.text}(", ")").with_imports(field.imports)
    return annotation.wrap(f"{name}: ", f" = {value.text}").with_imports(value.imports)


def _create_field(entity: Entity, column: Column, names: ModelNames) -> Code:
    arguments: list[Code | str] = []
    default = _default(column, names)
    if default is not None:
        arguments.append(default)
    elif column.nullable or column.default is not None or column.default_sql is not None:
        # Left out: NULL, or the database's default (sent only when set).
        arguments.append("default=None")
    nullable = column.nullable or arguments == ["default=None"]
    return _field(column, names, [*arguments, *_constraints(entity, column)], nullable)


def _create_not_null(columns: list[Column], names: ModelNames) -> set[str]:
    """Required columns with a default a create body may leave out (``None``)."""
    return {
        field_name(column)
        for column in columns
        if not column.nullable
        and _default(column, names) is None
        and (column.default is not None or column.default_sql is not None)
    }


def _update_field(entity: Entity, column: Column, names: ModelNames) -> Code:
    # ``None`` is "not sent"; ``model_not_null`` refuses a required column sent as null.
    return _field(column, names, ["default=None", *_constraints(entity, column)], True)


def _read_field(column: Column, names: ModelNames) -> Code:
    return _field(column, names, [], column.nullable, read=True)


def _config(names: ModelNames, **settings: str) -> Code:
    config = names.symbols.name("pydantic", "ConfigDict")
    body = ", ".join(f"{key}={value}" for key, value in settings.items())
    return config.wrap("model_config = ", f"({body})")


def _attributes(columns: list[Column], not_null: set[str]) -> tuple[str, ...]:
    """The class variables of a write schema that ``WriteSchema`` reads."""
    renamed = {
        field_name(column): naming.attribute_name(column.name)
        for column in columns
        if field_name(column) != naming.attribute_name(column.name)
    }
    lines = [f"model_attributes = {renamed!r}"] if renamed else []
    if not_null:
        lines.append(f"model_not_null = frozenset({sorted(not_null)!r})")
    return tuple(lines)


def _class_view(
    name: str, base: str, text: str, config: Code, attributes: tuple[str, ...], body: list[Code]
) -> tuple[SchemaClassView, set[Import]]:
    imports = set(config.imports).union(*(code.imports for code in body))
    fields = tuple(code.text for code in body)
    return (
        SchemaClassView(name, base, docstring(text, 4), config.text, attributes, fields),
        imports,
    )


def entity_view(ctx: GenerationContext, entity: Entity) -> SchemaModuleView:
    table: Table = ctx.catalog.table(entity.table)
    enum_columns = [c for c in table.columns if c.type.name == "enum"]
    enum_classes = tuple(
        (c.name, naming.enum_class_name(entity.name, c.name)) for c in enum_columns
    )
    history = ctx.catalog.table(naming.history_table(entity.table)) if entity.audit else None
    shown = [*table.columns, *(history.columns if history else ())]
    fields = frozenset(field_name(column) for column in shown)
    names = ModelNames(Symbols(fields), ctx.package, enum_classes)
    writable = [
        column
        for column in table.columns
        if column.role not in MANAGED_ROLES and column.generated is None
    ]
    create_name, update_name, read_name = class_names(entity)
    aliased = any(field_name(column) != column.name for column in table.columns)
    by_name = {"validate_by_name": "True"} if aliased else {}
    write_config = _config(names, extra='"forbid"', **by_name)
    required = {field_name(column) for column in writable if not column.nullable}
    views: tuple[tuple[SchemaClassView, set[Import]], ...] = (
        _class_view(
            create_name,
            "WriteSchema",
            f"What creating a ``{entity.name}`` takes; a defaulted field may be left out.",
            write_config,
            _attributes(writable, _create_not_null(writable, names)),
            [_create_field(entity, column, names) for column in writable],
        ),
        _class_view(
            update_name,
            "WriteSchema",
            f"A change to a ``{entity.name}``: only the fields sent are set.",
            write_config,
            _attributes(writable, required),
            [_update_field(entity, column, names) for column in writable],
        ),
        _class_view(
            read_name,
            "BaseModel",
            f"A ``{entity.name}`` as an API returns it; ``model_validate(row)`` reads one.",
            _config(names, from_attributes="True", **by_name),
            (),
            [_read_field(column, names) for column in table.columns if not column.searched],
        ),
    )
    if history is not None:
        views += (
            _class_view(
                history_read_name(entity),
                "BaseModel",
                f"One entry of a ``{entity.name}`` row's history, as an API returns it; "
                "``model_validate(entry)`` reads one.",
                _config(names, from_attributes="True"),
                (),
                [_read_field(column, names) for column in history.columns],
            ),
        )
    imports: set[Import] = {Import("pydantic", "BaseModel"), Import(".base", "WriteSchema")}
    imports |= {Import(f"{ctx.package}.models", enum_class) for _, enum_class in enum_classes}
    imports = imports.union(*(needed for _, needed in views))
    return SchemaModuleView(
        docstring=docstring(f"Request and response schemas of ``{entity.name}``.", 0),
        imports=render_imports(imports, ctx.package),
        classes=tuple(view for view, _ in views),
    )


def package_module(ctx: GenerationContext) -> str:
    imports = set()
    exported = []
    for entity in ctx.schema.entities:
        names = [*class_names(entity), *([history_read_name(entity)] if entity.audit else [])]
        for name in names:
            imports.add(Import(f".{module_name(entity)}", name))
            exported.append(name)
    return render(
        "schemas/package_init.py.jinja",
        imports=render_imports(imports, ctx.package),
        exported=sorted(exported),
    )


def generate(ctx: GenerationContext) -> dict[str, str]:
    """Every module of ``<package>/schemas``."""
    directory = f"{ctx.package}/schemas"
    files = {
        f"{directory}/__init__.py": package_module(ctx),
        f"{directory}/base.py": render("schemas/base.py.jinja"),
    }
    for entity in ctx.schema.entities:
        path = f"{directory}/{module_name(entity)}.py"
        if not ctx.reuse.kept(ctx.schema, entity, path):
            files[path] = render("schemas/entity.py.jinja", view=entity_view(ctx, entity))
    return files
