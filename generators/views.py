"""The modules of the spec's views: read-only models, read schemas, repositories, the
refresh entry point and the generated tests of their isolation.

Emitted only for a spec with ``views``, so other projects stay as they were. The models
map to the views on a metadata of their own, which Alembic never compares with the
database (the revisions create the views): the application reads them, nobody writes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from entityforge import naming
from entityforge.catalog import Column
from entityforge.catalog.views import storage_name, unique_index_name
from entityforge.generators import GenerationContext
from entityforge.generators.models.columns import (
    ModelNames,
    column_type,
    mapped_annotation,
    python_type,
)
from entityforge.generators.python_source import Import, Symbols, docstring, render_imports
from entityforge.generators.templating import render
from entityforge.schema import RANGE_ELEMENTS, ColumnType, Schema, View, ViewColumn

# Column types a listing may not order by (their values are no keyset cursor's).
_UNSORTABLE = frozenset({"json", "bytes", "array", "interval", *RANGE_ELEMENTS})


@dataclass(frozen=True)
class ViewColumnView:
    """One attribute of a view model: its declaration and its read-schema field."""

    attribute: str
    declaration: str
    field: str
    sortable: bool


@dataclass(frozen=True)
class ViewModelView:
    """What the templates need of one view."""

    name: str
    relation: str
    storage: str
    docstring: str
    materialized: bool
    tenant_scoped: bool
    concurrently: bool
    key: tuple[str, ...]
    lookup: tuple[str, ...]
    columns: tuple[ViewColumnView, ...]
    sources: tuple[str, ...]
    policed: bool
    """Whether restrictive policies narrow what the application selects of a table it
    reads: its rows are then no function of the tenant alone."""

    @property
    def order(self) -> tuple[str, ...]:
        return tuple(c.attribute for c in self.columns if c.sortable)


def _model_column(column: ViewColumn) -> Column:
    """The column as the model maps it; an enum value reads as its label (``str``)."""
    type_ = ColumnType("text") if column.type.name == "enum" else column.type
    return Column(column.name, type_, column.nullable)


def _column_view(column: ViewColumn, view: View, names: ModelNames) -> ViewColumnView:
    model_column = _model_column(column)
    annotation, _ = mapped_annotation(model_column, names)
    arguments = [column_type(model_column, names).text]
    attribute = naming.attribute_name(column.name)
    if attribute != column.name:
        arguments.insert(0, repr(column.name))
    if column.name in view.key:
        arguments.append("primary_key=True")
    mapped = names.symbols.name("sqlalchemy.orm", "mapped_column")
    declaration = f"{attribute}: {annotation.text} = {mapped.text}({', '.join(arguments)})"
    return ViewColumnView(
        attribute,
        declaration,
        f"{attribute}: {annotation.text.removeprefix('Mapped[').removesuffix(']')}",
        column.type.name not in _UNSORTABLE,
    )


def _docstring(view: View, package: str) -> str:
    kind = "materialized view" if view.materialized else "view"
    scope = "tenant-scoped " if view.tenant_scoped else ""
    lead = f"{view.comment} " if view.comment else ""
    refresh = f", refreshed by ``python -m {package}.refresh_views``" if view.materialized else ""
    return docstring(f"{lead}Read-only: the {scope}{kind} ``{view.relation}``{refresh}.", 4)


def _view_view(view: View, names: ModelNames, ctx: GenerationContext) -> ViewModelView:
    schema, package = ctx.schema, ctx.package
    tenant = schema.tenancy.column if schema.tenancy and view.tenant_scoped else None
    policed_tables = {
        table.name
        for table in ctx.catalog.tables
        if any(p.command in ("select", "all") and "writer" in p.roles for p in table.policies)
    }
    return ViewModelView(
        name=view.name,
        relation=view.relation,
        storage=storage_name(view),
        docstring=_docstring(view, package),
        materialized=view.materialized,
        tenant_scoped=view.tenant_scoped,
        concurrently=unique_index_name(view) is not None,
        key=view.key,
        lookup=tuple(column for column in view.key if column != tenant),
        columns=tuple(_column_view(column, view, names) for column in view.columns),
        sources=tuple(_source_tables(view, schema)),
        policed=bool(_read_tables(view, schema) & policed_tables),
    )


def _source_tables(view: View, schema: Schema) -> list[str]:
    """The entity models whose rows the view reads, through the views it reads too."""
    tenant = schema.tenancy.entity if schema.tenancy else None
    tables = {e.table: e.name for e in schema.entities if e.name != tenant}
    views = {other.relation: other for other in schema.views}
    found: list[str] = []
    for source in view.sources:
        if source.relation in views:
            found += _source_tables(views[source.relation], schema)
        elif source.relation in tables:
            found.append(tables[source.relation])
    return list(dict.fromkeys(found))


def _read_tables(view: View, schema: Schema) -> set[str]:
    """Every table the view reads, through the views it reads too."""
    views = {other.relation: other for other in schema.views}
    found: set[str] = set()
    for source in view.sources:
        other = views.get(source.relation)
        found |= _read_tables(other, schema) if other else {source.relation}
    return found


def _module(
    template: str, ctx: GenerationContext, imports: Iterable[Import], **context: object
) -> str:
    """A module from ``template``: ``IMPORTS`` in it stands for ``imports`` and those the
    views' columns need (their types and annotations, in a models module)."""
    names = ModelNames(Symbols(), ctx.package)
    views = [_view_view(view, names, ctx) for view in ctx.schema.views]
    needed = set(imports)
    typed = template.endswith(("/models.py.jinja", "/schemas.py.jinja"))
    for view in ctx.schema.views if typed else ():
        for column in map(_model_column, view.columns):
            needed |= python_type(column, names).imports
            if template.endswith("/models.py.jinja"):
                needed |= column_type(column, names).imports
                needed |= mapped_annotation(column, names)[0].imports
    body = render(template, views=views, package=ctx.package, **context)
    return body.replace("IMPORTS\n", render_imports(needed, ctx.package) + "\n", 1)


