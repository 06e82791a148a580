"""The runtime generator: ``<package>/__init__.py`` and ``<package>/db.py``.

``db.py`` builds the async engine and session factory from ``DATABASE_URL`` and opens
transactions: ``session_scope`` without a tenant and, only when tenancy is on,
``tenant_session``, which sets the tenant setting the row-level security policies read.
"""

from __future__ import annotations

from dataclasses import dataclass

from entityforge.generators import GenerationContext
from entityforge.generators.python_source import Import, render_imports
from entityforge.generators.templating import render


@dataclass(frozen=True)
class DatabaseModuleView:
    imports: str
    tenancy: bool


def _imports(package: str, tenancy: bool) -> str:
    wanted = [
        ("os", None, True),
        ("uuid", None, tenancy),
        ("collections.abc", "AsyncIterator", True),
        ("contextlib", "asynccontextmanager", True),
        ("typing", "Any", True),
        ("sqlalchemy", "text", tenancy),
        ("sqlalchemy.engine", "make_url", True),
        ("sqlalchemy.ext.asyncio", "AsyncEngine", True),
        ("sqlalchemy.ext.asyncio", "AsyncSession", True),
        ("sqlalchemy.ext.asyncio", "async_sessionmaker", True),
        ("sqlalchemy.ext.asyncio", "create_async_engine", True),
        (f"{package}.models.base", "TENANT_SETTING", tenancy),
    ]
    return render_imports((Import(m, n) for m, n, used in wanted if used), package)


def generate(ctx: GenerationContext) -> dict[str, str]:
    """``<package>/__init__.py`` and ``<package>/db.py``."""
    tenancy = ctx.schema.tenancy is not None
    view = DatabaseModuleView(imports=_imports(ctx.package, tenancy), tenancy=tenancy)
    return {
        f"{ctx.package}/__init__.py": render("runtime/package_init.py.jinja"),
        f"{ctx.package}/db.py": render("runtime/db.py.jinja", view=view),
    }
