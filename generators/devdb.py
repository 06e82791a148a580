"""The generated project's development database and the tests' PostgreSQL helpers.

``app/devdb.py`` starts an embedded PostgreSQL under ``.devdb/`` and migrates it; the
functions that start a server and migrate a database are shared with
``tests/postgres.py``, which makes a throwaway database and login roles per test
session.
"""

from __future__ import annotations

from entityforge.generators import GenerationContext
from entityforge.generators.table_schemas import catalog_scope
from entityforge.generators.templating import render


def generate(ctx: GenerationContext) -> dict[str, str]:
    package = ctx.package
    return {
        f"{package}/devdb.py": render(
            "devdb/devdb.py.jinja", package=package, database_name=package
        ),
        "tests/postgres.py": render(
            "devdb/postgres.py.jinja",
            package=package,
            schemas=bool(ctx.catalog.schemas),
            scope=catalog_scope(ctx.catalog.schemas),
        ),
    }
