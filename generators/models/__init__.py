"""The models generator: ``<package>/models/`` from the catalog.

One module per entity (its ``StrEnum`` classes and its mapped class), ``base.py`` with
the declarative base, naming convention, mixins and constants, ``associations.py`` with
the junction tables, and ``__init__.py`` exporting everything. Every name, column and
constraint comes from the catalog, so ``Base.metadata`` is the catalog.
"""

from __future__ import annotations

from dataclasses import dataclass

from entityforge import naming
from entityforge.catalog import Column, Table
from entityforge.generators import GenerationContext
from entityforge.generators.models.columns import (
    ModelNames,
    column_type,
    computed,
    mapped_annotation,
    server_default,
)
from entityforge.generators.models.constraints import (
    TableLayout,
    cyclic_foreign_keys,
    table_layout,
)
from entityforge.generators.models.relations import relationships
from entityforge.generators.python_source import (
    LINE_LENGTH,
    Code,
    Import,
    Symbols,
    call,
    docstring,
    render_imports,
    string_literal,
)
from entityforge.generators.templating import render
from entityforge.schema import Entity

CLASS_COLUMN_ROLES = ("field", "reference")
# Fields a ``__repr__`` shows besides ``id``: the first few required short values.
REPR_TYPES = ("string", "enum")
REPR_FIELDS = 2
# Where literals stand once black has split what encloses them: a column comment among
# ``mapped_column(...)``'s arguments, the table comment in an exploded dict.
ARGUMENT_INDENT = 8
TABLE_COMMENT_INDENT = 12


@dataclass(frozen=True)
class EnumView:
    class_name: str
    docstring: str
    members: tuple[tuple[str, str], ...]  # (member name, value literal)


@dataclass(frozen=True)
class EntityView:
    docstring: str
    imports: str
    type_checking_imports: str
    enums: tuple[EnumView, ...]
    class_name: str
    bases: str
    class_docstring: str
    table_name: str
    table_arguments: tuple[str, ...]
    table_options: str | None
    """The dict that ends ``__table_args__``: the table's comment, schema and partitioning."""
    columns: tuple[str, ...]
    relationships: tuple[str, ...]
    repr_expression: str


@dataclass(frozen=True)
class JunctionView:
    variable: str
    comment: str
    arguments: tuple[str, ...]


@dataclass(frozen=True)
class BaseView:
    imports: str
    tenancy: bool
    tenant_column: str
    tenant_setting: str
    tenant_declaration: str
    reader_role: str
    writer_role: str
    admin_role: str
    timestamps: bool
    soft_delete: bool
    enums: bool
    json_defaults: bool


def module_name(entity: str) -> str:
    """The module of an entity's model inside ``<package>.models``."""
    return naming.snake_case(entity)


def history_module(entity: str) -> str:
    """The module of an audited entity's history model."""
    return f"{module_name(entity)}_history"


def class_columns(table: Table) -> tuple[Column, ...]:
    """The columns an entity class declares itself (the rest come from mixins)."""
    return tuple(column for column in table.columns if column.role in CLASS_COLUMN_ROLES)


def column_declaration(column: Column, names: ModelNames, layout: TableLayout) -> Code:
    """``attribute: Mapped[...] = mapped_column(...)`` for one column."""
    attribute = naming.attribute_name(column.name)
    annotation, states_nullability = mapped_annotation(column, names)
    arguments: list[Code | str] = []
    if attribute != column.name:
        arguments.append(repr(column.name))
    if column.role == "field":
        arguments.append(tracked(column, column_type(column, names), names))
    generated = computed(column, names)
    if generated is not None:
        arguments.append(generated)
    foreign_key = layout.foreign_key(column.name)
    if foreign_key is not None:
        arguments.append(foreign_key)
    if not states_nullability:
        arguments.append(f"nullable={column.nullable}")
    if column.name in layout.column_uniques:
        arguments.append("unique=True")
    if column.role == "field" and column.name in layout.primary_key:
        arguments.append("primary_key=True")
    default = server_default(column, names)
    if default is not None:
        arguments.append(default)
    if column.comment:
        comment = string_literal(column.comment, ARGUMENT_INDENT, "comment=", ",")
        arguments.append(f"comment={comment}")
    declare = "unmapped_column" if column.searched else "mapped_column"
    value = call(names.symbols.name("sqlalchemy.orm", declare), *arguments)
    return Code(f"{attribute}: {annotation.text} = {value.text}").with_imports(
        annotation.imports, value.imports
    )


