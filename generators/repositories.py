"""The repositories generator: ``<package>/repositories/``.

The generic logic lives once in ``base.py`` (``Repository`` and, when some entity has
soft delete, ``SoftDeleteRepository``), with keyset paging in ``keyset.py``, bulk
inserts in ``bulk.py`` and relationship loading and links in ``relations.py``. Each
entity gets a small subclass that binds its model, its create and update schemas, and
``Literal`` types of the orders and loads it accepts, so that a typo in
``order_by=["-created_at"]`` or ``load=["tasks.assignee"]`` is a type error.
"""

from __future__ import annotations

from dataclasses import dataclass

from entityforge import naming
from entityforge.catalog import Search, Table
from entityforge.generators import GenerationContext
from entityforge.generators.python_source import Import, docstring, render_imports
from entityforge.generators.schemas import class_names
from entityforge.generators.templating import python_literal, render
from entityforge.schema import RANGE_ELEMENTS, Entity, Schema

# Column types a listing cannot sort by (no order, or none a cursor can carry).
UNSORTABLE_TYPES = frozenset({"json", "array", "bytes", "interval", "tsvector", *RANGE_ELEMENTS})
# The operator of a full-text search column's function, which ``search_text`` calls.
TEXT_MATCH = "@@"


@dataclass(frozen=True)
class RepositoryBaseView:
    imports: str
    tenancy: bool
    tenant_attribute: str
    soft_delete: bool
    searches: bool = False
    generated: bool = False
    text_search: bool = False
    # Search functions outside public, named ``schema.function``.
    qualified_searches: bool = False
    partitioned: bool = False

    @property
    def written_only(self) -> str:
        """The argument that narrows the names a write may set to the written columns."""
        return "written=True" if self.generated else ""


@dataclass(frozen=True)
class EntityRepositoryView:
    module_docstring: str
    imports: str
    entity: str
    class_name: str
    class_docstring: str
    base_class: str
    order_type: str
    orders: tuple[str, ...]
    load_type: str
    loads: tuple[str, ...]
    searches: tuple[tuple[str, str], ...] = ()
    text_search: str | None = None
    """The ``TextSearch(...)`` of an entity with ``search``."""
    history: str | None = None


def repository_class(entity: Entity) -> str:
    return f"{entity.name}Repository"


def _base_class(entity: Entity) -> str:
    return "SoftDeleteRepository" if entity.soft_delete else "Repository"


def _has_searches(ctx: GenerationContext) -> bool:
    return any(_searches(table) for table in ctx.catalog.tables)


def _searches(table: Table) -> tuple[Search, ...]:
    """The searches ``search`` serves: containment and trigram patterns."""
    return tuple(search for search in table.searches if search.operator != TEXT_MATCH)


def _has_text_search(ctx: GenerationContext) -> bool:
    return any(entity.search for entity in ctx.schema.entities)


def _text_search(table: Table, entity: Entity) -> str | None:
    """``TextSearch(column, language, function)`` of an entity with ``search``."""
    if entity.search is None:
        return None
    function = next((s.function for s in table.searches if s.operator == TEXT_MATCH), None)
    arguments = [entity.search.column, entity.search.language]
    if function is not None:
        arguments.append(naming.qualified_name(table.schema, function))
    return f"TextSearch({', '.join(python_literal(argument) for argument in arguments)})"


def _base_imports(
    package: str,
    tenancy: bool,
    soft_delete: bool,
    searches: bool,
    text_search: bool,
    partitioned: bool = False,
) -> str:
    wanted = [
        ("builtins", None, True),
        ("operator", None, True),
        ("uuid", None, True),
        ("uuid_utils.compat", "uuid7", True),
        ("collections.abc", "AsyncIterator", True),
        ("collections.abc", "Callable", True),
        ("collections.abc", "Hashable", True),
        ("collections.abc", "Iterable", True),
        ("collections.abc", "Mapping", True),
        ("collections.abc", "Sequence", True),
        ("contextlib", "asynccontextmanager", True),
        ("dataclasses", "dataclass", True),
        ("typing", "Any", True),
        ("typing", "ClassVar", searches or text_search),
        ("typing", "Generic", True),
        ("typing", "TypeVar", True),
        ("sqlalchemy", "ColumnElement", True),
        ("sqlalchemy", "Double", text_search),
        ("sqlalchemy", "Select", True),
        ("sqlalchemy", "String", searches),
        ("sqlalchemy", "Text", searches),
        ("sqlalchemy", "bindparam", True),
        ("sqlalchemy", "cast", searches or text_search),
        ("sqlalchemy", "delete", True),
        ("sqlalchemy", "func", True),
        ("sqlalchemy", "inspect", True),
        ("sqlalchemy", "select", True),
        ("sqlalchemy", "text", partitioned),
        ("sqlalchemy", "update", True),
        ("sqlalchemy.dialects.postgresql", "REGCONFIG", text_search),
        ("sqlalchemy.exc", "DBAPIError", True),
        ("sqlalchemy.ext.asyncio", "AsyncSession", True),
        (f"{package}.errors", "CONSTRAINTS", partitioned),
        (f"{package}.errors", "DataLayerError", partitioned),
        (f"{package}.errors", "NotFoundError", True),
        (f"{package}.errors", "translate", True),
        (f"{package}.models.base", "Base", True),
        (f"{package}.models.base", "INCLUDE_DELETED", soft_delete),
        (f"{package}.models.base", "TENANT_COLUMN", tenancy),
        (f"{package}.models.base", "TenantScopedMixin", tenancy),
        (f"{package}.schemas.base", "WriteSchema", True),
        (".", "bulk", True),
        (".", "keyset", True),
        (".", "relations", True),
        (".relations", "check_names", True),
    ]
    imports = [Import(module, name) for module, name, used in wanted if used]
    return render_imports(imports, package)


