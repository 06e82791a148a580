"""The repositories generator: ``<package>/repositories/``.

The generic logic lives once in ``base.py`` (``Repository`` and, when some entity has
soft delete, ``SoftDeleteRepository``); each entity gets a small subclass that binds
its model. Tenant handling is emitted only when tenancy is on.
"""

from __future__ import annotations

from dataclasses import dataclass

from entityforge import naming
from entityforge.generators import GenerationContext
from entityforge.generators.python_source import Import, docstring, render_imports
from entityforge.generators.templating import render
from entityforge.schema import Entity


@dataclass(frozen=True)
class RepositoryBaseView:
    imports: str
    tenancy: bool
    tenant_attribute: str
    soft_delete: bool
    searches: bool = False


@dataclass(frozen=True)
class EntityRepositoryView:
    module_docstring: str
    imports: str
    entity: str
    class_name: str
    class_docstring: str
    base_class: str
    searches: tuple[tuple[str, str], ...] = ()


def repository_class(entity: Entity) -> str:
    return f"{entity.name}Repository"


def _base_class(entity: Entity) -> str:
    return "SoftDeleteRepository" if entity.soft_delete else "Repository"


def _has_searches(ctx: GenerationContext) -> bool:
    return any(table.searches for table in ctx.catalog.tables)


def _base_imports(package: str, tenancy: bool, soft_delete: bool, searches: bool) -> str:
    wanted = [
        ("datetime", None, True),
        ("decimal", None, True),
        ("enum", None, True),
        ("json", None, True),
        ("math", None, True),
        ("uuid", None, True),
        ("uuid_utils.compat", "uuid7", True),
        ("collections.abc", "Callable", True),
        ("collections.abc", "Iterable", True),
        ("collections.abc", "Mapping", True),
        ("collections.abc", "Sequence", True),
        ("dataclasses", "dataclass", True),
        ("typing", "Any", True),
        ("typing", "ClassVar", searches),
        ("typing", "Generic", True),
        ("typing", "TypeVar", True),
        ("sqlalchemy", "JSON", True),
        ("sqlalchemy", "ColumnElement", True),
        ("sqlalchemy", "Float", True),
        ("sqlalchemy", "Insert", True),
        ("sqlalchemy", "Select", True),
        ("sqlalchemy", "String", searches),
        ("sqlalchemy", "Text", True),
        ("sqlalchemy", "bindparam", True),
        ("sqlalchemy", "cast", True),
        ("sqlalchemy", "column", True),
        ("sqlalchemy", "delete", True),
        ("sqlalchemy", "func", True),
        ("sqlalchemy", "insert", True),
        ("sqlalchemy", "inspect", True),
        ("sqlalchemy", "select", True),
        ("sqlalchemy", "update", True),
        ("sqlalchemy.dialects.postgresql", "JSONB", True),
        ("sqlalchemy.ext.asyncio", "AsyncSession", True),
        ("sqlalchemy.orm", "selectinload", True),
        (f"{package}.models.base", "Base", True),
        (f"{package}.models.base", "INCLUDE_DELETED", soft_delete),
        (f"{package}.models.base", "TENANT_COLUMN", tenancy),
        (f"{package}.models.base", "TenantScopedMixin", tenancy),
    ]
    imports = [Import(module, name) for module, name, used in wanted if used]
    return render_imports(imports, package)


def base_module(ctx: GenerationContext) -> str:
    tenancy = ctx.schema.tenancy
    view = RepositoryBaseView(
        imports=_base_imports(
            ctx.package,
            tenancy is not None,
            any(entity.soft_delete for entity in ctx.schema.entities),
            _has_searches(ctx),
        ),
        tenancy=tenancy is not None,
        tenant_attribute=naming.attribute_name(tenancy.column) if tenancy else "",
        soft_delete=any(entity.soft_delete for entity in ctx.schema.entities),
        searches=_has_searches(ctx),
    )
    return render("repositories/base.py.jinja", view=view)


def entity_module(ctx: GenerationContext, entity: Entity) -> str:
    imports = [
        Import(f"{ctx.package}.models", entity.name),
        Import(".base", _base_class(entity)),
    ]
    base_class = _base_class(entity)
    view = EntityRepositoryView(
        module_docstring=docstring(f"The repository of ``{entity.name}`` rows.", 0),
        imports=render_imports(imports, ctx.package),
        entity=entity.name,
        class_name=repository_class(entity),
        class_docstring=docstring(
            f"Reads and writes ``{entity.table}`` rows; the methods are ``{base_class}``'s.", 4
        ),
        base_class=base_class,
        searches=tuple(
            (naming.attribute_name(search.column), search.function)
            for search in ctx.catalog.table(entity.table).searches
        ),
    )
    return render("repositories/entity.py.jinja", view=view)


def package_module(ctx: GenerationContext) -> str:
    base_names = ["Page", "Repository"]
    if any(entity.soft_delete for entity in ctx.schema.entities):
        base_names.append("SoftDeleteRepository")
    imports = {Import(".base", name) for name in base_names}
    exported = list(base_names)
    for entity in ctx.schema.entities:
        imports.add(Import(f".{naming.snake_case(entity.name)}", repository_class(entity)))
        exported.append(repository_class(entity))
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
    for entity in ctx.schema.entities:
        files[f"{directory}/{naming.snake_case(entity.name)}.py"] = entity_module(ctx, entity)
    return files
