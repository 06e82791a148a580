"""The runtime generator: ``<package>/__init__.py`` and ``<package>/db.py``.

``db.py`` builds the async engine and session factory from ``DATABASE_URL`` and opens
transactions: ``session_scope`` without a tenant and, only when tenancy is on,
``tenant_session``, which sets the tenant setting the row-level security policies read,
and the admin's ``admin_session``, ``create_tenant`` and ``delete_tenant``. Each session
helper sets its keyword settings (``user_id=...`` sets ``app.user_id``) for its
transaction, one bound ``set_config`` each, so that policies can read them.
"""

from __future__ import annotations

from dataclasses import dataclass

from entityforge.generators import GenerationContext
from entityforge.generators.partitions import maintenance_module
from entityforge.generators.python_source import Import, render_imports
from entityforge.generators.templating import render
from entityforge.naming import quote_identifier


@dataclass(frozen=True)
class DatabaseModuleView:
    """``become_admin`` is the SQL that switches a transaction to the admin role;
    ``tenant_delete`` the repository method that removes a tenant row."""

    imports: str
    tenancy: bool
    become_admin: str = ""
    tenant_model: str = ""
    tenant_repository: str = ""
    tenant_delete: str = ""


def _imports(package: str, tenant_model: str | None) -> str:
    tenancy = tenant_model is not None
    wanted = [
        ("json", None, True),
        ("os", None, True),
        ("re", None, True),
        ("uuid", None, True),
        ("collections.abc", "AsyncIterator", True),
        ("collections.abc", "Mapping", True),
        ("contextlib", "asynccontextmanager", True),
        ("typing", "Any", True),
        ("sqlalchemy", "text", True),
        ("sqlalchemy.engine", "make_url", True),
        ("sqlalchemy.ext.asyncio", "AsyncEngine", True),
        ("sqlalchemy.ext.asyncio", "AsyncSession", True),
        ("sqlalchemy.ext.asyncio", "async_sessionmaker", True),
        ("sqlalchemy.ext.asyncio", "create_async_engine", True),
        (f"{package}.models", tenant_model, tenancy),
        (f"{package}.models.base", "TENANT_SETTING", tenancy),
        (f"{package}.repositories", f"{tenant_model}Repository", tenancy),
    ]
    return render_imports((Import(m, n) for m, n, used in wanted if used), package)


def generate(ctx: GenerationContext) -> dict[str, str]:
    """``<package>/__init__.py`` and ``<package>/db.py``."""
    tenant = ctx.schema.tenant_entity
    if tenant is None:
        view = DatabaseModuleView(imports=_imports(ctx.package, None), tenancy=False)
    else:
        view = DatabaseModuleView(
            imports=_imports(ctx.package, tenant.name),
            tenancy=True,
            become_admin=f"SET LOCAL ROLE {quote_identifier(ctx.schema.roles.admin)}",
            tenant_model=tenant.name,
            tenant_repository=f"{tenant.name}Repository",
            tenant_delete="hard_delete" if tenant.soft_delete else "delete",
        )
    return {
        f"{ctx.package}/__init__.py": render("runtime/package_init.py.jinja"),
        f"{ctx.package}/db.py": render("runtime/db.py.jinja", view=view),
        **maintenance_module(ctx),
    }