def base_module(ctx: GenerationContext) -> str:
    tenancy = ctx.schema.tenancy
    soft_delete = any(entity.soft_delete for entity in ctx.schema.entities)
    partitioned = any(table.partition is not None for table in ctx.catalog.tables)
    view = RepositoryBaseView(
        imports=_base_imports(
            ctx.package,
            tenancy is not None,
            soft_delete,
            _has_searches(ctx),
            _has_text_search(ctx),
            partitioned,
        ),
        partitioned=partitioned,
        tenancy=tenancy is not None,
        tenant_attribute=naming.attribute_name(tenancy.column) if tenancy else "",
        soft_delete=soft_delete,
        searches=_has_searches(ctx),
        generated=any(c.generated for t in ctx.catalog.tables for c in t.columns),
        text_search=_has_text_search(ctx),
        qualified_searches=any(t.searches and t.schema for t in ctx.catalog.tables),
    )
    return render("repositories/base.py.jinja", view=view)


def sort_orders(table: Table) -> tuple[str, ...]:
    """The ``order_by`` items a listing of ``table`` accepts: each sortable attribute, and
    each with ``-`` (descending)."""
    names = [
        naming.attribute_name(column.name)
        for column in table.columns
        if column.type.name not in UNSORTABLE_TYPES and column.role != "tenant"
    ]
    return tuple(item for name in names for item in (name, f"-{name}"))


def relationship_targets(schema: Schema, entity: Entity) -> tuple[tuple[str, str], ...]:
    """``(attribute, target entity)`` of each relationship of the entity's model."""
    own = [(relation.name, relation.target) for relation in entity.relations]
    reverse = [
        (relation.back_populates, owner.name)
        for owner, relation in schema.relations_to(entity.name)
        if relation.back_populates
    ]
    return tuple(own + reverse)


def load_paths(schema: Schema, entity: Entity) -> tuple[str, ...]:
    """The ``load`` paths of an entity: each relationship, and each one level deeper."""
    paths = []
    for name, target in relationship_targets(schema, entity):
        paths.append(name)
        nested = relationship_targets(schema, schema.entity(target))
        paths += [f"{name}.{inner}" for inner, _ in nested]
    return tuple(paths)


def entity_module(ctx: GenerationContext, entity: Entity) -> str:
    base_class = _base_class(entity)
    table = ctx.catalog.table(entity.table)
    create, update, _ = class_names(entity)
    loads = load_paths(ctx.schema, entity)
    table = ctx.catalog.table(entity.table)
    imports = [
        Import("typing", "Literal"),
        Import(f"{ctx.package}.models", entity.name),
        Import(f"{ctx.package}.schemas", create),
        Import(f"{ctx.package}.schemas", update),
        Import(".base", base_class),
    ]
    if entity.search is not None:
        imports.append(Import(".base", "TextSearch"))
    if not loads:
        imports.append(Import("typing", "Never"))
    history = naming.history_class(entity.name) if entity.audit else None
    if history:
        imports += [
            Import("uuid"),
            Import("collections.abc", "Sequence"),
            Import("sqlalchemy", "select"),
            Import(f"{ctx.package}.models", history),
        ]
    view = EntityRepositoryView(
        module_docstring=docstring(f"The repository of ``{entity.name}`` rows.", 0),
        imports=render_imports(imports, ctx.package),
        entity=entity.name,
        class_name=repository_class(entity),
        class_docstring=docstring(
            f"Reads and writes ``{entity.table}`` rows; the methods are ``{base_class}``'s.", 4
        ),
        base_class=base_class,
        order_type=f"{entity.name}Order",
        orders=sort_orders(table),
        load_type=f"{entity.name}Load",
        loads=loads,
        searches=tuple(
            (
                naming.attribute_name(search.column),
                naming.qualified_name(table.schema, search.function),
            )
            for search in _searches(table)
        ),
        text_search=_text_search(table, entity),
        history=history,
    )
    return render("repositories/entity.py.jinja", view=view, create=create, update=update)


def package_module(ctx: GenerationContext) -> str:
    base_names = ["Page", "Repository"]
    if any(entity.soft_delete for entity in ctx.schema.entities):
        base_names.append("SoftDeleteRepository")
    if _has_text_search(ctx):
        base_names.append("TextSearch")
    imports = {Import(".base", name) for name in base_names}
    exported = list(base_names)
    for entity in ctx.schema.entities:
        module = f".{naming.snake_case(entity.name)}"
        for name in (repository_class(entity), f"{entity.name}Order", f"{entity.name}Load"):
            imports.add(Import(module, name))
            exported.append(name)
    return render(
        "repositories/package_init.py.jinja",
        imports=render_imports(imports, ctx.package),
        exported=sorted(exported),
    )


def generate(ctx: GenerationContext) -> dict[str, str]:
    """Every module of ``<package>/repositories``."""
    directory = f"{ctx.package}/repositories"
    files = {
        f"{directory}/__init__.py": package_module(ctx),
        f"{directory}/base.py": base_module(ctx),
    }
    ranges = any(
        column.type.name in RANGE_ELEMENTS
        for table in ctx.catalog.tables
        for column in table.columns
    )
    for helper in ("keyset", "bulk", "relations"):
        files[f"{directory}/{helper}.py"] = render(
            f"repositories/{helper}.py.jinja",
            package=ctx.package,
            ranges=ranges,
            text_search=_has_text_search(ctx),
        )
    for entity in ctx.schema.entities:
        path = f"{directory}/{naming.snake_case(entity.name)}.py"
        if not ctx.reuse.kept(ctx.schema, entity, path):
            files[path] = entity_module(ctx, entity)
    return files