def _imports(*lines: str) -> list[Import]:
    """``"module name"`` (``from module import name``) or ``"module"`` (``import module``)."""
    return [Import(*line.split()) for line in lines]


def _test_groups(ctx: GenerationContext) -> dict[str, list[str]]:
    """The views each generated test takes: isolated by tenant alone, tenant-scoped at
    all, read through a tenant filter, global and unpoliced."""
    names = ModelNames(Symbols(), ctx.package)
    views = [_view_view(view, names, ctx) for view in ctx.schema.views]
    return {
        "isolated": [v.name for v in views if v.tenant_scoped and not v.policed],
        "scoped": [v.name for v in views if v.tenant_scoped],
        "hidden": [v.name for v in views if v.tenant_scoped and v.materialized],
        "global_views": [v.name for v in views if not v.tenant_scoped and not v.policed],
    }


_MODEL_IMPORTS = _imports(
    "typing Any",
    "sqlalchemy MetaData",
    "sqlalchemy event",
    "sqlalchemy.orm DeclarativeBase",
    "sqlalchemy.orm Session",
    "sqlalchemy.orm mapped_column",
)
_SCHEMA_IMPORTS = _imports("pydantic BaseModel", "pydantic ConfigDict")
_REPOSITORY_IMPORTS = _imports(
    "builtins",
    "collections.abc Iterable",
    "collections.abc Mapping",
    "collections.abc Sequence",
    "dataclasses dataclass",
    "typing Any",
    "typing Generic",
    "typing Literal",
    "typing TypeVar",
    "sqlalchemy ColumnElement",
    "sqlalchemy func",
    "sqlalchemy inspect",
    "sqlalchemy select",
    "sqlalchemy.ext.asyncio AsyncSession",
)
_TEST_IMPORTS = _imports(
    "uuid",
    "collections.abc Sequence",
    "typing Any",
    "pytest",
    "sqlalchemy text",
    "sqlalchemy.ext.asyncio AsyncSession",
    "sqlalchemy.ext.asyncio async_sessionmaker",
)


def _repository_imports(ctx: GenerationContext) -> list[Import]:
    package = ctx.package
    tenant = [f"{package}.models.base TENANT_COLUMN"] if ctx.schema.tenancy else []
    models = [f"{package}.models.views {name}" for name in ("ViewBase", *_classes(ctx))]
    return [*_REPOSITORY_IMPORTS, *_imports(*models, *tenant)]


def _test_imports(ctx: GenerationContext, groups: dict[str, list[str]]) -> list[Import]:
    package, schema = ctx.package, ctx.schema
    sources = sorted({s for view in schema.views for s in _source_tables(view, schema)})
    # Without tenancy the conftest has no admin sessions: the module makes its own.
    admin_logins = [
        "collections.abc AsyncIterator",
        f"{package}.db create_engine",
        f"{package}.db create_session_factory",
        f"{package}.models.base ADMIN_ROLE",
    ]
    lines = [
        *([] if schema.tenancy else admin_logins),
        *(["sqlalchemy.exc DBAPIError"] if groups["hidden"] else []),
        f"{package}.db session_scope",
        *([f"{package}.db tenant_session"] if schema.tenancy else []),
        *([f"{package}.db admin_session"] if groups["isolated"] else []),
        f"{package}.models Base",
        *(f"{package}.models {name}" for name in sources),
        f"{package}.models.views ReadOnlyViewError",
        f"{package}.models.views {schema.views[0].name}",
        f"{package}.refresh_views refresh_views",
        f"{package}.repositories.views ViewRepository",
        *(f"{package}.repositories.views {name}Repository" for name in _classes(ctx)),
    ]
    return [*_TEST_IMPORTS, *_imports(*lines)]


def _classes(ctx: GenerationContext) -> list[str]:
    return sorted(view.name for view in ctx.schema.views)


def generate(ctx: GenerationContext) -> dict[str, str]:
    """The view modules of ``ctx``'s project; none for a spec without views."""
    schema, package = ctx.schema, ctx.package
    if not schema.views:
        return {}
    tenant_column = schema.tenancy.column if schema.tenancy else None
    groups = _test_groups(ctx)
    refreshes = [
        (storage_name(view), unique_index_name(view) is not None)
        for view in schema.views
        if view.materialized
    ]
    return {
        f"{package}/models/views.py": _module("views/models.py.jinja", ctx, _MODEL_IMPORTS),
        f"{package}/schemas/views.py": _module("views/schemas.py.jinja", ctx, _SCHEMA_IMPORTS),
        f"{package}/repositories/views.py": _module(
            "views/repositories.py.jinja",
            ctx,
            _repository_imports(ctx),
            tenant_column=tenant_column,
        ),
        f"{package}/refresh_views.py": render(
            "views/refresh_views.py.jinja", package=package, refreshes=refreshes
        ),
        "tests/test_views.py": _module(
            "views/test_views.py.jinja",
            ctx,
            _test_imports(ctx, groups),
            tenancy=tenant_column is not None,
            tenant_column=tenant_column,
            **groups,
        ),
    }