def tracked(column: Column, type_: Code, names: ModelNames) -> Code:
    """``type_`` made mutable where the column holds a container: a change inside a json
    object or an array (``row.tags.append(...)``) marks the row changed, as assigning does.
    A json column of any shape (no ``{}`` or ``[]`` default) is tracked on assignment only."""
    if column.type.name == "json" and column.default and column.default.kind == "object":
        mutable = names.symbols.name("sqlalchemy.ext.mutable", "MutableDict")
    elif column.type.name == "array" or (
        column.type.name == "json" and column.default and column.default.kind == "array"
    ):
        mutable = names.symbols.name("sqlalchemy.ext.mutable", "MutableList")
    else:
        return type_
    return mutable.wrap("", f".as_mutable({type_.text})").with_imports(type_.imports)


def _enum_view(entity: Entity, column: Column) -> EnumView:
    values = column.type.values
    members = tuple(
        (member, string_literal(value, 4, f"{member} = "))
        for member, value in zip(naming.enum_member_names(values), values, strict=True)
    )
    stored = (
        f"PostgreSQL enum type ``{column.type.enum_name}``"
        if column.type.enum_name
        else "``varchar`` checked against them"
    )
    text = f"Values of ``{entity.name}.{naming.attribute_name(column.name)}`` ({stored})."
    return EnumView(naming.enum_class_name(entity.name, column.name), docstring(text, 4), members)


def _repr_expression(entity: Entity) -> str:
    """The ``__repr__`` f-string: ``id`` and the first required short values."""
    shown = [
        naming.attribute_name(field.name)
        for field in entity.fields
        if field.type.name in REPR_TYPES and not field.nullable
    ][:REPR_FIELDS]
    return repr_expression(entity.name, shown)


def repr_expression(class_name: str, shown: list[str]) -> str:
    """The ``__repr__`` f-string of ``class_name``: ``id`` and the ``shown`` attributes,
    split over lines where one would be too long."""
    pieces = [f"{class_name}(id={{self.id!r}}"] + [f", {a}={{self.{a}!r}}" for a in shown]
    pieces[-1] += ")"
    single = 'f"' + "".join(pieces) + '"'
    if len(f"        return {single}") <= LINE_LENGTH:
        return single
    if len(f"            {single}") <= LINE_LENGTH:
        return f"(\n            {single}\n        )"
    lines = []
    for piece in pieces:
        if len(f'            f"{piece}"') > LINE_LENGTH:
            label, value = piece.split("=", 1)
            lines += [f'"{label}="', f'f"{value}"']  # a lone long word passes the checkers
        else:
            lines.append(f'f"{piece}"')
    body = "".join(f"            {line}\n" for line in lines)
    return f"(\n{body}        )"


def _mixins(table: Table, entity: Entity) -> list[str]:
    mixins = ["UUIDPrimaryKeyMixin"]
    if table.tenant_scoped:
        mixins.append("TenantScopedMixin")
    if entity.timestamps:
        mixins.append("TimestampMixin")
    if entity.soft_delete:
        mixins.append("SoftDeleteMixin")
    return mixins


def _class_attributes(
    ctx: GenerationContext, entity: Entity, columns: tuple[Column, ...]
) -> set[str]:
    """Names the class body binds; an import of the same name needs an alias."""
    attributes = {naming.attribute_name(column.name) for column in columns}
    attributes |= {relation.name for relation in entity.relations}
    attributes |= {
        relation.back_populates
        for _, relation in ctx.schema.relations_to(entity.name)
        if relation.back_populates
    }
    return attributes


def _type_checking_imports(ctx: GenerationContext, entity: Entity, targets: set[str]) -> str:
    """The ``if TYPE_CHECKING:`` imports of the classes relationships point to."""
    imports = [
        Import(f".{module_name(target)}", target) for target in sorted(targets - {entity.name})
    ]
    if not imports:
        return ""
    return "    " + render_imports(imports, ctx.package).replace("\n", "\n    ")


