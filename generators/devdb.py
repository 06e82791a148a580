"""The generated project's development database and the tests' PostgreSQL helpers.

``app/devdb.py`` starts an embedded PostgreSQL under ``.devdb/`` and migrates it; the
functions that start a server and migrate a database are shared with
``tests/postgres.py``, which makes a throwaway database and login roles per test
session.
"""

from __future__ import annotations

from entityforge import naming
from entityforge.catalog.sql import quote_literal
from entityforge.generators import GenerationContext
from entityforge.generators.templating import render


def generate(ctx: GenerationContext) -> dict[str, str]:
    package = ctx.package
    return {
        f"{package}/devdb.py": render(
            "devdb/devdb.py.jinja", package=package, database_name=package
        ),
        "tests/postgres.py": render(
            "devdb/postgres.py.jinja", package=package, **_catalog_scope(ctx.catalog.schemas)
        ),
    }


def _catalog_scope(schemas: tuple[str, ...]) -> dict[str, object]:
    """The SQL tests of the schemas the catalog queries read: ``public``, and the
    project's other schemas, which may not exist yet (no ``regnamespace`` cast then)."""
    if not schemas:
        return {
            "schemas": False,
            "in_namespaces": "= 'public'::regnamespace",
            "in_schemas": "= 'public'",
        }
    names = ", ".join(quote_literal(name) for name in (naming.DEFAULT_SCHEMA, *schemas))
    return {
        "schemas": True,
        "in_namespaces": f"IN (SELECT oid FROM pg_namespace WHERE nspname IN ({names}))",
        "in_schemas": f"IN ({names})",
    }