def entity_view(ctx: GenerationContext, entity: Entity, cyclic: frozenset[str]) -> EntityView:
    """Everything the entity template lays out, decided here.

    ``cyclic`` names the foreign keys on a cycle of tables (``cyclic_foreign_keys``).
    """
    table = ctx.catalog.table(entity.table)
    columns = class_columns(table)
    enum_columns = [column for column in columns if column.type.name == "enum"]
    names = ModelNames(
        # Entity classes (this one, and those its relationships import) shadow an import
        # of the same name (``Index`` from SQLAlchemy): such an import gets an alias.
        Symbols(
            frozenset(_class_attributes(ctx, entity, columns))
            | {other.name for other in ctx.schema.entities}
        ),
        ctx.package,
        tuple((c.name, naming.enum_class_name(entity.name, c.name)) for c in enum_columns),
    )
    declared = frozenset(column.name for column in columns)
    layout = table_layout(table, names, declared, cyclic)
    column_code = [column_declaration(column, names, layout) for column in columns]
    relation_views = relationships(ctx.schema, ctx.catalog, entity, names)
    mixins = _mixins(table, entity)
    type_checking = _type_checking_imports(ctx, entity, {r.target for r in relation_views})
    imports = {Import(".base", name) for name in [*mixins, "Base"]}
    for code in [*column_code, *layout.table_arguments, *(r.declaration for r in relation_views)]:
        imports |= code.imports
    if enum_columns:
        imports.add(Import("enum", "StrEnum"))
    if type_checking:
        imports.add(Import("typing", "TYPE_CHECKING"))
    return EntityView(
        docstring=docstring(f"The ``{entity.name}`` model: table ``{table.name}``.", 0),
        imports=render_imports(imports, ctx.package),
        type_checking_imports=type_checking,
        enums=tuple(_enum_view(entity, column) for column in enum_columns),
        class_name=entity.name,
        bases=", ".join([*mixins, "Base"]),
        class_docstring=docstring(entity.comment or f"A row of ``{table.name}``.", 4),
        table_name=repr(table.name),
        table_arguments=tuple(code.text for code in layout.table_arguments),
        table_options=table_options(table),
        columns=tuple(code.text for code in column_code),
        relationships=tuple(r.declaration.text for r in relation_views),
        repr_expression=_repr_expression(entity),
    )


def table_options(table: Table) -> str | None:
    """The keyword arguments of the model's ``Table`` as a dict literal: its comment, its
    schema and the partitioning SQLAlchemy emits for ``create_all``."""
    options = []
    if table.comment:
        comment = string_literal(table.comment, TABLE_COMMENT_INDENT, '"comment": ')
        options.append(f'"comment": {comment}')
    if table.schema:
        options.append(f'"schema": {table.schema!r}')
    if table.partition_by is not None:
        options.append(f'"postgresql_partition_by": {table.partition_by!r}')
    return "{" + ", ".join(options) + "}" if options else None


def junction_view(
    table: Table, names: ModelNames, owner: str, cyclic: frozenset[str]
) -> tuple[JunctionView, Code]:
    """A junction ``Table(...)`` and the imports it needs."""
    declared = frozenset(column.name for column in table.columns)
    layout = table_layout(table, names, declared, cyclic)
    column_class, uuid_type = names.sqlalchemy("Column"), names.sqlalchemy("Uuid")
    parts: list[Code] = [Code(repr(table.name)), names.base("Base").wrap("", ".metadata")]
    for column in table.columns:
        arguments: list[Code | str] = [repr(column.name), uuid_type]
        foreign_key = layout.foreign_key(column.name)
        if foreign_key is not None:
            arguments.append(foreign_key)
        if column.name in table.primary_key:
            arguments.append("primary_key=True")
        parts.append(call(column_class, *arguments))
    parts += layout.table_arguments
    if table.schema:
        parts.append(Code(f"schema={table.schema!r}"))
    view = JunctionView(
        variable=naming.attribute_name(table.name),
        comment=f"# The junction table of ``{owner}``.",
        arguments=tuple(part.text for part in parts),
    )
    imports = Code.join(parts).with_imports(names.sqlalchemy("Table").imports)
    return view, imports


def associations_module(ctx: GenerationContext, cyclic: frozenset[str]) -> str | None:
    """``associations.py``: the junction tables, or None when there are none."""
    names = ModelNames(Symbols(), ctx.package)
    views: list[JunctionView] = []
    imports: set[Import] = set()
    for entity in ctx.schema.entities:
        for relation in entity.relations:
            if relation.kind != "many_to_many" or relation.junction_table is None:
                continue
            table = ctx.catalog.table(relation.junction_table)
            owner = f"{entity.name}.{relation.name}"
            view, code = junction_view(table, names, owner, cyclic)
            views.append(view)
            imports |= code.imports
    if not views:
        return None
    return render(
        "models/associations.py.jinja",
        imports=render_imports(imports, ctx.package),
        tables=views,
    )


def _base_imports(
    timestamps: bool, soft_delete: bool, tenancy: bool, enums: bool, json_defaults: bool
) -> str:
    wanted = [
        ("uuid", None, True),
        ("typing", "Any", json_defaults),
        ("uuid_utils.compat", "uuid7", True),
        ("datetime", "datetime", timestamps or soft_delete),
        ("enum", "StrEnum", enums),
        ("sqlalchemy", "DateTime", timestamps or soft_delete),
        ("sqlalchemy", "FetchedValue", timestamps),
        ("sqlalchemy", "ForeignKey", tenancy),
        ("sqlalchemy", "MetaData", True),
        ("sqlalchemy", "func", timestamps),
        ("sqlalchemy", "event", soft_delete),
        ("sqlalchemy", "text", True),
        ("sqlalchemy.dialects", "postgresql", json_defaults),
        ("sqlalchemy.ext.asyncio", "AsyncAttrs", True),
        ("sqlalchemy.orm", "DeclarativeBase", True),
        ("sqlalchemy.orm", "Mapped", True),
        ("sqlalchemy.orm", "ORMExecuteState", soft_delete),
        ("sqlalchemy.orm", "Session", soft_delete),
        ("sqlalchemy.orm", "mapped_column", True),
        ("sqlalchemy.orm", "with_loader_criteria", soft_delete),
        ("sqlalchemy.types", "TypeDecorator", json_defaults),
    ]
    return render_imports((Import(m, n) for m, n, used in wanted if used), "")


def _tenant_declaration(ctx: GenerationContext) -> str:
    tenancy, tenant = ctx.schema.tenancy, ctx.schema.tenant_entity
    if tenancy is None or tenant is None:
        return ""
    attribute = naming.attribute_name(tenancy.column)
    arguments = [repr(tenancy.column)] if attribute != tenancy.column else []
    arguments += [
        f"ForeignKey({naming.qualified_name(tenant.schema, tenant.table) + '.id'!r}, "
        'ondelete="RESTRICT")',
        "primary_key=True",
        "sort_order=-30",
    ]
    return f"{attribute}: Mapped[uuid.UUID] = mapped_column({', '.join(arguments)})"


def base_view(ctx: GenerationContext) -> BaseView:
    schema = ctx.schema
    tenancy = schema.tenancy
    timestamps = any(entity.timestamps for entity in schema.entities)
    soft_delete = any(entity.soft_delete for entity in schema.entities)
    enums = any(f.type.name == "enum" for e in schema.entities for f in e.fields)
    json_defaults = any(
        f.type.name == "json" and f.nullable and (f.default or f.default_sql)
        for e in schema.entities
        for f in e.fields
    )
    return BaseView(
        imports=_base_imports(timestamps, soft_delete, tenancy is not None, enums, json_defaults),
        tenancy=tenancy is not None,
        tenant_column=tenancy.column if tenancy else "",
        tenant_setting=tenancy.setting if tenancy else "",
        tenant_declaration=_tenant_declaration(ctx),
        reader_role=schema.roles.reader,
        writer_role=schema.roles.writer,
        admin_role=schema.roles.admin,
        timestamps=timestamps,
        soft_delete=soft_delete,
        enums=enums,
        json_defaults=json_defaults,
    )


def exported_names(ctx: GenerationContext) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``(module, names)`` every model module exports: the class and its enums."""
    exports = []
    for entity in ctx.schema.entities:
        enums = [
            naming.enum_class_name(entity.name, field.name)
            for field in entity.fields
            if field.type.name == "enum"
        ]
        exports.append((module_name(entity.name), (entity.name, *enums)))
        if entity.audit:
            exports.append((history_module(entity.name), (naming.history_class(entity.name),)))
    return tuple(exports)


def package_module(ctx: GenerationContext) -> str:
    """``models/__init__.py``: import every model and enum; a sorted ``__all__``."""
    imports = {Import(".base", "Base")}
    exported = ["Base"]
    for module, names in exported_names(ctx):
        imports |= {Import(f".{module}", name) for name in names}
        exported += names
    return render(
        "models/package_init.py.jinja",
        imports=render_imports(imports, ctx.package),
        exported=sorted(exported),
    )


def generate(ctx: GenerationContext) -> dict[str, str]:
    """Every module of ``<package>/models``."""
    directory = f"{ctx.package}/models"
    files = {
        f"{directory}/__init__.py": package_module(ctx),
        f"{directory}/base.py": render("models/base.py.jinja", view=base_view(ctx)),
    }
    cyclic = cyclic_foreign_keys(ctx.catalog)
    for entity in ctx.schema.entities:
        path = f"{directory}/{module_name(entity.name)}.py"
        if not ctx.reuse.kept(ctx.schema, entity, path):
            files[path] = render("models/entity.py.jinja", view=entity_view(ctx, entity, cyclic))
    associations = associations_module(ctx, cyclic)
    if associations is not None:
        files[f"{directory}/associations.py"] = associations
    # Imported here: the history models are built from this module's pieces.
    from entityforge.generators.models.history import history_modules

    files.update(history_modules(ctx, cyclic))
    return files
